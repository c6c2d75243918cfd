/* SPDX-License-Identifier: ISC */
/*
 * fuzz_priv: what the privileged side parses, against models of each
 * format: the monitor's messages from the pre-login child (monmsg.c:
 * priv_parse_auth, priv_parse_handover, priv_parse_peer), a passwd(5)
 * line (auth.c: passwd_parse_line) and an APOP secrets line (apop.c:
 * apop_parse_line). Each parser gets the whole input in a block of its
 * exact size; then the input, cut into a user, a password and an
 * address, also makes the trip through priv_send_*() and priv_recv()
 * over a socketpair, as the child sends it.
 * The input is also the bytes of a whole APOP secrets file, as auth.c
 * reads it and hands it over: apop_verify() and
 * apop_listed() must agree with a reference lookup for every name in it
 * and for a name that is not. libmd is not instrumented, so MD5Update()
 * is wrapped (-Wl,--wrap) and reads every byte it is given where ASan
 * sees it: a length that does not belong to its buffer is a crash (issue
 * 12, defect 6: a length left over from a non-matching line).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <md5.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apop.h"
#include "auth.h"
#include "fuzz.h"
#include "monmsg.h"

#define PEER_ROOM	256	/* pop3d.h's PEER_MAX */
#define TIMESTAMP	"<1.2@fuzz>"
#define ABSENT_NAME	"absent-fuzz-name"
#define NAMES_TRIED	4	/* names of the file looked up, at most */

void	__real_MD5Update(MD5_CTX *, const uint8_t *, size_t);
void	__wrap_MD5Update(MD5_CTX *, const uint8_t *, size_t);

void
__wrap_MD5Update(MD5_CTX *ctx, const uint8_t *data, size_t len)
{
	volatile uint8_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		sum = (uint8_t)(sum ^ data[i]);
	}
	__real_MD5Update(ctx, data, len);
}

static void
check_auth(const unsigned char *in, size_t len)
{
	struct priv_auth a;
	int ok = len >= 4 && in[0] == 'A' && in[1] <= METHOD_APOP &&
	    in[2] <= USER_MAX && in[3] <= PASS_MAX &&
	    len == 4 + (size_t)in[2] + in[3];

	memset(&a, 0x5a, sizeof(a));
	CHECK((priv_parse_auth(in, len, &a) == 0) == ok);
	if (ok) {
		CHECK(a.method == (enum auth_method)in[1]);
		CHECK(a.userlen == in[2] && a.user[a.userlen] == '\0' &&
		    memcmp(a.user, in + 4, a.userlen) == 0);
		CHECK(a.passlen == in[3] && a.pass[a.passlen] == '\0' &&
		    memcmp(a.pass, in + 4 + a.userlen, a.passlen) == 0);
	}
}

static void
check_handover(const unsigned char *in, size_t len)
{
	const unsigned char *data = NULL;
	ssize_t n = priv_parse_handover(in, len, &data);
	int ok = len >= 1 && len <= PRIV_MSG_MAX && in[0] == 'H';

	CHECK((n >= 0) == ok);
	CHECK(!ok || (data == in + 1 && (size_t)n == len - 1 &&
	    (size_t)n <= INPUT_BUFFER));
}

static int
is_address(const char *s)
{
	unsigned char bin[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, bin) == 1 ||
	    inet_pton(AF_INET6, s, bin) == 1;
}

/*
 * 'P', then nothing or an address inet_pton() reads, that fits room; a
 * NUL anywhere after the 'P' is refused.
 */
static void
check_peer(const unsigned char *in, size_t len, size_t room)
{
	char *out = malloc(room), *text;
	size_t tlen = 0;
	int ok = len >= 1 && in[0] == 'P' && len <= room &&
	    memchr(in + 1, '\0', len - 1) == NULL;

	CHECK(out != NULL);
	if (ok && len > 1) {
		text = malloc(len);
		CHECK(text != NULL);
		memcpy(text, in + 1, len - 1);
		text[len - 1] = '\0';
		tlen = strlen(text);
		ok = is_address(text);
		free(text);
	}
	CHECK((priv_parse_peer(in, len, out, room) == 0) == ok);
	CHECK(!ok || (strlen(out) == tlen && memcmp(out, in + 1, tlen) == 0));
	free(out);
}

/* A uid or gid: one to ten digits, 4294967294 at most. */
static int
model_id(const char *p, size_t n, unsigned long long *v)
{
	size_t i;

	*v = 0;
	if (n == 0 || n > 10) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return 0;
		}
		*v = *v * 10 + (unsigned long long)(p[i] - '0');
	}
	return *v <= 4294967294ULL;
}

/* name:hash:uid:gid:gecos:home:shell, as auth.h documents it. */
static void
check_passwd(const char *line, size_t len)
{
	const char *f[8], *hash = NULL;
	size_t flen[8], i, nf = 0, hashlen = 0;
	unsigned long long uid = 0, gid = 0;
	struct account acct;
	int ok;

	f[0] = line;
	for (i = 0; i <= len && nf < 8; i++) {
		if (i == len || line[i] == ':') {
			flen[nf] = (size_t)(line + i - f[nf]);
			nf++;
			f[nf < 8 ? nf : 7] = line + i + 1;
		}
	}
	ok = nf == 7 && memchr(line, '\0', len) == NULL && flen[0] >= 1 &&
	    flen[0] <= USER_MAX && flen[5] < HOME_MAX &&
	    model_id(f[2], flen[2], &uid) && model_id(f[3], flen[3], &gid);
	memset(&acct, 0, sizeof(acct));
	CHECK((passwd_parse_line(line, len, &acct, &hash, &hashlen) == 0) ==
	    ok);
	if (ok) {
		CHECK(strlen(acct.name) == flen[0] &&
		    memcmp(acct.name, f[0], flen[0]) == 0);
		CHECK(strlen(acct.home) == flen[5] &&
		    memcmp(acct.home, f[5], flen[5]) == 0);
		CHECK(acct.uid == uid && acct.gid == gid);
		CHECK(hash == f[1] && hashlen == flen[1]);
	}
}

/* name:secret: a name of 1..USER_MAX bytes, a secret, no NUL at all. */
static void
check_apop(const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len), *name = NULL, *secret;
	size_t nlen = 0, slen = 0;
	int ok = colon != NULL && colon > line &&
	    (size_t)(colon - line) <= USER_MAX && colon + 1 < line + len &&
	    memchr(line, '\0', len) == NULL;

	secret = NULL;
	CHECK((apop_parse_line(line, len, &name, &nlen, &secret, &slen) ==
	    0) == ok);
	CHECK(!ok || (name == line && nlen == (size_t)(colon - line) &&
	    secret == colon + 1 && slen == len - nlen - 1));
}

/*
 * The reference lookup, written apart from apop.c: lines split at '\n';
 * blank lines and those starting with '#' skipped; "name:secret" with a
 * name of 1..USER_MAX bytes, a secret of one byte or more and no NUL in
 * the line; the first line with that name wins.
 */
static const char *
model_secret(const char *buf, size_t len, const char *user, size_t *slen)
{
	size_t start = 0, end, colon, ulen = strlen(user);

	while (start < len) {
		end = start;
		while (end < len && buf[end] != '\n') {
			end++;
		}
		colon = start;
		while (colon < end && buf[colon] != ':') {
			colon++;
		}
		if (end > start && buf[start] != '#' && colon < end &&
		    colon > start && colon - start <= USER_MAX &&
		    colon + 1 < end &&
		    memchr(buf + start, '\0', end - start) == NULL &&
		    colon - start == ulen &&
		    memcmp(buf + start, user, ulen) == 0) {
			*slen = end - colon - 1;
			return buf + colon + 1;
		}
		start = end + 1;
	}
	return NULL;
}

/* libmd's one-shot MD5Data() as the reference digest. */
static void
model_digest(const char *secret, size_t slen, char out[APOP_DIGEST_LEN + 1])
{
	size_t tlen = strlen(TIMESTAMP);
	uint8_t *msg = malloc(tlen + slen + 1);

	CHECK(msg != NULL);
	memcpy(msg, TIMESTAMP, tlen);
	memcpy(msg + tlen, secret, slen);
	CHECK(MD5Data(msg, tlen + slen, out) == out);
	free(msg);
}

/* One name: the right digest, a wrong one, and apop_listed(). */
static void
check_apop_name(const char *buf, size_t len, const char *user)
{
	char good[APOP_DIGEST_LEN + 1], bad[APOP_DIGEST_LEN + 1];
	const char *secret, *why = NULL;
	size_t slen = 0;

	secret = model_secret(buf, len, user, &slen);
	model_digest(secret != NULL ? secret : "", slen, good);
	memcpy(bad, good, sizeof(bad));
	bad[0] = bad[0] == '0' ? '1' : '0';
	CHECK(apop_verify(buf, len, TIMESTAMP, user, good, &why) ==
	    (secret != NULL));
	CHECK(apop_verify(buf, len, TIMESTAMP, user, bad, &why) == 0);
	CHECK(apop_listed(buf, len, user) == (secret != NULL));
}

/*
 * The input as a secrets file: the names of its first lines (as C
 * strings: a name with a NUL cannot be asked for) and one absent name.
 */
static void
check_apop_file(const unsigned char *in, size_t len)
{
	const char *buf = (const char *)in, *line, *colon, *nl;
	char user[USER_MAX + 1];
	size_t pos, linelen, tried = 0;

	check_apop_name(buf, len, ABSENT_NAME);
	for (pos = 0; pos < len && tried < NAMES_TRIED; pos += linelen + 1) {
		line = buf + pos;
		nl = memchr(line, '\n', len - pos);
		linelen = nl == NULL ? len - pos : (size_t)(nl - line);
		colon = memchr(line, ':', linelen);
		if (colon == NULL || colon == line ||
		    (size_t)(colon - line) > USER_MAX ||
		    memchr(line, '\0', (size_t)(colon - line)) != NULL) {
			continue;
		}
		memcpy(user, line, (size_t)(colon - line));
		user[colon - line] = '\0';
		check_apop_name(buf, len, user);
		tried++;
	}
}

/* The child's messages, sent and received as the monitor receives them. */
static void
round_trip(const unsigned char *in, size_t len)
{
	unsigned char buf[PRIV_MSG_MAX];
	const unsigned char *data;
	struct priv_auth a;
	size_t ulen, plen;
	char addr[64], peer[PEER_ROOM];
	ssize_t n;
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	ulen = len > 0 ? in[0] % (USER_MAX + 2) : 0;
	ulen = ulen < len ? ulen : len;
	plen = len - ulen < PASS_MAX + 1 ? len - ulen : PASS_MAX + 1;
	if (priv_send_auth(sv[0], METHOD_PLAIN, in, ulen, in + ulen,
	    plen) == 0) {
		n = priv_recv(sv[1], buf, sizeof(buf));
		CHECK(n == (ssize_t)(4 + ulen + plen));
		CHECK(priv_parse_auth(buf, (size_t)n, &a) == 0);
		CHECK(a.userlen == ulen && memcmp(a.user, in, ulen) == 0);
		CHECK(a.passlen == plen && memcmp(a.pass, in + ulen, plen) == 0);
	} else {
		CHECK(ulen > USER_MAX || plen > PASS_MAX);
	}
	if (len <= INPUT_BUFFER) {
		CHECK(priv_send_handover(sv[0], in, len) == 0);
		n = priv_recv(sv[1], buf, sizeof(buf));
		CHECK(priv_parse_handover(buf, (size_t)n, &data) ==
		    (ssize_t)len && memcmp(data, in, len) == 0);
	}
	n = (ssize_t)(len < sizeof(addr) ? len : sizeof(addr) - 1);
	memcpy(addr, in, (size_t)n);
	addr[n] = '\0';
	CHECK(priv_send_peer(sv[0], addr) == 0);
	n = priv_recv(sv[1], buf, sizeof(buf));
	CHECK(n >= 1);
	CHECK((priv_parse_peer(buf, (size_t)n, peer, sizeof(peer)) == 0) ==
	    (addr[0] == '\0' || is_address(addr)));
	close(sv[0]);
	close(sv[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	unsigned char *copy = fuzz_dup(in, size);

	check_auth(copy, size);
	check_handover(copy, size);
	check_peer(copy, size, PEER_ROOM);
	check_peer(copy, size, 1 + (size > 1 ? in[size - 1] % 48 : 0));
	check_passwd((const char *)copy, size);
	check_apop((const char *)copy, size);
	check_apop_file(copy, size);
	round_trip(copy, size);
	free(copy);
	return 0;
}
