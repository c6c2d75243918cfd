/* SPDX-License-Identifier: ISC */
/*
 * POP3 command lines: splitting, argument checks, reply helpers.
 * Pure functions over (buf, len); run unprivileged.
 */
#ifndef POP3D_PROTO_H
#define POP3D_PROTO_H

#include <stddef.h>

#include "io.h"

#define CMD_ARGS_MAX	2

struct cmd {
	char		 verb[5];	/* upper-cased, NUL-terminated */
	size_t		 nargs;		/* CMD_ARGS_MAX + 1: more than that */
	const unsigned char *arg[CMD_ARGS_MAX];
	size_t		 arglen[CMD_ARGS_MAX];
	const unsigned char *rest;	/* everything after "VERB " */
	size_t		 restlen;
};

enum cmd_status {
	CMD_OK,
	CMD_BAD_VERB,	/* empty, too long, or not letters */
	CMD_BAD_BYTE	/* NUL or another control byte in the line */
};

enum cmd_status cmd_parse(const unsigned char *, size_t, struct cmd *);

/*
 * A decimal number in 0..max: digits only, no sign, no wrap-around.
 * 0 on success, -1 otherwise.
 */
int	parse_number(const unsigned char *, size_t, unsigned long,
	    unsigned long *);

/* "+OK text" and "-ERR [CODE] text"; code may be NULL. */
void	reply_ok(struct io *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	reply_err(struct io *, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
