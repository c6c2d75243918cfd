/* SPDX-License-Identifier: ISC */
/*
 * What is wrong with a mailbox template (-m), in words an administrator
 * can act on. Runs at start, before any credential change; the session
 * expands the template with mailbox_path(), which refuses the same ones.
 */
#include <limits.h>
#include <string.h>

#include "mailbox.h"
#include "template.h"

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
