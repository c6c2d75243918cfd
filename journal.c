/* SPDX-License-Identifier: ISC */
/*
 * Crash-safe in-place rewrite of a mailbox (see journal.h). Runs as the
 * user, under the mailbox locks.
 *
 * The session file holds two header slots and a data area:
 *   [slot 0: 512 bytes][slot 1: 512 bytes][data ...]
 * A header says: make the mailbox (this device and inode) read [0, base),
 * whose index digest is `prefix`, then the `length` data bytes; before
 * the rewrite it ended at old_size. Each header carries a sequence number
 * and a hash of itself and is written only after what it describes is
 * synced; recovery uses the valid header with the highest number.
 *
 * The steps, and what a crash after each leaves:
 *   1. data into the journal, synced; header COPYING published. Before
 *      that the mailbox was not touched: an invalid header means nothing
 *      to do.
 *   2. data into the mailbox at base (moved there from where it lies in
 *      the mailbox, or copied from the journal when recovering), a random
 *      marker at base + length (over bytes no longer needed), synced;
 *      header IN_PLACE published. Under COPYING the copy is redone from
 *      the journal.
 *   3. mailbox truncated to base + length, synced; journal cleared.
 *      Under IN_PLACE the marker tells whether the truncation happened:
 *      mail an MDA delivers after a crash starts with "From ", never with
 *      the marker's NUL. Mail delivered at old_size before the truncation
 *      joins the journal's data and step 2 is done again.
 * When nothing after base is kept, the rewrite is a truncation and needs
 * no journal: a crash leaves the old size or the new one (the file system
 * journals the size change), and [0, base) is never written.
 *
 * Writeback of what is copied starts at once (sync_file_range), so that
 * the sync that follows a copy overlaps with it instead of waiting for
 * all of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "journal.h"
#include "log.h"
#include "params.h"

#define SLOT_SIZE	512
#define DATA_OFF	(2 * SLOT_SIZE)
#define MAGIC		"pop3d-journal-2\n"
#define MARK_MAX	16

enum phase { COPYING = 1, IN_PLACE = 2 };

struct head {
	char		 magic[16];
	uint64_t	 seq;
	uint64_t	 phase;
	uint64_t	 dev;
	uint64_t	 ino;
	uint64_t	 base;
	uint64_t	 length;
	uint64_t	 old_size;
	uint64_t	 prefix;	/* index digest of [0, base) */
	uint64_t	 stale_hash;	/* [base + length, old_size) before */
	uint64_t	 data_hash;
	unsigned char	 mark[MARK_MAX];
	uint64_t	 self_hash;	/* of everything above */
};

static int
read_at(int fd, unsigned char *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, buf + done, len - done, off + (off_t)done);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			if (n == 0) {
				errno = EIO;
			}
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static int
write_at(int fd, const unsigned char *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, buf + done, len - done, off + (off_t)done);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			if (n == 0) {
				errno = ENOSPC;
			}
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * Copies [src, src + len) of in to out (-1: nowhere) at dst through buf,
 * hashing what passes when h is not NULL. Within one file dst <= src: a
 * piece is read whole before it is written, so nothing is overwritten
 * before it is read.
 */
static int
copy(int in, off_t src, int out, off_t dst, off_t len, unsigned char *buf,
    size_t buflen, XXH3_state_t *h)
{
	size_t n;

	while (len > 0) {
		n = len > (off_t)buflen ? buflen : (size_t)len;
		if (read_at(in, buf, n, src) == -1 ||
		    (out != -1 && write_at(out, buf, n, dst) == -1)) {
			return -1;
		}
		if (out != -1) {
			/* a hint: its failure only costs time */
			(void)sync_file_range(out, dst, (off_t)n,
			    SYNC_FILE_RANGE_WRITE);
		}
		if (h != NULL) {
			XXH3_64bits_update(h, buf, n);
		}
		src += (off_t)n;
		dst += (off_t)n;
		len -= (off_t)n;
	}
	return 0;
}

static XXH3_state_t *
new_hash(void)
{
	XXH3_state_t *h = XXH3_createState();

	if (h == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	XXH3_64bits_reset(h);
	return h;
}

/* Ends a hash: its value into *out when rc is 0; rc is passed on. */
static int
end_hash(XXH3_state_t *h, int rc, uint64_t *out)
{
	if (rc == 0) {
		*out = XXH3_64bits_digest(h);
	}
	XXH3_freeState(h);
	return rc;
}

static int
hash_range(int fd, off_t off, off_t len, unsigned char *buf, size_t buflen,
    uint64_t *out)
{
	XXH3_state_t *h = new_hash();

	if (h == NULL) {
		return -1;
	}
	return end_hash(h, copy(fd, off, -1, 0, len, buf, buflen, h), out);
}

static uint64_t
head_hash(const struct head *hd)
{
	return XXH3_64bits(hd, offsetof(struct head, self_hash));
}

/* Publishes hd in the slot its sequence number selects, synced. */
static int
publish(int jfd, struct head *hd)
{
	unsigned char slot[SLOT_SIZE];

	hd->self_hash = head_hash(hd);
	memset(slot, 0, sizeof(slot));
	memcpy(slot, hd, sizeof(*hd));
	if (write_at(jfd, slot, sizeof(slot),
	    (off_t)(hd->seq % 2) * SLOT_SIZE) == -1 || fdatasync(jfd) == -1) {
		return -1;
	}
	return 0;
}

static int
clear(int jfd)
{
	if (ftruncate(jfd, 0) == -1 || fsync(jfd) == -1) {
		return -1;
	}
	return 0;
}

/*
 * A journal whose clearing failed after a finished update must not lend
 * its higher sequence number to a crash of this one.
 */
static int
empty_journal(int jfd)
{
	struct stat st;

	if (fstat(jfd, &st) == -1) {
		return -1;
	}
	return st.st_size == 0 ? 0 : clear(jfd);
}

static off_t
new_end(const struct head *hd)
{
	return (off_t)(hd->base + hd->length);
}

/* The marker covers at most the bytes the rewrite frees. */
static size_t
mark_len(const struct head *hd)
{
	uint64_t freed = hd->old_size - hd->base - hd->length;

	return freed < MARK_MAX ? (size_t)freed : MARK_MAX;
}

/* End of step 2 once the data is in place: marker, sync, IN_PLACE. */
static int
placed(int mfd, int jfd, struct head *hd)
{
	if (write_at(mfd, hd->mark, mark_len(hd), new_end(hd)) == -1 ||
	    fdatasync(mfd) == -1) {
		return -1;
	}
	hd->phase = IN_PLACE;
	hd->seq++;
	return publish(jfd, hd);
}

/* Step 2 when recovering: the data from the journal. */
static int
copy_in(int mfd, int jfd, struct head *hd, unsigned char *buf, size_t buflen)
{
	if (copy(jfd, DATA_OFF, mfd, (off_t)hd->base, (off_t)hd->length, buf,
	    buflen, NULL) == -1) {
		return -1;
	}
	return placed(mfd, jfd, hd);
}

/*
 * Step 2 of an update: the regions are still in the mailbox, each at or
 * after where it goes, so they move forward within it, the journal's
 * copy unread.
 */
static int
move_in(int mfd, int jfd, struct head *hd, const struct region *r,
    size_t n, unsigned char *buf, size_t buflen)
{
	off_t at = (off_t)hd->base;
	size_t i;

	for (i = 0; i < n; i++) {
		if (copy(mfd, r[i].off, mfd, at, r[i].len, buf, buflen,
		    NULL) == -1) {
			return -1;
		}
		at += r[i].len;
	}
	return placed(mfd, jfd, hd);
}

/* Step 3; a journal that cannot be cleared is harmless (see recovery). */
static int
finish(int mfd, int jfd, const struct head *hd)
{
	if (ftruncate(mfd, new_end(hd)) == -1 || fsync(mfd) == -1) {
		return -1;
	}
	if (clear(jfd) == -1) {
		log_msg(LOG_WARNING, "cannot clear the update journal: %s",
		    strerror(errno));
	}
	return 0;
}

static int
fill_identity(int mfd, struct head *hd)
{
	struct stat st;

	if (fstat(mfd, &st) == -1) {
		return -1;
	}
	memcpy(hd->magic, MAGIC, sizeof(hd->magic));
	hd->dev = (uint64_t)st.st_dev;
	hd->ino = (uint64_t)st.st_ino;
	return 0;
}

/* Step 1 once the data is in the journal: stale hash, sync, COPYING. */
static int
seal(int mfd, int jfd, struct head *hd, unsigned char *buf, size_t buflen)
{
	if (hash_range(mfd, new_end(hd), (off_t)hd->old_size - new_end(hd),
	    buf, buflen, &hd->stale_hash) == -1 || fdatasync(jfd) == -1) {
		return -1;
	}
	hd->phase = COPYING;
	return publish(jfd, hd);
}

static int
journal_data(int mfd, int jfd, struct head *hd, const struct region *r,
    size_t n, unsigned char *buf, size_t buflen)
{
	XXH3_state_t *h = new_hash();
	off_t at = DATA_OFF;
	size_t i;
	int rc = 0;

	if (h == NULL) {
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		rc = copy(mfd, r[i].off, jfd, at, r[i].len, buf, buflen, h);
		at += r[i].len;
	}
	hd->length = (uint64_t)(at - DATA_OFF);
	return end_hash(h, rc, &hd->data_hash);
}

/*
 * Nothing after base is kept: the whole rewrite is one truncation. An
 * older journal goes first, so that no crash can ever make it apply.
 */
static enum journal_result
cut(int mfd, int jfd, off_t base)
{
	if (empty_journal(jfd) == -1) {
		return JOURNAL_UNWRITTEN;
	}
	if (ftruncate(mfd, base) == -1 || fsync(mfd) == -1) {
		return JOURNAL_TRUNCATION;
	}
	return JOURNAL_DONE;
}

enum journal_result
journal_rewrite(int mfd, int jfd, off_t base, const struct region *r,
    size_t n, off_t old_size, uint64_t prefix, unsigned char *buf,
    size_t buflen)
{
	struct head hd;
	int err;

	if (n == 0) {
		return cut(mfd, jfd, base);
	}
	memset(&hd, 0, sizeof(hd));
	if (empty_journal(jfd) == -1) {
		return JOURNAL_UNWRITTEN;
	}
	hd.seq = 1;
	hd.base = (uint64_t)base;
	hd.old_size = (uint64_t)old_size;
	hd.prefix = prefix;
	if (getrandom(hd.mark, sizeof(hd.mark), 0) != sizeof(hd.mark)) {
		return JOURNAL_UNWRITTEN;
	}
	hd.mark[0] = '\0';
	if (fill_identity(mfd, &hd) == -1 ||
	    journal_data(mfd, jfd, &hd, r, n, buf, buflen) == -1 ||
	    seal(mfd, jfd, &hd, buf, buflen) == -1) {
		err = errno;
		clear(jfd);
		errno = err;
		return JOURNAL_UNWRITTEN;
	}
	if (move_in(mfd, jfd, &hd, r, n, buf, buflen) == -1 ||
	    finish(mfd, jfd, &hd) == -1) {
		return JOURNAL_PENDING;
	}
	return JOURNAL_DONE;
}

static int
valid_head(const unsigned char *slot, struct head *hd)
{
	memcpy(hd, slot, sizeof(*hd));
	return memcmp(hd->magic, MAGIC, sizeof(hd->magic)) == 0 &&
	    hd->self_hash == head_hash(hd) && hd->seq > 0 &&
	    (hd->phase == COPYING || hd->phase == IN_PLACE);
}

/*
 * Whether hd can describe this journal: its data lies in it, its old size
 * within what pop3d serves, and no sum wraps. The session file is the
 * user's to write: a header that cannot be true is refused before a byte
 * it names is read.
 */
static int
head_fits(const struct head *hd, off_t jsize)
{
	return hd->old_size <= (uint64_t)MAILBOX_BYTES_MAX &&
	    hd->length < hd->old_size &&
	    hd->base < hd->old_size - hd->length &&
	    jsize >= DATA_OFF && hd->length <= (uint64_t)(jsize - DATA_OFF);
}

/* The newest valid header, or -1 if none is (nothing was published). */
static int
newest_head(int jfd, struct head *hd)
{
	unsigned char slots[DATA_OFF];
	struct head a, b;
	int va, vb;

	if (read_at(jfd, slots, sizeof(slots), 0) == -1) {
		return -1;
	}
	va = valid_head(slots, &a);
	vb = valid_head(slots + SLOT_SIZE, &b);
	if (!va && !vb) {
		return -1;
	}
	*hd = va && (!vb || a.seq > b.seq) ? a : b;
	return 0;
}

/* A journal that no longer describes the mailbox: nothing is written. */
static int
drop(int jfd, const char *why)
{
	log_msg(LOG_WARNING, "update journal dropped: %s; messages deleted "
	    "in the interrupted session may reappear", why);
	return clear(jfd);
}

static int
mark_present(int mfd, const struct head *hd, off_t size, int *yes)
{
	unsigned char m[MARK_MAX];
	size_t k = mark_len(hd);

	*yes = 0;
	if (size < new_end(hd) + (off_t)k) {
		return 0;
	}
	if (read_at(mfd, m, k, new_end(hd)) == -1) {
		return -1;
	}
	*yes = memcmp(m, hd->mark, k) == 0;
	return 0;
}

static int
range_is(int mfd, off_t off, off_t len, uint64_t want, unsigned char *buf,
    size_t buflen, int *yes)
{
	uint64_t v;

	if (hash_range(mfd, off, len, buf, buflen, &v) != 0) {
		return -1;
	}
	*yes = v == want;
	return 0;
}

/*
 * Mail delivered at old_size after the crash joins the journal's data,
 * and a new COPYING header says so; then steps 2 and 3.
 */
static int
adopt_and_finish(int mfd, int jfd, struct head *hd, off_t size,
    unsigned char *buf, size_t buflen)
{
	XXH3_state_t *h;
	off_t extra = size - (off_t)hd->old_size;
	int rc;

	if (extra > 0) {
		h = new_hash();
		if (h == NULL) {
			return -1;
		}
		rc = copy(jfd, DATA_OFF, -1, 0, (off_t)hd->length, buf, buflen,
		    h);
		if (rc == 0) {
			rc = copy(mfd, (off_t)hd->old_size, jfd,
			    DATA_OFF + (off_t)hd->length, extra, buf, buflen, h);
		}
		hd->seq++;
		hd->length += (uint64_t)extra;
		hd->old_size = (uint64_t)size;
		if (end_hash(h, rc, &hd->data_hash) == -1 ||
		    seal(mfd, jfd, hd, buf, buflen) == -1) {
			return -1;
		}
	}
	if (hd->phase == COPYING && copy_in(mfd, jfd, hd, buf, buflen) == -1) {
		return -1;
	}
	return finish(mfd, jfd, hd);
}

/* Crashed in step 1 or 2: the bytes past the new end are still ours. */
static int
recover_copying(int mfd, int jfd, struct head *hd, off_t size,
    unsigned char *buf, size_t buflen)
{
	int stale, marked;

	if (size < (off_t)hd->old_size) {
		return drop(jfd, "the mailbox is shorter than before");
	}
	if (range_is(mfd, new_end(hd), (off_t)hd->old_size - new_end(hd),
	    hd->stale_hash, buf, buflen, &stale) == -1 ||
	    mark_present(mfd, hd, size, &marked) == -1) {
		return -1;
	}
	if (!stale && !marked) {
		return drop(jfd, "the mailbox was changed after the crash");
	}
	return adopt_and_finish(mfd, jfd, hd, size, buf, buflen);
}

/* Crashed in step 3: the marker tells whether the truncation happened. */
static int
recover_in_place(int mfd, int jfd, struct head *hd, off_t size,
    unsigned char *buf, size_t buflen)
{
	int intact, marked;

	if (range_is(mfd, (off_t)hd->base, (off_t)hd->length, hd->data_hash,
	    buf, buflen, &intact) == -1 ||
	    mark_present(mfd, hd, size, &marked) == -1) {
		return -1;
	}
	if (!intact) {
		return drop(jfd, "the mailbox was changed after the crash");
	}
	if (!marked) {
		return clear(jfd);
	}
	hd->phase = COPYING;
	if (size > (off_t)hd->old_size) {
		return adopt_and_finish(mfd, jfd, hd, size, buf, buflen);
	}
	return finish(mfd, jfd, hd);
}

int
journal_recover(int mfd, int jfd, journal_digest_fn *digest, void *ctx,
    unsigned char *buf, size_t buflen)
{
	struct head hd, id;
	struct stat st;
	uint64_t prefix;
	off_t jsize;
	int ok;

	if (fstat(jfd, &st) == -1 || st.st_size == 0) {
		return 0;
	}
	jsize = st.st_size;
	if (newest_head(jfd, &hd) == -1) {
		log_msg(LOG_NOTICE, "discarding an unfinished journal; the "
		    "mailbox was not touched");
		return clear(jfd);
	}
	if (fill_identity(mfd, &id) == -1 || fstat(mfd, &st) == -1) {
		return -1;
	}
	if (id.dev != hd.dev || id.ino != hd.ino) {
		return drop(jfd, "the mailbox was replaced");
	}
	if (!head_fits(&hd, jsize)) {
		return drop(jfd, "its header cannot be true");
	}
	if (st.st_size < new_end(&hd)) {
		return drop(jfd, "the mailbox is too short for the update");
	}
	if (range_is(jfd, DATA_OFF, (off_t)hd.length, hd.data_hash, buf,
	    buflen, &ok) == -1 || !ok) {
		log_msg(LOG_ERR, "update journal damaged; mailbox left as it is");
		errno = EIO;
		return -1;
	}
	if (digest(ctx, (off_t)hd.base, &prefix) == -1) {
		return -1;
	}
	if (prefix != hd.prefix) {
		return drop(jfd, "the mailbox was changed after the crash");
	}
	log_msg(LOG_NOTICE, "completing an interrupted update");
	if (hd.phase == IN_PLACE) {
		return recover_in_place(mfd, jfd, &hd, st.st_size, buf, buflen);
	}
	return recover_copying(mfd, jfd, &hd, st.st_size, buf, buflen);
}
