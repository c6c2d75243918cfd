/* SPDX-License-Identifier: ISC */
/*
 * sasl.c: strict base64, SASL PLAIN messages, UTF-8 validation; and the
 * X-UIDL values mbox.c collects for --x-uidl.
 */
#include <stdlib.h>

#include "mbox.h"
#include "sasl.h"
#include "tests/unit.h"

struct b64_case {
	const char	*in;
	const char	*out;		/* NULL: must be refused */
	size_t		 outlen;
};

static const struct b64_case b64_cases[] = {
	{ "", "", 0 },
	{ "Zg==", "f", 1 },
	{ "Zm8=", "fo", 2 },
	{ "Zm9v", "foo", 3 },
	{ "AGRlbW8Ac2VjcmV0", "\0demo\0secret", 12 },
	{ "+/+/", "\xfb\xff\xbf", 3 },
	{ "Zg=", NULL, 0 },		/* not a multiple of four */
	{ "Zg", NULL, 0 },
	{ "Zg==Zg==", NULL, 0 },	/* padding before the end */
	{ "Z===", NULL, 0 },		/* three pad characters */
	{ "=Zg=", NULL, 0 },
	{ "Zh==", NULL, 0 },		/* bits left over after the byte */
	{ "Zm9=", NULL, 0 },
	{ "Zm 9", NULL, 0 },		/* whitespace inside */
	{ "Zm9v\n", NULL, 0 },
	{ "Zm-v", NULL, 0 },		/* the URL alphabet is not ours */
	{ "Zm_v", NULL, 0 },
};

START_TEST(test_base64_decode_strictly)
{
	const struct b64_case *c = &b64_cases[_i];
	unsigned char out[64];
	long n;

	n = base64_decode((const unsigned char *)c->in, strlen(c->in), out,
	    sizeof(out));
	if (c->out == NULL) {
		ck_assert_msg(n == -1, "\"%s\" accepted", c->in);
		return;
	}
	ck_assert_msg(n == (long)c->outlen, "\"%s\": %ld", c->in, n);
	ck_assert(memcmp(out, c->out, c->outlen) == 0);
}
END_TEST

START_TEST(test_base64_decode_respects_room)
{
	unsigned char out[3];

	ck_assert_int_eq(base64_decode((const unsigned char *)"Zm9v", 4, out,
	    3), 3);
	ck_assert_int_eq(base64_decode((const unsigned char *)"Zm9vYg==", 8,
	    out, 3), -1);
}
END_TEST

START_TEST(test_base64_round_trip)
{
	unsigned char in[256], out[256];
	char text[400];
	size_t len;
	long n;

	for (len = 0; len < sizeof(in); len++) {
		in[len] = (unsigned char)(len * 37 + 11);
		ck_assert_int_eq(base64_encode(in, len, text, sizeof(text)), 0);
		n = base64_decode((const unsigned char *)text, strlen(text), out,
		    sizeof(out));
		ck_assert_int_eq(n, (long)len);
		ck_assert(memcmp(in, out, len) == 0);
	}
	ck_assert_int_eq(base64_encode(in, 3, text, 4), -1);
}
END_TEST

struct plain_case {
	const char	*msg;
	size_t		 len;
	const char	*user;		/* NULL: must be refused */
	const char	*pass;
};

#define P(s)	s, sizeof(s) - 1

static const struct plain_case plain_cases[] = {
	{ P("\0demo\0secret"), "demo", "secret" },
	{ P("demo\0demo\0secret"), "demo", "secret" },
	{ P("\0d\xc3\xa9mo\0pass with spaces"), "d\xc3\xa9mo",
	    "pass with spaces" },
	{ P("root\0demo\0secret"), NULL, NULL },	/* acting as another */
	{ P("dem\0demo\0secret"), NULL, NULL },
	{ P("\0\0secret"), NULL, NULL },		/* no user */
	{ P("\0demo\0"), NULL, NULL },			/* no password */
	{ P("\0demo"), NULL, NULL },			/* one NUL only */
	{ P("demo"), NULL, NULL },
	{ P("\0demo\0sec\0ret"), NULL, NULL },		/* NUL in password */
	{ P(""), NULL, NULL },
};

START_TEST(test_plain_parse)
{
	const struct plain_case *c = &plain_cases[_i];
	struct plain p;
	int r = plain_parse((const unsigned char *)c->msg, c->len, &p);

	if (c->user == NULL) {
		ck_assert_msg(r == -1, "case %d accepted", _i);
		return;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(p.userlen, strlen(c->user));
	ck_assert(memcmp(p.user, c->user, p.userlen) == 0);
	ck_assert_uint_eq(p.passlen, strlen(c->pass));
	ck_assert(memcmp(p.pass, c->pass, p.passlen) == 0);
}
END_TEST

struct utf8_case {
	const char	*s;
	size_t		 len;
	int		 valid;
};

static const struct utf8_case utf8_cases[] = {
	{ P("plain ascii"), 1 },
	{ P("d\xc3\xa9mo"), 1 },
	{ P("\xe2\x82\xac"), 1 },		/* euro sign */
	{ P("\xf0\x9f\x93\xa7"), 1 },		/* U+1F4E7 */
	{ P("\xef\xbf\xbf"), 1 },		/* U+FFFF */
	{ P("\xf4\x8f\xbf\xbf"), 1 },		/* U+10FFFF */
	{ P("\xc3"), 0 },			/* truncated */
	{ P("\xe2\x82"), 0 },
	{ P("\xc0\xaf"), 0 },			/* overlong '/' */
	{ P("\xe0\x80\xaf"), 0 },
	{ P("\xf0\x80\x80\xaf"), 0 },
	{ P("\xed\xa0\x80"), 0 },		/* surrogate */
	{ P("\xf4\x90\x80\x80"), 0 },		/* above U+10FFFF */
	{ P("\xf5\x80\x80\x80"), 0 },
	{ P("\x80"), 0 },			/* lone continuation */
	{ P("\xc3\x28"), 0 },
	{ P("\xff"), 0 },
};

START_TEST(test_utf8_valid)
{
	const struct utf8_case *c = &utf8_cases[_i];

	ck_assert_msg(utf8_valid((const unsigned char *)c->s, c->len) ==
	    c->valid, "case %d", _i);
}
END_TEST

/* Scans a whole mailbox in one buffer, X-UIDL values collected. */
static struct msg *
scan_xuidl(const char *mbox, size_t *count, char **pool)
{
	struct scan *s = mbox_scan_new();
	size_t len = strlen(mbox);
	struct msg *msgs;

	ck_assert_ptr_nonnull(s);
	mbox_scan_want_uidls(s, UIDL_X_UIDL);
	ck_assert_int_eq(mbox_scan(s, (const unsigned char *)mbox, len, 0, 1),
	    (ssize_t)len);
	msgs = mbox_scan_finish(s, (off_t)len, count);
	*pool = mbox_scan_take_pool(s);
	mbox_scan_free(s);
	return msgs;
}

static void
expect_uidl(const struct msg *m, const char *pool, const char *want)
{
	char uidl[UIDL_MAX + 1];

	mbox_uidl(m, pool, uidl);
	if (want != NULL) {
		ck_assert_str_eq(uidl, want);
	} else {
		ck_assert_uint_eq(strlen(uidl), 32);
	}
}

static const char xuidl_mbox[] =
    "From a Thu Jan  1 00:00:00 2026\n"
    "X-UIDL: 1a2b3c4d5e\n"
    "Subject: one\n\nbody\n\n"
    "From b Thu Jan  1 00:00:00 2026\n"
    "Subject: two\n"
    "x-uidl:\tUID77-tab  \r\n"
    "\nbody\n\n"
    "From c Thu Jan  1 00:00:00 2026\n"
    "X-UIDL: 1a2b3c4d5e\n"
    "Subject: three repeats the first\n\nbody\n\n"
    "From d Thu Jan  1 00:00:00 2026\n"
    "X-UIDL: has space\n"
    "Subject: four is not a valid id\n\nbody\n\n"
    "From e Thu Jan  1 00:00:00 2026\n"
    "Subject: five has it in the body\n\nX-UIDL: notaheader\n\n"
    "From f Thu Jan  1 00:00:00 2026\n"
    "X-UIDL: 12345678901234567890123456789012345678901234567890"
    "123456789012345678901\n"
    "Subject: six is too long\n\nbody\n";

START_TEST(test_xuidl_values_are_taken_when_unique_and_valid)
{
	size_t count;
	char *pool;
	struct msg *m = scan_xuidl(xuidl_mbox, &count, &pool);

	ck_assert_uint_eq(count, 6);
	ck_assert_ptr_nonnull(pool);
	expect_uidl(&m[0], pool, "1a2b3c4d5e");
	expect_uidl(&m[1], pool, "UID77-tab");
	expect_uidl(&m[2], pool, NULL);
	expect_uidl(&m[3], pool, NULL);
	expect_uidl(&m[4], pool, NULL);
	expect_uidl(&m[5], pool, NULL);
	expect_uidl(&m[0], NULL, NULL);
	free(pool);
	free(m);
}
END_TEST

Suite *
sasl_suite(void)
{
	Suite *s = suite_create("sasl");
	TCase *b64 = tcase_create("base64");
	TCase *plain = tcase_create("plain");
	TCase *utf8 = tcase_create("utf8");
	TCase *xuidl = tcase_create("x-uidl");

	tcase_add_loop_test(b64, test_base64_decode_strictly, 0,
	    (int)(sizeof(b64_cases) / sizeof(b64_cases[0])));
	ADD_TESTS(b64, test_base64_decode_respects_room, test_base64_round_trip);
	tcase_add_loop_test(plain, test_plain_parse, 0,
	    (int)(sizeof(plain_cases) / sizeof(plain_cases[0])));
	tcase_add_loop_test(utf8, test_utf8_valid, 0,
	    (int)(sizeof(utf8_cases) / sizeof(utf8_cases[0])));
	tcase_add_test(xuidl, test_xuidl_values_are_taken_when_unique_and_valid);
	suite_add_tcase(s, b64);
	suite_add_tcase(s, plain);
	suite_add_tcase(s, utf8);
	suite_add_tcase(s, xuidl);
	return s;
}
