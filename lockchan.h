/* SPDX-License-Identifier: ISC */
/*
 * The channel between the session and its lock helper (lockd.c), the
 * same at both ends: one-byte requests and answers, each with at most one
 * descriptor, and the pause both take between two attempts at a busy
 * lock. Run by the session (lock.c) and by the lock helper (lockd.c);
 * kept apart from both so that neither includes the other.
 */
#ifndef POP3D_LOCKCHAN_H
#define POP3D_LOCKCHAN_H

#include <sys/types.h>

enum lockchan_byte {
	REQ_SESSION = 'S',	/* the session file, for the directory sent */
	REQ_LOCK = 'L',
	REQ_UNLOCK = 'U',
	ANS_OK = 'K',
	ANS_BUSY = 'B',
	ANS_ERROR = 'E',
	ANS_GONE = 'G'		/* never sent: the helper did not answer */
};

/* One byte on chan, with the descriptor fd unless it is -1: 0 or -1. */
int	lockchan_send(int, char, int);

/*
 * One byte from chan, and the descriptor sent with it (*fd, else -1);
 * what recvmsg() returns. Any other descriptor that came is closed.
 */
ssize_t	lockchan_recv(int, char *, int *);

/*
 * The pause between two attempts at a busy lock: LOCK_BACKOFF_MS / 2 to
 * 3 / 2 of it, varying from process to process and call to call.
 */
void	lock_pause(void);

#endif
