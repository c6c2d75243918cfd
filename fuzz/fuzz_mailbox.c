/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mailbox: mailbox.c on a real file: mailbox_open() with the lock
 * helper (lockd.c), RETR's retrieval of every message, twice (the second
 * from the cache when it fits), deletions, mailbox_update() (which checks the deleted
 * messages against the listing, or indexes again when an append makes
 * them doubtful) through the journal or a mere truncation (journal.c),
 * and a second session that must find exactly the kept messages, byte for
 * byte. One lock helper serves the whole fuzzing process (fuzz.h).
 *
 * The update may also meet a crash: from a chosen call of pwrite(),
 * ftruncate(), fsync() or fdatasync() on, nothing more reaches the disk
 * (the binary is linked with --wrap for them). What was written before
 * stays, as if the page cache had been flushed at that instant. An MDA
 * may then deliver a message ("From " and the appended bytes) before the
 * next session, which must find the mailbox either as it was (nothing
 * deleted) or as the update would have left it, with the late message at
 * its end: journal.h's promise.
 *
 * Input: seven bytes of settings, then the mailbox.
 *   byte 0	bit 0: honour X-UIDL headers (--x-uidl)
 *		bit 1: an MDA appends the input's last n bytes (n: byte
 *		       5) between login and QUIT
 *		bit 2: an MDA delivers "From " and those n bytes after
 *		       the update, before the next session
 *		bit 3: a message of 300 KiB comes first, so that the
 *		       mailbox is read, verified and rewritten in pieces
 *   bytes 1-4	which messages the client deletes: message i if bit
 *		i % 32 is set
 *   byte 5	n, for bits 1 and 2
 *   byte 6	the crash: at this storage call of the update (0: none)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "mailbox.h"

#define SETTINGS	7

/* The disk of the update: calls counted, and dead from crash_at on. */
static struct {
	unsigned int	 calls;
	unsigned int	 crash_at;
} disk;

ssize_t	__real_pwrite(int, const void *, size_t, off_t);
int	__real_ftruncate(int, off_t);
int	__real_fsync(int);
int	__real_fdatasync(int);
ssize_t	__wrap_pwrite(int, const void *, size_t, off_t);
int	__wrap_ftruncate(int, off_t);
int	__wrap_fsync(int);
int	__wrap_fdatasync(int);

static int
disk_dead(void)
{
	if (disk.crash_at == 0 || ++disk.calls < disk.crash_at) {
		return 0;
	}
	errno = EIO;
	return 1;
}

ssize_t
__wrap_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return disk_dead() ? -1 : __real_pwrite(fd, buf, len, off);
}

int
__wrap_ftruncate(int fd, off_t len)
{
	return disk_dead() ? -1 : __real_ftruncate(fd, len);
}

int
__wrap_fsync(int fd)
{
	return disk_dead() ? -1 : __real_fsync(fd);
}

int
__wrap_fdatasync(int fd)
{
	return disk_dead() ? -1 : __real_fdatasync(fd);
}

/* Ends the crash; 1 if it happened. */
static int
disk_revive(void)
{
	int crashed = disk.crash_at != 0 && disk.calls >= disk.crash_at;

	disk.crash_at = 0;
	disk.calls = 0;
	return crashed;
}

struct index {
	struct msg	*msgs;
	size_t		 count;
	off_t		 end;		/* the file's length */
};

/* mbox.c in one call, as the model of what a session must list. */
static void
index_of(const unsigned char *data, size_t len, struct index *ix)
{
	struct scan *s = mbox_scan_new();

	CHECK(s != NULL);
	CHECK(mbox_scan(s, data, len, 0, 1) == (ssize_t)len);
	ix->msgs = mbox_scan_finish(s, (off_t)len, &ix->count);
	ix->end = (off_t)len;
	CHECK(ix->msgs != NULL || ix->count == 0);
	mbox_scan_free(s);
}

static int
same_message(const struct msg *a, const struct msg *b)
{
	return a->from == b->from && a->start == b->start &&
	    a->len == b->len && a->size == b->size &&
	    memcmp(a->hash, b->hash, sizeof(a->hash)) == 0;
}

static off_t
region_end(const struct msg *msgs, size_t count, size_t i, off_t end)
{
	return i + 1 < count ? msgs[i + 1].from : end;
}

/* What the session lists is what the file holds. */
static void
check_listing(const struct mailbox *mb, const unsigned char *data,
    size_t len)
{
	struct index ix;
	size_t i;

	index_of(data, len, &ix);
	CHECK(mb->count == ix.count && mb->end == (off_t)len);
	for (i = 0; i < ix.count; i++) {
		CHECK(same_message(&mb->msgs[i], &ix.msgs[i]));
		CHECK(mb->msgs[i].dup == ix.msgs[i].dup);
	}
	free(ix.msgs);
}

/* RETR's path: message i whole, compared as it is read. */
static void
check_retrieval(struct mailbox *mb, size_t i, const unsigned char *data)
{
	const struct msg *m = &mb->msgs[i];
	struct retrieval r;
	const unsigned char *p;
	size_t n, got = 0, to;

	to = (size_t)region_end(mb->msgs, mb->count, i, mb->end);
	CHECK(mailbox_retrieve(mb, i, &r) == MBX_OK);
	if (mb->buf_holds == i + 1) {
		CHECK(memcmp(mb->buf, data + m->from, to - (size_t)m->from) == 0);
	}
	while (mailbox_next(mb, &r, &p, &n) == MBX_OK && n > 0) {
		CHECK(got + n <= (size_t)m->len);
		CHECK(memcmp(p, data + m->start + got, n) == 0);
		got += n;
	}
	CHECK(r.scan == NULL && got == (size_t)m->len);
	mailbox_done(&r);
}

static void
check_reads(struct mailbox *mb, const unsigned char *data)
{
	size_t i;

	for (i = 0; i < mb->count; i++) {
		check_retrieval(mb, i, data);
		check_retrieval(mb, i, data);
	}
}

static void
mark_deleted(struct mailbox *mb, const unsigned char *bits)
{
	size_t i;

	for (i = 0; i < mb->count; i++) {
		mb->msgs[i].deleted = (bits[(i % 32) / 8] >> (i % 8)) & 1;
	}
}

/* How many of msgs[0..count) have the content hash of m; the last in *at. */
static size_t
copies(const struct msg *msgs, size_t count, const struct msg *m, size_t *at)
{
	size_t i, n = 0;

	for (i = 0; i < count; i++) {
		if (memcmp(msgs[i].hash, m->hash, sizeof(m->hash)) == 0) {
			*at = i;
			n++;
		}
	}
	return n;
}

/*
 * The message of now that is the listed message i at its listed place:
 * same start, same content, same region. now->count if none.
 */
static size_t
model_still_at(const struct mailbox *mb, const struct index *now, size_t i)
{
	const struct msg *m = &mb->msgs[i];
	size_t j;

	for (j = 0; j < now->count; j++) {
		if (now->msgs[j].from == m->from) {
			break;
		}
	}
	if (j == now->count || !same_message(&now->msgs[j], m) ||
	    region_end(now->msgs, now->count, j, now->end) !=
	    region_end(mb->msgs, mb->count, i, mb->end)) {
		return now->count;
	}
	return j;
}

/*
 * Which message of now the update must remove for the deleted listed
 * message i, as mailbox.h documents it (now->count: none, it is counted
 * as unmatched and kept): content found once in the listing and once now
 * is that message wherever it is; copies only while every listed copy is
 * still at its place.
 */
static size_t
model_match(const struct mailbox *mb, const struct index *now, size_t i)
{
	const struct msg *m = &mb->msgs[i];
	size_t k, at = 0, n_mine, n_found;

	n_mine = copies(mb->msgs, mb->count, m, &at);
	n_found = copies(now->msgs, now->count, m, &at);
	if (n_found == 0) {
		return now->count;
	}
	if (n_mine == 1 && n_found == 1) {
		return at;
	}
	for (k = 0; k < mb->count; k++) {
		if (memcmp(mb->msgs[k].hash, m->hash, sizeof(m->hash)) == 0 &&
		    model_still_at(mb, now, k) == now->count) {
			return now->count;
		}
	}
	return model_still_at(mb, now, i);
}

/*
 * Which messages of the mailbox as it is now (with what was appended) the
 * update must remove; the deleted ones it cannot identify are counted.
 */
static unsigned char *
model_removal(const struct mailbox *mb, const struct index *now,
    size_t *unmatched)
{
	unsigned char *gone = calloc(now->count + 1, 1);
	size_t i, j;

	CHECK(gone != NULL);
	*unmatched = 0;
	for (i = 0; i < mb->count; i++) {
		if (!mb->msgs[i].deleted) {
			continue;
		}
		j = model_match(mb, now, i);
		if (j < now->count) {
			gone[j] = 1;
		} else {
			(*unmatched)++;
		}
	}
	return gone;
}

/* The file after the update: all of it less the removed regions. */
static unsigned char *
model_after(const struct index *now, const unsigned char *gone,
    const unsigned char *all, size_t len, size_t *outlen)
{
	unsigned char *out = malloc(len + 1);
	size_t i, o = 0, at = 0;

	CHECK(out != NULL);
	for (i = 0; i < now->count; i++) {
		if (!gone[i]) {
			continue;
		}
		memcpy(out + o, all + at, (size_t)now->msgs[i].from - at);
		o += (size_t)now->msgs[i].from - at;
		at = (size_t)region_end(now->msgs, now->count, i, (off_t)len);
	}
	memcpy(out + o, all + at, len - at);
	*outlen = o + len - at;
	return out;
}

/* The messages of the new file: those not removed. */
static struct msg *
kept_messages(const struct index *now, const unsigned char *gone, size_t *n)
{
	struct msg *kept = calloc(now->count + 1, sizeof(*kept));
	size_t i;

	CHECK(kept != NULL);
	*n = 0;
	for (i = 0; i < now->count; i++) {
		if (!gone[i]) {
			kept[(*n)++] = now->msgs[i];
		}
	}
	return kept;
}

/* What the update is to do, from the mailbox as it is at QUIT. */
struct expect {
	unsigned char	*all;		/* the file, with what was appended */
	size_t		 alllen;
	struct index	 now;		/* its messages */
	unsigned char	*gone;		/* which of them are to go */
	size_t		 unmatched;
	unsigned char	*want;		/* the file afterwards */
	size_t		 wantlen;
	unsigned char	*late;		/* delivered after the update */
	size_t		 latelen;
};

static void
expect_update(const struct mailbox *mb, const unsigned char *extra,
    size_t extralen, struct expect *e)
{
	if (extralen > 0) {
		mailbox_fixture_append(extra, extralen);
	}
	e->all = mailbox_fixture_read(&e->alllen);
	index_of(e->all, e->alllen, &e->now);
	e->gone = model_removal(mb, &e->now, &e->unmatched);
	CHECK(e->unmatched == 0 || extralen > 0);
	e->want = model_after(&e->now, e->gone, e->all, e->alllen,
	    &e->wantlen);
}

static void
expect_free(struct expect *e)
{
	free(e->late);
	free(e->all);
	free(e->now.msgs);
	free(e->gone);
	free(e->want);
}

/* The file holds (p, len), then what was delivered late. */
static int
file_is(const unsigned char *got, size_t gotlen, const unsigned char *p,
    size_t len, const struct expect *e)
{
	return gotlen == len + e->latelen && memcmp(got, p, len) == 0 &&
	    (e->latelen == 0 || memcmp(got + len, e->late, e->latelen) == 0);
}

/* A delivery to a mailbox that an update may have left unfinished. */
static void
deliver_late(struct expect *e, const unsigned char *extra, size_t extralen)
{
	unsigned char *late = malloc(5 + extralen);

	CHECK(late != NULL);
	memcpy(late, "From ", 5);
	memcpy(late + 5, extra, extralen);
	mailbox_fixture_append(late, 5 + extralen);
	e->late = late;
	e->latelen = 5 + extralen;
}

/*
 * The next session finds what the update left (or, after a crash, the
 * mailbox untouched) and lists exactly the kept messages, unchanged.
 */
static void
next_session(const struct expect *e, int crashed, int xuidl)
{
	struct mailbox mb;
	unsigned char *got, *none;
	struct msg *kept;
	size_t gotlen, nkept, i;
	int done;

	CHECK(mailbox_open(&mb, mailbox_fixture_path(), mailbox_fixture_chan(),
	    xuidl) == MBX_OK);
	CHECK(!mailbox_fixture_dotlocked());
	got = mailbox_fixture_read(&gotlen);
	done = file_is(got, gotlen, e->want, e->wantlen, e);
	CHECK(done || (crashed && file_is(got, gotlen, e->all, e->alllen, e)));
	check_listing(&mb, got, gotlen);
	if (e->latelen > 0) {
		free(got);
		mailbox_close(&mb);
		CHECK(!mailbox_fixture_dotlocked());
		return;
	}
	none = calloc(e->now.count + 1, 1);
	CHECK(none != NULL);
	kept = kept_messages(&e->now, done ? e->gone : none, &nkept);
	CHECK(mb.count == nkept);
	for (i = 0; i < nkept; i++) {
		CHECK(mb.msgs[i].len == kept[i].len &&
		    mb.msgs[i].size == kept[i].size);
		CHECK(memcmp(mb.msgs[i].hash, kept[i].hash,
		    sizeof(kept[i].hash)) == 0);
		CHECK(memcmp(got + mb.msgs[i].start, e->all + kept[i].start,
		    (size_t)kept[i].len) == 0);
	}
	free(kept);
	free(none);
	free(got);
	mailbox_close(&mb);
	CHECK(!mailbox_fixture_dotlocked());
}

static void
session(const unsigned char *set, const unsigned char *data, size_t len,
    const unsigned char *extra, size_t extralen)
{
	struct mailbox mb;
	struct expect e;
	enum mbx_status s;
	unsigned char *got;
	size_t gotlen;
	int crashed;

	mailbox_fixture_write(data, len);
	CHECK(mailbox_open(&mb, mailbox_fixture_path(), mailbox_fixture_chan(),
	    set[0] & 1) == MBX_OK);
	CHECK(!mailbox_fixture_dotlocked());
	check_listing(&mb, data, len);
	check_reads(&mb, data);
	mark_deleted(&mb, set + 1);
	memset(&e, 0, sizeof(e));
	expect_update(&mb, set[0] & 2 ? extra : NULL, set[0] & 2 ? extralen :
	    0, &e);
	disk.crash_at = set[6];
	s = mailbox_update(&mb);
	crashed = disk_revive();
	CHECK(s == MBX_OK || crashed);
	CHECK(mb.unmatched == e.unmatched);
	CHECK(!mailbox_fixture_dotlocked());
	mailbox_close(&mb);
	got = mailbox_fixture_read(&gotlen);
	CHECK(crashed || file_is(got, gotlen, e.want, e.wantlen, &e));
	free(got);
	if (set[0] & 4) {
		deliver_late(&e, extra, extralen);
	}
	next_session(&e, crashed, set[0] & 1);
	expect_free(&e);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mailbox_fixture_start();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	unsigned char *big;
	size_t len, biglen, extralen = 0;

	if (size < SETTINGS) {
		return 0;
	}
	len = size - SETTINGS;
	if (in[0] & 6) {
		extralen = in[5] < len ? in[5] : len;
	}
	if (in[0] & 8) {
		big = fuzz_behind_big_message(in + SETTINGS, len - extralen,
		    &biglen);
		session(in, big, biglen, in + size - extralen, extralen);
		free(big);
	} else {
		session(in, in + SETTINGS, len - extralen,
		    in + size - extralen, extralen);
	}
	return 0;
}
