/* SPDX-License-Identifier: ISC */
/*
 * Integration tests of pop3d: runs every suite against the real binary
 * (see harness.h), and here the command line, which needs no client.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "params.h"

#define EXIT_USAGE	64	/* sysexits(3) EX_USAGE */

/* Runs pop3d with args: status 64 and not one byte on stdout. */
static void
expect_usage_error(const char *const *args)
{
	struct text out = TEXT_INIT;

	ck_assert_int_eq(run_pop3d(args, &out), EXIT_USAGE);
	ck_assert_msg(out.len == 0, "stdout: \"%s\"", show(out.p, out.len, 0));
	text_free(&out);
}

START_TEST(test_unknown_option)
{
	static const char *const args[] = { "--no-such-option", NULL };

	expect_usage_error(args);
}
END_TEST

START_TEST(test_stray_argument)
{
	static const char *const args[] = { "-d", "stray", NULL };

	expect_usage_error(args);
}
END_TEST

START_TEST(test_version)
{
	static const char *const args[] = { "-V", NULL };
	struct text out = TEXT_INIT;

	ck_assert_int_eq(run_pop3d(args, &out), 0);
	expect_bytes("stdout", out.p, out.len, "pop3d " POP3D_VERSION "\n",
	    strlen("pop3d " POP3D_VERSION "\n"));
	text_free(&out);
}
END_TEST

/* Each of these -t values alone. */
static const char *const bad_timeouts[] = {
	"0", "abc", "-1", "1x", "", "86401", "99999999999999999999999"
};

START_TEST(test_bad_timeout)
{
	const char *args[] = { "-t", bad_timeouts[_i], NULL };

	expect_usage_error(args);
}
END_TEST

static const char *const bad_templates[] = {
	"relative/%u", "%u", "/var/mail/%x", "/var/mail/%", ""
};

START_TEST(test_bad_template)
{
	const char *args[] = { "-m", bad_templates[_i], NULL };

	expect_usage_error(args);
}
END_TEST

START_TEST(test_bad_pam_service)
{
	static const char *const args[] = { "-s", "../../etc/passwd", NULL };

	expect_usage_error(args);
}
END_TEST

Suite *
cli_suite(void)
{
	Suite *s = suite_create("command line");
	TCase *tc = test_case("options");

	tcase_add_test(tc, test_unknown_option);
	tcase_add_test(tc, test_stray_argument);
	tcase_add_test(tc, test_version);
	tcase_add_loop_test(tc, test_bad_timeout, 0,
	    (int)(sizeof(bad_timeouts) / sizeof(bad_timeouts[0])));
	tcase_add_loop_test(tc, test_bad_template, 0,
	    (int)(sizeof(bad_templates) / sizeof(bad_templates[0])));
	tcase_add_test(tc, test_bad_pam_service);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	Suite *(*const suites[])(void) = {
		cli_suite, authorization_suite, sasl_login_suite,
		transaction_suite, maildrop_suite, uidl_suite, privilege_suite,
		sandbox_suite
	};
	SRunner *sr;
	size_t i;
	int failed;

	harness_init();
	sr = srunner_create(NULL);
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		srunner_add_suite(sr, suites[i]());
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
