/* SPDX-License-Identifier: ISC */
/*
 * What the protocol state machine shares with its command handlers.
 */
#ifndef POP3D_POP3D_H
#define POP3D_POP3D_H

#include "auth.h"
#include "io.h"
#include "log.h"
#include "mailbox.h"
#include "proto.h"

/* Room for a client address in text: IPv6 with scope, or a host name. */
#define PEER_MAX	256

/* The greeting's <pid.random.time@host> for APOP. */
#define TIMESTAMP_MAX	160

struct config {
	const char	*mailbox;	/* the path template */
	const char	*pam_service;
	const char	*passwd_file;	/* NULL: PAM */
	int		 timeout;	/* seconds, TRANSACTION */
	int		 debug;		/* log to stderr as well */
	int		 no_plaintext;	/* refuse credentials in the clear */
	int		 uidls;		/* enum uidl_source: --uidl, --x-uidl */
	const char	*apop_secrets;	/* NULL: no APOP, no timestamp */
	const char	*proxy_from;	/* peers whose PROXY header we read */
	const char	*privsep_user;	/* the pre-login account */
	const char	*privsep_dir;	/* its empty chroot */
};

struct pop3 {
	struct io	 io;
	const struct config *cfg;
	char		 peer[PEER_MAX];
	char		 timestamp[TIMESTAMP_MAX]; /* APOP's, or empty */
	int		 proxied;	/* a PROXY header comes first */
	unsigned int	 errors;	/* protocol errors so far */

	/* AUTHORIZATION, in the unprivileged pre-login child */
	int		 chan;		/* to the monitor */
	unsigned char	 user[USER_MAX];
	size_t		 userlen;
	int		 utf8;		/* RFC 6856 UTF8 was given */

	/* TRANSACTION, as the user */
	struct mailbox	 mbox;
	char		 logname[LOG_NAME_MAX];
	unsigned int	 retrieved;
	unsigned int	 deleted;
	unsigned long long retrieved_bytes;
};

/* What a handler tells the dispatcher after it has replied. */
enum verdict {
	V_NEXT,		/* read the next command */
	V_MISUSE,	/* answered -ERR for a malformed command: counted */
	V_LOGIN,	/* authenticated: the child's part is over */
	V_QUIT		/* the session ends */
};

/* How a state ended. */
enum ending {
	END_LOGIN,
	END_QUIT,
	END_HANGUP,
	END_TIMEOUT,
	END_ERRORS,
	END_REFUSED	/* the maildrop could not be opened */
};

/*
 * pop3d.c. AUTHORIZATION on p->io, in the pre-login child: a trusted
 * proxy's header first if p->proxied, the greeting, the commands; at
 * login what the client sent ahead goes to the monitor (p->chan).
 */
enum ending pop3_authorization(struct pop3 *);

/*
 * TRANSACTION on p->io, as the user: opens the maildrop at path (lockd:
 * the lock helper's channel), answers commands until QUIT (and UPDATE)
 * or the end, logs the logout and closes the maildrop.
 */
enum ending pop3_transaction(struct pop3 *, const char *, int);

typedef enum verdict handler_fn(struct pop3 *, const struct cmd *);

/* authz.c: AUTHORIZATION, run unprivileged. */
handler_fn authz_user, authz_pass, authz_apop, authz_auth, authz_utf8,
    authz_quit, authz_not_yet;

/* session.c: TRANSACTION, run as the user. */
handler_fn sess_stat, sess_list, sess_retr, sess_dele, sess_noop, sess_rset,
    sess_top, sess_uidl, sess_quit, sess_not_now;
/* CAPA (RFC 2449), the same in both states. */
handler_fn any_capa;

#endif
