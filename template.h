/* SPDX-License-Identifier: ISC */
/*
 * The mailbox template (-m, "%%", "%u", "%h"): what path the mailbox of a
 * user has. Run in main.c by the process pop3d starts as (root, or the
 * user it serves), at start and at login; no file is touched here.
 */
#ifndef POP3D_TEMPLATE_H
#define POP3D_TEMPLATE_H

#include <stddef.h>

/*
 * Expands %u (user), %h (home) and %% in template into out. 0 on success;
 * -1 for an unknown escape, an empty user or home, a relative result or
 * one that does not fit.
 */
int	mailbox_path(char *, size_t, const char *, const char *, const char *);

#endif
