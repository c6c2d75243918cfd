/* SPDX-License-Identifier: ISC */
/*
 * apop.c: the secrets file's lines, the MD5 digest of RFC 1939's own
 * example, APOP-only accounts.
 */
#include <stdlib.h>
#include <string.h>

#include "apop.h"
#include "cred.h"
#include "tests/unit.h"

/* RFC 1939 section 7. */
#define RFC_TIMESTAMP	"<1896.697170952@dbc.mtview.ca.us>"
#define RFC_DIGEST	"c4c9334bac560ecc979e58001b3e22fb"

static const char secrets[] = "# comment\nmrose:tanstaaf\n"
    "malformed line\n:nouser\nempty:\nother:pass:with:colons";

static int
verify(const char *user, const char *digest)
{
	const char *why = NULL;
	int ok = apop_verify(secrets, sizeof(secrets) - 1, RFC_TIMESTAMP,
	    user, digest, &why);

	ck_assert(ok || why != NULL);
	return ok;
}

static int
listed(const char *user)
{
	return apop_listed(secrets, sizeof(secrets) - 1, user);
}

START_TEST(test_apop_rfc_example)
{
	ck_assert_int_eq(verify("mrose", RFC_DIGEST), 1);
	ck_assert_int_eq(verify("mrose", "C4C9334BAC560ECC979E58001B3E22FB"),
	    1);
}
END_TEST

START_TEST(test_apop_refusals)
{
	ck_assert_int_eq(verify("mrose", "c4c9334bac560ecc979e58001b3e22fc"),
	    0);
	ck_assert_int_eq(verify("mrose", "c4c9334bac560ecc979e58001b3e22f"),
	    0);
	ck_assert_int_eq(verify("mros", RFC_DIGEST), 0);
	ck_assert_int_eq(verify("nobody", RFC_DIGEST), 0);
	ck_assert_int_eq(verify("empty", RFC_DIGEST), 0);
}
END_TEST

START_TEST(test_apop_listed)
{
	ck_assert_int_eq(listed("mrose"), 1);
	ck_assert_int_eq(listed("other"), 1);
	ck_assert_int_eq(listed("nobody"), 0);
	ck_assert_int_eq(listed("malformed line"), 0);
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
	size_t big = 8 * 1024 * 1024, len = sizeof(head) - 1 + big;
	char *text = malloc(len);
	const char *why = NULL;

	ck_assert_ptr_nonnull(text);
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, 'x', big);
	ck_assert_int_eq(apop_verify(text, len, RFC_TIMESTAMP, "nosuchuser",
	    RFC_DIGEST, &why), 0);
	ck_assert_int_eq(apop_listed(text, len, "nosuchuser"), 0);
	free(text);
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

/* The one compare of secrets and hashes: lengths count, no byte is skipped. */
START_TEST(test_cred_equal)
{
	ck_assert_int_eq(cred_equal("abc", 3, "abc", 3), 1);
	ck_assert_int_eq(cred_equal("", 0, "", 0), 1);
	ck_assert_int_eq(cred_equal("abc", 3, "abd", 3), 0);
	ck_assert_int_eq(cred_equal("abc", 3, "ab", 2), 0);
	ck_assert_int_eq(cred_equal("ab", 2, "abc", 3), 0);
	ck_assert_int_eq(cred_equal("", 0, "a", 1), 0);
	ck_assert_int_eq(cred_equal("a", 1, "", 0), 0);
	ck_assert_int_eq(cred_equal("ab\0", 3, "ab", 2), 0);
	ck_assert_int_eq(cred_equal("Abc", 3, "abc", 3), 0);
}
END_TEST

Suite *
apop_suite(void)
{
	Suite *s = suite_create("apop");
	TCase *tc = tcase_create("apop");

	ADD_TESTS(tc, test_apop_rfc_example, test_apop_refusals,
	    test_apop_listed,
	    test_apop_parse_line, test_apop_unknown_user_after_long_secret,
	    test_cred_equal);
	suite_add_tcase(s, tc);
	return s;
}
