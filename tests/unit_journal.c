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

struct forged_head {
	char magic[16];
	uint64_t seq, phase, dev, ino, base, length, old_size, prefix,
	    stale_hash, data_hash;
	unsigned char mark[16];
	uint64_t self_hash;
};

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

/* A mailbox of msize bytes, and beside it a session file holding hd. */
static void
forge(int *mfd, int *jfd, off_t msize, struct forged_head *hd, off_t jsize)
{
	unsigned char slot[512];
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
	memcpy(hd->magic, "pop3d-journal-2\n", sizeof(hd->magic));
	hd->seq = 1;
	hd->phase = 1;
	hd->dev = (uint64_t)st.st_dev;
	hd->ino = (uint64_t)st.st_ino;
	hd->self_hash = XXH3_64bits(hd, offsetof(struct forged_head,
	    self_hash));
	memset(slot, 0, sizeof(slot));
	memcpy(slot, hd, sizeof(*hd));
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
	struct forged_head hd;
	off_t len = (off_t)2 << 30;
	int mfd, jfd;

	memset(&hd, 0, sizeof(hd));
	hd.length = (uint64_t)len;
	hd.old_size = (uint64_t)len + 1;
	forge(&mfd, &jfd, 100, &hd, FORGED_DATA_OFF + len);
	expect_dropped_at_once(mfd, jfd);
	cleanup(mfd, jfd);
}
END_TEST

/* base + length wraps past 2^64 to a small sum below old_size. */
START_TEST(test_wrapping_journal_base_dropped_at_once)
{
	static const unsigned char zeros[10];
	struct forged_head hd;
	int mfd, jfd;

	memset(&hd, 0, sizeof(hd));
	hd.base = UINT64_MAX - 1;
	hd.length = sizeof(zeros);
	hd.old_size = 100;
	hd.data_hash = XXH3_64bits(zeros, sizeof(zeros));
	forge(&mfd, &jfd, 200, &hd, FORGED_DATA_OFF + (off_t)sizeof(zeros));
	expect_dropped_at_once(mfd, jfd);
	cleanup(mfd, jfd);
}
END_TEST

/* An old size no mailbox pop3d serves can have. */
START_TEST(test_journal_old_size_beyond_limit_dropped_at_once)
{
	static const unsigned char zeros[10];
	struct forged_head hd;
	int mfd, jfd;

	memset(&hd, 0, sizeof(hd));
	hd.length = sizeof(zeros);
	hd.old_size = UINT64_MAX;
	hd.data_hash = XXH3_64bits(zeros, sizeof(zeros));
	forge(&mfd, &jfd, 200, &hd, FORGED_DATA_OFF + (off_t)sizeof(zeros));
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
	ADD_TESTS(forged, test_sparse_journal_length_dropped_at_once,
	    test_wrapping_journal_base_dropped_at_once,
	    test_journal_old_size_beyond_limit_dropped_at_once);
	suite_add_tcase(s, forged);
	return s;
}
