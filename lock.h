/* SPDX-License-Identifier: ISC */
/*
 * Mailbox locking as Debian Policy 11.6 asks: fcntl() first, then an
 * NFS-safe dot-lock beside the mailbox; never waiting while holding one.
 * The session's side, run as the user: it takes the fcntl lock and asks
 * the lock helper (lockd.c), which may hold the spool's group, for the
 * dot-lock.
 */
#ifndef POP3D_LOCK_H
#define POP3D_LOCK_H

enum lock_status {
	LOCK_OK,
	LOCK_BUSY,	/* another program kept the mailbox locked */
	LOCK_ERROR	/* errno says why */
};

struct lock {
	int		 fd;		/* the mailbox, open for writing */
	int		 helper;	/* the channel to the lock helper; -1: the
					   caller holds the dot-lock */
	int		 held;
};

/* Takes both locks, retrying for a bounded time. */
enum lock_status lock_take(struct lock *);

/* Releases what lock_take() took; safe to call twice. */
void	lock_release(struct lock *);

/*
 * The session's requests to its lock helper on chan (lockd.c). The
 * session file is given only to a session whose own walk (dirfd) reached
 * the helper's directory: an fd, or -1 (errno EPIPE when the helper is
 * gone, which its own walk, as root, can make it: else the helper said
 * why in the log).
 */
int	lockd_session_file(int, int);
enum lock_status lockd_dotlock(int);
void	lockd_dotunlock(int);

#endif
