/* SPDX-License-Identifier: ISC */
/*
 * System call filters (seccomp, through libseccomp). Once the session is
 * the user for good it loses every system call that TRANSACTION and
 * UPDATE do not make; the pre-login child, which parses what the client
 * sends before login, keeps little more than its two sockets. Whatever a
 * hostile message or command could make them run, a call outside their
 * list kills the process. Runs as the user or the privsep user.
 */
#ifndef POP3D_SANDBOX_H
#define POP3D_SANDBOX_H

#include <fcntl.h>

/*
 * AddressSanitizer builds (gcc's and clang's way of saying so): their
 * filters let through what its reports need, read-only opens among them.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZED
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZED
#endif
#endif

/*
 * Sets no_new_privs and installs the session's filter, which lasts until
 * the process ends. 0, or -1 with errno set: the caller must not go on.
 * Built with SANDBOX=0 (for valgrind) it installs nothing, says so in the
 * log at debug level and returns 0.
 */
int	sandbox_session(void);

/* The same for the pre-login child, before it reads from the client. */
int	sandbox_prelogin(void);

/*
 * The same for the lock helper (lockd.c) and pop3d --recover's children,
 * once the mailbox's directory is open: the dot-lock, the session file,
 * and the recovery of an interrupted update.
 */
int	sandbox_lockd(void);

/*
 * How the lock helper opens its files (lockd.c), which its filter allows
 * exactly: the session file, and the unique name of a dot-lock.
 */
#define LOCKD_SESSION_FLAGS \
	(O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
#define DOTLOCK_TMP_FLAGS \
	(O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)

#endif
