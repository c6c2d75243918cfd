/* SPDX-License-Identifier: ISC */
/*
 * APOP secrets and digests, on the bytes of the secrets file that auth.c
 * read (and wipes): no I/O here. Run by the monitor's short-lived worker.
 * MD5 comes from libmd.
 */
#include <ctype.h>
#include <md5.h>
#include <string.h>

#include "apop.h"
#include "cred.h"
#include "params.h"

int
apop_parse_line(const char *line, size_t len, const char **name,
    size_t *nlen, const char **secret, size_t *slen)
{
	const char *colon = memchr(line, ':', len);

	if (colon == NULL || colon == line || memchr(line, '\0', len) != NULL ||
	    (size_t)(colon - line) > USER_MAX || colon + 1 == line + len) {
		return -1;
	}
	*name = line;
	*nlen = (size_t)(colon - line);
	*secret = colon + 1;
	*slen = len - *nlen - 1;
	return 0;
}

/*
 * user's secret in (buf, len), or NULL. *slen is written only for the
 * line that matches: a length left over from another line would make
 * the caller hash bytes that are not there.
 */
static const char *
find_secret(const char *buf, size_t len, const char *user, size_t *slen)
{
	const char *line, *name, *secret;
	size_t pos = 0, linelen, nlen, seclen, ulen = strlen(user);

	while (cred_next_line(buf, len, &pos, &line, &linelen)) {
		if (apop_parse_line(line, linelen, &name, &nlen, &secret,
		    &seclen) == 0 && nlen == ulen &&
		    memcmp(name, user, ulen) == 0) {
			*slen = seclen;
			return secret;
		}
	}
	return NULL;
}

static void
md5_hex(const char *timestamp, const char *secret, size_t slen,
    char out[APOP_DIGEST_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[MD5_DIGEST_LENGTH];
	MD5_CTX ctx;
	size_t i;

	MD5Init(&ctx);
	MD5Update(&ctx, (const uint8_t *)timestamp, strlen(timestamp));
	MD5Update(&ctx, (const uint8_t *)secret, slen);
	MD5Final(d, &ctx);
	for (i = 0; i < sizeof(d); i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 0x0f];
	}
	out[APOP_DIGEST_LEN] = '\0';
	explicit_bzero(&ctx, sizeof(ctx));
}

int
apop_verify(const char *buf, size_t len, const char *timestamp,
    const char *user, const char *digest, const char **why)
{
	char want[APOP_DIGEST_LEN + 1], got[APOP_DIGEST_LEN];
	const char *secret;
	size_t slen = 0, i;
	int ok = 0;

	/* An unknown name costs one MD5 too: of the timestamp alone. */
	secret = find_secret(buf, len, user, &slen);
	md5_hex(timestamp, secret != NULL ? secret : "", slen, want);
	if (strlen(digest) != APOP_DIGEST_LEN || secret == NULL) {
		*why = secret == NULL ? "no APOP secret" : "malformed digest";
	} else {
		for (i = 0; i < APOP_DIGEST_LEN; i++) {
			got[i] = (char)tolower((unsigned char)digest[i]);
		}
		ok = cred_equal(want, APOP_DIGEST_LEN, got, APOP_DIGEST_LEN);
		if (!ok) {
			*why = "wrong digest";
		}
		explicit_bzero(got, sizeof(got));
	}
	explicit_bzero(want, sizeof(want));
	return ok;
}

int
apop_listed(const char *buf, size_t len, const char *user)
{
	size_t slen;

	return find_secret(buf, len, user, &slen) != NULL;
}
