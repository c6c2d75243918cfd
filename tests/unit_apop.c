/* SPDX-License-Identifier: ISC */
/*
 * apop.c: the secrets file's lines, the MD5 digest of RFC 1939's own
 * example, APOP-only accounts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apop.h"
#include "tests/unit.h"

/* RFC 1939 section 7. */
#define RFC_TIMESTAMP	"<1896.697170952@dbc.mtview.ca.us>"
#define RFC_DIGEST	"c4c9334bac560ecc979e58001b3e22fb"

static char secrets[64];

static void
write_secrets(void)
{
	static const char text[] = "# comment\nmrose:tanstaaf\n"
	    "malformed line\n:nouser\nempty:\nother:pass:with:colons";
	int fd;

	snprintf(secrets, sizeof(secrets), "/tmp/pop3d-apop-XXXXXX");
	fd = mkstemp(secrets);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1),
	    (ssize_t)sizeof(text) - 1);
	close(fd);
}

static void
remove_secrets(void)
{
	unlink(secrets);
}

static enum auth_result
verify(const char *user, const char *digest)
{
	const char *why = NULL;
	enum auth_result r = apop_verify(secrets, RFC_TIMESTAMP, user, digest,
	    &why);

	ck_assert(r == AUTH_OK || why != NULL);
	return r;
}

START_TEST(test_apop_rfc_example)
{
	ck_assert_int_eq(verify("mrose", RFC_DIGEST), AUTH_OK);
	ck_assert_int_eq(verify("mrose", "C4C9334BAC560ECC979E58001B3E22FB"),
	    AUTH_OK);
}
END_TEST

START_TEST(test_apop_refusals)
{
	ck_assert_int_eq(verify("mrose", "c4c9334bac560ecc979e58001b3e22fc"),
	    AUTH_FAIL);
	ck_assert_int_eq(verify("mrose", "c4c9334bac560ecc979e58001b3e22f"),
	    AUTH_FAIL);
	ck_assert_int_eq(verify("mros", RFC_DIGEST), AUTH_FAIL);
	ck_assert_int_eq(verify("nobody", RFC_DIGEST), AUTH_FAIL);
	ck_assert_int_eq(verify("empty", RFC_DIGEST), AUTH_FAIL);
}
END_TEST

START_TEST(test_apop_unreadable_file_is_tempfail)
{
	const char *why;

	ck_assert_int_eq(apop_verify("/nonexistent/secrets", RFC_TIMESTAMP,
	    "mrose", RFC_DIGEST, &why), AUTH_TEMPFAIL);
	ck_assert_int_eq(apop_listed("/nonexistent/secrets", "mrose"), -1);
}
END_TEST

START_TEST(test_apop_listed)
{
	ck_assert_int_eq(apop_listed(secrets, "mrose"), 1);
	ck_assert_int_eq(apop_listed(secrets, "other"), 1);
	ck_assert_int_eq(apop_listed(secrets, "nobody"), 0);
	ck_assert_int_eq(apop_listed(secrets, "malformed line"), 0);
}
END_TEST

/*
 * Defect 6 of issue 12: a name with no secret was hashed with the length
 * of the last non-matching line's secret, read past a one-byte string.
 * An 8 MiB secret on that line made the root worker crash; ASan sees any.
 */
START_TEST(test_apop_unknown_user_after_long_secret)
{
	static const char head[] = "alice:secret1\nbob:";
	char path[] = "/tmp/pop3d-apop-long-XXXXXX";
	size_t big = 8 * 1024 * 1024;
	char *text = malloc(sizeof(head) - 1 + big);
	const char *why = NULL;
	int fd = mkstemp(path);

	ck_assert_ptr_nonnull(text);
	ck_assert_int_ne(fd, -1);
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, 'x', big);
	ck_assert_int_eq(write(fd, text, sizeof(head) - 1 + big),
	    (ssize_t)(sizeof(head) - 1 + big));
	close(fd);
	free(text);
	ck_assert_int_eq(apop_verify(path, RFC_TIMESTAMP, "nosuchuser",
	    RFC_DIGEST, &why), AUTH_FAIL);
	ck_assert_int_eq(apop_listed(path, "nosuchuser"), 0);
	unlink(path);
}
END_TEST

START_TEST(test_apop_parse_line)
{
	const char *name, *secret;
	size_t nlen, slen;

	ck_assert_int_eq(apop_parse_line("a:b:c", 5, &name, &nlen, &secret,
	    &slen), 0);
	ck_assert_uint_eq(nlen, 1);
	ck_assert_uint_eq(slen, 3);
	ck_assert(memcmp(secret, "b:c", 3) == 0);
	ck_assert_int_eq(apop_parse_line(":b", 2, &name, &nlen, &secret,
	    &slen), -1);
	ck_assert_int_eq(apop_parse_line("a:", 2, &name, &nlen, &secret,
	    &slen), -1);
	ck_assert_int_eq(apop_parse_line("ab", 2, &name, &nlen, &secret,
	    &slen), -1);
	ck_assert_int_eq(apop_parse_line("a\0:b", 4, &name, &nlen, &secret,
	    &slen), -1);
}
END_TEST

Suite *
apop_suite(void)
{
	Suite *s = suite_create("apop");
	TCase *tc = tcase_create("apop");

	tcase_add_unchecked_fixture(tc, write_secrets, remove_secrets);
	ADD_TESTS(tc, test_apop_rfc_example, test_apop_refusals,
	    test_apop_unreadable_file_is_tempfail, test_apop_listed,
	    test_apop_parse_line, test_apop_unknown_user_after_long_secret);
	suite_add_tcase(s, tc);
	return s;
}
