/* SPDX-License-Identifier: ISC */
/*
 * What the passwd file's reader (auth.c) and the APOP secrets' (apop.c)
 * share: the lines of a credentials file and a constant-time compare.
 * Pure: no I/O. Run by the monitor's short-lived worker (root, or the
 * serving user when not started as root).
 */
#ifndef POP3D_CRED_H
#define POP3D_CRED_H

#include <stddef.h>

/*
 * The next line of a credentials file (buf, len) from *pos on, skipping
 * blank lines and '#' comments: points *line and *linelen at it, without
 * its newline, moves *pos past it and returns 1; 0 at the end.
 */
int	cred_next_line(const char *, size_t, size_t *, const char **,
	    size_t *);

/*
 * 1 if (a, alen) and (b, blen) are equal. Every byte of the longer is
 * compared whatever differs, so that the time taken does not show how
 * much of a guess was right.
 */
int	cred_equal(const char *, size_t, const char *, size_t);

#endif
