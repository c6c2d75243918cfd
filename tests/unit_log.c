/* SPDX-License-Identifier: ISC */
/*
 * log.c: escaping of client-supplied text for log lines that fail2ban
 * reads ("LOGIN FAILED, user=NAME, ip=[ADDR]").
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "params.h"
#include "tests/unit.h"

#define GUARD	0x7e

/* log_escape() into a buffer of outlen bytes followed by guard bytes. */
static const char *
escape(const void *p, size_t len, size_t outlen)
{
	static char out[LOG_NAME_MAX + 64];

	ck_assert_uint_le(outlen + 16, sizeof(out));
	memset(out, GUARD, sizeof(out));
	log_escape(out, outlen, p, len);
	ck_assert_msg(outlen == 0 || memchr(out, '\0', outlen) != NULL,
	    "not NUL-terminated within %zu bytes", outlen);
	ck_assert_msg(out[outlen] == GUARD && out[outlen + 15] == GUARD,
	    "wrote past %zu bytes", outlen);
	return out;
}

static int
is_safe(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("._-@+", c) != NULL);
}

START_TEST(test_escape_keeps_safe_characters)
{
	static const char name[] = "alice.b_c-d+tag@example.org0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	ck_assert_str_eq(escape(LIT(name), sizeof(name)), name);
}
END_TEST

/* Every byte value alone: itself if safe, else \xNN in lower case. */
START_TEST(test_escape_every_byte_value)
{
	char want[8];
	unsigned char c;
	int b;

	for (b = 0; b < 256; b++) {
		c = (unsigned char)b;
		if (is_safe(b)) {
			snprintf(want, sizeof(want), "%c", b);
		} else {
			snprintf(want, sizeof(want), "\\x%02x", b);
		}
		ck_assert_str_eq(escape(&c, 1, 16), want);
	}
}
END_TEST

START_TEST(test_escape_field_separators_and_specials)
{
	ck_assert_str_eq(escape(LIT(", []= \\\"'%:;/"), 64),
	    "\\x2c\\x20\\x5b\\x5d\\x3d\\x20\\x5c\\x22\\x27\\x25\\x3a\\x3b"
	    "\\x2f");
	ck_assert_str_eq(escape(LIT("a\r\nb\0c\x7f\x80\xff"), 64),
	    "a\\x0d\\x0ab\\x00c\\x7f\\x80\\xff");
}
END_TEST

START_TEST(test_escape_hostile_name_cannot_forge_fields)
{
	const char *out = escape(LIT("x, ip=[6.6.6.6]"), 64);

	ck_assert_str_eq(out, "x\\x2c\\x20ip\\x3d\\x5b6.6.6.6\\x5d");
	ck_assert_ptr_null(strpbrk(out, ",[]= "));
}
END_TEST

START_TEST(test_escape_truncates_at_small_sizes)
{
	ck_assert_str_eq(escape(LIT("ab"), 1), "");
	ck_assert_str_eq(escape(LIT("ab"), 2), "a");
	ck_assert_str_eq(escape(LIT("ab"), 3), "ab");
	ck_assert_str_eq(escape(LIT(","), 2), "");
	ck_assert_str_eq(escape(LIT(","), 4), "");
	ck_assert_str_eq(escape(LIT(","), 5), "\\x2c");
	ck_assert_str_eq(escape(LIT("a,"), 5), "a");
	ck_assert_str_eq(escape(LIT("a,"), 6), "a\\x2c");
	escape(LIT("ab"), 0);
}
END_TEST

/* Length of the escaped element that starts at s. */
static size_t
element(const char *s)
{
	return *s == '\\' ? 4 : 1;
}

/*
 * Every size gives a prefix of the full text that ends between escapes
 * and stops only where the next one does not fit.
 */
START_TEST(test_escape_truncation_never_splits_an_escape)
{
	static const char name[] = "b\xc3\xb6" "b, ip=[1.2.3.4]\n";
	const char *got = "";
	char full[256];
	size_t outlen, len, b;

	snprintf(full, sizeof(full), "%s", escape(LIT(name), sizeof(full)));
	for (outlen = 1; outlen <= strlen(full) + 1; outlen++) {
		got = escape(LIT(name), outlen);
		len = strlen(got);
		ck_assert_uint_lt(len, outlen);
		ck_assert_msg(strncmp(got, full, len) == 0, "\"%s\" at %zu",
		    got, outlen);
		for (b = 0; b < len; b += element(full + b)) {
			continue;
		}
		ck_assert_msg(b == len, "split escape \"%s\" at %zu", got,
		    outlen);
		ck_assert_msg(full[len] == '\0' ||
		    len + element(full + len) >= outlen,
		    "\"%s\" stopped early at %zu", got, outlen);
	}
	ck_assert_str_eq(got, full);
}
END_TEST

START_TEST(test_escape_longest_user_name_fits)
{
	unsigned char name[USER_MAX];
	const char *out;

	memset(name, 0xff, sizeof(name));
	out = escape(name, sizeof(name), LOG_NAME_MAX);
	ck_assert_uint_eq(strlen(out), 4 * USER_MAX);
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("escape");

	ADD_TESTS(tc, test_escape_keeps_safe_characters,
	    test_escape_every_byte_value,
	    test_escape_field_separators_and_specials,
	    test_escape_hostile_name_cannot_forge_fields,
	    test_escape_truncates_at_small_sizes,
	    test_escape_truncation_never_splits_an_escape,
	    test_escape_longest_user_name_fits);
	suite_add_tcase(s, tc);
	return s;
}
