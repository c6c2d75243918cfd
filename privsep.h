/* SPDX-License-Identifier: ISC */
/*
 * Every credential change of pop3d, each irrevocable and verified; a
 * failure ends the process (log_fatal).
 */
#ifndef POP3D_PRIVSEP_H
#define POP3D_PRIVSEP_H

#include <pwd.h>
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
 * fork(), with parent and child joined by a SOCK_SEQPACKET pair: *chan
 * is the caller's end on either side.
 */
pid_t	fork_joined(int *);

/* For helper processes: fd 0 and 1 become /dev/null, off the client. */
int	io_detach(void);

#endif
