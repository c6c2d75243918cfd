/* SPDX-License-Identifier: ISC */
/*
 * pop3d's protocol state machine (RFC 1939): the dispatcher, and each
 * state from its first to its last byte, with the command table of each
 * (authz.c's, session.c's). Run by the pre-login child (AUTHORIZATION)
 * and by the session, as the user (TRANSACTION): the processes and every
 * credential change are main.c's and privsep.c's.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pop3d.h"
#include "monmsg.h"
#include "proxy.h"

static enum verdict
run_line(struct pop3 *p, const struct command *table,
    const unsigned char *line, size_t len)
{
	const struct command *t;
	struct cmd c;

	switch (cmd_parse(line, len, &c)) {
	case CMD_OK:
		break;
	case CMD_BAD_BYTE:
		reply_err(&p->io, NULL, "invalid character in command");
		return V_MISUSE;
	default:
		reply_err(&p->io, NULL, "unknown command");
		return V_MISUSE;
	}
	for (t = table; t->verb != NULL; t++) {
		if (strcmp(t->verb, c.verb) == 0) {
			break;
		}
	}
	if (t->verb == NULL) {
		reply_err(&p->io, NULL, "unknown command");
		return V_MISUSE;
	}
	if (c.nargs < t->min_args || c.nargs > t->max_args) {
		reply_err(&p->io, NULL, "wrong number of arguments");
		return V_MISUSE;
	}
	return t->fn(p, &c);
}

/*
 * Reads and answers commands until the state ends. secret: the lines may
 * hold a password, wiped from the input buffer once answered.
 */
static enum ending
dispatch(struct pop3 *p, const struct command *table, int secret)
{
	unsigned char *line;
	size_t len;
	enum verdict v;

	for (;;) {
		switch (io_read_line(&p->io, &line, &len)) {
		case IO_LINE:
			v = run_line(p, table, line, len);
			if (secret) {
				explicit_bzero(line, len);
			}
			break;
		case IO_TOOLONG:
			reply_err(&p->io, NULL, "line too long");
			v = V_MISUSE;
			break;
		case IO_TIMEOUT:
			reply_err(&p->io, NULL, "autologout: %s",
			    io_deadline_passed(&p->io) ?
			    "time to log in is up" : "idle too long");
			io_flush(&p->io);
			return END_TIMEOUT;
		default:
			return END_HANGUP;
		}
		if (v == V_MISUSE && ++p->errors >= PROTOCOL_ERRORS_MAX) {
			reply_err(&p->io, NULL, "too many errors, goodbye");
			io_flush(&p->io);
			return END_ERRORS;
		}
		if (v == V_LOGIN) {
			return END_LOGIN;
		}
		if (v == V_QUIT) {
			io_flush(&p->io);
			return END_QUIT;
		}
	}
}

/*
 * A trusted proxy's header, before any byte from the client: its address
 * goes to the monitor at once, so nothing the client sends later can
 * change it. A missing or malformed header, or one not complete within
 * PROXY_TIMEOUT however it trickles in, ends the connection.
 */
static void
read_proxy_header(struct pop3 *p)
{
	const unsigned char *buf;
	char addr[PEER_MAX];
	size_t n, used = 0;
	enum proxy_result r;
	long long login_deadline = p->io.deadline_ms;

	io_set_deadline(&p->io, PROXY_TIMEOUT * 1000);
	for (;;) {
		n = io_pending(&p->io, &buf);
		r = proxy_parse(buf, n, addr, sizeof(addr), &used);
		if (r == PROXY_OK) {
			break;
		}
		if (r == PROXY_BAD || io_read_more(&p->io) != IO_LINE) {
			log_msg(LOG_NOTICE, "no valid PROXY header from %s",
			    p->peer);
			_exit(0);
		}
	}
	io_consume(&p->io, used);
	p->io.deadline_ms = login_deadline;
	if (priv_send_peer(p->chan, addr) == -1) {
		_exit(1);
	}
}

static void
log_logout(const struct pop3 *p, enum ending how)
{
	static const char *const why[] = {
		"login", "quit", "hangup", "timeout", "too many errors",
		"maildrop refused"
	};
	size_t kept = p->mbox.count - p->deleted;

	log_msg(LOG_INFO, "LOGOUT, user=%s, ip=[%s], reason=%s, retr=%u, "
	    "retr_bytes=%llu, deleted=%u, kept=%zu, sent=%llu", p->logname,
	    p->peer, why[how], p->retrieved, p->retrieved_bytes, p->deleted,
	    kept, p->io.sent);
}

static int
open_maildrop(struct pop3 *p, const char *path, int lockd)
{
	enum mbx_status s;
	unsigned long long size = 0;
	size_t i;

	if (*path == '\0') {
		s = MBX_PERM;
		p->mbox.problem = "mailbox path too long";
	} else {
		s = mailbox_open(&p->mbox, path, lockd, p->cfg->uidls);
	}
	if (s == MBX_OK) {
		for (i = 0; i < p->mbox.count; i++) {
			size += p->mbox.msgs[i].size;
		}
		reply_ok(&p->io, "maildrop has %zu messages (%llu octets)",
		    p->mbox.count, size);
		return 0;
	}
	log_msg(LOG_ERR, "%s: %s, user=%s%s%s", path, p->mbox.problem,
	    p->logname, p->mbox.err != 0 ? ", error=" : "",
	    p->mbox.err != 0 ? strerror(p->mbox.err) : "");
	reply_err(&p->io, s == MBX_IN_USE ? "IN-USE" :
	    s == MBX_PERM ? "SYS/PERM" : "SYS/TEMP", "%s", p->mbox.problem);
	io_flush(&p->io);
	mailbox_close(&p->mbox);
	return -1;
}

enum ending
pop3_authorization(struct pop3 *p)
{
	const unsigned char *rest;
	enum ending how;
	size_t n;

	/* The whole phase, however slowly a client trickles bytes in. */
	io_set_deadline(&p->io, LOGIN_TIMEOUT * 1000);
	if (p->proxied) {
		read_proxy_header(p);
	}
	reply_ok(&p->io, "POP3 server ready%s%s",
	    p->timestamp[0] != '\0' ? " " : "", p->timestamp);
	how = dispatch(p, authorization_commands, 1);
	/*
	 * A write that failed (or timed out) before the login ends the
	 * connection: the session must not run the client's pipelined
	 * commands after replies it never got.
	 */
	if (how == END_LOGIN && io_flush(&p->io) == -1) {
		how = END_HANGUP;
	}
	if (how == END_LOGIN) {
		n = io_pending(&p->io, &rest);
		if (priv_send_handover(p->chan, rest, n) == -1) {
			how = END_HANGUP;
		}
	}
	io_flush(&p->io);
	return how;
}

enum ending
pop3_transaction(struct pop3 *p, const char *path, int lockd)
{
	enum ending how;

	how = open_maildrop(p, path, lockd) == 0 ?
	    dispatch(p, transaction_commands, 0) : END_REFUSED;
	log_logout(p, how);
	mailbox_close(&p->mbox);
	return how;
}
