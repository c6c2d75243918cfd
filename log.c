/* SPDX-License-Identifier: ISC */
/*
 * Syslog (LOG_MAIL, ident "pop3d") and escaping of client-supplied text.
 * Used at every privilege level; the socket is opened before chroot.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "log.h"

/*
 * syslog(3) stamps local time: the zone is read here, before chroot and
 * the system call filters (sandbox.c), which would not let it be opened.
 */
void
log_open(int to_stderr)
{
	tzset();
	openlog("pop3d", LOG_PID | LOG_NDELAY | (to_stderr ? LOG_PERROR : 0),
	    LOG_MAIL);
}

/*
 * A control byte in a line (a newline, an escape sequence) would forge a
 * second line or rewrite a terminal: each becomes '?'.
 */
void
log_mask_controls(char *line)
{
	size_t i;

	for (i = 0; line[i] != '\0'; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
			line[i] = '?';
		}
	}
}

void
log_msg(int prio, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_mask_controls(line);
	syslog(prio, "%s", line);
}

void
log_fatal(const char *what)
{
	log_msg(LOG_ERR, "%s: %s", what, strerror(errno));
	exit(EX_OSERR);
}

static int
is_safe(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9')) {
		return 1;
	}
	return strchr("._-@+", c) != NULL && c != '\0';
}

void
log_escape(char *out, size_t outlen, const unsigned char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (outlen == 0) {
		return;
	}
	for (i = 0; i < len; i++) {
		if (is_safe(p[i])) {
			if (o + 1 >= outlen) {
				break;
			}
			out[o++] = (char)p[i];
			continue;
		}
		if (o + 4 >= outlen) {
			break;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[p[i] >> 4];
		out[o++] = hex[p[i] & 0x0f];
	}
	out[o] = '\0';
}
