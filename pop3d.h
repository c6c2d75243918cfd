/* SPDX-License-Identifier: ISC */
/*
 * What the protocol state machine shares with its command handlers.
 * Run by the pre-login child (AUTHORIZATION) and by the session, as the
 * user (TRANSACTION); the root monitor is built without it (monitor.h).
 */
#ifndef POP3D_POP3D_H
#define POP3D_POP3D_H

#include "auth.h"
#include "config.h"
#include "io.h"
#include "log.h"
#include "mailbox.h"
#include "params.h"
#include "proto.h"

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

/* PASS: the rest of the line, spaces and all, is its one argument. */
#define ARGS_REST	255

/* A command a state knows; a table ends with a NULL verb. */
struct command {
	const char	*verb;
	handler_fn	*fn;
	unsigned char	 min_args;
	unsigned char	 max_args;
};

/* authz.c: AUTHORIZATION, run by the pre-login child. */
extern const struct command authorization_commands[];

/* session.c: TRANSACTION, run as the user. */
extern const struct command transaction_commands[];

/* CAPA (RFC 2449), the same in both states (session.c). */
handler_fn any_capa;

#endif
