/* SPDX-License-Identifier: ISC */
/*
 * The monitor: the root side of the pre-login phase. It waits for the
 * pre-login child's credentials, has them checked by a short-lived
 * worker, applies the login policy (refusals, delay, attempt limit,
 * logging) and sends back a verdict.
 */
#ifndef POP3D_MONITOR_H
#define POP3D_MONITOR_H

#include <sys/types.h>

#include "auth.h"
#include "config.h"
#include "monmsg.h"

/* What the monitor is given of the login it watches (from main.c). */
struct login_watch {
	const struct config *cfg;
	char		*peer;		/* PEER_MAX bytes: the client's address,
					   replaced by the one a trusted
					   proxy's header names */
	const char	*timestamp;	/* APOP's, or empty */
	int		 chan;		/* to the pre-login child */
	int		 proxied;	/* the child reads a PROXY header */
};

/*
 * Returns when a user has logged in, with *acct filled and the bytes the
 * child had read beyond the PASS line in handover (*len of them). When
 * the client leaves, times out or runs out of attempts, the process ends
 * here with status 0.
 */
void	monitor_run(struct login_watch *, pid_t, struct account *, unsigned char *,
	    size_t *);

/* What the worker reports back through its pipe. */
struct worker_result {
	enum auth_result res;
	struct account	 acct;
	char		 why[128];
};

/*
 * auth_check() in a short-lived child (PAM modules, the password
 * database and their copies of the hash die with it), which closes chan
 * (-1: none) and gets /dev/null as fd 0 and 1. Its result, also in *out;
 * AUTH_TEMPFAIL when the child could not run or died.
 */
enum auth_result auth_in_worker(int, const struct auth_request *,
	    struct worker_result *);

/*
 * Whether (s, len) may be a login name at all (no path separator, no
 * dot-file, no control byte); any other is refused as a wrong password.
 */
int	login_name_ok(const char *, size_t);

#endif
