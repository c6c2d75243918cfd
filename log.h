/* SPDX-License-Identifier: ISC */
/*
 * Syslog (LOG_MAIL, ident "pop3d") and the escaping of client-supplied
 * text in log lines. Used at every privilege level.
 */
#ifndef POP3D_LOG_H
#define POP3D_LOG_H

#include <stddef.h>
#include <syslog.h>

#include "params.h"

/* Room for a user name escaped by log_escape(): \xNN for every byte. */
#define LOG_NAME_MAX	(4 * USER_MAX + 1)

/* A log line at most: more than any line pop3d makes, with two names. */
#define LOG_LINE_MAX	2048

void	log_open(int);
/*
 * One line, with every control byte of it (a line break in a file name,
 * say) written as '?', so that no text in it can start a forged line.
 */
void	log_mask_controls(char *);
void	log_msg(int, const char *, ...) __attribute__((format(printf, 2, 3)));

/* A system call the process cannot go on without failed: logs, exits 71. */
void	log_fatal(const char *) __attribute__((noreturn));

/*
 * Copies (buf, len) into out (NUL-terminated, truncated to fit) with every
 * byte outside a small safe set written as \xNN, so that nothing a client
 * sends can forge a field of a line that fail2ban reads.
 */
void	log_escape(char *, size_t, const unsigned char *, size_t);

#endif
