/* SPDX-License-Identifier: ISC */
/*
 * privsep.c, as root (elsewhere the suite is empty): become_user() makes
 * a child process the account for good and lives on, whatever the
 * account's primary group.
 */
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privsep.h"
#include "tests/unit.h"

/* No account on a test machine has it. */
#define NOBODY_ID	64993

/*
 * In a child: become_user() to NOBODY_ID and gid, then whether the
 * credentials are those. Its exit status; 71 (EX_OSERR) if
 * become_user() ended it.
 */
static int
become_in_child(gid_t gid)
{
	struct config cfg;
	struct account a;
	pid_t pid;
	int status;

	memset(&cfg, 0, sizeof(cfg));
	cfg.passwd_file = "passwd";	/* its groups: the gid alone */
	memset(&a, 0, sizeof(a));
	memcpy(a.name, "test", 5);
	a.uid = NOBODY_ID;
	a.gid = gid;
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		become_user(&cfg, &a);
		_exit(getuid() == NOBODY_ID && getgid() == gid &&
		    getegid() == gid ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child killed by signal %d",
	    WTERMSIG(status));
	return WEXITSTATUS(status);
}

START_TEST(test_become_user_ordinary_gid)
{
	ck_assert_int_eq(become_in_child(NOBODY_ID), 0);
}
END_TEST

/*
 * Its own gid 0 is no way back to root: the check that root cannot be
 * regained took a setgid(0) that succeeded for one (exit 71).
 */
START_TEST(test_verify_ids_gid0_is_not_root)
{
	ck_assert_int_eq(become_in_child(0), 0);
}
END_TEST

Suite *
privsep_suite(void)
{
	Suite *s = suite_create("privsep");
	TCase *tc = tcase_create("become_user");

	if (geteuid() == 0) {
		ADD_TESTS(tc, test_become_user_ordinary_gid,
		    test_verify_ids_gid0_is_not_root);
	}
	suite_add_tcase(s, tc);
	return s;
}
