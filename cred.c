/* SPDX-License-Identifier: ISC */
/*
 * Credentials files' lines and the constant-time compare (cred.h). Run by
 * the monitor's worker; pure.
 */
#include <string.h>

#include "cred.h"

int
cred_next_line(const char *buf, size_t len, size_t *pos, const char **line,
    size_t *linelen)
{
	const char *nl;
	size_t n;

	while (*pos < len) {
		nl = memchr(buf + *pos, '\n', len - *pos);
		n = nl == NULL ? len - *pos : (size_t)(nl - (buf + *pos));
		*line = buf + *pos;
		*pos += n + (nl != NULL);
		if (n > 0 && **line != '#') {
			*linelen = n;
			return 1;
		}
	}
	return 0;
}

int
cred_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i, n = alen > blen ? alen : blen;
	unsigned int diff = alen != blen;

	for (i = 0; i < n; i++) {
		unsigned char ca = i < alen ? (unsigned char)a[i] : 0;
		unsigned char cb = i < blen ? (unsigned char)b[i] : 0;

		diff |= (unsigned int)(ca ^ cb);
	}
	return diff == 0;
}
