/* SPDX-License-Identifier: ISC */
/*
 * The check of a mailbox template (-m) at start, for main() and any
 * self-test. Runs before any credential change.
 */
#ifndef POP3D_TEMPLATE_H
#define POP3D_TEMPLATE_H

/*
 * NULL when mailbox_path() can expand tmpl for an ordinary user; else a
 * static sentence saying what is wrong and how to write it instead.
 */
const char *template_problem(const char *);

#endif
