/* SPDX-License-Identifier: ISC */
/*
 * base64 encoding, which the server never does (it only decodes a
 * client's SASL responses, sasl.c): for the tests and the fuzz targets
 * that make such responses. Run by the test programs only.
 */
#ifndef POP3D_TESTS_BASE64_H
#define POP3D_TESTS_BASE64_H

#include <stddef.h>

/* Encodes (in, inlen) into out, NUL-terminated; -1 if it does not fit. */
static inline int
base64_encode(const unsigned char *in, size_t inlen, char *out, size_t outlen)
{
	static const char b64_alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	unsigned long v;

	if ((inlen + 2) / 3 * 4 >= outlen) {
		return -1;
	}
	for (i = 0; i < inlen; i += 3) {
		v = (unsigned long)in[i] << 16;
		v |= i + 1 < inlen ? (unsigned long)in[i + 1] << 8 : 0;
		v |= i + 2 < inlen ? in[i + 2] : 0;
		out[o++] = b64_alphabet[v >> 18 & 0x3f];
		out[o++] = b64_alphabet[v >> 12 & 0x3f];
		out[o++] = i + 1 < inlen ? b64_alphabet[v >> 6 & 0x3f] : '=';
		out[o++] = i + 2 < inlen ? b64_alphabet[v & 0x3f] : '=';
	}
	out[o] = '\0';
	return 0;
}

#endif
