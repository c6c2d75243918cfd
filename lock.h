/* SPDX-License-Identifier: ISC */
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
	int		 chan;		/* to the lock helper; -1: the
					   caller holds the dot-lock */
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

/* How dotlock_create() makes its unique file (the helper's filter). */
#define DOTLOCK_TMP_FLAGS \
	(O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)
void	dotlock_remove(int, const char *);

/*
 * For pop3d --recover: a dot-lock made before the system started was left
 * by a process that no longer runs here, however young it is; removed.
 */
void	dotlock_break_from_before_boot(int, const char *);

/* The random pause between two attempts at a busy lock. */
void	lock_pause(void);

#endif
