/*
 * Mailbox locking as Debian Policy 11.6 asks: fcntl() first, then an
 * NFS-safe dot-lock beside the mailbox; never waiting while holding one.
 * Runs as the user.
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
	const char	*path;		/* the mailbox path */
	int		 dotlocked;	/* we created path.lock */
	int		 no_dotlock;	/* the spool refused us, said once */
};

/* Takes both locks, retrying for a bounded time. */
enum lock_status lock_take(struct lock *);

/* Releases what lock_take() took; safe to call twice. */
void	lock_release(struct lock *);

#endif
