/* SPDX-License-Identifier: ISC */
/*
 * The monitor's messages (monmsg.h): the channel between the pre-login
 * child (unprivileged) and the monitor (root). Run at both ends: the
 * child sends with priv_send_*(), the monitor parses with
 * priv_parse_*(); the verdict goes the other way. A SOCK_SEQPACKET
 * socketpair keeps message boundaries, so each recv is one whole
 * message; every parser checks lengths exactly.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "monmsg.h"

enum { MSG_AUTH = 'A', MSG_VERDICT = 'V', MSG_HANDOVER = 'H', MSG_PEER = 'P' };

static int
send_parts(int fd, struct iovec *iov, size_t n)
{
	struct msghdr mh;
	size_t total = 0, i;
	ssize_t r;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = n;
	for (i = 0; i < n; i++) {
		total += iov[i].iov_len;
	}
	do {
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (r == -1 && errno == EINTR);
	return r == (ssize_t)total ? 0 : -1;
}

ssize_t
priv_recv(int fd, unsigned char *buf, size_t len)
{
	ssize_t r;

	do {
		r = recv(fd, buf, len, MSG_TRUNC);
	} while (r == -1 && errno == EINTR);
	if (r > (ssize_t)len) {
		errno = EMSGSIZE;
		return -1;
	}
	return r;
}

/*
 * AUTH: 'A', the method, user length, password length (one octet each),
 * then the bytes.
 */
int
priv_send_auth(int fd, enum auth_method method, const unsigned char *user,
    size_t ulen, const unsigned char *pass, size_t plen)
{
	unsigned char head[4];
	struct iovec iov[3];

	if (ulen > USER_MAX || plen > PASS_MAX) {
		return -1;
	}
	head[0] = MSG_AUTH;
	head[1] = (unsigned char)method;
	head[2] = (unsigned char)ulen;
	head[3] = (unsigned char)plen;
	iov[0].iov_base = head;
	iov[0].iov_len = sizeof(head);
	iov[1].iov_base = (void *)(uintptr_t)user;
	iov[1].iov_len = ulen;
	iov[2].iov_base = (void *)(uintptr_t)pass;
	iov[2].iov_len = plen;
	return send_parts(fd, iov, 3);
}

int
priv_parse_auth(const unsigned char *buf, size_t len, struct priv_auth *a)
{
	size_t ulen, plen;

	if (len < 4 || buf[0] != MSG_AUTH || buf[1] > METHOD_APOP) {
		return -1;
	}
	ulen = buf[2];
	plen = buf[3];
	if (ulen > USER_MAX || plen > PASS_MAX || len != 4 + ulen + plen) {
		return -1;
	}
	a->method = (enum auth_method)buf[1];
	memcpy(a->user, buf + 4, ulen);
	a->user[ulen] = '\0';
	a->userlen = ulen;
	memcpy(a->pass, buf + 4 + ulen, plen);
	a->pass[plen] = '\0';
	a->passlen = plen;
	return 0;
}

int
priv_send_verdict(int fd, enum priv_verdict v)
{
	unsigned char msg[2];
	struct iovec iov;

	msg[0] = MSG_VERDICT;
	msg[1] = (unsigned char)v;
	iov.iov_base = msg;
	iov.iov_len = sizeof(msg);
	return send_parts(fd, &iov, 1);
}

int
priv_recv_verdict(int fd, enum priv_verdict *v)
{
	unsigned char msg[2];

	if (priv_recv(fd, msg, sizeof(msg)) != 2 || msg[0] != MSG_VERDICT ||
	    msg[1] > PV_TEMPFAIL_LAST) {
		return -1;
	}
	*v = (enum priv_verdict)msg[1];
	return 0;
}

int
priv_send_handover(int fd, const unsigned char *buf, size_t len)
{
	unsigned char head = MSG_HANDOVER;
	struct iovec iov[2];

	if (len > INPUT_BUFFER) {
		return -1;
	}
	iov[0].iov_base = &head;
	iov[0].iov_len = 1;
	iov[1].iov_base = (void *)(uintptr_t)buf;
	iov[1].iov_len = len;
	return send_parts(fd, iov, 2);
}

ssize_t
priv_parse_handover(const unsigned char *buf, size_t len,
    const unsigned char **data)
{
	if (len < 1 || len > PRIV_MSG_MAX || buf[0] != MSG_HANDOVER) {
		return -1;
	}
	*data = buf + 1;
	return (ssize_t)(len - 1);
}

int
priv_send_peer(int fd, const char *addr)
{
	unsigned char head = MSG_PEER;
	struct iovec iov[2];

	iov[0].iov_base = &head;
	iov[0].iov_len = 1;
	iov[1].iov_base = (void *)(uintptr_t)addr;
	iov[1].iov_len = strlen(addr);
	return send_parts(fd, iov, 2);
}

/* Only an address inet_pton() accepts, or nothing at all. */
int
priv_parse_peer(const unsigned char *buf, size_t len, char *out, size_t outlen)
{
	unsigned char bin[sizeof(struct in6_addr)];

	if (len < 1 || buf[0] != MSG_PEER || len > outlen ||
	    memchr(buf + 1, '\0', len - 1) != NULL) {
		return -1;
	}
	memcpy(out, buf + 1, len - 1);
	out[len - 1] = '\0';
	if (len > 1 && inet_pton(AF_INET, out, bin) != 1 &&
	    inet_pton(AF_INET6, out, bin) != 1) {
		return -1;
	}
	return 0;
}
