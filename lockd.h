/* SPDX-License-Identifier: ISC */
/*
 * The lock helper: a small process that makes and removes the dot-lock
 * beside the mailbox and opens the session file (the lock that keeps a
 * second POP3 session out, and the journal of crash-safe updates). It
 * runs as the user with the spool's group, so that a 2775 root:mail spool
 * works without the session ever holding gid mail. When the session ends,
 * however it ends, the helper completes an update the session left
 * unfinished (the journal in the session file says so), then removes its
 * dot-lock and exits. If the helper dies too, the dot-lock stays, as any
 * crashed mail program's does, and the next login or pop3d --recover
 * completes the update.
 */
#ifndef POP3D_LOCKD_H
#define POP3D_LOCKD_H

#include <fcntl.h>

#include "lock.h"

/* How the helper opens the session file (the system call filter's rule). */
#define LOCKD_SESSION_FLAGS \
	(O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/*
 * The directory of the mailbox at path as the session reaches it
 * (mailbox_dir()), for the helper: an O_PATH handle, or -1 (logged, but
 * for a missing directory, which the session refuses and logs).
 * Taken by root before the helper becomes the user, so that the group
 * the helper gets is the one of the directory it works in (privsep.c).
 */
int	lockd_directory(const char *);

/*
 * Serves the session on chan for the mailbox at path, in dirfd (from
 * lockd_directory()); never returns.
 */
void	lockd_serve(int, const char *, int) __attribute__((noreturn));

/*
 * pop3d --recover, in a process with the helper's credentials: takes the
 * dot-lock of the mailbox at path (one made before the system started is
 * removed first), completes an interrupted update as the helper does,
 * releases it. 0 when done or nothing was to do; -1 (logged) otherwise.
 */
int	lockd_recover(const char *, int);

/*
 * The session's side. The session file is given only to a session whose
 * own walk (dirfd) reached the helper's directory: an fd, or -1.
 */
int	lockd_session_file(int, int);
enum lock_status lockd_dotlock(int);
void	lockd_dotunlock(int);

#endif
