/* SPDX-License-Identifier: ISC */
/*
 * Password checks: PAM, or a passwd(5)-format file of crypt(3) hashes.
 * Runs as root (or as the serving user when not started as root), in a
 * short-lived child of the monitor, so that PAM module state and copies
 * of the password die with it.
 */
#ifndef POP3D_AUTH_H
#define POP3D_AUTH_H

#include <stddef.h>
#include <sys/types.h>

#include "params.h"

enum auth_result {
	AUTH_OK,
	AUTH_FAIL,	/* bad credentials, unknown or refused account */
	AUTH_TEMPFAIL	/* the password could not be checked */
};

/* Who the session becomes. */
struct account {
	char		 name[USER_MAX + 1];
	uid_t		 uid;
	gid_t		 gid;
	char		 home[HOME_MAX];
};

struct auth_request {
	const char	*service;	/* PAM service name */
	const char	*passwd_file;	/* NULL: use PAM */
	const char	*user;		/* NUL-terminated, checked by the caller */
	const char	*pass;		/* NUL-terminated, non-empty */
	const char	*rhost;		/* client address, or NULL */
	const char	*apop_secrets;	/* APOP's file of secrets, or NULL */
	const char	*apop_timestamp; /* the greeting's <...> */
	int		 apop;		/* pass is an APOP digest */
};

/*
 * Checks the password and fills *acct (only on AUTH_OK). An unknown user
 * costs about as much time as a wrong password (as long as the site's
 * hashes cost what the dummy yescrypt hash costs). When the result is not
 * AUTH_OK, *why points to a short static text for the log, valid until the
 * next call. Only authentication and account checks run: no PAM session
 * is opened, since a POP3 session holds no login of its own. AUTH_TEMPFAIL
 * only before the password or digest is known right; any refusal after
 * that is AUTH_FAIL. APOP runs PAM's account step (not its auth stack),
 * refuses uid 0, an empty hash and one locked by usermod -L ("!..."), but
 * not a field of exactly "!" or "*" (no password ever set). PAM's own
 * failure delay is off: the caller gives every failure the same delay.
 */
enum auth_result auth_check(const struct auth_request *, struct account *,
	    const char **);

/*
 * Reads a passwd or secrets file whole into *buf (to be wiped and freed):
 * only a file trusted_open() accepts (trusted.h), of 16 MiB at most.
 * 0, or -1 with *why.
 */
int	auth_read_file(const char *, char **, size_t *, const char **);
int	auth_file_uid(const char *, const char *, uid_t *);

/*
 * One line of a passwd(5) file, (line, len) without its newline: seven
 * colon-separated fields; a name of 1..USER_MAX bytes; uid and gid of
 * at most ten digits, 4294967294 or less; a home of up to HOME_MAX - 1
 * bytes, possibly empty. A NUL byte anywhere is refused. Fills *acct and
 * points *hash and *hashlen into line: 0. Malformed: -1, nothing written.
 */
int	passwd_parse_line(const char *, size_t, struct account *,
	    const char **, size_t *);

#endif
