/* SPDX-License-Identifier: ISC */
/*
 * The AUTHORIZATION state against the real server: greeting, CAPA, USER
 * and PASS through the passwd file and through PAM, the refusals and
 * their delay, the log lines fail2ban reads, and commands out of state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "params.h"

#define SAMPLE_ALL	sample, SAMPLE_COUNT

/* A password nobody has; it must never reach the log. */
#define BAD_PASSWORD	"Tr0ub4dor&3"

/* A failed login is answered after AUTH_FAIL_DELAY, give or take. */
#define DELAY_MIN_MS	(AUTH_FAIL_DELAY * 1000 - 100)

/*
 * USER name, PASS pass: refused with -ERR [AUTH], and not before the
 * delay. The reply, to be freed.
 */
static char *
failed_login(struct session *s, const char *name, const char *pass)
{
	long long t0;
	char *reply;

	send_line(s, "USER %s", name);
	expect_prefix(s, "+OK");
	t0 = now_ms();
	send_line(s, "PASS %s", pass);
	reply = strdup(expect_prefix(s, "-ERR [AUTH] "));
	ck_assert_msg(now_ms() - t0 >= DELAY_MIN_MS, "refused after %lld ms",
	    now_ms() - t0);
	return reply;
}

static void
expect_login_logged(const struct session *s, const char *what,
    const char *name)
{
	char line[256];

	snprintf(line, sizeof(line), "%s, user=%s, ip=[" PEER_ADDR "]", what,
	    name);
	expect_log(s, line);
}

START_TEST(test_greeting_then_quit)
{
	struct session *s;

	mailbox_put(SAMPLE_ALL, "\n");
	s = session_start(0, NULL);
	greet(s);
	chat_prefix(s, "QUIT", "+OK");
	expect_eof(s);
	session_end(s);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

static const char *const capabilities[] = {
	"TOP", "USER", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
	"IMPLEMENTATION"
};

/* CAPA lists every tag we need (IMPLEMENTATION has an argument). */
static void
expect_capa(struct session *s)
{
	char want[64];
	size_t i, len;
	char *body = fetch(s, "CAPA", &len);

	for (i = 0; i < sizeof(capabilities) / sizeof(capabilities[0]); i++) {
		snprintf(want, sizeof(want), "\r\n%s%s", capabilities[i],
		    strcmp(capabilities[i], "IMPLEMENTATION") == 0 ? " " :
		    "\r\n");
		ck_assert_msg(strstr(body, want + 2) == body ||
		    strstr(body, want) != NULL, "CAPA lacks %s: \"%s\"",
		    capabilities[i], show(body, len, 0));
	}
	free(body);
}

/* RFC 2449: CAPA works in both states, and USER stays listed. */
START_TEST(test_capa_in_both_states)
{
	struct session *s = session_start(0, NULL);

	greet(s);
	expect_capa(s);
	ck_assert_str_eq(login(s), maildrop_reply(NULL, 0));
	expect_capa(s);
	session_end(s);
}
END_TEST

START_TEST(test_login_passwd_file)
{
	struct session *s;
	char logout[256];

	mailbox_put(SAMPLE_ALL, "\n");
	s = session_start(0, NULL);
	greet(s);
	ck_assert_str_eq(login(s), maildrop_reply(SAMPLE_ALL));
	expect_login_logged(s, "LOGIN", W.user);
	chat(s, "QUIT", "+OK bye");
	ck_assert_int_eq(session_wait(s), 0);
	snprintf(logout, sizeof(logout), "LOGOUT, user=%s, ip=[" PEER_ADDR
	    "], reason=quit", W.user);
	expect_log(s, logout);
	expect_no_log(s, PASSWORD);
	session_free(s);
}
END_TEST

/* pam_wrapper + pam_matrix: a refusal, then the right password. */
START_TEST(test_login_pam)
{
	struct session *s;
	char *refused;

	mailbox_put(SAMPLE_ALL, "\n");
	s = session_start(S_PAM, NULL);
	greet(s);
	refused = failed_login(s, W.user, BAD_PASSWORD);
	free(refused);
	ck_assert_str_eq(login(s), maildrop_reply(SAMPLE_ALL));
	chat_prefix(s, "STAT", "+OK 3 ");
	expect_login_logged(s, "LOGIN FAILED", W.user);
	expect_login_logged(s, "LOGIN", W.user);
	expect_no_log(s, BAD_PASSWORD);
	expect_no_log(s, PAM_PASSWORD);
	session_end(s);
}
END_TEST

/*
 * A wrong password and an unknown user look the same; a name that tries
 * to forge the address fail2ban reads is logged escaped; the third
 * failure ends the connection.
 */
START_TEST(test_three_failures)
{
	struct session *s = session_start(0, NULL);
	char *wrong, *unknown;

	greet(s);
	chat_prefix(s, "USER x, ip=[6.6.6.6]", "-ERR ");
	wrong = failed_login(s, W.user, BAD_PASSWORD);
	unknown = failed_login(s, "nosuchuser", PASSWORD);
	ck_assert_str_eq(unknown, wrong);
	free(wrong);
	free(unknown);
	free(failed_login(s, "x,ip=[6.6.6.6]", BAD_PASSWORD));
	expect_eof(s);
	ck_assert_int_eq(session_wait(s), 0);
	expect_login_logged(s, "LOGIN FAILED", W.user);
	expect_login_logged(s, "LOGIN FAILED", "nosuchuser");
	expect_login_logged(s, "LOGIN FAILED", "x\\x2cip\\x3d\\x5b6.6.6.6\\x5d");
	expect_no_log(s, "ip=[6.6.6.6]");
	expect_no_log(s, BAD_PASSWORD);
	session_free(s);
}
END_TEST

/* uid 0 under another name and an empty hash: refused like the rest. */
START_TEST(test_refused_accounts)
{
	struct session *s = session_start(0, NULL);
	char *root, *empty;

	greet(s);
	root = failed_login(s, "toor", PASSWORD);
	empty = failed_login(s, "nopass", PASSWORD);
	ck_assert_str_eq(root, empty);
	free(root);
	free(empty);
	ck_assert_str_eq(login(s), maildrop_reply(NULL, 0));
	expect_login_logged(s, "LOGIN FAILED", "toor");
	expect_login_logged(s, "LOGIN FAILED", "nopass");
	session_end(s);
}
END_TEST

START_TEST(test_empty_password)
{
	struct session *s = session_start(0, NULL);

	greet(s);
	chat_prefix(s, "USER nopass", "+OK");
	chat_prefix(s, "PASS", "-ERR ");
	chat_prefix(s, "PASS ", "-ERR ");
	chat_prefix(s, "STAT", "-ERR ");
	ck_assert_str_eq(login(s), maildrop_reply(NULL, 0));
	session_end(s);
}
END_TEST

/* Started as a user, pop3d serves that user and nobody else. */
START_TEST(test_foreign_uid)
{
	struct session *s = session_start(0, NULL);

	greet(s);
	chat_prefix(s, "USER other", "+OK");
	chat_prefix(s, "PASS " PASSWORD, "-ERR [SYS/PERM] ");
	expect_eof(s);
	ck_assert_int_eq(session_wait(s), 0);
	expect_log(s, "user=other");
	expect_no_log(s, "LOGIN, user=other");
	session_free(s);
}
END_TEST

static const char *const transaction_only[] = {
	"STAT", "LIST", "LIST 1", "RETR 1", "DELE 1", "NOOP", "RSET",
	"TOP 1 0", "UIDL", "UIDL 1"
};

START_TEST(test_commands_out_of_state)
{
	struct session *s;
	size_t i;

	mailbox_put(SAMPLE_ALL, "\n");
	s = session_start(0, NULL);
	greet(s);
	for (i = 0; i < sizeof(transaction_only) / sizeof(char *); i++) {
		chat_prefix(s, transaction_only[i], "-ERR ");
	}
	chat_prefix(s, "PASS " PASSWORD, "-ERR ");
	ck_assert_str_eq(login(s), maildrop_reply(SAMPLE_ALL));
	chat_prefix(s, "USER x", "-ERR ");
	chat_prefix(s, "PASS x", "-ERR ");
	chat_prefix(s, "STAT", "+OK 3 ");
	quit(s);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

/*
 * Everything in one write: the pre-login child has read past PASS and
 * must hand those bytes over to the session.
 */
START_TEST(test_pipelined_login)
{
	struct session *s;
	struct text batch = TEXT_INIT, want = TEXT_INIT;
	char stat[64];
	char *body;
	size_t len;

	mailbox_put(sample, 2, "\n");
	s = session_start(0, NULL);
	text_adds(&batch, "USER ");
	text_adds(&batch, W.user);
	text_adds(&batch, "\r\nPASS " PASSWORD "\r\nSTAT\r\nLIST\r\n"
	    "RETR 1\r\nQUIT\r\n");
	send_raw(s, batch.p, batch.len);
	greet(s);
	expect_prefix(s, "+OK");
	expect_line(s, maildrop_reply(sample, 2));
	snprintf(stat, sizeof(stat), "+OK 2 %llu",
	    wire_size(sample[0]) + wire_size(sample[1]));
	expect_line(s, stat);
	expect_prefix(s, "+OK");
	free(read_multiline(s, &len));
	expect_prefix(s, "+OK");
	body = read_multiline(s, &len);
	wire_form(&want, sample[0], strlen(sample[0]));
	expect_bytes("RETR 1", body, len, want.p, want.len);
	expect_line(s, "+OK bye");
	expect_eof(s);
	session_end(s);
	free(body);
	text_free(&want);
	text_free(&batch);
}
END_TEST

/* Lower case and bare LF line ends, as sloppy clients send them. */
START_TEST(test_lower_case_and_bare_lf)
{
	struct session *s;
	struct text batch = TEXT_INIT;
	char list[64];

	mailbox_put(sample, 1, "\n");
	s = session_start(0, NULL);
	greet(s);
	text_adds(&batch, "user ");
	text_adds(&batch, W.user);
	text_adds(&batch, "\npass " PASSWORD "\nStat\nlist 1\nnoop\nquit\n");
	send_raw(s, batch.p, batch.len);
	expect_prefix(s, "+OK");
	expect_line(s, maildrop_reply(sample, 1));
	snprintf(list, sizeof(list), "+OK 1 %llu", wire_size(sample[0]));
	expect_line(s, list);
	expect_line(s, list);
	expect_prefix(s, "+OK");
	expect_line(s, "+OK bye");
	expect_eof(s);
	session_end(s);
	text_free(&batch);
}
END_TEST

/* Sends n unknown commands in one write; n -ERR replies. */
static void
unknown_commands(struct session *s, int n)
{
	struct text batch = TEXT_INIT;
	int i;

	for (i = 0; i < n; i++) {
		text_adds(&batch, "XYZZY\r\n");
	}
	send_raw(s, batch.p, batch.len);
	for (i = 0; i < n; i++) {
		expect_prefix(s, "-ERR ");
	}
	text_free(&batch);
}

START_TEST(test_too_many_errors)
{
	struct session *s = session_start(0, NULL);
	size_t len;

	greet(s);
	unknown_commands(s, PROTOCOL_ERRORS_MAX - 1);
	free(fetch(s, "CAPA", &len));
	unknown_commands(s, 1);
	expect_prefix(s, "-ERR ");
	expect_eof(s);
	session_end(s);
}
END_TEST

/* Before login the idle limit is the smaller of -t and LOGIN_TIMEOUT. */
START_TEST(test_login_timeout)
{
	struct session *s = session_start(0, "-t", "1", NULL);
	long long t0 = now_ms();

	greet(s);
	expect_prefix(s, "-ERR ");
	ck_assert_int_ge(now_ms() - t0, 900);
	expect_eof(s);
	session_end(s);
}
END_TEST

Suite *
authorization_suite(void)
{
	Suite *s = suite_create("authorization");
	TCase *tc = test_case("login");
	TCase *slow = test_case("refusals");

	tcase_add_test(tc, test_greeting_then_quit);
	tcase_add_test(tc, test_capa_in_both_states);
	tcase_add_test(tc, test_login_passwd_file);
	tcase_add_test(tc, test_empty_password);
	if (!W.root) {
		tcase_add_test(tc, test_foreign_uid);
	}
	tcase_add_test(tc, test_commands_out_of_state);
	tcase_add_test(tc, test_pipelined_login);
	tcase_add_test(tc, test_lower_case_and_bare_lf);
	tcase_add_test(tc, test_too_many_errors);
	tcase_add_test(tc, test_login_timeout);
	tcase_add_test(slow, test_login_pam);
	tcase_add_test(slow, test_three_failures);
	tcase_add_test(slow, test_refused_accounts);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, slow);
	return s;
}
