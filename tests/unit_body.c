/* SPDX-License-Identifier: ISC */
/*
 * io.c: multi-line reply bodies (RFC 1939 section 3): CRLF line ends and
 * byte-stuffing, whatever pieces the message arrives in.
 */
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "tests/unit.h"

struct bytes {
	unsigned char	*p;
	size_t		 len;
};

/* Sends (data, len) as a body cut at cuts[0..n), then ends it. */
static struct bytes
render(const char *data, size_t len, const size_t *cuts, size_t ncuts)
{
	struct io *io = fake_io(NULL, 0, NULL, NULL);
	const unsigned char *out;
	struct body b;
	struct bytes r;
	size_t i, from = 0, to;

	io_begin_body(&b);
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : len;
		io_put_body(io, &b, (const unsigned char *)data + from,
		    to - from);
		from = to;
	}
	io_end_body(io, &b);
	ck_assert_int_eq(io_flush(io), 0);
	out = fake_output(&r.len);
	r.p = malloc(r.len + 1);
	ck_assert_ptr_nonnull(r.p);
	memcpy(r.p, out, r.len);
	fake_io_free(io);
	return r;
}

/*
 * The same rules written out byte by byte: a "." opening a line gets
 * another, an LF not after a CR becomes CRLF, an open last line is
 * closed, and "." CRLF ends the body.
 */
static struct bytes
reference(const char *data, size_t len)
{
	struct bytes r;
	size_t i;
	int bol = 1, prev = 0;

	r.p = malloc(2 * len + 5);
	ck_assert_ptr_nonnull(r.p);
	r.len = 0;
	for (i = 0; i < len; i++) {
		if (bol && data[i] == '.') {
			r.p[r.len++] = '.';
		}
		if (data[i] == '\n' && prev != '\r') {
			r.p[r.len++] = '\r';
		}
		r.p[r.len++] = (unsigned char)data[i];
		bol = data[i] == '\n';
		prev = data[i];
	}
	if (!bol) {
		memcpy(r.p + r.len, "\r\n", 2);
		r.len += 2;
	}
	memcpy(r.p + r.len, ".\r\n", 3);
	r.len += 3;
	return r;
}

/* pieces: NULL-terminated. */
static void
check_body(const char *const *pieces, const char *want)
{
	char data[256];
	size_t cuts[16], n = 0, len = 0, l;
	struct bytes got;

	for (; *pieces != NULL; pieces++) {
		l = strlen(*pieces);
		ck_assert_uint_lt(len + l, sizeof(data));
		ck_assert_uint_lt(n, 16);
		memcpy(data + len, *pieces, l);
		len += l;
		cuts[n++] = len;
	}
	got = render(data, len, cuts, n > 0 ? n - 1 : 0);
	ck_assert_bytes_str(got.p, got.len, want);
	free(got.p);
}

#define BODY(want, ...) \
	check_body((const char *const []){ __VA_ARGS__, NULL }, (want))

START_TEST(test_body_bare_lf_becomes_crlf)
{
	BODY("a\r\nb\r\n.\r\n", "a\nb\n");
	BODY("\r\n\r\nx\r\n.\r\n", "\n\nx\n");
}
END_TEST

START_TEST(test_body_crlf_is_kept)
{
	BODY("a\r\nb\r\n.\r\n", "a\r\nb\r\n");
	BODY("\r\n\r\n.\r\n", "\r\n\r\n");
}
END_TEST

START_TEST(test_body_lone_cr_is_kept)
{
	BODY("a\rb\r\n.\r\n", "a\rb\n");
	BODY("\r\r\n.\r\n", "\r\r\n");
	BODY("a\r\r\n.\r\n", "a\r");
}
END_TEST

START_TEST(test_body_dot_stuffing_at_line_starts_only)
{
	BODY("..a\r\n...b\r\nc.d\r\n..\r\n.\r\n", ".a\n..b\nc.d\n.\n");
	BODY("x.\r\n..\r\n.\r\n", "x.\r\n.\r\n");
	BODY("..\r\n.\r\n", ".");
}
END_TEST

START_TEST(test_body_dot_stuffing_at_piece_boundary)
{
	BODY("a\r\n..b\r\n.\r\n", "a\n", ".b\n");
	BODY("a\r\n..b\r\n.\r\n", "a\r\n", ".b\r\n");
	BODY("a.b\r\n.\r\n", "a", ".b\n");
	BODY("a\r\n...\r\n.\r\n", "a\r\n", ".", ".\n");
	BODY("..\r\n..\r\n.\r\n", ".", "\n", ".", "\n");
}
END_TEST

START_TEST(test_body_crlf_split_across_pieces)
{
	BODY("a\r\nb\r\n.\r\n", "a\r", "\nb\n");
	BODY("\r\n.\r\n", "\r", "\n");
	BODY("a\r\n\r\n.\r\n", "a\r", "\n", "\r", "\n");
	BODY("a\r\n\r\n.\r\n", "a\r\n", "\n");
}
END_TEST

START_TEST(test_body_open_last_line_is_closed)
{
	BODY("a\r\nb\r\n.\r\n", "a\nb");
	BODY("a\r\nb\r\n.\r\n", "a\n", "b");
}
END_TEST

START_TEST(test_body_empty)
{
	BODY(".\r\n", "");
	BODY(".\r\n", "", "", "");
}
END_TEST

START_TEST(test_body_reference_model_agrees)
{
	static const char data[] = ".a\nb\r\n\n.";
	struct bytes want = reference(data, sizeof(data) - 1);

	ck_assert_bytes_str(want.p, want.len,
	    "..a\r\nb\r\n\r\n..\r\n.\r\n");
	free(want.p);
}
END_TEST

/* Cut into three pieces in every way, including empty ones. */
static void
check_every_split(const char *data, size_t len)
{
	struct bytes want = reference(data, len), got;
	size_t cuts[2];

	for (cuts[0] = 0; cuts[0] <= len; cuts[0]++) {
		for (cuts[1] = cuts[0]; cuts[1] <= len; cuts[1]++) {
			got = render(data, len, cuts, 2);
			ck_assert_msg(bytes_equal(got.p, got.len, want.p,
			    want.len), "cut at %zu, %zu: \"%s\"", cuts[0],
			    cuts[1], show(got.p, got.len, 0));
			free(got.p);
		}
	}
	free(want.p);
}

START_TEST(test_body_same_output_for_every_split)
{
	static const char *const samples[] = {
		".x\r\n\n.\r\r\n..\nfoo\rbar\n.\n\r\n.end",
		"\r\n\r\n.\r\n..",
		"\n\n\n.",
		"a\r",
		".\r",
		"From x\n>From y\r\n. \n",
	};
	size_t i;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		check_every_split(samples[i], strlen(samples[i]));
	}
}
END_TEST

Suite *
body_suite(void)
{
	Suite *s = suite_create("body");
	TCase *tc = tcase_create("put_body");

	ADD_TESTS(tc, test_body_bare_lf_becomes_crlf, test_body_crlf_is_kept,
	    test_body_lone_cr_is_kept,
	    test_body_dot_stuffing_at_line_starts_only,
	    test_body_dot_stuffing_at_piece_boundary,
	    test_body_crlf_split_across_pieces,
	    test_body_open_last_line_is_closed, test_body_empty,
	    test_body_reference_model_agrees,
	    test_body_same_output_for_every_split);
	suite_add_tcase(s, tc);
	return s;
}
