/* SPDX-License-Identifier: ISC */
/*
 * POP3 command lines: splitting, argument checks, reply helpers.
 * Runs unprivileged; every function takes (buf, len) and trusts no NUL.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int
has_control_byte(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
			return 1;
		}
	}
	return 0;
}

static enum cmd_status
take_verb(const unsigned char *p, size_t len, struct cmd *c, size_t *used)
{
	size_t i = 0;

	while (i < len && !is_space(p[i])) {
		if (i == sizeof(c->verb) - 1) {
			return CMD_BAD_VERB;
		}
		if (p[i] >= '0' && p[i] <= '9' && i > 0) {
			c->verb[i] = (char)p[i];
			i++;
			continue;
		}
		if (!((p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= 'a' && p[i] <= 'z'))) {
			return CMD_BAD_VERB;
		}
		c->verb[i] = (char)(p[i] & ~0x20);
		i++;
	}
	if (i < 3) {
		return CMD_BAD_VERB;
	}
	c->verb[i] = '\0';
	*used = i;
	return CMD_OK;
}

/*
 * RFC 2449 section 3: a keyword is 3 or 4 characters, letters and, after
 * the first, digits (as in UTF8). RFC 1939 separates keyword and
 * arguments by single spaces; runs of
 * blanks and trailing blanks from sloppy clients are forgiven.
 */
enum cmd_status
cmd_parse(const unsigned char *line, size_t len, struct cmd *c)
{
	enum cmd_status st;
	size_t i, start;

	memset(c, 0, sizeof(*c));
	if (has_control_byte(line, len)) {
		return CMD_BAD_BYTE;
	}
	st = take_verb(line, len, c, &i);
	if (st != CMD_OK) {
		return st;
	}
	if (i < len) {
		c->rest = line + i + 1;
		c->restlen = len - i - 1;
	}
	for (;;) {
		while (i < len && is_space(line[i])) {
			i++;
		}
		if (i == len) {
			return CMD_OK;
		}
		if (c->nargs == CMD_ARGS_MAX) {
			c->nargs++;
			return CMD_OK;
		}
		start = i;
		while (i < len && !is_space(line[i])) {
			i++;
		}
		c->arg[c->nargs] = line + start;
		c->arglen[c->nargs] = i - start;
		c->nargs++;
	}
}

int
parse_number(const unsigned char *p, size_t len, unsigned long max,
    unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 20) {
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return -1;
		}
		if (v > max / 10 ||
		    (unsigned long)(p[i] - '0') > max - v * 10) {
			return -1;
		}
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	*out = v;
	return 0;
}

/* RFC 2449 section 4: a reply line is at most 512 octets with its CRLF. */
static void __attribute__((format(printf, 3, 0)))
reply_v(struct io *io, const char *head, const char *fmt, va_list ap)
{
	char text[512 - 2 - sizeof("-ERR [SYS/TEMP] ")];
	int n;

	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0) {
		text[0] = '\0';
	}
	io_printf(io, "%s%s\r\n", head, text);
}

void
reply_ok(struct io *io, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_v(io, "+OK ", fmt, ap);
	va_end(ap);
}

void
reply_err(struct io *io, const char *code, const char *fmt, ...)
{
	char head[32];
	va_list ap;

	if (code == NULL) {
		snprintf(head, sizeof(head), "-ERR ");
	} else {
		snprintf(head, sizeof(head), "-ERR [%s] ", code);
	}
	va_start(ap, fmt);
	reply_v(io, head, fmt, ap);
	va_end(ap);
}
