/* SPDX-License-Identifier: ISC */
/*
 * fuzz_command: the protocol state machine of pop3d.c in both states,
 * with the real tables and the real dispatcher. The AUTHORIZATION state
 * runs as the pre-login child runs it (pop3_authorization(): greeting,
 * commands, the handover at login), its channel to the monitor a
 * socketpair whose other end holds verdicts written in advance; the
 * TRANSACTION state runs as main.c's session() runs it, on a real
 * mailbox file whose lock helper serves the whole fuzzing process
 * (fuzz.h). Every
 * line is also split by cmd_parse() and every argument read by
 * parse_number(), against a model of each.
 *
 * Input: five bytes of settings, the mailbox, a line "=====COMMANDS=====",
 * then what the client sends (without the marker: all of it, and an
 * empty mailbox). POP3D_FUZZ_TRANSCRIPT=1 shows what the server sent.
 *   byte 0	bit 0: --x-uidl        bit 1: --no-plaintext
 *		bit 2: --apop-secrets   bit 3: start in TRANSACTION
 *		bit 4: no mailbox file  bit 5: the client's last read
 *		       fails with ECONNRESET instead of EOF
 *		bit 6: reads and writes are interrupted (EINTR, EAGAIN)
 *		bit 7: the client stops reading: after 16 times byte 3
 *		       octets, writes fail with EPIPE
 *   byte 1	the monitor's verdicts, two bits each, lowest first:
 *		OK, FAIL, TEMPFAIL, DENIED; they end at the first OK or
 *		DENIED, and a fourth that is neither becomes FAIL_LAST,
 *		so that the child never waits for a verdict
 *   byte 2	the client's reads deliver at most this many bytes (0: all)
 *   byte 3	writes take at most 16 times this many octets (0: all)
 *   byte 4	bit 0: a message of 300 KiB comes first in the mailbox, so
 *		       that RETR and TOP read it in pieces
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "params.h"
#include "pop3d.h"
#include "monmsg.h"
#include "proto.h"

#define SETTINGS	5
#define MARKER		"=====COMMANDS====="
#define VERDICTS_MAX	4

enum {
	F_XUIDL = 1, F_NO_PLAINTEXT = 2, F_APOP = 4, F_TRANSACTION = 8,
	F_NO_MAILBOX = 16, F_RESET = 32, F_INTERRUPT = 64, F_GONE = 128
};

/* What the monitor heard from the child. */
struct heard {
	size_t		 auths;
	size_t		 handovers;
	unsigned char	 handover[INPUT_BUFFER];
	size_t		 len;
};

static int
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int
is_letter(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * RFC 2449 section 3: a keyword of 3 or 4 letters (digits after the
 * first), then arguments separated by blanks; no control bytes but tabs.
 */
static enum cmd_status
model_cmd(const unsigned char *p, size_t len, size_t *verblen, size_t *nargs)
{
	size_t i, k = 0;

	for (i = 0; i < len; i++) {
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
			return CMD_BAD_BYTE;
		}
	}
	for (; k < len && !is_blank(p[k]); k++) {
		if (!is_letter(p[k]) && !(k > 0 && p[k] >= '0' &&
		    p[k] <= '9')) {
			return CMD_BAD_VERB;
		}
	}
	if (k < 3 || k > 4) {
		return CMD_BAD_VERB;
	}
	*verblen = k;
	*nargs = 0;
	for (i = k; i < len; i++) {
		*nargs += !is_blank(p[i]) && is_blank(p[i - 1]);
	}
	return CMD_OK;
}

/* A command line as cmd_parse() must split it. */
static void
check_cmd(const unsigned char *line, size_t len)
{
	unsigned char *copy = fuzz_dup(line, len);
	size_t i, k = 0, nargs = 0;
	enum cmd_status want;
	struct cmd c;

	want = model_cmd(line, len, &k, &nargs);
	CHECK(cmd_parse(copy, len, &c) == want);
	if (want != CMD_OK) {
		free(copy);
		return;
	}
	CHECK(strlen(c.verb) == k);
	for (i = 0; i < k; i++) {
		CHECK(c.verb[i] == (is_letter(copy[i]) ? copy[i] & ~0x20 :
		    copy[i]));
	}
	CHECK(c.nargs == (nargs > CMD_ARGS_MAX ? CMD_ARGS_MAX + 1 : nargs));
	for (i = 0; i < c.nargs && i < CMD_ARGS_MAX; i++) {
		CHECK(c.arg[i] > copy && c.arglen[i] > 0 &&
		    c.arg[i] + c.arglen[i] <= copy + len);
		CHECK(is_blank(c.arg[i][-1]) &&
		    (c.arg[i] + c.arglen[i] == copy + len ||
		    is_blank(c.arg[i][c.arglen[i]])));
		CHECK(memchr(c.arg[i], ' ', c.arglen[i]) == NULL &&
		    memchr(c.arg[i], '\t', c.arglen[i]) == NULL);
	}
	CHECK(c.rest == NULL ? len == k : (c.rest == copy + k + 1 &&
	    c.restlen == len - k - 1));
	free(copy);
}

/* Digits only, at most max, no wrap-around. */
static void
check_number(const unsigned char *p, size_t len, unsigned long max)
{
	unsigned long v = 7, want = 0;
	size_t i;
	int ok = len > 0 && len <= 20;

	for (i = 0; ok && i < len; i++) {
		ok = p[i] >= '0' && p[i] <= '9' &&
		    (unsigned long)(p[i] - '0') <= max &&
		    want <= (max - (unsigned long)(p[i] - '0')) / 10;
		want = ok ? want * 10 + (unsigned long)(p[i] - '0') : want;
	}
	CHECK(parse_number(p, len, max, &v) == (ok ? 0 : -1));
	CHECK(ok ? v == want : v == 7);
}

static void
check_lines(const unsigned char *p, size_t n)
{
	const unsigned char *nl;
	size_t k, i;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		k = nl == NULL ? n : (size_t)(nl - p);
		check_cmd(p, k > 0 && p[k - 1] == '\r' ? k - 1 : k);
		for (i = 0; i < k && i < 32; i++) {
			check_number(p + i, k - i < 24 ? k - i : 24,
			    i % 2 ? ULONG_MAX : 4294967295UL >> (i % 31));
		}
		p += nl == NULL ? k : k + 1;
		n -= nl == NULL ? k : k + 1;
	}
}

/* The monitor's answers, all written before the child asks. */
static size_t
write_verdicts(int fd, unsigned char bits)
{
	static const enum priv_verdict pick[] = {
		PV_OK, PV_FAIL, PV_TEMPFAIL, PV_TEMPFAIL_LAST
	};
	enum priv_verdict v;
	size_t i;

	for (i = 0; i < VERDICTS_MAX; i++) {
		v = pick[bits >> (2 * i) & 3];
		if (i == VERDICTS_MAX - 1 && v != PV_OK &&
		    v != PV_TEMPFAIL_LAST) {
			v = PV_FAIL_LAST;
		}
		CHECK(priv_send_verdict(fd, v) == 0);
		if (v == PV_OK || v == PV_TEMPFAIL_LAST) {
			return i + 1;
		}
	}
	return VERDICTS_MAX;
}

/*
 * The monitor's side: every message must be one priv_parse_auth() or
 * priv_parse_handover() accepts, and each credential used one verdict.
 */
static void
hear_child(int fd, int chan, size_t verdicts, struct heard *h)
{
	unsigned char buf[PRIV_MSG_MAX];
	const unsigned char *data;
	struct priv_auth a;
	size_t unused = 0;
	ssize_t n;

	while ((n = priv_recv(fd, buf, sizeof(buf))) > 0) {
		if (buf[0] == 'H') {
			n = priv_parse_handover(buf, (size_t)n, &data);
			CHECK(n >= 0 && (size_t)n <= INPUT_BUFFER);
			memcpy(h->handover, data, (size_t)n);
			h->len = (size_t)n;
			h->handovers++;
			continue;
		}
		CHECK(priv_parse_auth(buf, (size_t)n, &a) == 0);
		CHECK(h->handovers == 0);
		h->auths++;
	}
	while (priv_recv(chan, buf, sizeof(buf)) > 0) {
		unused++;
	}
	CHECK(h->handovers <= 1 && h->auths == verdicts - unused);
}

/* main.c's prelogin_child() without its privilege drop and its _exit(). */
static enum ending
authorization_state(struct pop3 *p, unsigned char verdicts,
    struct heard *h)
{
	enum ending how;
	int sv[2];
	size_t used;

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0 &&
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	used = write_verdicts(sv[1], verdicts);
	/* A child that asks for a verdict blocks until it has one. */
	CHECK(fcntl(sv[0], F_SETFL, 0) == 0);
	p->chan = sv[0];
	how = pop3_authorization(p);
	CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	hear_child(sv[1], sv[0], used, h);
	CHECK((how == END_LOGIN) == (h->handovers == 1));
	close(sv[0]);
	close(sv[1]);
	return how;
}

/* main.c's session() on the fixture's mailbox, after the handover. */
static void
transaction_state(struct pop3 *p, const struct heard *h)
{
	fuzz_client_attach(&p->io, 1000);
	CHECK(io_preload(&p->io, h->handover, h->len) == 0);
	log_escape(p->logname, sizeof(p->logname),
	    (const unsigned char *)"fuzz", 4);
	pop3_transaction(p, mailbox_fixture_path(), mailbox_fixture_chan());
	CHECK(!mailbox_fixture_dotlocked());
}

static void
configure(struct config *cfg, struct pop3 *p, unsigned char flags)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mailbox = "/var/mail/%u";
	cfg->pam_service = "pop3";
	cfg->timeout = TIMEOUT_DEFAULT;
	cfg->uidls = flags & F_XUIDL ? UIDL_X_UIDL : UIDL_CONTENT;
	cfg->no_plaintext = (flags & F_NO_PLAINTEXT) != 0;
	cfg->apop_secrets = flags & F_APOP ? "/etc/pop3d/apop" : NULL;
	p->cfg = cfg;
	p->mbox.fd = -1;
	p->mbox.session_fd = -1;
	p->chan = -1;
	strcpy(p->peer, "192.0.2.1");
	if (flags & F_APOP) {
		strcpy(p->timestamp, "<1896.697170952@dbc.mtview.ca.us>");
	}
}

static void
write_mailbox(unsigned char flags, unsigned char more,
    const unsigned char *mbox, size_t len)
{
	unsigned char *big;
	size_t biglen;

	if (flags & F_NO_MAILBOX) {
		mailbox_fixture_remove();
	} else if (more & 1) {
		big = fuzz_behind_big_message(mbox, len, &biglen);
		mailbox_fixture_write(big, biglen);
		free(big);
	} else {
		mailbox_fixture_write(mbox, len);
	}
}

static void
split(const unsigned char *in, size_t len, const unsigned char **mbox,
    size_t *mboxlen, const unsigned char **cmds, size_t *cmdslen)
{
	const unsigned char *m = memmem(in, len, MARKER, sizeof(MARKER) - 1);

	*mbox = in;
	*mboxlen = m == NULL ? 0 : (size_t)(m - in);
	*cmds = m == NULL ? in : m + sizeof(MARKER) - 1;
	*cmdslen = len - (size_t)(*cmds - in);
	if (*cmdslen > 0 && **cmds == '\r') {
		(*cmds)++;
		(*cmdslen)--;
	}
	if (*cmdslen > 0 && **cmds == '\n') {
		(*cmds)++;
		(*cmdslen)--;
	}
}

static void
show_transcript(void)
{
	const unsigned char *out;
	size_t len;

	out = fuzz_client_output(&len);
	if (out != NULL && getenv("POP3D_FUZZ_TRANSCRIPT") != NULL) {
		fwrite(out, 1, len, stderr);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mailbox_fixture_start();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	const unsigned char *mbox, *cmds;
	size_t mboxlen, cmdslen;
	struct config cfg;
	struct heard h;
	struct pop3 *p;
	unsigned char flags;

	if (size < SETTINGS) {
		return 0;
	}
	flags = in[0];
	split(in + SETTINGS, size - SETTINGS, &mbox, &mboxlen, &cmds,
	    &cmdslen);
	check_lines(cmds, cmdslen);
	write_mailbox(flags, in[4], mbox, mboxlen);
	p = calloc(1, sizeof(*p));
	CHECK(p != NULL);
	memset(&h, 0, sizeof(h));
	configure(&cfg, p, flags);
	fuzz_client_start(cmds, cmdslen, in[2], (flags & F_RESET) != 0);
	fuzz_client_writes(flags & F_GONE ? 0 : (size_t)in[3] * 16,
	    getenv("POP3D_FUZZ_TRANSCRIPT") != NULL);
	fuzz_client_faults((flags & F_INTERRUPT) != 0,
	    flags & F_GONE ? (size_t)in[3] * 16 + 1 : 0);
	fuzz_client_attach(&p->io, 1000);
	if ((flags & F_TRANSACTION) ||
	    authorization_state(p, in[1], &h) == END_LOGIN) {
		transaction_state(p, &h);
	}
	show_transcript();
	fuzz_client_end();
	free(p);
	return 0;
}
