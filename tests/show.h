/* SPDX-License-Identifier: ISC */
/*
 * Bytes shown in a failure message, for the unit and the integration
 * tests alike. Run by the test programs only.
 */
#ifndef POP3D_TESTS_SHOW_H
#define POP3D_TESTS_SHOW_H

#include <stddef.h>
#include <stdio.h>

/* Bytes shown at most; "..." says there were more. */
#define SHOW_BYTES	160

/*
 * (p, len) as the inside of a C string literal, in static storage: two
 * slots (0, 1), so that one message can show two strings.
 */
static inline const char *
show(const void *p, size_t len, int slot)
{
	static char out[2][4 * SHOW_BYTES + 16];
	const unsigned char *b = p;
	char *o = out[slot & 1];
	size_t i, k = 0;

	for (i = 0; i < len && i < SHOW_BYTES; i++) {
		if (b[i] == '\r' || b[i] == '\n') {
			k += (size_t)sprintf(o + k, "\\%c", b[i] == '\r' ? 'r' : 'n');
		} else if (b[i] < 0x20 || b[i] >= 0x7f || b[i] == '"' ||
		    b[i] == '\\') {
			k += (size_t)sprintf(o + k, "\\x%02x", b[i]);
		} else {
			o[k++] = (char)b[i];
		}
	}
	snprintf(o + k, sizeof(out[0]) - k, "%s", i < len ? "..." : "");
	return o;
}

#endif
