/*
 * Crash-safe in-place rewrite of a mailbox (see journal.h). Runs as the
 * user, under the mailbox locks.
 *
 * The session file holds two header slots and a data area:
 *   [slot 0: 512 bytes][slot 1: 512 bytes][data ...]
 * A header says: rewrite the mailbox (this device and inode) so that it
 * reads [0, base) and then the `length` data bytes; before the rewrite it
 * ended at old_size, and its bytes [base + length, old_size) hashed to
 * stale_hash. Each header carries a sequence number and a hash of itself,
 * and is written only after the data it describes is synced; recovery uses
 * the valid header with the highest sequence number. Writing the mailbox
 * never starts before that header is synced, and the journal is cleared
 * only after the mailbox is synced.
 *
 * After a crash, mail may have been delivered (the dot-lock and fcntl lock
 * died with the process). It sits at old_size if the mailbox was not yet
 * truncated, at base + length if it was: the stale bytes, still in place
 * only in the first case, tell which.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "journal.h"
#include "log.h"

#define SLOT_SIZE	512
#define DATA_OFF	(2 * SLOT_SIZE)
#define MAGIC		"pop3d-journal-1\n"

struct head {
	char		 magic[16];
	uint64_t	 seq;
	uint64_t	 dev;
	uint64_t	 ino;
	uint64_t	 base;
	uint64_t	 length;
	uint64_t	 old_size;
	uint64_t	 stale_hash;
	uint64_t	 data_hash;
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
 * Copies [src, src + len) of in to out at dst through buf, hashing what
 * passes when h is not NULL.
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

/* Syncs the data, then publishes the header in the slot seq selects. */
static int
publish(int jfd, struct head *hd)
{
	unsigned char slot[SLOT_SIZE];

	hd->self_hash = head_hash(hd);
	memset(slot, 0, sizeof(slot));
	memcpy(slot, hd, sizeof(*hd));
	if (fdatasync(jfd) == -1 ||
	    write_at(jfd, slot, sizeof(slot),
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

/* Writes the data from the journal into place; truncates when asked. */
static int
apply(int mfd, int jfd, const struct head *hd, int truncate,
    unsigned char *buf, size_t buflen)
{
	if (copy(jfd, DATA_OFF, mfd, (off_t)hd->base, (off_t)hd->length, buf,
	    buflen, NULL) == -1 || fdatasync(mfd) == -1) {
		return -1;
	}
	if (truncate && (ftruncate(mfd, (off_t)(hd->base + hd->length)) == -1 ||
	    fsync(mfd) == -1)) {
		return -1;
	}
	return clear(jfd);
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

/* Journals the stale bytes' hash and publishes hd; data already written. */
static int
seal(int mfd, int jfd, struct head *hd, unsigned char *buf, size_t buflen)
{
	off_t stale = (off_t)(hd->base + hd->length);

	if (hash_range(mfd, stale, (off_t)hd->old_size - stale, buf, buflen,
	    &hd->stale_hash) == -1) {
		return -1;
	}
	return publish(jfd, hd);
}

int
journal_rewrite(int mfd, int jfd, off_t base, const struct region *r,
    size_t n, off_t old_size, unsigned char *buf, size_t buflen)
{
	struct head hd;
	XXH3_state_t *h;
	off_t at = DATA_OFF;
	size_t i;
	int err, rc = 0;

	memset(&hd, 0, sizeof(hd));
	if (fill_identity(mfd, &hd) == -1 || (h = new_hash()) == NULL) {
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		rc = copy(mfd, r[i].off, jfd, at, r[i].len, buf, buflen, h);
		at += r[i].len;
	}
	hd.seq = 1;
	hd.base = (uint64_t)base;
	hd.length = (uint64_t)(at - DATA_OFF);
	hd.old_size = (uint64_t)old_size;
	if (end_hash(h, rc, &hd.data_hash) == -1 ||
	    seal(mfd, jfd, &hd, buf, buflen) == -1) {
		goto undo;
	}
	return apply(mfd, jfd, &hd, 1, buf, buflen);
undo:
	err = errno;
	clear(jfd);
	errno = err;
	return -1;
}

static int
valid_head(const unsigned char *slot, struct head *hd)
{
	memcpy(hd, slot, sizeof(*hd));
	return memcmp(hd->magic, MAGIC, sizeof(hd->magic)) == 0 &&
	    hd->self_hash == head_hash(hd) && hd->seq > 0;
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

/* Was the truncation done? The stale bytes are still there if not. */
static int
truncated(int mfd, const struct head *hd, off_t size, unsigned char *buf,
    size_t buflen, int *yes)
{
	off_t stale = (off_t)(hd->base + hd->length);
	uint64_t v;

	if (size < (off_t)hd->old_size) {
		*yes = 1;
		return 0;
	}
	if (hash_range(mfd, stale, (off_t)hd->old_size - stale, buf, buflen,
	    &v) == -1) {
		return -1;
	}
	*yes = v != hd->stale_hash;
	return 0;
}

/* Mail delivered after the crash joins the journal's data, then applies. */
static int
adopt_and_apply(int mfd, int jfd, struct head *hd, off_t size,
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
	return apply(mfd, jfd, hd, 1, buf, buflen);
}

int
journal_recover(int mfd, int jfd, unsigned char *buf, size_t buflen)
{
	struct head hd, id;
	struct stat st;
	uint64_t v;
	int done;

	if (fstat(jfd, &st) == -1 || st.st_size == 0) {
		return 0;
	}
	if (newest_head(jfd, &hd) == -1) {
		log_msg(LOG_NOTICE, "discarding an unfinished journal; the "
		    "mailbox was not touched");
		return clear(jfd);
	}
	if (fill_identity(mfd, &id) == -1 || fstat(mfd, &st) == -1) {
		return -1;
	}
	if (id.dev != hd.dev || id.ino != hd.ino) {
		log_msg(LOG_WARNING, "discarding a journal for a mailbox that "
		    "has been replaced");
		return clear(jfd);
	}
	if (hash_range(jfd, DATA_OFF, (off_t)hd.length, buf, buflen,
	    &v) == -1 || v != hd.data_hash) {
		log_msg(LOG_ERR, "journal data damaged; mailbox left as it is");
		errno = EIO;
		return -1;
	}
	if (truncated(mfd, &hd, st.st_size, buf, buflen, &done) == -1) {
		return -1;
	}
	log_msg(LOG_NOTICE, "completing an interrupted update");
	if (done) {
		return apply(mfd, jfd, &hd, 0, buf, buflen);
	}
	return adopt_and_apply(mfd, jfd, &hd, st.st_size, buf, buflen);
}
