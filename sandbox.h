/*
 * System call filters (seccomp, through libseccomp). Once the session is
 * the user for good it loses every system call that TRANSACTION and
 * UPDATE do not make: whatever a hostile message or command could make
 * it run, a call outside the list kills the process. Runs as the user.
 */
#ifndef POP3D_SANDBOX_H
#define POP3D_SANDBOX_H

/*
 * Sets no_new_privs and installs the session's filter, which lasts until
 * the process ends. 0, or -1 with errno set: the caller must not go on.
 * Built with SANDBOX=0 (for valgrind) it installs nothing, says so in the
 * log at debug level and returns 0.
 */
int	sandbox_session(void);

#endif
