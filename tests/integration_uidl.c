/* SPDX-License-Identifier: ISC */
/*
 * What a client that leaves mail on the server keeps from session to
 * session, against the real server: UIDLs, sizes and bytes of a message
 * stored without a final newline once mail is appended after it; and the
 * largest maildrop served (MESSAGES_MAX).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "params.h"

#define KEPT		3	/* messages in the mailbox before the append */
#define UNENDED		"Subject: unended\n\nthe last line has no newline"
#define NEW_MSG		"Subject: new\n\nappended\n"

/* What a session shows of each message. */
struct seen {
	struct entry	 uidl[KEPT + 2];
	struct entry	 list[KEPT + 2];
	char		*retr[KEPT];
	size_t		 retr_len[KEPT];
	size_t		 count;
};

static void
look(struct seen *v)
{
	struct session *s = logged_in(0);
	char cmd[32];
	size_t i;

	v->count = listing(s, "UIDL", v->uidl, KEPT + 2);
	ck_assert_uint_eq(listing(s, "LIST", v->list, KEPT + 2), v->count);
	for (i = 0; i < KEPT; i++) {
		snprintf(cmd, sizeof(cmd), "RETR %zu", i + 1);
		v->retr[i] = fetch(s, cmd, &v->retr_len[i]);
	}
	quit(s);
}

static void
seen_free(struct seen *v)
{
	size_t i;

	for (i = 0; i < KEPT; i++) {
		free(v->retr[i]);
	}
}

/*
 * How MDAs append after a last message that lacks its newline: the
 * newline, a blank line and the next message; or only part of that so
 * far (a delivery cut short). eol is the mailbox's own line end.
 */
static const struct appender {
	const char	*eol;
	const char	*tail;
	size_t		 added;		/* messages the tail adds */
} appenders[] = {
	{ "\n", "\n\n" FROM_LINE "\n" NEW_MSG "\n", 1 },
	{ "\n", "\n\n", 0 },
	{ "\n", "\n", 0 },
	{ "\r\n", "\n\n" FROM_LINE "\n" NEW_MSG "\n", 1 },
	{ "\r\n", "\n", 0 },
};

/* The stored mailbox: two messages, then one without a final newline. */
static void
unended_mailbox(const char *eol)
{
	const char *const msgs[] = { sample[0], sample[1] };
	struct text t = TEXT_INIT, file = TEXT_INIT;
	const char *p;

	mbox_compose(&t, msgs, 2, "\n");
	text_adds(&t, FROM_LINE "\n" UNENDED);
	text_add(&file, "", 0);
	for (p = t.p; p < t.p + t.len; p++) {
		if (*p == '\n') {
			text_adds(&file, eol);
		} else {
			text_add(&file, p, 1);
		}
	}
	mailbox_write(file.p, file.len);
	text_free(&t);
	text_free(&file);
}

/* Issue 12, defect 10: clients fetched the unended message again. */
START_TEST(test_uidl_stable_after_append_to_unterminated)
{
	const struct appender *a = &appenders[_i];
	struct seen before, after;
	size_t i;

	unended_mailbox(a->eol);
	look(&before);
	ck_assert_uint_eq(before.count, KEPT);
	mailbox_append(a->tail, strlen(a->tail));
	look(&after);
	ck_assert_uint_eq(after.count, KEPT + a->added);
	for (i = 0; i < KEPT; i++) {
		ck_assert_msg(strcmp(before.uidl[i].value,
		    after.uidl[i].value) == 0, "appender %d: UIDL %zu was %s, "
		    "now %s", _i, i + 1, before.uidl[i].value,
		    after.uidl[i].value);
		ck_assert_str_eq(before.list[i].value, after.list[i].value);
		expect_bytes("RETR after the append", after.retr[i],
		    after.retr_len[i], before.retr[i], before.retr_len[i]);
	}
	seen_free(&before);
	seen_free(&after);
}
END_TEST

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
	s = session_start(0, (char *)NULL);
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
	TCase *append = test_case("append");
	TCase *limits = test_case("limits");

	tcase_add_loop_test(append,
	    test_uidl_stable_after_append_to_unterminated, 0,
	    (int)(sizeof(appenders) / sizeof(appenders[0])));
	tcase_set_timeout(limits, 120);
	tcase_add_test(limits, test_message_limit_is_messages_max);
	suite_add_tcase(s, append);
	suite_add_tcase(s, limits);
	return s;
}
