/* SPDX-License-Identifier: ISC */
/*
 * Large reads of the mailbox through bounded mmap() windows: the scanner
 * reads the page cache in place instead of having the kernel copy every
 * byte into a buffer first. A file that shrinks under a window cannot
 * kill the session (see window.c).
 */
#ifndef POP3D_WINDOW_H
#define POP3D_WINDOW_H

#include <stddef.h>
#include <sys/types.h>

/* At most one window is mapped at a time in a process. */
struct window {
	unsigned char	*map;
	size_t		 len;
};

/*
 * Maps len bytes of fd from off (off need not be page aligned) and
 * returns the byte at off; any earlier window of w is unmapped first.
 * NULL with errno when it cannot map.
 */
const unsigned char *window_map(struct window *, int, off_t, size_t);

/* Unmaps w's window, if it has one. */
void	window_unmap(struct window *);

/*
 * Did an access to the live window fail since it was mapped (the file
 * was truncated under it, or a page could not be read)? What was read
 * from it since then is zeros, not the file. 0 when no window is mapped.
 */
int	window_lost(void);

#endif
