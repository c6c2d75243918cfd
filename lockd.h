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
 * Run by the lock helper alone (lockd_directory() in its first moments,
 * still as root: privsep.c); pop3d --recover's child for each mailbox is
 * such a helper without a session (lockd_recover()). The session's side
 * is lock.c; the bytes between the two are lockchan.h's.
 */
#ifndef POP3D_LOCKD_H
#define POP3D_LOCKD_H

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

#endif
