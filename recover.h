/* SPDX-License-Identifier: ISC */
/*
 * pop3d --recover (recover.c): completes, as each mailbox's owner, the
 * updates interrupted in the spool of the mailbox template. Runs as root.
 */
#ifndef POP3D_RECOVER_H
#define POP3D_RECOVER_H

/*
 * tmpl: the mailbox template (-m); its directory must not contain %u or
 * %h. The process's exit status: 0 when nothing failed (no journal is
 * nothing to do), 1 when a recovery failed (logged), EX_NOPERM when not
 * root, EX_CONFIG for a template without a fixed directory, EX_OSERR
 * when the spool cannot be read.
 */
int	recover_spool(const char *);

/*
 * The spool: the directory of the mailbox template tmpl, into dir (len
 * bytes), for --recover and --check. 0; -1 when it depends on the user
 * (%u or %h in it), there is none or it does not fit.
 */
int	spool_of(const char *, char *, size_t);

#endif
