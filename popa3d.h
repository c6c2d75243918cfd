/* SPDX-License-Identifier: ISC */
/*
 * popa3d 1.0.3's UIDLs (--uidl=popa3d): clients that leave mail on the
 * server keep recognising it after a move from popa3d. Fed by mbox.c one
 * line at a time; pure computation, runs as the user.
 */
#ifndef POP3D_POPA3D_H
#define POP3D_POPA3D_H

#include <stddef.h>
#include <stdint.h>
#include <md5.h>

/* popa3d shows 8 bytes of its digest in hex. */
#define POPA3D_UIDL_LEN	16

struct popa3d {
	MD5_CTX		 md5;
	int		 in_header;	/* until a line that is a lone LF */
	int		 hashed;	/* the line being read is hashed */
	int		 received;	/* the first Received: line was seen */
};

void	popa3d_begin(struct popa3d *);

/*
 * A line of the message begins at p (the From_ line is not one): n bytes
 * of it are here, avail bytes of buffer, enough to tell its header name.
 */
void	popa3d_line(struct popa3d *, const unsigned char *, size_t, size_t);

/* The next n bytes of the line begun last. */
void	popa3d_more(struct popa3d *, const unsigned char *, size_t);

/*
 * Whether a header line starting with byte c may have to be hashed, so
 * must be handed to popa3d_line(): the bulk path asks.
 */
int	popa3d_may_hash(const struct popa3d *, unsigned char);

/* The message's id: 16 lower-case hex digits. */
void	popa3d_end(struct popa3d *, char out[POPA3D_UIDL_LEN + 1]);

#endif
