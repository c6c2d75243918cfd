/* SPDX-License-Identifier: ISC */
/*
 * fuzz_sasl: sasl.c's pieces of AUTH against independent models: strict
 * base64 (RFC 4648 section 4: decoding is canonical, so what decodes
 * encodes back to the same text), the PLAIN message (RFC 4616) and the
 * UTF-8 check (RFC 3629). The input is used whole by each, and its first
 * byte also sets the room base64_decode() is given.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sasl.h"
#include "tests/base64.h"

/* The value of a base64 digit, or -1. */
static int
digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	}
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/*
 * Canonical base64 into out (room for len bytes): groups of four digits,
 * "=" only to pad the last group, the unused low bits zero.
 */
static long
model_base64(const unsigned char *in, size_t len, unsigned char *out)
{
	unsigned long bits = 0;
	size_t i, nbits = 0, o = 0, pad = 0;
	int d;

	if (len % 4 != 0) {
		return -1;
	}
	while (pad < 2 && pad < len && in[len - 1 - pad] == '=') {
		pad++;
	}
	for (i = 0; i < len - pad; i++) {
		d = digit(in[i]);
		if (d == -1) {
			return -1;
		}
		bits = (bits << 6 | (unsigned long)d) & 0xffff;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			out[o++] = (unsigned char)(bits >> nbits);
		}
	}
	if ((bits & ((1UL << nbits) - 1)) != 0) {
		return -1;
	}
	return (long)o;
}

/* Encodes p into a block of exactly the size needed, NUL included. */
static char *
encode(const unsigned char *p, size_t n)
{
	size_t need = (n + 2) / 3 * 4 + 1;
	char *out = malloc(need);

	CHECK(out != NULL);
	CHECK(base64_encode(p, n, out, need - 1) == -1);
	CHECK(base64_encode(p, n, out, need) == 0);
	CHECK(strlen(out) == need - 1);
	return out;
}

static void
check_decode(const unsigned char *in, size_t len, size_t room)
{
	unsigned char *out = malloc(room), *all = malloc(len + 1);
	unsigned char *want = malloc(len + 1);
	long n, whole;
	char *again;

	CHECK(out != NULL && all != NULL && want != NULL);
	n = base64_decode(in, len, out, room);
	whole = base64_decode(in, len, all, len);
	CHECK(whole == model_base64(in, len, want));
	CHECK(n == -1 ? whole == -1 || (size_t)whole > room : n == whole);
	if (whole >= 0) {
		CHECK(memcmp(all, want, (size_t)whole) == 0);
		CHECK(n == -1 || memcmp(out, all, (size_t)n) == 0);
		again = encode(all, (size_t)whole);
		CHECK(strlen(again) == len && memcmp(again, in, len) == 0);
		free(again);
	}
	free(out);
	free(all);
	free(want);
}

static void
check_encode(const unsigned char *in, size_t len)
{
	char *text = encode(in, len);
	size_t tlen = strlen(text);
	unsigned char *back = malloc(len + 1);

	CHECK(back != NULL);
	CHECK(base64_decode((const unsigned char *)text, tlen, back, len) ==
	    (long)len);
	CHECK(memcmp(back, in, len) == 0);
	free(back);
	free(text);
}

/* authzid NUL authcid NUL passwd: two NULs, authzid empty or authcid. */
static void
check_plain(const unsigned char *in, size_t len)
{
	unsigned char *copy = fuzz_dup(in, len);
	const unsigned char *a = in, *b = in;
	struct plain pl;
	size_t zlen, ulen = 0, plen = 0, nuls = 0, i;
	int ok;

	for (i = 0; i < len; i++) {
		nuls += in[i] == '\0';
	}
	ok = nuls == 2;
	if (ok) {
		a = memchr(in, '\0', len);
		b = memchr(a + 1, '\0', len - (size_t)(a - in) - 1);
		zlen = (size_t)(a - in);
		ulen = (size_t)(b - a - 1);
		plen = len - (size_t)(b - in) - 1;
		ok = ulen > 0 && plen > 0 && (zlen == 0 ||
		    (zlen == ulen && memcmp(in, a + 1, ulen) == 0));
	}
	CHECK((plain_parse(copy, len, &pl) == 0) == ok);
	if (ok) {
		CHECK(pl.user == copy + (a + 1 - in) && pl.userlen == ulen);
		CHECK(pl.pass == copy + (b + 1 - in) && pl.passlen == plen);
	}
	free(copy);
}

/* Decodes code points: no overlongs, no surrogates, none past U+10FFFF. */
static int
model_utf8(const unsigned char *p, size_t len)
{
	unsigned long cp, min;
	size_t i = 0, n, k;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 2, cp = p[i] & 0x1fUL, min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 3, cp = p[i] & 0x0fUL, min = 0x800;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 4, cp = p[i] & 0x07UL, min = 0x10000;
		} else {
			return 0;
		}
		if (n > len - i) {
			return 0;
		}
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80) {
				return 0;
			}
			cp = cp << 6 | (p[i + k] & 0x3fUL);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 &&
		    cp <= 0xdfff)) {
			return 0;
		}
		i += n;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	unsigned char *copy = fuzz_dup(in, size);

	check_decode(copy, size, size > 0 ? in[0] : 0);
	check_encode(copy, size);
	check_plain(copy, size);
	CHECK(utf8_valid(copy, size) == model_utf8(in, size));
	free(copy);
	return 0;
}
