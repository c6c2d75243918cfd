/* SPDX-License-Identifier: ISC */
/*
 * pop3d --check [USER] (selfcheck.c): the administrator's self-test, run by
 * the administrator's one-shot process (root) and, for USER's mailbox,
 * by a child of it that becomes the user.
 */
#ifndef POP3D_SELFCHECK_H
#define POP3D_SELFCHECK_H

#include "config.h"

/*
 * Prints the configuration as a session would see it (cfg) and one
 * verdict line a check, each failure with its fix; with user (NULL: none)
 * also reads a password line from stdin, authenticates it as a session
 * would and reads the user's mailbox without writing anything, saying
 * what a client would be answered. Returns the exit status: 0 when every
 * check passed, 1 when one failed, EX_NOPERM (77) when none failed but
 * some could not be made without root.
 */
int	check_run(const struct config *, const char *);

#endif
