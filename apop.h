/* SPDX-License-Identifier: ISC */
/*
 * APOP (RFC 1939 section 7), only when the administrator gives a file of
 * shared secrets. Runs as root, in the monitor's short-lived worker.
 */
#ifndef POP3D_APOP_H
#define POP3D_APOP_H

#include "auth.h"

/* The hex digest a client sends: MD5, 32 digits. */
#define APOP_DIGEST_LEN	32

/*
 * Compares digest with MD5(timestamp secret) for user's secret in file,
 * in constant time. AUTH_FAIL for an unknown user or a wrong digest.
 */
enum auth_result apop_verify(const char *, const char *, const char *,
	    const char *, const char **);

/*
 * 1 if user has a secret in file: such an account logs in with APOP only
 * (RFC 1939 section 7), -1 if the file cannot be read.
 */
int	apop_listed(const char *, const char *);

/* The line parser: "name:secret". 0, or -1 if malformed. */
int	apop_parse_line(const char *, size_t, const char **, size_t *,
	    const char **, size_t *);

#endif
