/* SPDX-License-Identifier: ISC */
/*
 * The mailbox template's expansion, and its check in words an
 * administrator can act on (template.h). Run by the process pop3d starts
 * as (root, or the one user it serves) in main.c: at start, to check the
 * template, and at login, before any credential change; and by --check.
 */
#include <limits.h>
#include <string.h>

#include "template.h"

static int
append(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	if (n >= outlen - *o) {
		return -1;
	}
	memcpy(out + *o, s, n);
	*o += n;
	return 0;
}

int
mailbox_path(char *out, size_t outlen, const char *tmpl, const char *user,
    const char *home)
{
	size_t o = 0;
	const char *p, *s;
	int r;

	if (outlen == 0) {
		return -1;
	}
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%') {
			r = append(out, outlen, &o, p, 1);
		} else if (*++p == 'u' || *p == 'h') {
			s = *p == 'u' ? user : home;
			if (*s == '\0') {
				return -1;
			}
			r = append(out, outlen, &o, s, strlen(s));
		} else if (*p == '%') {
			r = append(out, outlen, &o, "%", 1);
		} else {
			return -1;
		}
		if (r == -1) {
			return -1;
		}
	}
	out[o] = '\0';
	return out[0] == '/' ? 0 : -1;
}

/* The first escape mailbox_path() does not know, as a reason; or NULL. */
static const char *
escape_problem(const char *tmpl)
{
	const char *p;

	for (p = tmpl; (p = strchr(p, '%')) != NULL; p += 2) {
		if (p[1] == '\0') {
			return "it ends with a lone %: write %% for a percent "
			    "sign";
		}
		if (p[1] == 'h' && p[2] == '\0') {
			return "it ends with %h: the home directory itself is "
			    "no mailbox file; write %h/mbox, as the mailbox in "
			    "it";
		}
		if (p[1] == 'h' && p[2] != '/') {
			return "%h is not followed by /: %hmail would be "
			    "/home/usermail, beside the home and not in it "
			    "(another user's home can have that name); write "
			    "%h/mail";
		}
		if (strchr("uh%", p[1]) == NULL) {
			return "it has an unknown % escape: only %u (the user "
			    "name), %h (the home directory) and %% are "
			    "expanded";
		}
	}
	return NULL;
}

const char *
template_problem(const char *tmpl)
{
	char path[PATH_MAX];
	const char *why;
	size_t n = strlen(tmpl);

	if (n == 0) {
		return "it is empty: give a path such as /var/mail/%u";
	}
	if ((why = escape_problem(tmpl)) != NULL) {
		return why;
	}
	if (tmpl[0] != '/' && strncmp(tmpl, "%h", 2) != 0) {
		return "it is relative: it must begin with / or %h, as "
		    "/var/mail/%u or %h/mbox do";
	}
	if (tmpl[n - 1] == '/') {
		return "it ends with /: it must name the mailbox file, as "
		    "/var/mail/%u does";
	}
	if (mailbox_path(path, sizeof(path), tmpl, "user", "/home/user") ==
	    -1) {
		return "it is too long: expanded, a path must stay under "
		    "PATH_MAX (4096 bytes)";
	}
	return NULL;
}
