/*
 * AUTHORIZATION state (RFC 1939 section 4): USER, PASS, QUIT. Runs in the
 * pre-login child, which is unprivileged and confined to an empty
 * directory when pop3d starts as root. It decides nothing: credentials go
 * to the monitor, which answers with a verdict.
 */
#include <string.h>
#include <unistd.h>

#include "pop3d.h"
#include "priv.h"

enum verdict
authz_user(struct pop3 *p, const struct cmd *c)
{
	if (c->arglen[0] > USER_MAX) {
		p->userlen = 0;
		reply_err(&p->io, NULL, "user name too long");
		return V_MISUSE;
	}
	memcpy(p->user, c->arg[0], c->arglen[0]);
	p->userlen = c->arglen[0];
	reply_ok(&p->io, "send PASS");
	return V_NEXT;
}

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
	case PV_DENIED:
		reply_err(&p->io, "SYS/PERM", "this server does not serve "
		    "that account");
		return V_QUIT;
	default:
		reply_err(&p->io, "SYS/TEMP",
		    "authentication temporarily unavailable");
		return V_NEXT;
	}
}

/* PASS takes the rest of the line: passwords may contain spaces. */
enum verdict
authz_pass(struct pop3 *p, const struct cmd *c)
{
	enum priv_verdict v;

	if (p->userlen == 0) {
		reply_err(&p->io, NULL, "USER first");
		return V_MISUSE;
	}
	if (c->restlen > PASS_MAX) {
		reply_err(&p->io, NULL, "password too long");
		return V_MISUSE;
	}
	io_flush(&p->io);
	if (priv_send_auth(p->chan, p->user, p->userlen, c->rest,
	    c->restlen) == -1 || priv_recv_verdict(p->chan, &v) == -1) {
		_exit(1);
	}
	p->userlen = 0;
	return answer(p, v);
}

enum verdict
authz_quit(struct pop3 *p, const struct cmd *c)
{
	(void)c;
	reply_ok(&p->io, "bye");
	return V_QUIT;
}

enum verdict
authz_not_yet(struct pop3 *p, const struct cmd *c)
{
	(void)c;
	reply_err(&p->io, NULL, "not logged in");
	return V_MISUSE;
}
