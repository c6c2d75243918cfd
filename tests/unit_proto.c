/* SPDX-License-Identifier: ISC */
/*
 * proto.c: command-line splitting, number parsing, reply formatting.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "tests/unit.h"

static enum cmd_status
parse_n(const char *line, size_t len, struct cmd *c)
{
	return cmd_parse((const unsigned char *)line, len, c);
}

static enum cmd_status
parse(const char *line, struct cmd *c)
{
	return parse_n(line, strlen(line), c);
}

#define ck_assert_arg(c, i, want) \
	ck_assert_bytes_str((c).arg[i], (c).arglen[i], (want))

START_TEST(test_cmd_verb_is_upper_cased)
{
	static const char *const lines[] = { "quit", "QUIT", "QuIt", "qUIT" };
	struct cmd c;
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		ck_assert_int_eq(parse(lines[i], &c), CMD_OK);
		ck_assert_str_eq(c.verb, "QUIT");
		ck_assert_uint_eq(c.nargs, 0);
	}
	ck_assert_int_eq(parse("top 1 2", &c), CMD_OK);
	ck_assert_str_eq(c.verb, "TOP");
}
END_TEST

START_TEST(test_cmd_verb_of_wrong_length_is_refused)
{
	static const char *const lines[] = {
		"", "Q", "US", "USERS", "STATS", "LISTX 1", "A B", "AUTHPLAIN"
	};
	struct cmd c;
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		ck_assert_msg(parse(lines[i], &c) == CMD_BAD_VERB,
		    "\"%s\" accepted", lines[i]);
	}
}
END_TEST

START_TEST(test_cmd_verb_of_non_letters_is_refused)
{
	static const char *const lines[] = {
		"0POP", "8TOP", "US-R", "123", " USER bob", "\tNOOP",
		"US\xc3\x89R", "@TOP", "[TOP", "`TOP", "{TOP"
	};
	struct cmd c;
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		ck_assert_msg(parse(lines[i], &c) == CMD_BAD_VERB,
		    "\"%s\" accepted", show(lines[i], strlen(lines[i]), 0));
	}
}
END_TEST

/* RFC 6856's UTF8: digits may follow the first letter. */
START_TEST(test_cmd_verb_may_hold_digits_after_a_letter)
{
	struct cmd c;

	ck_assert_int_eq(parse("utf8", &c), CMD_OK);
	ck_assert_str_eq(c.verb, "UTF8");
	ck_assert_int_eq(parse("Ap0p x", &c), CMD_OK);
	ck_assert_str_eq(c.verb, "AP0P");
}
END_TEST

START_TEST(test_cmd_without_arguments_has_no_rest)
{
	struct cmd c;

	ck_assert_int_eq(parse("STAT", &c), CMD_OK);
	ck_assert_uint_eq(c.nargs, 0);
	ck_assert_ptr_null(c.rest);
	ck_assert_uint_eq(c.restlen, 0);
}
END_TEST

START_TEST(test_cmd_arguments_are_split)
{
	struct cmd c;

	ck_assert_int_eq(parse("TOP 12 345", &c), CMD_OK);
	ck_assert_str_eq(c.verb, "TOP");
	ck_assert_uint_eq(c.nargs, 2);
	ck_assert_arg(c, 0, "12");
	ck_assert_arg(c, 1, "345");
}
END_TEST

START_TEST(test_cmd_blank_runs_and_trailing_blanks_are_forgiven)
{
	struct cmd c;

	ck_assert_int_eq(parse("LIST   7   ", &c), CMD_OK);
	ck_assert_uint_eq(c.nargs, 1);
	ck_assert_arg(c, 0, "7");
	ck_assert_int_eq(parse("TOP\t1 \t 2\t", &c), CMD_OK);
	ck_assert_uint_eq(c.nargs, 2);
	ck_assert_arg(c, 0, "1");
	ck_assert_arg(c, 1, "2");
	ck_assert_int_eq(parse("NOOP ", &c), CMD_OK);
	ck_assert_uint_eq(c.nargs, 0);
	ck_assert_uint_eq(c.restlen, 0);
}
END_TEST

START_TEST(test_cmd_too_many_arguments_counts_one_more)
{
	struct cmd c;

	ck_assert_int_eq(parse("TOP 1 2 3", &c), CMD_OK);
	ck_assert_uint_eq(c.nargs, CMD_ARGS_MAX + 1);
	ck_assert_arg(c, 0, "1");
	ck_assert_arg(c, 1, "2");
	ck_assert_int_eq(parse("LIST 1 2 3 4 5 6 7", &c), CMD_OK);
	ck_assert_uint_eq(c.nargs, CMD_ARGS_MAX + 1);
}
END_TEST

START_TEST(test_cmd_rest_is_everything_after_verb_and_space)
{
	struct cmd c;

	ck_assert_int_eq(parse("PASS  my secret\tpass  ", &c), CMD_OK);
	ck_assert_str_eq(c.verb, "PASS");
	ck_assert_bytes_str(c.rest, c.restlen, " my secret\tpass  ");
	ck_assert_int_eq(parse("pass x", &c), CMD_OK);
	ck_assert_bytes_str(c.rest, c.restlen, "x");
}
END_TEST

START_TEST(test_cmd_eight_bit_bytes_are_allowed_in_arguments)
{
	struct cmd c;

	ck_assert_int_eq(parse("PASS p\xe4ss w\xc3\xb6rd\xff", &c), CMD_OK);
	ck_assert_bytes_str(c.rest, c.restlen, "p\xe4ss w\xc3\xb6rd\xff");
}
END_TEST

START_TEST(test_cmd_nul_byte_is_refused)
{
	struct cmd c;

	ck_assert_int_eq(parse_n(LIT("USER a\0b"), &c), CMD_BAD_BYTE);
	ck_assert_int_eq(parse_n(LIT("PASS \0"), &c), CMD_BAD_BYTE);
	ck_assert_int_eq(parse_n(LIT("\0USER a"), &c), CMD_BAD_BYTE);
}
END_TEST

/* Every control byte but TAB, in the verb, in an argument and at the end. */
START_TEST(test_cmd_control_bytes_are_refused)
{
	char line[16];
	struct cmd c;
	int b;

	for (b = 0; b < 0x80; b++) {
		if (b >= 0x20 && b != 0x7f) {
			continue;
		}
		memcpy(line, "NOOP", 4);
		line[2] = (char)b;
		ck_assert_int_eq(parse_n(line, 4, &c),
		    b == '\t' ? CMD_BAD_VERB : CMD_BAD_BYTE);
		memcpy(line, "PASS a?b", 8);
		line[6] = (char)b;
		ck_assert_int_eq(parse_n(line, 8, &c),
		    b == '\t' ? CMD_OK : CMD_BAD_BYTE);
		line[8] = (char)b;
		ck_assert_int_eq(parse_n(line, 9, &c),
		    b == '\t' ? CMD_OK : CMD_BAD_BYTE);
	}
}
END_TEST

struct number_case {
	const char	*text;
	unsigned long	 max;
	int		 ok;
	unsigned long	 want;	/* when ok */
};

static const struct number_case numbers[] = {
	{ "0", 0, 1, 0 },
	{ "0", 4294967295UL, 1, 0 },
	{ "1", 1, 1, 1 },
	{ "3", 3, 1, 3 },
	{ "10", 10, 1, 10 },
	{ "007", 10, 1, 7 },
	{ "00000000000000000001", 5, 1, 1 },
	{ "4294967295", 4294967295UL, 1, 4294967295UL },
	{ "99999999", ULONG_MAX, 1, 99999999 },
	{ "18446744073709551615", ULONG_MAX, 1, ULONG_MAX },
	{ "", 10, 0, 0 },
	{ "11", 10, 0, 0 },
	{ "4294967296", 4294967295UL, 0, 0 },
	{ "4294967297", 4294967295UL, 0, 0 },
	{ "4294967297", 3, 0, 0 },
	{ "4294967297", 100, 0, 0 },
	{ "18446744073709551616", ULONG_MAX, 0, 0 },
	{ "99999999999999999999", ULONG_MAX, 0, 0 },
	{ "000000000000000000001", ULONG_MAX, 0, 0 },
	{ "123456789012345678901234567890", ULONG_MAX, 0, 0 },
	{ "+1", 10, 0, 0 },
	{ "-1", 10, 0, 0 },
	{ "-0", 10, 0, 0 },
	{ " 1", 10, 0, 0 },
	{ "1 ", 10, 0, 0 },
	{ "1a", 10, 0, 0 },
	{ "0x1", 10, 0, 0 },
	{ "1.0", 10, 0, 0 },
	/* digits above a small max (the check once wrapped: 506ed70) */
	{ "4", 3, 0, 0 },
	{ "9", 0, 0, 0 },
	{ "1", 0, 0, 0 },
	{ "17", 5, 0, 0 },
	{ "99999", 8, 0, 0 },
};

/* Accepted with the value wanted, or refused with *out left alone. */
static void
check_number(const struct number_case *t)
{
	unsigned long v = 12345;
	int r = parse_number((const unsigned char *)t->text, strlen(t->text),
	    t->max, &v);

	ck_assert_msg(r == (t->ok ? 0 : -1), "\"%s\" (max %lu) %s as %lu",
	    t->text, t->max, r == 0 ? "accepted" : "refused", v);
	ck_assert_uint_eq(v, t->ok ? t->want : 12345);
}

START_TEST(test_number_in_range_only)
{
	check_number(&numbers[_i]);
}
END_TEST

START_TEST(test_number_stops_at_len)
{
	unsigned long v = 0;

	ck_assert_int_eq(parse_number((const unsigned char *)"12x", 2, 99, &v),
	    0);
	ck_assert_uint_eq(v, 12);
}
END_TEST

START_TEST(test_reply_ok_formats_status_line)
{
	struct io *io = fake_io(NULL, 0, NULL, NULL);

	reply_ok(io, "%zu messages (%llu octets)", (size_t)2, 300ULL);
	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_output("+OK 2 messages (300 octets)\r\n");
	fake_io_free(io);
}
END_TEST

START_TEST(test_reply_err_formats_with_and_without_code)
{
	struct io *io = fake_io(NULL, 0, NULL, NULL);

	reply_err(io, NULL, "no such message");
	reply_err(io, "IN-USE", "maildrop %s", "locked");
	reply_err(io, "SYS/TEMP", "%d", 42);
	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_output("-ERR no such message\r\n"
	    "-ERR [IN-USE] maildrop locked\r\n-ERR [SYS/TEMP] 42\r\n");
	fake_io_free(io);
}
END_TEST

START_TEST(test_reply_reaches_a_pipe)
{
	struct io *io = malloc(sizeof(*io));
	char buf[64];
	ssize_t n;
	int fds[2];

	ck_assert_ptr_nonnull(io);
	ck_assert_int_eq(pipe(fds), 0);
	io_init(io, -1, fds[1], 1000);
	reply_ok(io, "POP3 server ready");
	reply_err(io, "AUTH", "authentication failed");
	ck_assert_int_eq(io_flush(io), 0);
	n = read(fds[0], buf, sizeof(buf));
	ck_assert_bytes_str(buf, n < 0 ? 0 : (size_t)n,
	    "+OK POP3 server ready\r\n-ERR [AUTH] authentication failed\r\n");
	ck_assert_uint_eq(io->sent, (size_t)n);
	close(fds[0]);
	close(fds[1]);
	free(io);
}
END_TEST

/*
 * Regression: a long text was cut by io_printf() after the status and
 * text were joined, so the CRLF was what got lost and the next reply ran
 * into this one. RFC 2449: reply lines are at most 512 octets with their
 * CRLF.
 */
START_TEST(test_reply_with_long_text_keeps_crlf)
{
	struct io *io = fake_io(NULL, 0, NULL, NULL);
	const unsigned char *p;
	unsigned char out[1024];
	char text[601];
	size_t len;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	reply_err(io, "SYS/TEMP", "%s", text);
	io_flush(io);
	p = fake_output(&len);
	memcpy(out, p, len < sizeof(out) ? len : sizeof(out));
	fake_io_free(io);
	ck_assert_uint_le(len, 512);
	ck_assert_uint_ge(len, 10);
	ck_assert_msg(out[len - 2] == '\r' && out[len - 1] == '\n',
	    "reply of %zu octets does not end with CRLF: \"...%s\"", len,
	    show(out + len - 10, 10, 0));
}
END_TEST

Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("cmd_parse");
	TCase *num = tcase_create("parse_number");
	TCase *rep = tcase_create("reply");

	ADD_TESTS(tc, test_cmd_verb_is_upper_cased,
	    test_cmd_verb_of_wrong_length_is_refused,
	    test_cmd_verb_of_non_letters_is_refused,
	    test_cmd_verb_may_hold_digits_after_a_letter,
	    test_cmd_without_arguments_has_no_rest,
	    test_cmd_arguments_are_split,
	    test_cmd_blank_runs_and_trailing_blanks_are_forgiven,
	    test_cmd_too_many_arguments_counts_one_more,
	    test_cmd_rest_is_everything_after_verb_and_space,
	    test_cmd_eight_bit_bytes_are_allowed_in_arguments,
	    test_cmd_nul_byte_is_refused, test_cmd_control_bytes_are_refused);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(num, test_number_in_range_only, 0,
	    (int)(sizeof(numbers) / sizeof(numbers[0])));
	tcase_add_test(num, test_number_stops_at_len);
	suite_add_tcase(s, num);
	ADD_TESTS(rep, test_reply_ok_formats_status_line,
	    test_reply_err_formats_with_and_without_code,
	    test_reply_reaches_a_pipe, test_reply_with_long_text_keeps_crlf);
	suite_add_tcase(s, rep);
	return s;
}
