/* SPDX-License-Identifier: ISC */
/*
 * Every credential change of pop3d, each irrevocable and verified; a
 * failure ends the process (log_fatal).
 */
#ifndef POP3D_PRIVSEP_H
#define POP3D_PRIVSEP_H

#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "auth.h"
#include "config.h"

/*
 * The pre-login child: no forks, no file writes; with pw (as root) also
 * chrooted to cfg->privsep_dir as pw's user, without groups.
 */
void	drop_to_privsep(const struct config *, const struct passwd *);

/* As root: the account's uid, gid and groups for good; else nothing. */
void	become_user(const struct config *, const struct account *);

/*
 * Forks the lock helper (lockd.c) for the mailbox at path, as the user
 * with the spool directory's group only, and returns the session's end
 * of the channel.
 */
int	start_lockd(const struct account *, const char *);

/*
 * pop3d --recover: lockd_recover() for the mailbox at path in a child
 * with the lock helper's credentials (the account's uid, the spool's
 * group). 0 when it completed or had nothing to do.
 */
int	recover_as_owner(const struct account *, const char *);

/*
 * The group the lock helper gets for the mailbox directory dir (its
 * fstat()): the directory's own when the directory is writable by its
 * group (not root's) and not by others (2775 root:mail), else gid, the
 * user's.
 */
gid_t	lock_helper_gid(const struct stat *, gid_t);

/*
 * The rules for the pre-login account and its chroot, checked at start
 * (main.c) and by pop3d --check: NULL when they hold; else what is wrong
 * and how to fix it, a static text valid until the next call. The
 * account, when it exists, is in *pw.
 */
const char *privsep_user_problem(const char *, struct passwd **);
const char *privsep_dir_problem(const char *);

/*
 * fork(), with parent and child joined by a SOCK_SEQPACKET pair: *chan
 * is the caller's end on either side.
 */
pid_t	fork_joined(int *);

/* For helper processes: fd 0 and 1 become /dev/null, off the client. */
int	io_detach(void);

#endif
