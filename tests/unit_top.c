/* SPDX-License-Identifier: ISC */
/*
 * mbox.c: TOP n k (RFC 1939 section 7), the header, the blank line and
 * k body lines, with the message handed over in pieces cut anywhere.
 */
#include <limits.h>
#include <string.h>

#include "io.h"
#include "mbox.h"
#include "tests/unit.h"

/*
 * Feeds msg to top_take() in pieces ending at cuts[0..n) and at len, as
 * session.c does: no more once top_done(). The bytes taken must be a
 * prefix of the message; returns its length.
 */
static size_t
take_in_pieces(const char *msg, size_t len, unsigned long k,
    const size_t *cuts, size_t ncuts)
{
	const unsigned char *p = (const unsigned char *)msg;
	struct top t;
	size_t i, from = 0, to, take, total = 0;

	top_begin(&t, k);
	for (i = 0; i <= ncuts && !top_done(&t); i++) {
		to = i < ncuts ? cuts[i] : len;
		if (to == from) {
			continue;
		}
		take = top_take(&t, p + from, to - from);
		ck_assert_uint_le(take, to - from);
		total += take;
		if (take < to - from) {
			ck_assert_msg(top_done(&t), "bytes left out mid-way");
			break;
		}
		from = to;
	}
	return total;
}

/* TOP k of msg gives its first `want` bytes, however it is cut. */
static void
check_top(const char *msg, unsigned long k, size_t want)
{
	size_t len = strlen(msg), cut, cuts[LINE_MAX_OCTETS], i;

	ck_assert_uint_lt(len, LINE_MAX_OCTETS);
	for (cut = 0; cut <= len; cut++) {
		ck_assert_msg(take_in_pieces(msg, len, k, &cut, 1) == want,
		    "TOP %lu of \"%s\" cut at %zu: %zu bytes, want %zu", k,
		    show(msg, len, 0), cut, take_in_pieces(msg, len, k, &cut,
		    1), want);
	}
	for (i = 0; i < len; i++) {
		cuts[i] = i + 1;
	}
	ck_assert_uint_eq(take_in_pieces(msg, len, k, cuts, len), want);
}

#define MSG	"Subject: a\nTo: b,\n c\n\nl1\nl2\n\nl4\n"
#define HDR	"Subject: a\nTo: b,\n c\n\n"
#define CRLF	"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n"

/* TOP k of msg must give the prefix of msg that is want. */
static const struct {
	const char	*msg;
	unsigned long	 k;
	const char	*want;
} tops[] = {
	/* the header and the blank line, then k lines */
	{ MSG, 0, HDR },
	{ MSG, 1, HDR "l1\n" },
	{ MSG, 2, HDR "l1\nl2\n" },
	{ MSG, 3, HDR "l1\nl2\n\n" },
	{ MSG, 4, MSG },
	/* more lines than the body has: the whole message */
	{ MSG, 5, MSG },
	{ MSG, 99999999, MSG },
	{ MSG, ULONG_MAX, MSG },
	{ CRLF, 0, "A: 1\r\nB: 2\r\n\r\n" },
	{ CRLF, 1, "A: 1\r\nB: 2\r\n\r\nl1\r\n" },
	{ "A: 1\r\n\r\n\r\nl2\r\n", 1, "A: 1\r\n\r\n\r\n" },
	/* a header without the blank line after it */
	{ "A: 1\nB: 2\n", 0, "A: 1\nB: 2\n" },
	{ "A: 1\nB: 2", 0, "A: 1\nB: 2" },
	{ "A: 1\nB: 2\n", 3, "A: 1\nB: 2\n" },
	/* a body without a final newline */
	{ "A: 1\n\nl1\nl2", 1, "A: 1\n\nl1\n" },
	{ "A: 1\n\nl1\nl2", 2, "A: 1\n\nl1\nl2" },
	/* no header at all */
	{ "\nbody\n", 0, "\n" },
	{ "\r\nbody\r\n", 0, "\r\n" },
	{ "\nbody\n", 1, "\nbody\n" },
	/* only an empty line ends the header: not CR CR LF, not a lone CR */
	{ "A: 1\n\r\r\nB: 2\n\nbody\n", 0, "A: 1\n\r\r\nB: 2\n\n" },
	{ "A: 1\n\rB: 2\r\n\r\nbody\n", 0, "A: 1\n\rB: 2\r\n\r\n" },
};

START_TEST(test_top_gives_header_and_k_lines_however_cut)
{
	const char *msg = tops[_i].msg, *want = tops[_i].want;

	ck_assert(strncmp(msg, want, strlen(want)) == 0);
	check_top(msg, tops[_i].k, strlen(want));
}
END_TEST

START_TEST(test_top_sends_header_as_body)
{
	static const char msg[] = "A: 1\n.B: 2\n\n.l1\nl2\n";
	struct io *io = fake_io(NULL, 0, NULL, NULL);
	struct body b;
	struct top t;
	size_t take;

	top_begin(&t, 1);
	io_begin_body(&b);
	take = top_take(&t, (const unsigned char *)msg, sizeof(msg) - 1);
	ck_assert(top_done(&t));
	io_put_body(io, &b, (const unsigned char *)msg, take);
	io_end_body(io, &b);
	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_output("A: 1\r\n..B: 2\r\n\r\n..l1\r\n.\r\n");
	fake_io_free(io);
}
END_TEST

Suite *
top_suite(void)
{
	Suite *s = suite_create("top");
	TCase *tc = tcase_create("top");

	tcase_add_loop_test(tc, test_top_gives_header_and_k_lines_however_cut,
	    0, (int)(sizeof(tops) / sizeof(tops[0])));
	tcase_add_test(tc, test_top_sends_header_as_body);
	suite_add_tcase(s, tc);
	return s;
}
