/* SPDX-License-Identifier: ISC */
/*
 * Strict base64, SASL PLAIN and UTF-8 checks. Runs unprivileged, in the
 * pre-login child; every function takes (buf, len) and trusts no NUL.
 */
#include <string.h>

#include "sasl.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
sextet(unsigned char c)
{
	const char *p;

	if (c == '\0') {
		return -1;
	}
	p = strchr(alphabet, c);
	return p == NULL ? -1 : (int)(p - alphabet);
}

/* One group of four characters into up to three bytes; -1 if malformed. */
static int
decode_group(const unsigned char *in, int last, unsigned char *out)
{
	int v[4], i, pad = 0;

	for (i = 0; i < 4; i++) {
		if (in[i] == '=' && last && i >= 2) {
			pad++;
			v[i] = 0;
			continue;
		}
		if (pad > 0 || (v[i] = sextet(in[i])) == -1) {
			return -1;
		}
	}
	/* Bits beyond the last byte must be zero (RFC 4648 section 3.5). */
	if ((pad == 2 && (v[1] & 0x0f) != 0) || (pad == 1 &&
	    (v[2] & 0x03) != 0)) {
		return -1;
	}
	out[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
	out[1] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
	out[2] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
	return 3 - pad;
}

long
base64_decode(const unsigned char *in, size_t inlen, unsigned char *out,
    size_t outlen)
{
	unsigned char group[3];
	size_t i, o = 0;
	int n;

	if (inlen % 4 != 0) {
		return -1;
	}
	for (i = 0; i < inlen; i += 4) {
		n = decode_group(in + i, i + 4 == inlen, group);
		if (n == -1 || (size_t)n > outlen - o) {
			return -1;
		}
		memcpy(out + o, group, (size_t)n);
		o += (size_t)n;
	}
	return (long)o;
}

int
plain_parse(const unsigned char *msg, size_t len, struct plain *p)
{
	const unsigned char *nul1, *nul2;
	size_t zlen;

	nul1 = memchr(msg, '\0', len);
	if (nul1 == NULL) {
		return -1;
	}
	zlen = (size_t)(nul1 - msg);
	nul2 = memchr(nul1 + 1, '\0', len - zlen - 1);
	if (nul2 == NULL) {
		return -1;
	}
	p->user = nul1 + 1;
	p->userlen = (size_t)(nul2 - p->user);
	p->pass = nul2 + 1;
	p->passlen = len - (size_t)(p->pass - msg);
	if (p->userlen == 0 || p->passlen == 0 ||
	    memchr(p->pass, '\0', p->passlen) != NULL) {
		return -1;
	}
	if (zlen != 0 && (zlen != p->userlen ||
	    memcmp(msg, p->user, zlen) != 0)) {
		return -1;
	}
	return 0;
}

/* Length of the sequence a lead byte starts, with its valid range. */
static size_t
utf8_seq(unsigned char c, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c < 0x80) {
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		return 2;
	}
	if (c >= 0xe0 && c <= 0xef) {
		*lo = c == 0xe0 ? 0xa0 : 0x80;
		*hi = c == 0xed ? 0x9f : 0xbf;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		*lo = c == 0xf0 ? 0x90 : 0x80;
		*hi = c == 0xf4 ? 0x8f : 0xbf;
		return 4;
	}
	return 0;
}

int
utf8_valid(const unsigned char *p, size_t len)
{
	unsigned char lo, hi;
	size_t i = 0, n, k;

	while (i < len) {
		n = utf8_seq(p[i], &lo, &hi);
		if (n == 0 || n > len - i) {
			return 0;
		}
		for (k = 1; k < n; k++) {
			if (p[i + k] < (k == 1 ? lo : 0x80) ||
			    p[i + k] > (k == 1 ? hi : 0xbf)) {
				return 0;
			}
		}
		i += n;
	}
	return 1;
}
