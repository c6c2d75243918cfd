/*
 * Against the real server: the largest maildrop served (MESSAGES_MAX).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "params.h"

/* n messages of the smallest kind, "From n" and a blank line each. */
static void
many_messages(size_t n)
{
	struct text t = TEXT_INIT;
	char line[32];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "From %zu\n\n", i);
		text_adds(&t, line);
	}
	mailbox_write(t.p, t.len);
	text_free(&t);
}

/* Issue 12, defect 9: the limit is MESSAGES_MAX, not the next 2^k. */
START_TEST(test_message_limit_is_messages_max)
{
	struct session *s;
	char want[64];

	many_messages(MESSAGES_MAX);
	s = logged_in(0);
	snprintf(want, sizeof(want), "+OK %d 0", MESSAGES_MAX);
	chat(s, "STAT", want);
	quit(s);
	many_messages(MESSAGES_MAX + 1);
	s = session_start(0, NULL);
	greet(s);
	ck_assert_str_eq(login(s),
	    "-ERR [SYS/PERM] mailbox has too many messages");
	expect_eof(s);
	ck_assert_int_eq(session_wait(s), 0);
	expect_log(s, "mailbox has too many messages");
	session_free(s);
}
END_TEST

Suite *
uidl_suite(void)
{
	Suite *s = suite_create("uidl and limits");
	TCase *limits = test_case("limits");

	tcase_set_timeout(limits, 120);
	tcase_add_test(limits, test_message_limit_is_messages_max);
	suite_add_tcase(s, limits);
	return s;
}
