/* SPDX-License-Identifier: ISC */
/*
 * The mailbox template (-m, "%%", "%u", "%h"): what path the mailbox of a
 * user has, and what is wrong with one that cannot work. Run in main.c by
 * the process pop3d starts as (root, or the user it serves), at start and
 * at login, and by --check; no file is touched here.
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

/*
 * NULL when mailbox_path() can expand tmpl for an ordinary user; else a
 * static sentence saying what is wrong and how to write it instead.
 */
const char *template_problem(const char *);

#endif
