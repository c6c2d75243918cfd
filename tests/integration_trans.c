/* SPDX-License-Identifier: ISC */
/*
 * The TRANSACTION and UPDATE states against the real server: the
 * commands, malformed arguments and lines, deletion at QUIT and only at
 * QUIT, and the idle timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "params.h"

#define SAMPLE_ALL	sample, SAMPLE_COUNT

/* "+OK n size" for these message numbers of sample[]. */
static const char *
stat_line(const unsigned long *nums, size_t n)
{
	static char out[64];
	unsigned long long size = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		size += wire_size(sample[nums[i] - 1]);
	}
	snprintf(out, sizeof(out), "+OK %zu %llu", n, size);
	return out;
}

/* LIST names exactly these messages of sample[], with their sizes. */
static void
expect_list(struct session *s, const unsigned long *nums, size_t n)
{
	struct entry e[SAMPLE_COUNT + 1];
	size_t i;

	ck_assert_uint_eq(listing(s, "LIST", e, SAMPLE_COUNT + 1), n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(e[i].n, nums[i]);
		ck_assert_uint_eq(strtoull(e[i].value, NULL, 10),
		    wire_size(sample[nums[i] - 1]));
	}
}

/* RFC 1939 section 7: 1 to 70 characters in 0x21..0x7e. */
static void
expect_uidl_syntax(const char *u)
{
	size_t i, n = strlen(u);

	ck_assert_msg(n >= 1 && n <= 70, "UIDL \"%s\" has %zu characters", u,
	    n);
	for (i = 0; i < n; i++) {
		ck_assert_msg(u[i] >= 0x21 && u[i] <= 0x7e,
		    "UIDL \"%s\" has a bad byte", u);
	}
}

START_TEST(test_stat_list_uidl)
{
	static const unsigned long all[] = { 1, 2, 3 };
	struct session *s;
	struct entry u[SAMPLE_COUNT + 1];
	char want[128];
	size_t i;

	mailbox_put(SAMPLE_ALL, "\n");
	s = logged_in(0);
	chat(s, "STAT", stat_line(all, 3));
	expect_list(s, all, 3);
	snprintf(want, sizeof(want), "+OK 2 %llu", wire_size(sample[1]));
	chat(s, "LIST 2", want);
	ck_assert_uint_eq(listing(s, "UIDL", u, SAMPLE_COUNT + 1), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(u[i].n, i + 1);
		expect_uidl_syntax(u[i].value);
	}
	ck_assert_str_ne(u[0].value, u[1].value);
	ck_assert_str_ne(u[1].value, u[2].value);
	snprintf(want, sizeof(want), "+OK 2 %s", u[1].value);
	chat(s, "UIDL 2", want);
	quit(s);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

#define TOP_HEADER	"Subject: top\nFrom: alice@example.org\n\n"
#define TOP_BODY1	"line one\n"
#define TOP_MESSAGE	TOP_HEADER TOP_BODY1 ".line two\nline three\n"

/* Sends cmd; the body must be the wire form of stored. */
static void
expect_fetch(struct session *s, const char *cmd, const char *stored)
{
	struct text want = TEXT_INIT;

	wire_form(&want, stored, strlen(stored));
	expect_body(s, cmd, want.p, want.len);
	text_free(&want);
}

START_TEST(test_retr_and_top)
{
	static const char *const msgs[] = { TOP_MESSAGE };
	struct session *s;

	mailbox_put(msgs, 1, "\n");
	s = logged_in(0);
	expect_fetch(s, "RETR 1", TOP_MESSAGE);
	expect_fetch(s, "TOP 1 0", TOP_HEADER);
	expect_fetch(s, "TOP 1 1", TOP_HEADER TOP_BODY1);
	expect_fetch(s, "TOP 1 99999999", TOP_MESSAGE);
	quit(s);
}
END_TEST

/* Each answered by one -ERR line; the session goes on. */
static const char *const bad_commands[] = {
	"LIST 4294967297", "LIST 18446744073709551617", "LIST 0", "LIST -1",
	"LIST +1", "LIST abc", "LIST 10", "LIST 1 2", "RETR", "RETR 1 2",
	"RETR 0", "TOP 1", "TOP 1 -1", "TOP 1 x", "TOP 10 0", "DELE 0",
	"DELE", "UIDL 0", "UIDL 10", "STAT 1", "NOOP x"
};

/*
 * In one session on the sample maildrop, each of n commands gets one
 * -ERR line and the next command works; nothing changes.
 */
static void
expect_refusals(const char *const *cmds, size_t n)
{
	struct session *s;
	size_t i;

	mailbox_put(SAMPLE_ALL, "\n");
	s = logged_in(0);
	for (i = 0; i < n; i++) {
		chat_prefix(s, cmds[i], "-ERR ");
		chat(s, "NOOP", "+OK noop");
	}
	quit(s);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}

/* Half of them in one session: errors are counted, and 20 end it. */
START_TEST(test_bad_arguments)
{
	size_t half = sizeof(bad_commands) / sizeof(bad_commands[0]) / 2;

	if (_i == 0) {
		expect_refusals(bad_commands, half);
	} else {
		expect_refusals(bad_commands + half,
		    sizeof(bad_commands) / sizeof(bad_commands[0]) - half);
	}
}
END_TEST

START_TEST(test_dele_rset_noop)
{
	static const unsigned long all[] = { 1, 2, 3 }, kept[] = { 1, 3 };
	struct session *s;
	char want[64];

	mailbox_put(SAMPLE_ALL, "\n");
	s = logged_in(0);
	chat_prefix(s, "DELE 2", "+OK");
	chat_prefix(s, "DELE 2", "-ERR ");
	chat(s, "STAT", stat_line(kept, 2));
	expect_list(s, kept, 2);
	chat_prefix(s, "LIST 2", "-ERR ");
	chat_prefix(s, "RETR 2", "-ERR ");
	chat_prefix(s, "TOP 2 0", "-ERR ");
	chat_prefix(s, "UIDL 2", "-ERR ");
	chat(s, "RSET", stat_line(all, 3));
	snprintf(want, sizeof(want), "+OK 2 %llu", wire_size(sample[1]));
	chat(s, "LIST 2", want);
	chat_prefix(s, "NOOP", "+OK");
	quit(s);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

/* DELE _i + 1, QUIT: exactly that message is gone. */
START_TEST(test_dele_quit)
{
	const char *kept[SAMPLE_COUNT];
	struct session *s;
	size_t i, n = 0;

	for (i = 0; i < SAMPLE_COUNT; i++) {
		if (i != (size_t)_i) {
			kept[n++] = sample[i];
		}
	}
	mailbox_put(SAMPLE_ALL, "\n");
	s = logged_in(0);
	send_line(s, "DELE %d", _i + 1);
	expect_prefix(s, "+OK");
	quit(s);
	expect_mailbox_msgs(kept, n, "\n");
}
END_TEST

START_TEST(test_dele_all)
{
	struct session *s;

	mailbox_put(SAMPLE_ALL, "\n");
	s = logged_in(0);
	chat_prefix(s, "DELE 3", "+OK");
	chat_prefix(s, "DELE 1", "+OK");
	chat_prefix(s, "DELE 2", "+OK");
	chat(s, "STAT", "+OK 0 0");
	quit(s);
	expect_mailbox("", 0);
}
END_TEST

/* No QUIT, no UPDATE (RFC 1939 section 6). */
START_TEST(test_dele_then_hangup)
{
	struct session *s;
	char logout[128];

	mailbox_put(SAMPLE_ALL, "\n");
	s = logged_in(0);
	chat_prefix(s, "DELE 1", "+OK");
	chat_prefix(s, "DELE 3", "+OK");
	ck_assert_int_eq(session_wait(s), 0);
	snprintf(logout, sizeof(logout), "LOGOUT, user=%s, ip=[" PEER_ADDR
	    "], reason=hangup", W.user);
	expect_log(s, logout);
	session_free(s);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

#define LATE_MESSAGE	"Subject: late\n\nDelivered during the session.\n"

START_TEST(test_mail_appended_during_session)
{
	static const char *const late[] = { LATE_MESSAGE };
	const char *const after[] = { sample[1], sample[2], LATE_MESSAGE };
	struct text block = TEXT_INIT;
	struct session *s;

	mailbox_put(SAMPLE_ALL, "\n");
	s = logged_in(0);
	mbox_compose(&block, late, 1, "\n");
	mailbox_append(block.p, block.len);
	chat_prefix(s, "DELE 1", "+OK");
	chat_prefix(s, "STAT", "+OK 2 ");
	quit(s);
	expect_mailbox_msgs(after, 3, "\n");
	text_free(&block);
}
END_TEST

/* Idle past -t: one -ERR line, the connection closes, nothing deleted. */
START_TEST(test_idle_timeout)
{
	struct session *s;
	struct text batch = TEXT_INIT;
	long long t0;

	mailbox_put(SAMPLE_ALL, "\n");
	s = session_start(0, "-t", "1", NULL);
	text_adds(&batch, "USER ");
	text_adds(&batch, W.user);
	text_adds(&batch, "\r\nPASS " PASSWORD "\r\nDELE 1\r\n");
	send_raw(s, batch.p, batch.len);
	greet(s);
	expect_prefix(s, "+OK");
	expect_line(s, maildrop_reply(SAMPLE_ALL));
	expect_prefix(s, "+OK");
	t0 = now_ms();
	expect_prefix(s, "-ERR ");
	ck_assert_int_ge(now_ms() - t0, 900);
	expect_eof(s);
	session_end(s);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
	text_free(&batch);
}
END_TEST

/* A command line of len octets with its CRLF: NOOP and blanks. */
static void
send_noop_of(struct session *s, size_t len)
{
	struct text t = TEXT_INIT;

	text_adds(&t, "NOOP");
	while (t.len < len - 2) {
		text_adds(&t, t.len < 300 ? " " : "x");
	}
	text_adds(&t, "\r\n");
	send_raw(s, t.p, t.len);
	text_free(&t);
}

/* RFC 2449: 255 octets with CRLF are allowed; longer lines get one -ERR. */
START_TEST(test_long_lines)
{
	struct session *s = logged_in(0);

	send_noop_of(s, LINE_MAX_OCTETS);
	expect_prefix(s, "+OK");
	send_noop_of(s, LINE_MAX_OCTETS + 1);
	expect_prefix(s, "-ERR ");
	chat_prefix(s, "NOOP", "+OK");
	send_noop_of(s, 300);
	expect_prefix(s, "-ERR ");
	chat_prefix(s, "NOOP", "+OK");
	send_noop_of(s, 3 * INPUT_BUFFER);
	expect_prefix(s, "-ERR ");
	chat_prefix(s, "NOOP", "+OK");
	session_end(s);
}
END_TEST

START_TEST(test_nul_in_command)
{
	struct session *s = logged_in(0);

	send_raw(s, "NO\0OP\r\n", 7);
	expect_prefix(s, "-ERR ");
	send_raw(s, "STAT\0\r\n", 7);
	expect_prefix(s, "-ERR ");
	chat(s, "STAT", "+OK 0 0");
	session_end(s);
}
END_TEST

/* Past the last message, every digit over 3: see below. */
static const char *const past_last[] = {
	"LIST 4", "UIDL 4", "TOP 4 0", "RETR 4", "DELE 4", "UIDL 99",
	"LIST 999"
};

/*
 * Regression: a number whose every digit exceeds the message count once
 * slipped past parse_number()'s overflow check and read the index past
 * its end. Each must get -ERR, as "LIST 10" does.
 */
START_TEST(test_number_past_last_message)
{
	expect_refusals(past_last, sizeof(past_last) / sizeof(past_last[0]));
}
END_TEST

/*
 * Regression, the same check: an empty maildrop has no index at all, so
 * accepting "LIST 1" there crashed the session.
 */
START_TEST(test_number_on_empty_maildrop)
{
	struct session *s = logged_in(0);

	chat_prefix(s, "LIST 1", "-ERR ");
	chat_prefix(s, "RETR 1", "-ERR ");
	quit(s);
}
END_TEST

Suite *
transaction_suite(void)
{
	Suite *s = suite_create("transaction");
	TCase *tc = test_case("commands");
	TCase *update = test_case("update");

	tcase_add_test(tc, test_stat_list_uidl);
	tcase_add_test(tc, test_retr_and_top);
	tcase_add_loop_test(tc, test_bad_arguments, 0, 2);
	tcase_add_test(tc, test_dele_rset_noop);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_nul_in_command);
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_number_past_last_message);
	tcase_add_test(tc, test_number_on_empty_maildrop);
	tcase_add_loop_test(update, test_dele_quit, 0, SAMPLE_COUNT);
	tcase_add_test(update, test_dele_all);
	tcase_add_test(update, test_dele_then_hangup);
	tcase_add_test(update, test_mail_appended_during_session);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, update);
	return s;
}
