/* SPDX-License-Identifier: ISC */
/*
 * The mbox parser: turns mailbox bytes into the message index (offsets,
 * exact POP3 sizes, content hashes) in one pass. Pure computation on
 * buffers handed to it; runs as the user.
 */
#ifndef POP3D_MBOX_H
#define POP3D_MBOX_H

#include <stddef.h>
#include <sys/types.h>

/* RFC 1939 section 7: a unique-id is 1 to 70 octets. */
#define UIDL_MAX	70

/*
 * One per message for the whole session, so kept small: 56 bytes, with
 * deleted in the byte dup leaves free (MESSAGES_MAX keeps dup far below
 * 24 bits).
 */
struct msg {
	off_t		 from;		/* the From_ line, or start if none */
	off_t		 start;		/* the first byte RETR serves */
	off_t		 len;		/* stored bytes RETR serves */
	unsigned long long size;	/* octets RETR sends before byte-stuffing */
	unsigned char	 hash[16];	/* content hash, see mbox_uidl() */
	unsigned int	 xuidl;		/* 1 + its UIDL's offset in the pool */
	unsigned int	 dup : 24;	/* earlier copies of the same content */
	unsigned char	 deleted;
};

/* Where a session's UIDLs come from (--uidl, --x-uidl). */
enum uidl_source {
	UIDL_CONTENT,	/* the content hash, see mbox_uidl() */
	UIDL_X_UIDL,	/* X-UIDL headers, else the content hash */
	UIDL_POPA3D	/* popa3d 1.0.3's, see popa3d.h */
};

struct scan;

/* NULL when out of memory. */
struct scan *mbox_scan_new(void);
void	mbox_scan_free(struct scan *);

/*
 * Also collect UIDLs into a pool, from:
 * UIDL_X_UIDL: each message's first well-formed "X-UIDL:" header value
 * (1..70 octets of 0x21..0x7e); mbox_scan_finish() keeps only values that
 * are unique in the mailbox.
 * UIDL_POPA3D: every message's popa3d UIDL; the first of the messages
 * that popa3d would give the same id keeps it, every later one gets "id-"
 * and its content hash UIDL.
 */
void	mbox_scan_want_uidls(struct scan *, enum uidl_source);

/* The pool after mbox_scan_finish(); the caller frees it. */
char	*mbox_scan_take_pool(struct scan *);

/*
 * Feeds (buf, len), which starts at file offset base; a scan starts at
 * the beginning of the file or of a From_ line. Returns how many
 * bytes were consumed: all of them at EOF or when no line ends in buf,
 * else up to and including the last LF; the caller hands the rest in
 * again at the front of the next buffer. -1: more than MESSAGES_MAX.
 */
ssize_t	mbox_scan(struct scan *, const unsigned char *, size_t, off_t, int);

/*
 * The messages found so far, *n of them; the last may still be open: its
 * from is final, its start once its From_ line has been read whole, the
 * rest only after mbox_scan_finish().
 */
const struct msg *mbox_scan_found(const struct scan *, size_t *);

/*
 * Closes the index at end offset end and numbers duplicates; on success
 * the array (count in *n) belongs to the caller. NULL with *n == 0 for an
 * empty mailbox; NULL with *n == 1 when out of memory.
 */
struct msg *mbox_scan_finish(struct scan *, off_t, size_t *);

/*
 * Writes the UIDL of m (RFC 1939: 0x21..0x7e, at most 70) to out: its
 * value in pool (X-UIDL or popa3d's) when it has one and pool is not
 * NULL, else the content hash.
 */
void	mbox_uidl(const struct msg *, const char *, char out[UIDL_MAX + 1]);

/*
 * TOP n k (RFC 1939): the header, the blank line after it and k body
 * lines. top_take() returns how many bytes of the next piece of the
 * stored message belong to that; once top_done() the rest is left out.
 */
struct top {
	int		 in_header;
	int		 last_cr;
	unsigned long	 lines_left;
	size_t		 linelen;
};

void	top_begin(struct top *, unsigned long);
size_t	top_take(struct top *, const unsigned char *, size_t);
int	top_done(const struct top *);

#endif
