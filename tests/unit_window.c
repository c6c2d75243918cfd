/* SPDX-License-Identifier: ISC */
/*
 * window.c: mapped windows read what pread() reads at any offset, and a
 * file truncated under a window costs the caller its data (zeros, and
 * window_lost()), not the process, also under the session's system call
 * filter; a SIGBUS outside the window still kills.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "tests/unit.h"
#include "window.h"

#define FILE_BYTES	(3 * 1024 * 1024)

static char path[64];
static int fd = -1;

/* A file of FILE_BYTES whose byte i is (i * 7 + i / 4096) mod 251. */
static unsigned char
pattern(size_t i)
{
	return (unsigned char)((i * 7 + i / 4096) % 251);
}

static void
make_file(void)
{
	unsigned char *buf = malloc(FILE_BYTES);
	size_t i;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < FILE_BYTES; i++) {
		buf[i] = pattern(i);
	}
	snprintf(path, sizeof(path), "/tmp/pop3d-window-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, FILE_BYTES), FILE_BYTES);
	free(buf);
}

static void
remove_file(void)
{
	close(fd);
	unlink(path);
}

START_TEST(test_window_reads_the_file_at_any_offset)
{
	static const off_t offs[] = { 0, 1, 4095, 4096, 4097, 1048576 + 7,
	    FILE_BYTES - 10 };
	struct window w = { NULL, 0 };
	const unsigned char *p;
	size_t i, j, len;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		len = FILE_BYTES - (size_t)offs[i];
		if (len > 1048576) {
			len = 1048576;
		}
		p = window_map(&w, fd, offs[i], len);
		ck_assert_ptr_nonnull(p);
		for (j = 0; j < len && p[j] == pattern((size_t)offs[i] + j);
		    j++) {
			continue;
		}
		ck_assert_msg(j == len, "byte %zu after %lld", j,
		    (long long)offs[i]);
		ck_assert_int_eq(window_lost(), 0);
	}
	window_unmap(&w);
	ck_assert_ptr_null(w.map);
}
END_TEST

/*
 * Truncates the file under a window of its first MB and reads all of
 * it; 0 when the bytes still in the file came through, the rest read as
 * zeros and the loss was noted, and a new window is clean again.
 */
static int
read_past_truncation(void)
{
	struct window w = { NULL, 0 };
	const unsigned char *p;
	size_t i, len = 1048576, keep = 10000;
	int ok = 1;

	p = window_map(&w, fd, 0, len);
	if (p == NULL || ftruncate(fd, (off_t)keep) == -1) {
		return 1;
	}
	for (i = 0; i < len; i++) {
		ok &= p[i] == (i < keep ? pattern(i) : 0);
	}
	ok &= window_lost() == 1;
	window_unmap(&w);
	ok &= window_lost() == 0;
	p = window_map(&w, fd, 0, keep);
	ok &= p != NULL && window_lost() == 0 && p[keep - 1] == pattern(keep - 1);
	window_unmap(&w);
	return ok ? 0 : 2;
}

START_TEST(test_window_survives_truncation)
{
	ck_assert_int_eq(read_past_truncation(), 0);
}
END_TEST

/* What the session does: the same under its system call filter. */
START_TEST(test_window_survives_truncation_in_the_sandbox)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		_exit(sandbox_session() == -1 ? 3 : read_past_truncation());
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "status %#x", status);
}
END_TEST

START_TEST(test_window_leaves_other_faults_fatal)
{
	struct window w = { NULL, 0 };
	volatile unsigned char *q;
	int status;
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (window_map(&w, fd, 0, 4096) == NULL) {
			_exit(1);
		}
		q = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 1048576);
		if (q == MAP_FAILED || ftruncate(fd, 4096) == -1) {
			_exit(1);
		}
		_exit(q[0]);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
	    "status %#x", status);
}
END_TEST

Suite *
window_suite(void)
{
	Suite *s = suite_create("window");
	TCase *tc = tcase_create("window");
	TCase *cut = tcase_create("window_truncated");

	tcase_add_checked_fixture(tc, make_file, remove_file);
	ADD_TESTS(tc, test_window_reads_the_file_at_any_offset);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(cut, make_file, remove_file);
	tcase_set_tags(cut, TAG_SIGBUS);
	ADD_TESTS(cut, test_window_survives_truncation,
	    test_window_survives_truncation_in_the_sandbox,
	    test_window_leaves_other_faults_fatal);
	suite_add_tcase(s, cut);
	return s;
}
