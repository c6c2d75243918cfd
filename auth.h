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
	AUTH_TEMPFAIL	/* the check itself could not be made */
};

#define HOME_MAX	1024

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
};

/*
 * Checks the password and fills *acct (only on AUTH_OK). An unknown user
 * costs about as much time as a wrong password. *why gets a short text
 * for the log when the result is not AUTH_OK.
 */
enum auth_result auth_check(const struct auth_request *, struct account *,
	    const char **);

/*
 * One line of a passwd(5) file, (line, len) without its newline: seven
 * colon-separated fields, numeric uid and gid. Fills *acct and points
 * *hash and *hashlen into line. 0 on success, -1 if malformed.
 */
int	passwd_parse_line(const char *, size_t, struct account *,
	    const char **, size_t *);

#endif
