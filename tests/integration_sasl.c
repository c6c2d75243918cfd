/* SPDX-License-Identifier: ISC */
/*
 * SASL (RFC 5034: AUTH PLAIN and LOGIN) and UTF8 (RFC 6856) against the
 * real server: both forms of PLAIN, the LOGIN prompts, cancels, strict
 * base64, the limit on SASL lines, the one count of failed logins shared
 * with USER/PASS and its delay, the log lines with method=, CAPA, and
 * --no-plaintext.
 */
#include <errno.h>
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

/* The LOGIN mechanism's challenges: base64 of "Username:", "Password:". */
#define PROMPT_USER	"+ VXNlcm5hbWU6"
#define PROMPT_PASS	"+ UGFzc3dvcmQ6"

/*
 * The accounts of eight_bit_passwd(): the user's password in ISO 8859-1
 * (which is not UTF-8), with spaces; a UTF-8 name with a UTF-8 password.
 * The hashes are mkpasswd -m yescrypt of exactly these bytes.
 */
#define LATIN1_PASSWORD	"gr\xfc\xdf" "e aus K\xf6" "ln"
#define LATIN1_HASH \
	"$y$j9T$6bM.8q0leuQRuc7MhGdRJ1$.FPA1dqNgONnXm2eSkk7srK7i1mZyw5SviOM1Ar.AG5"
#define UTF8_USER	"j\xc3\xbc" "rgen"
#define UTF8_USER_LOGGED "j\\xc3\\xbc" "rgen"
#define UTF8_PASSWORD	"s\xc3\xbc\xc3\x9f und sauer"
#define UTF8_HASH \
	"$y$j9T$r3LjDpp2QiAlK35ueNvOy/$tjPgBTgc4HipLhO17Z2O0CuX9rVLtapDlu4jG9rzbQ4"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Appends the base64 (RFC 4648 section 4) of (p, len) to t. */
static void
b64_add(struct text *t, const void *p, size_t len)
{
	const unsigned char *in = p;
	unsigned long group;
	size_t i, k, have;

	text_add(t, "", 0);
	for (i = 0; i < len; i += 3) {
		have = len - i < 3 ? len - i : 3;
		group = 0;
		for (k = 0; k < 3; k++) {
			group = group << 8 | (k < have ? in[i + k] : 0u);
		}
		for (k = 0; k < 4; k++) {
			text_add(t, k > have ? "=" :
			    &b64_alphabet[group >> (18 - 6 * k) & 0x3f], 1);
		}
	}
}

/* base64 of (p, len); the string lives until four more calls. */
static const char *
b64(const void *p, size_t len)
{
	static struct text ring[4];
	static unsigned int next;
	struct text *t = &ring[next++ % 4];

	t->len = 0;
	b64_add(t, p, len);
	return t->p;
}

static const char *
b64s(const char *s)
{
	return b64(s, strlen(s));
}

/* The PLAIN message (RFC 4616): authzid NUL authcid NUL passwd. */
static void
plain_message(struct text *t, const char *authz, const char *user,
    const char *pass)
{
	text_adds(t, authz);
	text_add(t, "", 1);
	text_adds(t, user);
	text_add(t, "", 1);
	text_adds(t, pass);
}

/* The PLAIN message in base64, as b64() keeps it. */
static const char *
plain(const char *authz, const char *user, const char *pass)
{
	struct text msg = TEXT_INIT;
	const char *out;

	plain_message(&msg, authz, user, pass);
	out = b64(msg.p, msg.len);
	text_free(&msg);
	return out;
}

/* AUTH PLAIN with the response on the command line. */
static void
auth_plain(struct session *s, const char *user, const char *pass)
{
	send_line(s, "AUTH PLAIN %s", plain("", user, pass));
}

/* AUTH PLAIN, the empty challenge, then the response on a line of its own. */
static void
auth_plain_continued(struct session *s, const char *user, const char *pass)
{
	chat(s, "AUTH PLAIN", "+ ");
	send_line(s, "%s", plain("", user, pass));
}

/* AUTH LOGIN, then the name and the password at their prompts. */
static void
auth_login(struct session *s, const char *user, const char *pass)
{
	chat(s, "AUTH LOGIN", PROMPT_USER);
	send_line(s, "%s", b64s(user));
	expect_line(s, PROMPT_PASS);
	send_line(s, "%s", b64s(pass));
}

/*
 * The reply to credentials sent at t0: -ERR [AUTH], and not before the
 * delay. To be freed.
 */
static char *
refusal(struct session *s, long long t0)
{
	char *reply = strdup(expect_prefix(s, "-ERR [AUTH] "));

	ck_assert_msg(now_ms() - t0 >= DELAY_MIN_MS, "refused after %lld ms",
	    now_ms() - t0);
	return reply;
}

/* A session with the sample mailbox, greeting read. */
static struct session *
sample_session(int flags)
{
	struct session *s;

	mailbox_put(SAMPLE_ALL, "\n");
	s = session_start(flags, NULL);
	greet(s);
	return s;
}

/* The log has "what, user=name[, method=M], ip=[PEER_ADDR]". */
static void
expect_logged(const struct session *s, const char *what, const char *name,
    const char *method)
{
	char line[512];

	snprintf(line, sizeof(line), "%s, user=%s%s%s, ip=[" PEER_ADDR "]",
	    what, name, method != NULL ? ", method=" : "",
	    method != NULL ? method : "");
	expect_log(s, line);
}

/* After what went before, USER/PASS still logs in: nothing was counted. */
static void
still_logs_in(struct session *s)
{
	ck_assert_str_eq(login(s), maildrop_reply(SAMPLE_ALL));
	expect_no_log(s, "LOGIN FAILED");
	quit(s);
}

START_TEST(test_plain_initial_response)
{
	struct session *s = sample_session(0);

	send_line(s, "AUTH PLAIN %s", plain("", W.user, PASSWORD));
	expect_line(s, maildrop_reply(SAMPLE_ALL));
	chat_prefix(s, "STAT", "+OK 3 ");
	expect_logged(s, "LOGIN", W.user, "PLAIN");
	expect_no_log(s, PASSWORD);
	expect_no_log(s, plain("", W.user, PASSWORD));
	quit(s);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

START_TEST(test_plain_continued)
{
	struct session *s = sample_session(0);
	struct text want = TEXT_INIT;

	chat(s, "AUTH PLAIN", "+ ");
	send_line(s, "%s", plain("", W.user, PASSWORD));
	expect_line(s, maildrop_reply(SAMPLE_ALL));
	wire_form(&want, sample[1], strlen(sample[1]));
	expect_body(s, "RETR 2", want.p, want.len);
	expect_logged(s, "LOGIN", W.user, "PLAIN");
	quit(s);
	text_free(&want);
}
END_TEST

/* Keyword and mechanism name in lower case, as sloppy clients send them. */
START_TEST(test_plain_lower_case)
{
	struct session *s = sample_session(0);

	send_line(s, "auth plain %s", plain("", W.user, PASSWORD));
	expect_line(s, maildrop_reply(SAMPLE_ALL));
	quit(s);
}
END_TEST

/*
 * Messages PLAIN cannot take: "=" (empty), an empty line, no NULs, a
 * NUL inside the password, no name, no password. Each is refused at
 * once and is not a failed login.
 */
START_TEST(test_plain_malformed)
{
	static const char no_nul[] = "pop3duser";
	static const char nul_in_pass[] = "\0pop3duser\0pass\0word";
	struct session *s = sample_session(0);

	chat_prefix(s, "AUTH PLAIN =", "-ERR [AUTH] ");
	chat(s, "AUTH PLAIN", "+ ");
	chat_prefix(s, "", "-ERR [AUTH] ");
	send_line(s, "AUTH PLAIN %s", b64(no_nul, sizeof(no_nul) - 1));
	expect_prefix(s, "-ERR [AUTH] ");
	send_line(s, "AUTH PLAIN %s", b64(nul_in_pass,
	    sizeof(nul_in_pass) - 1));
	expect_prefix(s, "-ERR [AUTH] ");
	auth_plain(s, "", PASSWORD);
	expect_prefix(s, "-ERR ");
	auth_plain(s, W.user, "");
	expect_prefix(s, "-ERR ");
	still_logs_in(s);
}
END_TEST

/* Net::POP3 sends the user name as authzid too. */
START_TEST(test_authzid_same_user)
{
	struct session *s = sample_session(0);

	send_line(s, "AUTH PLAIN %s", plain(W.user, W.user, PASSWORD));
	expect_line(s, maildrop_reply(SAMPLE_ALL));
	expect_logged(s, "LOGIN", W.user, "PLAIN");
	quit(s);
}
END_TEST

/* Nobody may act as someone else, whatever the password. */
START_TEST(test_authzid_other_user)
{
	struct session *s = sample_session(0);

	send_line(s, "AUTH PLAIN %s", plain("other", W.user, PASSWORD));
	expect_prefix(s, "-ERR [AUTH] ");
	send_line(s, "AUTH PLAIN %s", plain(W.user, "other", PASSWORD));
	expect_prefix(s, "-ERR [AUTH] ");
	expect_no_log(s, "LOGIN, ");
	still_logs_in(s);
}
END_TEST

START_TEST(test_login_mechanism)
{
	struct session *s = sample_session(0);

	chat(s, "AUTH LOGIN", PROMPT_USER);
	chat(s, b64s(W.user), PROMPT_PASS);
	send_line(s, "%s", b64s(PASSWORD));
	expect_line(s, maildrop_reply(SAMPLE_ALL));
	chat_prefix(s, "STAT", "+OK 3 ");
	expect_logged(s, "LOGIN", W.user, "LOGIN");
	expect_no_log(s, b64s(PASSWORD));
	quit(s);
}
END_TEST

START_TEST(test_login_initial_user)
{
	struct session *s = sample_session(0);

	send_line(s, "AUTH LOGIN %s", b64s(W.user));
	expect_line(s, PROMPT_PASS);
	send_line(s, "%s", b64s(PASSWORD));
	expect_line(s, maildrop_reply(SAMPLE_ALL));
	expect_logged(s, "LOGIN", W.user, "LOGIN");
	quit(s);
}
END_TEST

/* Where "*" cancels (RFC 5034 section 4): every prompt there is. */
static const struct cancel {
	const char	*mech;
	int		 initial_user;	/* AUTH LOGIN <user> */
	int		 user_first;	/* the name answers PROMPT_USER */
	const char	*prompt;	/* the one "*" answers */
} cancels[] = {
	{ "PLAIN", 0, 0, "+ " },
	{ "LOGIN", 0, 0, PROMPT_USER },
	{ "LOGIN", 0, 1, PROMPT_PASS },
	{ "LOGIN", 1, 0, PROMPT_PASS }
};

START_TEST(test_cancel)
{
	const struct cancel *c = &cancels[_i];
	struct session *s = sample_session(0);

	if (c->initial_user) {
		send_line(s, "AUTH %s %s", c->mech, b64s(W.user));
	} else {
		send_line(s, "AUTH %s", c->mech);
	}
	if (c->user_first) {
		expect_line(s, PROMPT_USER);
		send_line(s, "%s", b64s(W.user));
	}
	expect_line(s, c->prompt);
	chat_prefix(s, "*", "-ERR ");
	still_logs_in(s);
}
END_TEST

/*
 * Ways to spoil the right PLAIN response that a lenient decoder would
 * still take; strict base64 (RFC 4648) refuses them all.
 */
enum damage {
	NO_PADDING, EXTRA_PADDING, INNER_PADDING, SPACE, TAB, ALIEN_CHARS,
	TRAILING_BITS, DAMAGES
};

static const char *const damage_name[DAMAGES] = {
	"padding left out", "a group of padding added", "padding inside",
	"a space inside", "a tab inside", "characters outside the alphabet",
	"non-zero bits after the last byte"
};

/* An authzid (empty or the user) that makes the response end in "=". */
static const char *
padded_authzid(void)
{
	size_t len = strlen(W.user) + strlen(PASSWORD) + 2;

	if (len % 3 != 0) {
		return "";
	}
	ck_assert_msg((len + strlen(W.user)) % 3 != 0, "no PLAIN message of "
	    "%s needs padding", W.user);
	return W.user;
}

/* The response of W.user, spoiled in the way d says. */
static void
damaged_response(struct text *t, enum damage d)
{
	struct text msg = TEXT_INIT;
	const char *good;
	size_t len, last;

	plain_message(&msg, padded_authzid(), W.user, PASSWORD);
	good = b64(msg.p, msg.len);
	len = strcspn(good, "=");
	switch (d) {
	case NO_PADDING:
		text_add(t, good, len);
		break;
	case EXTRA_PADDING:
		text_adds(t, good);
		text_adds(t, "====");
		break;
	case INNER_PADDING:
		b64_add(t, msg.p, 1);
		b64_add(t, msg.p + 1, msg.len - 1);
		break;
	case TRAILING_BITS:
		text_adds(t, good);
		last = (size_t)(strchr(b64_alphabet, good[len - 1]) -
		    b64_alphabet);
		t->p[len - 1] = b64_alphabet[last | 1];
		break;
	default:
		text_add(t, good, 4);
		text_adds(t, d == SPACE ? " " : d == TAB ? "\t" : "-_!.");
		text_adds(t, good + 4);
	}
	text_free(&msg);
}

/* Each damage on the command line (even _i) and on a line of its own. */
START_TEST(test_bad_base64)
{
	enum damage d = (enum damage)(_i / 2);
	struct session *s = sample_session(0);
	struct text bad = TEXT_INIT;
	size_t n;
	char *reply;

	damaged_response(&bad, d);
	if (_i % 2 == 0) {
		send_line(s, "AUTH PLAIN %s", bad.p);
	} else {
		chat(s, "AUTH PLAIN", "+ ");
		send_line(s, "%s", bad.p);
	}
	reply = read_line(s, &n);
	ck_assert_msg(reply != NULL && strncmp(reply, "-ERR ", 5) == 0,
	    "%s (\"%s\") %s: got \"%s\"", damage_name[d], show(bad.p, bad.len,
	    0), _i % 2 == 0 ? "on the command line" : "after \"+ \"",
	    reply != NULL ? show(reply, n, 1) : "(closed)");
	still_logs_in(s);
	text_free(&bad);
}
END_TEST

START_TEST(test_unknown_mechanism)
{
	struct session *s = sample_session(0);

	chat_prefix(s, "AUTH CRAM-MD5", "-ERR ");
	chat_prefix(s, "AUTH XOAUTH2 dXNlcj1ib2IBAQ==", "-ERR ");
	chat_prefix(s, "AUTH PLAINX", "-ERR ");
	chat_prefix(s, "AUTH PLAIN AAAA AAAA", "-ERR ");
	still_logs_in(s);
}
END_TEST

/* RFC 1734's listing for old clients; it is not a login attempt. */
START_TEST(test_bare_auth)
{
	struct session *s = sample_session(0);

	expect_body(s, "AUTH", "PLAIN\r\nLOGIN\r\n", 14);
	expect_body(s, "AUTH", "PLAIN\r\nLOGIN\r\n", 14);
	still_logs_in(s);
}
END_TEST

/*
 * RFC 5034 lets a SASL line exceed the 255 octets of a command, up to
 * SASL_LINE_MAX with its CRLF: a longer one is refused as too long, a
 * shorter one is decoded (and refused, as nothing that long is valid
 * here), and either way the session goes on.
 */
static const size_t line_lengths[] = { 1000, SASL_LINE_MAX - 2,
	SASL_LINE_MAX - 1, 1100 };

START_TEST(test_long_sasl_line)
{
	size_t len = line_lengths[_i];
	int over = len + 2 > SASL_LINE_MAX;
	struct session *s = sample_session(0);
	struct text pass = TEXT_INIT;
	const char *line;
	char *reply;

	while (pass.len < len) {
		text_adds(&pass, "x");
	}
	line = plain("", W.user, pass.p);
	ck_assert_uint_ge(strlen(line), len);
	chat(s, "AUTH PLAIN", "+ ");
	send_line(s, "%.*s", (int)len, line);
	reply = expect_prefix(s, "-ERR ");
	ck_assert_msg((strstr(reply, "response too long") != NULL) == over,
	    "a line of %zu octets: \"%s\"", len + 2, reply);
	still_logs_in(s);
	text_free(&pass);
}
END_TEST

/* A password longer than PASS_MAX, in a valid PLAIN message. */
START_TEST(test_password_too_long)
{
	struct session *s = sample_session(0);
	char pass[PASS_MAX + 2];

	memset(pass, 'x', sizeof(pass) - 1);
	pass[sizeof(pass) - 1] = '\0';
	auth_plain_continued(s, W.user, pass);
	expect_prefix(s, "-ERR ");
	still_logs_in(s);
}
END_TEST

/*
 * A client that pipelines after its response: the session takes over
 * what the pre-login child had already read.
 */
START_TEST(test_pipelined_after_auth)
{
	struct session *s;
	char stat[64];

	mailbox_put(sample, 2, "\n");
	s = session_start(0, NULL);
	greet(s);
	if (_i == 0) {
		send_line(s, "AUTH PLAIN %s\r\nSTAT\r\nQUIT",
		    plain("", W.user, PASSWORD));
	} else if (_i == 1) {
		chat(s, "AUTH PLAIN", "+ ");
		send_line(s, "%s\r\nSTAT\r\nQUIT", plain("", W.user, PASSWORD));
	} else {
		send_line(s, "AUTH LOGIN %s", b64s(W.user));
		expect_line(s, PROMPT_PASS);
		send_line(s, "%s\r\nSTAT\r\nQUIT", b64s(PASSWORD));
	}
	expect_line(s, maildrop_reply(sample, 2));
	snprintf(stat, sizeof(stat), "+OK 2 %llu",
	    wire_size(sample[0]) + wire_size(sample[1]));
	expect_line(s, stat);
	expect_line(s, "+OK bye");
	expect_eof(s);
	session_end(s);
}
END_TEST

/*
 * A passwd file (-p) of the accounts with 8-bit passwords, both with the
 * user's uid: when not root, pop3d serves no other.
 */
static const char *
eight_bit_passwd(void)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/passwd-8bit", W.dir);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fprintf(f, "%s:%s:%u:%u::%s:/bin/sh\n%s:%s:%u:%u::%s:/bin/sh\n",
	    W.user, LATIN1_HASH, (unsigned)W.uid, (unsigned)W.gid, W.dir,
	    UTF8_USER, UTF8_HASH, (unsigned)W.uid, (unsigned)W.gid, W.dir);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* PLAIN carries any bytes but NUL: spaces, and 8-bit that is not UTF-8. */
START_TEST(test_eight_bit_password)
{
	struct session *s;

	mailbox_put(SAMPLE_ALL, "\n");
	s = session_start(0, "-p", eight_bit_passwd(), NULL);
	greet(s);
	auth_plain(s, W.user, LATIN1_PASSWORD);
	expect_line(s, maildrop_reply(SAMPLE_ALL));
	expect_logged(s, "LOGIN", W.user, "PLAIN");
	expect_no_log(s, LATIN1_PASSWORD);
	quit(s);
}
END_TEST

/*
 * After UTF8 (RFC 6856) a password that is not UTF-8 is refused before
 * it is checked, by PLAIN and by PASS; a UTF-8 name and password log in.
 */
START_TEST(test_utf8_logins)
{
	struct session *s = session_start(0, "-p", eight_bit_passwd(), NULL);

	greet(s);
	chat_prefix(s, "UTF8", "+OK");
	auth_plain(s, W.user, LATIN1_PASSWORD);
	expect_prefix(s, "-ERR ");
	send_line(s, "USER %s", W.user);
	expect_prefix(s, "+OK");
	chat_prefix(s, "PASS " LATIN1_PASSWORD, "-ERR ");
	expect_no_log(s, "LOGIN FAILED");
	auth_plain(s, UTF8_USER, UTF8_PASSWORD);
	expect_line(s, maildrop_reply(NULL, 0));
	expect_logged(s, "LOGIN", UTF8_USER_LOGGED, "PLAIN");
	quit(s);
}
END_TEST

/* Names for test_utf8_names: UTF-8, and ISO 8859-1 (not UTF-8). */
#define NAME_UTF8	"n\xc3\xbc" "chtern"
#define NAME_UTF8_LOGGED "n\\xc3\\xbc" "chtern"
#define NAME_LATIN1	"caf\xe9"

/*
 * 8-bit names are taken as they come until UTF8; then one that is UTF-8
 * is checked like any other (unknown: a failed login, with the delay)
 * and one that is not is refused at once, by USER, PLAIN and LOGIN.
 */
START_TEST(test_utf8_names)
{
	struct session *s = sample_session(0);
	long long t0;

	chat_prefix(s, "USER " NAME_LATIN1, "+OK");
	chat_prefix(s, "UTF8", "+OK");
	chat_prefix(s, "USER " NAME_LATIN1, "-ERR ");
	auth_plain(s, NAME_LATIN1, PASSWORD);
	expect_prefix(s, "-ERR ");
	auth_login(s, NAME_LATIN1, PASSWORD);
	expect_prefix(s, "-ERR ");
	expect_no_log(s, "user=caf");
	chat_prefix(s, "USER " NAME_UTF8, "+OK");
	t0 = now_ms();
	auth_plain(s, NAME_UTF8, PASSWORD);
	free(refusal(s, t0));
	expect_logged(s, "LOGIN FAILED", NAME_UTF8_LOGGED, "PLAIN");
	ck_assert_str_eq(login(s), maildrop_reply(SAMPLE_ALL));
	quit(s);
}
END_TEST

/* UTF8 and AUTH belong to AUTHORIZATION only. */
START_TEST(test_sasl_after_login)
{
	struct session *s = logged_in(0);

	chat_prefix(s, "UTF8", "-ERR ");
	chat_prefix(s, "AUTH", "-ERR ");
	send_line(s, "AUTH PLAIN %s", plain("", W.user, PASSWORD));
	expect_prefix(s, "-ERR ");
	chat_prefix(s, "NOOP", "+OK");
	quit(s);
}
END_TEST

/* Whole lines CAPA must have for SASL and UTF-8 clients. */
static const char *const sasl_capabilities[] = {
	"SASL PLAIN LOGIN", "USER", "UTF8 USER", "EXPIRE NEVER"
};

/*
 * Whether a CAPA body (CRLF lines) has the line tag, or with word set
 * a line that starts with tag and a space.
 */
static int
capa_lists(const char *body, const char *tag, int word)
{
	size_t n = strlen(tag);
	const char *p, *eol;

	for (p = body; (eol = strstr(p, "\r\n")) != NULL; p = eol + 2) {
		if (strncmp(p, tag, n) == 0 && (p + n == eol ||
		    (word && p[n] == ' '))) {
			return 1;
		}
	}
	return 0;
}

static void
expect_sasl_capa(struct session *s)
{
	size_t i, len;
	char *body = fetch(s, "CAPA", &len);

	for (i = 0; i < sizeof(sasl_capabilities) / sizeof(char *); i++) {
		ck_assert_msg(capa_lists(body, sasl_capabilities[i], 0),
		    "CAPA lacks \"%s\": \"%s\"", sasl_capabilities[i],
		    show(body, len, 0));
	}
	free(body);
}

/* RFC 5034 section 3: TRANSACTION's CAPA still names the mechanisms. */
START_TEST(test_capa_in_both_states)
{
	struct session *s = sample_session(0);

	expect_sasl_capa(s);
	auth_plain(s, W.user, PASSWORD);
	expect_line(s, maildrop_reply(SAMPLE_ALL));
	expect_sasl_capa(s);
	quit(s);
}
END_TEST

/*
 * --no-plaintext: CAPA offers no way to send a password, and each way is
 * refused with [SYS/PERM] at once: no prompt, nothing read, nothing
 * checked or logged.
 */
START_TEST(test_no_plaintext)
{
	struct session *s;
	size_t len;
	char *body;

	mailbox_put(SAMPLE_ALL, "\n");
	s = session_start(0, "--no-plaintext", NULL);
	greet(s);
	body = fetch(s, "CAPA", &len);
	ck_assert_msg(!capa_lists(body, "USER", 0) &&
	    !capa_lists(body, "SASL", 1) && capa_lists(body, "UIDL", 0),
	    "CAPA: \"%s\"", show(body, len, 0));
	free(body);
	send_line(s, "USER %s", W.user);
	expect_prefix(s, "-ERR [SYS/PERM] ");
	chat_prefix(s, "AUTH", "-ERR [SYS/PERM] ");
	chat_prefix(s, "AUTH PLAIN", "-ERR [SYS/PERM] ");
	chat_prefix(s, "AUTH LOGIN", "-ERR [SYS/PERM] ");
	auth_plain(s, W.user, PASSWORD);
	expect_prefix(s, "-ERR [SYS/PERM] ");
	chat_prefix(s, "STAT", "-ERR ");
	chat(s, "QUIT", "+OK bye");
	expect_eof(s);
	ck_assert_int_eq(session_wait(s), 0);
	expect_no_log(s, "user=");
	session_free(s);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

/* PASS as well: a client that pipelines USER and PASS learns why twice. */
START_TEST(test_no_plaintext_pass)
{
	struct session *s = session_start(0, "--no-plaintext", NULL);

	greet(s);
	send_line(s, "USER %s\r\nPASS %s", W.user, PASSWORD);
	expect_prefix(s, "-ERR [SYS/PERM] ");
	expect_prefix(s, "-ERR [SYS/PERM] ");
	quit(s);
}
END_TEST

/* USER name (answered +OK), then PASS pass. */
static void
user_pass(struct session *s, const char *name, const char *pass)
{
	send_line(s, "USER %s", name);
	expect_prefix(s, "+OK");
	send_line(s, "PASS %s", pass);
}

/*
 * One count for every way in: a wrong password by LOGIN, an unknown
 * user by PLAIN (refused alike), then a wrong password by USER/PASS ends
 * the connection. Listing the mechanisms, a cancel and bad base64 in
 * between are no login attempts. Each failure is logged with its method.
 */
START_TEST(test_three_failures_mixed)
{
	struct session *s = sample_session(0);
	char *by_login, *by_plain;
	long long t0 = now_ms();
	size_t len;

	auth_login(s, W.user, BAD_PASSWORD);
	by_login = refusal(s, t0);
	free(fetch(s, "AUTH", &len));
	chat(s, "AUTH LOGIN", PROMPT_USER);
	chat_prefix(s, "*", "-ERR ");
	chat_prefix(s, "AUTH PLAIN !!!!", "-ERR ");
	t0 = now_ms();
	auth_plain_continued(s, "nosuchuser", PASSWORD);
	by_plain = refusal(s, t0);
	ck_assert_str_eq(by_plain, by_login);
	t0 = now_ms();
	user_pass(s, W.user, BAD_PASSWORD);
	free(refusal(s, t0));
	expect_eof(s);
	ck_assert_int_eq(session_wait(s), 0);
	expect_logged(s, "LOGIN FAILED", W.user, "LOGIN");
	expect_logged(s, "LOGIN FAILED", "nosuchuser", "PLAIN");
	expect_logged(s, "LOGIN FAILED", W.user, NULL);
	expect_no_log(s, BAD_PASSWORD);
	expect_no_log(s, b64s(BAD_PASSWORD));
	session_free(s);
	free(by_login);
	free(by_plain);
}
END_TEST

/*
 * A wrong password gets the same reply by PASS and by PLAIN; after two
 * failures the third try, by LOGIN, still logs in.
 */
START_TEST(test_refused_alike)
{
	struct session *s = sample_session(0);
	char *by_pass, *by_plain;
	long long t0 = now_ms();

	user_pass(s, W.user, BAD_PASSWORD);
	by_pass = refusal(s, t0);
	t0 = now_ms();
	auth_plain(s, W.user, BAD_PASSWORD);
	by_plain = refusal(s, t0);
	ck_assert_str_eq(by_plain, by_pass);
	auth_login(s, W.user, PASSWORD);
	expect_line(s, maildrop_reply(SAMPLE_ALL));
	expect_logged(s, "LOGIN", W.user, "LOGIN");
	quit(s);
	free(by_pass);
	free(by_plain);
}
END_TEST

/* pam_wrapper + pam_matrix through PLAIN: a refusal, then the password. */
START_TEST(test_pam_plain)
{
	struct session *s = sample_session(S_PAM);
	long long t0 = now_ms();

	auth_plain(s, W.user, BAD_PASSWORD);
	free(refusal(s, t0));
	auth_plain_continued(s, W.user, PAM_PASSWORD);
	expect_line(s, maildrop_reply(SAMPLE_ALL));
	chat_prefix(s, "STAT", "+OK 3 ");
	expect_logged(s, "LOGIN FAILED", W.user, "PLAIN");
	expect_logged(s, "LOGIN", W.user, "PLAIN");
	expect_no_log(s, PAM_PASSWORD);
	quit(s);
}
END_TEST

#define COUNT(a)	((int)(sizeof(a) / sizeof((a)[0])))

Suite *
sasl_login_suite(void)
{
	Suite *s = suite_create("sasl");
	TCase *tc = test_case("mechanisms");
	TCase *limits = test_case("encodings and limits");
	TCase *slow = test_case("sasl refusals");

	tcase_add_test(tc, test_plain_initial_response);
	tcase_add_test(tc, test_plain_continued);
	tcase_add_test(tc, test_plain_lower_case);
	tcase_add_test(tc, test_plain_malformed);
	tcase_add_test(tc, test_authzid_same_user);
	tcase_add_test(tc, test_authzid_other_user);
	tcase_add_test(tc, test_login_mechanism);
	tcase_add_test(tc, test_login_initial_user);
	tcase_add_loop_test(tc, test_cancel, 0, COUNT(cancels));
	tcase_add_test(tc, test_unknown_mechanism);
	tcase_add_test(tc, test_bare_auth);
	tcase_add_loop_test(tc, test_pipelined_after_auth, 0, 3);
	tcase_add_test(tc, test_capa_in_both_states);
	tcase_add_test(tc, test_sasl_after_login);
	tcase_add_test(tc, test_no_plaintext);
	tcase_add_test(tc, test_no_plaintext_pass);
	tcase_add_loop_test(limits, test_bad_base64, 0, 2 * DAMAGES);
	tcase_add_loop_test(limits, test_long_sasl_line, 0,
	    COUNT(line_lengths));
	tcase_add_test(limits, test_password_too_long);
	tcase_add_test(limits, test_eight_bit_password);
	tcase_add_test(limits, test_utf8_logins);
	tcase_add_test(slow, test_utf8_names);
	tcase_add_test(slow, test_three_failures_mixed);
	tcase_add_test(slow, test_refused_alike);
	tcase_add_test(slow, test_pam_plain);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, limits);
	suite_add_tcase(s, slow);
	return s;
}
