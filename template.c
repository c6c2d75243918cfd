/* SPDX-License-Identifier: ISC */
/*
 * The mailbox template's expansion (template.h). Run by the process
 * pop3d starts as (root, or the one user it serves) in main.c: at start,
 * to check the template, and at login, before any credential change.
 */
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
