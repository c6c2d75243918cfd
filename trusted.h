/* SPDX-License-Identifier: ISC */
/*
 * Files the server trusts with credentials (--passwd-file names the uid a
 * session becomes, --apop-secrets holds passwords): the one rule they
 * must meet, checked at start by main() and at every open by the auth
 * worker, both as root or both as the one user pop3d was started as.
 */
#ifndef POP3D_TRUSTED_H
#define POP3D_TRUSTED_H

#include <sys/stat.h>

/*
 * Opens path for reading when the rule of pop3d.8 (--passwd-file) holds:
 * an absolute path with no symbolic link in it; every directory on it,
 * "/" included, owned by root or the server's user (geteuid()) and, unless
 * it is sticky, writable by nobody else; the file regular, owned by root
 * or the server's user, writable by neither group nor others. Each name is
 * opened relative to the directory descriptor checked before it and
 * checked through its own descriptor, so what was checked is what is
 * read. Returns the descriptor (O_RDONLY, O_CLOEXEC, O_NONBLOCK) with its
 * fstat() in *st; or -1 with *why a static text saying what is wrong and
 * how to fix it, valid until the next call.
 */
int	trusted_open(const char *, struct stat *, const char **);

#endif
