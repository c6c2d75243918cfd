/* SPDX-License-Identifier: ISC */
/*
 * Messages between the unprivileged pre-login child and the monitor that
 * runs as root: credentials one way, a verdict the other, and at login
 * the client's pipelined bytes the child had already read. The monitor
 * parses with priv_parse_auth() and trusts nothing else the child sends.
 */
#ifndef POP3D_MONMSG_H
#define POP3D_MONMSG_H

#include <stddef.h>
#include <sys/types.h>

#include "params.h"

enum priv_verdict {
	PV_OK,
	PV_FAIL,	/* bad credentials: try again */
	PV_FAIL_LAST,	/* bad credentials, and no tries are left */
	PV_TEMPFAIL,	/* the check could not be made */
	PV_TEMPFAIL_LAST /* the check could not be made, no tries left */
};

/* How the client sent its credentials, for the log. */
enum auth_method {
	METHOD_USER,	/* USER and PASS */
	METHOD_PLAIN,	/* AUTH PLAIN */
	METHOD_LOGIN,	/* AUTH LOGIN */
	METHOD_APOP	/* APOP: the "password" is the digest */
};

struct priv_auth {
	enum auth_method method;
	char		 user[USER_MAX + 1];
	size_t		 userlen;
	char		 pass[PASS_MAX + 1];
	size_t		 passlen;
};

/* Largest message on the channel: a handover of the input buffer. */
#define PRIV_MSG_MAX	(1 + INPUT_BUFFER)

int	priv_send_auth(int, enum auth_method, const unsigned char *, size_t,
	    const unsigned char *, size_t);
int	priv_parse_auth(const unsigned char *, size_t, struct priv_auth *);
int	priv_send_verdict(int, enum priv_verdict);
int	priv_recv_verdict(int, enum priv_verdict *);
int	priv_send_handover(int, const unsigned char *, size_t);

/*
 * The client's address from a PROXY header ("" for the connection's own
 * peer); the monitor takes it only as the child's first message.
 */
int	priv_send_peer(int, const char *);
int	priv_parse_peer(const unsigned char *, size_t, char *, size_t);
ssize_t	priv_parse_handover(const unsigned char *, size_t,
	    const unsigned char **);

/* One message into buf (PRIV_MSG_MAX); 0 at EOF, -1 on error. */
ssize_t	priv_recv(int, unsigned char *, size_t);

#endif
