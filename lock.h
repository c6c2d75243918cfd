/*
 * Mailbox locking as Debian Policy 11.6 asks: fcntl() first, then an
 * NFS-safe dot-lock beside the mailbox; never waiting while holding one.
 * The fcntl lock is taken by the session (as the user); the dot-lock is
 * made by the lock helper (lockd.c), which may hold the spool's group.
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
	int		 chan;		/* to the lock helper */
	int		 held;
};

/* Takes both locks, retrying for a bounded time. */
enum lock_status lock_take(struct lock *);

/* Releases what lock_take() took; safe to call twice. */
void	lock_release(struct lock *);

/*
 * The dot-lock itself, for the lock helper: base.lock in the directory
 * dirfd, made by link(2) from a unique name. dotlock_create: 0, or -1 with
 * errno EEXIST when another process holds it.
 */
int	dotlock_create(int, const char *);
void	dotlock_remove(int, const char *);

#endif
