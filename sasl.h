/* SPDX-License-Identifier: ISC */
/*
 * SASL pieces for AUTH (RFC 5034): strict base64 (RFC 4648 section 4),
 * the PLAIN message (RFC 4616) and a UTF-8 check (RFC 3629, for RFC 6856).
 * Pure functions over (buf, len); run in the unprivileged pre-login child.
 */
#ifndef POP3D_SASL_H
#define POP3D_SASL_H

#include <stddef.h>

/*
 * Decodes (in, inlen) into out (room for outlen bytes): padding required,
 * nothing but the alphabet, no whitespace, no bits left over. Returns the
 * decoded length, or -1.
 */
long	base64_decode(const unsigned char *, size_t, unsigned char *, size_t);

struct plain {
	const unsigned char *user;	/* the authentication identity */
	size_t		 userlen;
	const unsigned char *pass;
	size_t		 passlen;
};

/*
 * Splits a decoded PLAIN message authzid NUL authcid NUL passwd. The
 * authorization identity must be empty or equal to the authentication
 * identity (a user may not act as another). 0 on success, -1 otherwise.
 */
int	plain_parse(const unsigned char *, size_t, struct plain *);

/* 1 if (buf, len) is well-formed UTF-8 (no overlongs, no surrogates). */
int	utf8_valid(const unsigned char *, size_t);

#endif
