/* SPDX-License-Identifier: ISC */
/*
 * Runs every unit suite of pop3d. Exit status 0 only if all tests pass.
 * CK_FORK=no runs them in one process (for valgrind); CK_RUN_SUITE,
 * CK_RUN_CASE and CK_EXCLUDE_TAGS select tests as Check documents.
 */
#include <stdlib.h>

#include "tests/unit.h"

static Suite *(*const suites[])(void) = {
	proto_suite,
	io_suite,
	journal_suite,
	body_suite,
	mbox_suite,
	top_suite,
	priv_suite,
	privsep_suite,
	log_suite,
	mailbox_suite,
	auth_suite,
	monitor_suite,
	sasl_suite,
	apop_suite,
	proxy_suite,
	window_suite,
};

int
main(void)
{
	SRunner *sr = srunner_create(NULL);
	size_t i;
	int failed;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		srunner_add_suite(sr, suites[i]());
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
