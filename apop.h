/* SPDX-License-Identifier: ISC */
/*
 * APOP (RFC 1939 section 7), only when the administrator gives a file of
 * shared secrets, which auth.c reads and hands over as (buf, len): no
 * I/O here. Run by the monitor's short-lived worker (root, or the
 * serving user when not started as root).
 */
#ifndef POP3D_APOP_H
#define POP3D_APOP_H

#include <stddef.h>

/* The hex digest a client sends: MD5, 32 digits. */
#define APOP_DIGEST_LEN	32

/*
 * Compares digest with MD5(timestamp secret) for user's secret in the
 * secrets file's bytes (buf, len), in constant time: 1 if right; 0 with
 * *why for an unknown user or a wrong digest.
 */
int	apop_verify(const char *, size_t, const char *, const char *,
	    const char *, const char **);

/*
 * 1 if user has a secret in (buf, len): such an account logs in with
 * APOP only (RFC 1939 section 7); 0 if not.
 */
int	apop_listed(const char *, size_t, const char *);

/* The line parser: "name:secret". 0, or -1 if malformed. */
int	apop_parse_line(const char *, size_t, const char **, size_t *,
	    const char **, size_t *);

#endif
