/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of journal.c: recovery of a session file a user wrote by
 * hand (review 3, F2). The header below is journal.c's on-disk layout.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "journal.h"
#include "tests/unit.h"

#define FORGED_DATA_OFF	1024

/*
 * journal.c's header: a 16-byte magic, ten 64-bit fields in this order,
 * a 16-byte marker, then the hash of all that.
 */
enum field { SEQ, PHASE, DEV, INO, BASE, LENGTH, OLD_SIZE, PREFIX,
	STALE_HASH, DATA_HASH, FIELDS };
#define FIELD_AT(i)	(16 + 8 * (size_t)(i))
#define SELF_HASH_AT	(FIELD_AT(FIELDS) + 16)

static char tmpdir[] = "/tmp/pop3d-unit-journal.XXXXXX";
static int digest_calls;

static int
count_digest(void *ctx, off_t base, uint64_t *out)
{
	(void)ctx;
	(void)base;
	digest_calls++;
	*out = 0;
	return 0;
}

static void
set(unsigned char *slot, enum field i, uint64_t v)
{
	memcpy(slot + FIELD_AT(i), &v, sizeof(v));
}

/*
 * A mailbox of msize bytes, and beside it a session file of jsize bytes
 * whose first header says: base, length, old_size, data_hash.
 */
static void
forge(int *mfd, int *jfd, off_t msize, const uint64_t *f, off_t jsize)
{
	unsigned char slot[512];
	uint64_t self;
	struct stat st;
	char path[64];

	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/mbox", tmpdir);
	*mfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(*mfd, -1);
	ck_assert_int_eq(ftruncate(*mfd, msize), 0);
	ck_assert_int_eq(fstat(*mfd, &st), 0);
	snprintf(path, sizeof(path), "%s/mbox.pop3d", tmpdir);
	*jfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(*jfd, -1);
	memset(slot, 0, sizeof(slot));
	memcpy(slot, "pop3d-journal-2\n", 16);
	set(slot, SEQ, 1);
	set(slot, PHASE, 1);
	set(slot, DEV, (uint64_t)st.st_dev);
	set(slot, INO, (uint64_t)st.st_ino);
	set(slot, BASE, f[0]);
	set(slot, LENGTH, f[1]);
	set(slot, OLD_SIZE, f[2]);
	set(slot, DATA_HASH, f[3]);
	self = XXH3_64bits(slot, SELF_HASH_AT);
	memcpy(slot + SELF_HASH_AT, &self, sizeof(self));
	ck_assert_int_eq(pwrite(*jfd, slot, sizeof(slot), 0), sizeof(slot));
	ck_assert_int_eq(ftruncate(*jfd, jsize), 0);
}

static void
cleanup(int mfd, int jfd)
{
	char path[64];

	close(mfd);
	close(jfd);
	snprintf(path, sizeof(path), "%s/mbox", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/mbox.pop3d", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Recovers, then the journal must be empty, nothing read, at once. */
static void
expect_dropped_at_once(int mfd, int jfd)
{
	unsigned char buf[65536];
	struct stat st;
	double t = now();

	digest_calls = 0;
	ck_assert_int_eq(journal_recover(mfd, jfd, count_digest, NULL, buf,
	    sizeof(buf)), 0);
	ck_assert_double_lt(now() - t, 0.5);
	ck_assert_int_eq(digest_calls, 0);
	ck_assert_int_eq(fstat(jfd, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
}

/* 2 GiB of sparse journal data for a 100-byte mailbox. */
START_TEST(test_sparse_journal_length_dropped_at_once)
{
	off_t len = (off_t)2 << 30;
	const uint64_t f[] = { 0, (uint64_t)len, (uint64_t)len + 1, 0 };
	int mfd, jfd;

	forge(&mfd, &jfd, 100, f, FORGED_DATA_OFF + len);
	expect_dropped_at_once(mfd, jfd);
	cleanup(mfd, jfd);
}
END_TEST

/*
 * Ten bytes of data with their right hash, in a 200-byte mailbox: in the
 * first, base + length wraps past 2^64 to 8, below old_size; in the
 * second, old_size is beyond any mailbox pop3d serves.
 */
START_TEST(test_impossible_journal_base_or_old_size_dropped_at_once)
{
	static const unsigned char zeros[10];
	const uint64_t bases[] = { UINT64_MAX - 1, 0 };
	const uint64_t old_sizes[] = { 100, UINT64_MAX };
	uint64_t f[4];
	int mfd, jfd;

	f[0] = bases[_i];
	f[1] = sizeof(zeros);
	f[2] = old_sizes[_i];
	f[3] = XXH3_64bits(zeros, sizeof(zeros));
	forge(&mfd, &jfd, 200, f, FORGED_DATA_OFF + (off_t)sizeof(zeros));
	expect_dropped_at_once(mfd, jfd);
	cleanup(mfd, jfd);
}
END_TEST

Suite *
journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *forged = tcase_create("journal_forged_header");

	tcase_set_timeout(forged, 60);
	ADD_TESTS(forged, test_sparse_journal_length_dropped_at_once);
	tcase_add_loop_test(forged,
	    test_impossible_journal_base_or_old_size_dropped_at_once, 0, 2);
	suite_add_tcase(s, forged);
	return s;
}
