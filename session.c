/* SPDX-License-Identifier: ISC */
/*
 * TRANSACTION state (RFC 1939 section 5): the commands of a logged-in
 * session. Runs as the user, after every credential change is final.
 */
#include <signal.h>
#include <string.h>

#include "pop3d.h"

/* Resolves a message-number argument to a message that is not deleted. */
static struct msg *
message_arg(struct pop3 *p, const struct cmd *c, size_t i)
{
	unsigned long n;
	struct msg *m;

	if (parse_number(c->arg[i], c->arglen[i], p->mbox.count, &n) == -1 ||
	    n == 0) {
		reply_err(&p->io, NULL, "no such message");
		return NULL;
	}
	m = &p->mbox.msgs[n - 1];
	if (m->deleted) {
		reply_err(&p->io, NULL, "message %lu already deleted", n);
		return NULL;
	}
	return m;
}

static unsigned long
number_of(const struct pop3 *p, const struct msg *m)
{
	return (unsigned long)(m - p->mbox.msgs) + 1;
}

static enum verdict
sess_stat(struct pop3 *p, const struct cmd *c)
{
	unsigned long long size = 0;
	size_t i, n = 0;

	(void)c;
	for (i = 0; i < p->mbox.count; i++) {
		if (!p->mbox.msgs[i].deleted) {
			n++;
			size += p->mbox.msgs[i].size;
		}
	}
	reply_ok(&p->io, "%zu %llu", n, size);
	return V_NEXT;
}

/* n in decimal, ending just before end; where it starts. */
static char *
decimal(char *end, unsigned long long n)
{
	do {
		*--end = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	return end;
}

/*
 * "N TEXT" and CRLF: a multi-line LIST or UIDL answer has one for every
 * message (100,000 in a large mailbox), so they are put together here
 * rather than by printf. text is at most UIDL_MAX bytes.
 */
static void
put_listing_line(struct io *io, size_t n, const char *text, size_t len)
{
	char line[20 + 1 + UIDL_MAX + 2];
	char *start = decimal(line + 20, n), *o = line + 20;

	*o++ = ' ';
	memcpy(o, text, len);
	o += len;
	*o++ = '\r';
	*o++ = '\n';
	io_put(io, start, (size_t)(o - start));
}

static enum verdict
sess_list(struct pop3 *p, const struct cmd *c)
{
	char size[20], *start;
	struct msg *m;
	size_t i;

	if (c->nargs == 1) {
		m = message_arg(p, c, 0);
		if (m != NULL) {
			reply_ok(&p->io, "%lu %llu", number_of(p, m), m->size);
		}
		return V_NEXT;
	}
	reply_ok(&p->io, "scan listing follows");
	for (i = 0; i < p->mbox.count; i++) {
		if (!p->mbox.msgs[i].deleted) {
			start = decimal(size + sizeof(size),
			    p->mbox.msgs[i].size);
			put_listing_line(&p->io, i + 1, start,
			    (size_t)(size + sizeof(size) - start));
		}
	}
	io_put(&p->io, ".\r\n", 3);
	return V_NEXT;
}

static enum verdict
sess_uidl(struct pop3 *p, const struct cmd *c)
{
	char uidl[UIDL_MAX + 1];
	struct msg *m;
	size_t i;

	if (c->nargs == 1) {
		m = message_arg(p, c, 0);
		if (m != NULL) {
			mbox_uidl(m, p->mbox.xuidl_pool, uidl);
			reply_ok(&p->io, "%lu %s", number_of(p, m), uidl);
		}
		return V_NEXT;
	}
	reply_ok(&p->io, "unique-id listing follows");
	for (i = 0; i < p->mbox.count; i++) {
		if (!p->mbox.msgs[i].deleted) {
			mbox_uidl(&p->mbox.msgs[i], p->mbox.xuidl_pool, uidl);
			put_listing_line(&p->io, i + 1, uidl, strlen(uidl));
		}
	}
	io_put(&p->io, ".\r\n", 3);
	return V_NEXT;
}

/*
 * Another program may have rewritten the mailbox since login: a change
 * mailbox.c finds before the status line is told to the client.
 */
static void
refuse_message(struct pop3 *p, const struct msg *m, enum mbx_status s)
{
	if (s == MBX_CHANGED) {
		reply_err(&p->io, "SYS/TEMP", "message %lu was changed by "
		    "another program; not served", number_of(p, m));
	} else {
		reply_err(&p->io, "SYS/TEMP", "message %lu cannot be read",
		    number_of(p, m));
	}
	log_msg(LOG_WARNING, "message %lu not served: %s, user=%s",
	    number_of(p, m), p->mbox.problem, p->logname);
}

/*
 * Sends m, or with top != NULL what TOP asks for of it, as mailbox.c
 * reads it. Only the end of the message proves it the listed one: a
 * change or a read error found after the status line cannot be told in
 * the protocol, so the connection is closed before the final "." (a
 * client then takes nothing for the message) and without UPDATE.
 */
static enum verdict
serve(struct pop3 *p, const struct msg *m, struct top *top)
{
	struct retrieval r;
	struct body b;
	const unsigned char *piece;
	enum mbx_status s;
	size_t len;

	s = mailbox_retrieve(&p->mbox, number_of(p, m) - 1, &r);
	if (s != MBX_OK) {
		refuse_message(p, m, s);
		return V_NEXT;
	}
	if (top == NULL) {
		reply_ok(&p->io, "%llu octets", m->size);
	} else {
		reply_ok(&p->io, "top of message follows");
	}
	io_begin_body(&b);
	while ((s = mailbox_next(&p->mbox, &r, &piece, &len)) == MBX_OK &&
	    len > 0 && !p->io.failed) {
		io_put_body(&p->io, &b, piece, top == NULL ? len :
		    top_take(top, piece, len));
	}
	mailbox_done(&r);
	if (p->io.failed) {
		/* The client is gone or stalled: the next read ends the session. */
		return V_NEXT;
	}
	if (s != MBX_OK) {
		log_msg(LOG_ERR, "message %lu not served whole: %s; connection "
		    "closed, nothing deleted, user=%s", number_of(p, m),
		    p->mbox.problem, p->logname);
		p->deleted = 0;
		return V_QUIT;
	}
	io_end_body(&p->io, &b);
	if (top == NULL) {
		p->retrieved++;
		p->retrieved_bytes += m->size;
	}
	return V_NEXT;
}

static enum verdict
sess_retr(struct pop3 *p, const struct cmd *c)
{
	struct msg *m = message_arg(p, c, 0);

	return m == NULL ? V_NEXT : serve(p, m, NULL);
}

static enum verdict
sess_top(struct pop3 *p, const struct cmd *c)
{
	struct msg *m;
	struct top top;
	unsigned long lines;

	if (parse_number(c->arg[1], c->arglen[1], (unsigned long)-1,
	    &lines) == -1) {
		reply_err(&p->io, NULL, "invalid number of lines");
		return V_MISUSE;
	}
	m = message_arg(p, c, 0);
	if (m == NULL) {
		return V_NEXT;
	}
	top_begin(&top, lines);
	return serve(p, m, &top);
}

static enum verdict
sess_dele(struct pop3 *p, const struct cmd *c)
{
	struct msg *m = message_arg(p, c, 0);

	if (m != NULL) {
		m->deleted = 1;
		p->deleted++;
		reply_ok(&p->io, "message %lu deleted", number_of(p, m));
	}
	return V_NEXT;
}

static enum verdict
sess_noop(struct pop3 *p, const struct cmd *c)
{
	(void)c;
	reply_ok(&p->io, "noop");
	return V_NEXT;
}

static enum verdict
sess_rset(struct pop3 *p, const struct cmd *c)
{
	size_t i;

	for (i = 0; i < p->mbox.count; i++) {
		p->mbox.msgs[i].deleted = 0;
	}
	p->deleted = 0;
	return sess_stat(p, c);
}

static void
reply_update(struct pop3 *p, enum mbx_status s)
{
	switch (s) {
	case MBX_OK:
		if (p->mbox.unmatched > 0) {
			reply_ok(&p->io, "bye; %zu deleted messages were not "
			    "found unchanged and were left alone",
			    p->mbox.unmatched);
		} else {
			reply_ok(&p->io, "bye");
		}
		break;
	case MBX_IN_USE:
		reply_err(&p->io, "IN-USE", "mailbox locked, nothing deleted");
		break;
	default:
		reply_err(&p->io, "SYS/TEMP", "%s", p->mbox.problem);
		break;
	}
}

/*
 * RFC 1939 section 6: QUIT in TRANSACTION enters UPDATE. Signals wait
 * until it is over, and every lock is gone before the client hears +OK,
 * so that a client reconnecting at once is not refused.
 *
 * The replies before QUIT (a RETR pipelined ahead of DELE and QUIT) must
 * have left first: a reply still buffered when the connection is dead
 * never reaches the client, and UPDATE would delete a message it never
 * had. If they cannot be written nothing is deleted; the next read gives
 * the dispatcher the failure, and the session ends as a hang-up or a
 * timeout, logged as such.
 */
static enum verdict
sess_quit(struct pop3 *p, const struct cmd *c)
{
	sigset_t all, old;
	enum mbx_status s;

	(void)c;
	if (io_flush(&p->io) == -1) {
		p->deleted = 0;
		return V_NEXT;
	}
	sigfillset(&all);
	sigdelset(&all, SIGBUS);	/* window.c recovers from it */
	sigprocmask(SIG_BLOCK, &all, &old);
	s = mailbox_update(&p->mbox);
	if (s != MBX_OK) {
		log_msg(LOG_ERR, "update failed: %s, user=%s",
		    p->mbox.problem, p->logname);
		p->deleted = 0;
	} else if (p->mbox.unmatched > 0) {
		log_msg(LOG_WARNING, "%zu deleted messages were not found "
		    "unchanged and were left alone, user=%s", p->mbox.unmatched,
		    p->logname);
		p->deleted -= (unsigned int)p->mbox.unmatched;
	}
	mailbox_close(&p->mbox);
	sigprocmask(SIG_SETMASK, &old, NULL);
	reply_update(p, s);
	return V_QUIT;
}

static enum verdict
sess_not_now(struct pop3 *p, const struct cmd *c)
{
	(void)c;
	reply_err(&p->io, NULL, "already logged in");
	return V_MISUSE;
}

/*
 * RFC 2449 section 5, RFC 5034 section 3: the TRANSACTION list repeats
 * what was announced before login. EXPIRE NEVER is true: pop3d never
 * deletes a message the client did not.
 */
enum verdict
any_capa(struct pop3 *p, const struct cmd *c)
{
	(void)c;
	reply_ok(&p->io, "capability list follows");
	io_printf(&p->io, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
	    "PIPELINING\r\nEXPIRE NEVER\r\n");
	if (p->cfg->no_plaintext) {
		io_printf(&p->io, "UTF8\r\n");
	} else {
		io_printf(&p->io, "UTF8 USER\r\nUSER\r\nSASL PLAIN LOGIN\r\n");
	}
	io_printf(&p->io, "IMPLEMENTATION pop3d-%s\r\n.\r\n", POP3D_VERSION);
	return V_NEXT;
}

const struct command transaction_commands[] = {
	{ "STAT", sess_stat, 0, 0 },
	{ "LIST", sess_list, 0, 1 },
	{ "RETR", sess_retr, 1, 1 },
	{ "DELE", sess_dele, 1, 1 },
	{ "NOOP", sess_noop, 0, 0 },
	{ "RSET", sess_rset, 0, 0 },
	{ "TOP", sess_top, 2, 2 },
	{ "UIDL", sess_uidl, 0, 1 },
	{ "QUIT", sess_quit, 0, 0 },
	{ "CAPA", any_capa, 0, 0 },
	{ "USER", sess_not_now, 0, ARGS_REST },
	{ "PASS", sess_not_now, 0, ARGS_REST },
	{ "APOP", sess_not_now, 0, ARGS_REST },
	{ "AUTH", sess_not_now, 0, ARGS_REST },
	{ "UTF8", sess_not_now, 0, ARGS_REST },
	{ NULL, NULL, 0, 0 }
};
