/* SPDX-License-Identifier: ISC */
/*
 * AUTHORIZATION state (RFC 1939 section 4, RFC 5034, RFC 6856): USER,
 * PASS, APOP, AUTH PLAIN and LOGIN, UTF8, QUIT. Runs in the pre-login child,
 * which is unprivileged and confined to an empty directory when pop3d
 * starts as root. It decides nothing: credentials go to the monitor,
 * which answers with a verdict.
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "apop.h"
#include "pop3d.h"
#include "monmsg.h"
#include "sasl.h"

/* Decoded SASL responses: two names and a password, NULs between. */
#define SASL_MAX	(2 * USER_MAX + PASS_MAX + 2)

static enum verdict
answer(struct pop3 *p, enum priv_verdict v)
{
	switch (v) {
	case PV_OK:
		return V_LOGIN;
	case PV_FAIL:
		reply_err(&p->io, "AUTH", "authentication failed");
		return V_NEXT;
	case PV_FAIL_LAST:
		reply_err(&p->io, "AUTH", "authentication failed, goodbye");
		return V_QUIT;
	case PV_TEMPFAIL_LAST:
		reply_err(&p->io, "SYS/TEMP",
		    "authentication temporarily unavailable, goodbye");
		return V_QUIT;
	default:
		reply_err(&p->io, "SYS/TEMP",
		    "authentication temporarily unavailable");
		return V_NEXT;
	}
}

/*
 * RFC 5034 section 4: without TLS, which pop3d cannot see, an
 * administrator may forbid credentials in the clear on this instance.
 */
static int
plaintext_refused(struct pop3 *p)
{
	if (!p->cfg->no_plaintext) {
		return 0;
	}
	reply_err(&p->io, "SYS/PERM", "plaintext login is disabled here; "
	    "use TLS: port 995, or STARTTLS on port 110");
	return 1;
}

/* After UTF8 (RFC 6856 section 3), names and passwords must be UTF-8. */
static int
encoding_refused(struct pop3 *p, const unsigned char *s, size_t len)
{
	if (!p->utf8 || utf8_valid(s, len)) {
		return 0;
	}
	reply_err(&p->io, NULL, "invalid UTF-8");
	return 1;
}

static enum verdict
submit(struct pop3 *p, enum auth_method m, const unsigned char *user,
    size_t ulen, const unsigned char *pass, size_t plen)
{
	enum priv_verdict v;

	if (ulen > USER_MAX || plen > PASS_MAX) {
		reply_err(&p->io, "AUTH", "name or password too long");
		return V_MISUSE;
	}
	if (encoding_refused(p, user, ulen) ||
	    encoding_refused(p, pass, plen)) {
		return V_MISUSE;
	}
	/* A client that does not read its replies gets no login. */
	if (io_flush(&p->io) == -1) {
		return V_QUIT;
	}
	if (priv_send_auth(p->chan, m, user, ulen, pass, plen) == -1 ||
	    priv_recv_verdict(p->chan, &v) == -1) {
		_exit(1);
	}
	return answer(p, v);
}

static enum verdict
authz_user(struct pop3 *p, const struct cmd *c)
{
	p->userlen = 0;
	if (plaintext_refused(p)) {
		return V_NEXT;
	}
	if (c->arglen[0] > USER_MAX) {
		reply_err(&p->io, NULL, "user name too long");
		return V_MISUSE;
	}
	if (encoding_refused(p, c->arg[0], c->arglen[0])) {
		return V_MISUSE;
	}
	memcpy(p->user, c->arg[0], c->arglen[0]);
	p->userlen = c->arglen[0];
	reply_ok(&p->io, "send PASS");
	return V_NEXT;
}

/* PASS takes the rest of the line: passwords may contain spaces. */
static enum verdict
authz_pass(struct pop3 *p, const struct cmd *c)
{
	size_t ulen = p->userlen;

	if (plaintext_refused(p)) {
		return V_NEXT;
	}
	if (ulen == 0) {
		reply_err(&p->io, NULL, "USER first");
		return V_MISUSE;
	}
	p->userlen = 0;
	return submit(p, METHOD_USER, p->user, ulen, c->rest, c->restlen);
}

/* Valid base64 that decodes to more than fits is a length problem. */
static long
decode(struct pop3 *p, const unsigned char *in, size_t len,
    unsigned char *out, size_t outlen)
{
	long n;

	if (len / 4 * 3 > outlen + 2) {
		reply_err(&p->io, "AUTH", "name or password too long");
		return -1;
	}
	n = base64_decode(in, len, out, outlen);
	if (n == -1) {
		reply_err(&p->io, NULL, "invalid base64");
	}
	return n;
}

/*
 * One SASL response (RFC 5034 section 4): "+ challenge", then a line of
 * base64, or "*" to cancel. Returns the decoded length, -1 after an -ERR
 * was sent, -2 when the client is gone.
 */
static long
sasl_response(struct pop3 *p, const char *challenge, unsigned char *out,
    size_t outlen)
{
	unsigned char *line;
	size_t len;
	long n;

	io_printf(&p->io, "+ %s\r\n", challenge);
	p->io.line_max = SASL_LINE_MAX;
	switch (io_read_line(&p->io, &line, &len)) {
	case IO_LINE:
		break;
	case IO_TOOLONG:
		p->io.line_max = LINE_MAX_OCTETS;
		reply_err(&p->io, "AUTH", "response too long");
		return -1;
	default:
		return -2;
	}
	p->io.line_max = LINE_MAX_OCTETS;
	if (len == 1 && line[0] == '*') {
		reply_err(&p->io, NULL, "authentication cancelled");
		return -1;
	}
	n = decode(p, line, len, out, outlen);
	explicit_bzero(line, len);
	return n;
}

/* The initial response (RFC 5034: "=" stands for an empty one). */
static long
initial_response(struct pop3 *p, const struct cmd *c, unsigned char *out,
    size_t outlen)
{
	if (c->arglen[1] == 1 && c->arg[1][0] == '=') {
		return 0;
	}
	return decode(p, c->arg[1], c->arglen[1], out, outlen);
}

static enum verdict
sasl_failed(long n)
{
	return n == -2 ? V_QUIT : V_MISUSE;
}

static enum verdict
auth_plain(struct pop3 *p, const struct cmd *c, unsigned char *buf)
{
	struct plain pl;
	long n;

	n = c->nargs == 2 ? initial_response(p, c, buf, SASL_MAX) :
	    sasl_response(p, "", buf, SASL_MAX);
	if (n < 0) {
		return sasl_failed(n);
	}
	if (plain_parse(buf, (size_t)n, &pl) == -1) {
		reply_err(&p->io, "AUTH", "malformed PLAIN message");
		return V_MISUSE;
	}
	return submit(p, METHOD_PLAIN, pl.user, pl.userlen, pl.pass,
	    pl.passlen);
}

/* The LOGIN mechanism's prompts: "Username:" and "Password:". */
static enum verdict
auth_login(struct pop3 *p, const struct cmd *c, unsigned char *buf)
{
	unsigned char *pass = buf + USER_MAX + 1;
	long ulen, plen;

	ulen = c->nargs == 2 ? initial_response(p, c, buf, USER_MAX + 1) :
	    sasl_response(p, "VXNlcm5hbWU6", buf, USER_MAX + 1);
	if (ulen < 0) {
		return sasl_failed(ulen);
	}
	plen = sasl_response(p, "UGFzc3dvcmQ6", pass, PASS_MAX + 1);
	if (plen < 0) {
		return sasl_failed(plen);
	}
	return submit(p, METHOD_LOGIN, buf, (size_t)ulen, pass, (size_t)plen);
}

/*
 * AUTH alone lists the mechanisms, as old clients expect (RFC 1734); it
 * is not a failed login.
 */
static enum verdict
authz_auth(struct pop3 *p, const struct cmd *c)
{
	unsigned char buf[SASL_MAX];
	enum verdict v;

	if (plaintext_refused(p)) {
		return V_NEXT;
	}
	if (c->nargs == 0) {
		reply_ok(&p->io, "SASL mechanisms follow");
		io_printf(&p->io, "PLAIN\r\nLOGIN\r\n.\r\n");
		return V_NEXT;
	}
	if (c->arglen[0] == 5 &&
	    strncasecmp((const char *)c->arg[0], "PLAIN", 5) == 0) {
		v = auth_plain(p, c, buf);
	} else if (c->arglen[0] == 5 &&
	    strncasecmp((const char *)c->arg[0], "LOGIN", 5) == 0) {
		v = auth_login(p, c, buf);
	} else {
		reply_err(&p->io, NULL, "unsupported authentication mechanism");
		return V_MISUSE;
	}
	explicit_bzero(buf, sizeof(buf));
	return v;
}

/* Only when the greeting carried a timestamp (--apop-secrets). */
static enum verdict
authz_apop(struct pop3 *p, const struct cmd *c)
{
	if (p->cfg->apop_secrets == NULL) {
		reply_err(&p->io, NULL, "APOP is not available");
		return V_MISUSE;
	}
	if (c->arglen[1] != APOP_DIGEST_LEN) {
		reply_err(&p->io, NULL, "malformed APOP digest");
		return V_MISUSE;
	}
	return submit(p, METHOD_APOP, c->arg[0], c->arglen[0], c->arg[1],
	    c->arglen[1]);
}

static enum verdict
authz_utf8(struct pop3 *p, const struct cmd *c)
{
	(void)c;
	p->utf8 = 1;
	reply_ok(&p->io, "UTF8 enabled");
	return V_NEXT;
}

static enum verdict
authz_quit(struct pop3 *p, const struct cmd *c)
{
	(void)c;
	reply_ok(&p->io, "bye");
	return V_QUIT;
}

static enum verdict
authz_not_yet(struct pop3 *p, const struct cmd *c)
{
	(void)c;
	reply_err(&p->io, NULL, "not logged in");
	return V_MISUSE;
}

const struct command authorization_commands[] = {
	{ "USER", authz_user, 1, 1 },
	{ "PASS", authz_pass, 1, ARGS_REST },
	{ "APOP", authz_apop, 2, 2 },
	{ "AUTH", authz_auth, 0, 2 },
	{ "UTF8", authz_utf8, 0, 0 },
	{ "QUIT", authz_quit, 0, 0 },
	{ "CAPA", any_capa, 0, 0 },
	{ "STAT", authz_not_yet, 0, ARGS_REST },
	{ "LIST", authz_not_yet, 0, ARGS_REST },
	{ "RETR", authz_not_yet, 0, ARGS_REST },
	{ "DELE", authz_not_yet, 0, ARGS_REST },
	{ "NOOP", authz_not_yet, 0, ARGS_REST },
	{ "RSET", authz_not_yet, 0, ARGS_REST },
	{ "TOP", authz_not_yet, 0, ARGS_REST },
	{ "UIDL", authz_not_yet, 0, ARGS_REST },
	{ NULL, NULL, 0, 0 }
};
