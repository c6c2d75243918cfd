/* SPDX-License-Identifier: ISC */
/*
 * The PROXY protocol, versions 1 and 2 (HAProxy's proxy-protocol.txt):
 * the header a trusted proxy (stunnel, HAProxy) puts before the first byte
 * of the connection to say who the client is. Parsed in the unprivileged
 * pre-login child, before any byte of the client is read.
 */
#ifndef POP3D_PROXY_H
#define POP3D_PROXY_H

#include <stddef.h>

enum proxy_result {
	PROXY_BAD = -1,	/* not a well-formed header */
	PROXY_MORE = 0,	/* a header so far: more bytes are needed */
	PROXY_OK = 1
};

/* Version 1's longest line; version 2 headers are refused above this. */
#define PROXY_V1_MAX	107
#define PROXY_V2_MAX	(16 + 216)

/*
 * Parses the header at the front of (buf, len). On PROXY_OK the first
 * *used bytes were the header, and addr (addrlen bytes) holds the source
 * address as text, or "" when the header names none (LOCAL, UNKNOWN, a
 * UNIX socket): the connection's own peer stands then.
 */
enum proxy_result proxy_parse(const unsigned char *, size_t, char *, size_t,
	    size_t *);

#endif
