/* SPDX-License-Identifier: ISC */
/*
 * mbox.c: the index of a mailbox built in memory and fed to mbox_scan()
 * the way mailbox.c feeds it, with buffers of every size: message count,
 * offsets, exact POP3 sizes, content hashes and UIDLs; the X-UIDL values
 * it collects for --x-uidl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "io.h"
#include "mbox.h"
#include "params.h"
#include "popa3d.h"
#include "tests/unit.h"

#define MB_MAX		32768
#define MB_MSGS		16

/* A mailbox under construction, with the index it must get. */
struct mbuild {
	unsigned char	 buf[MB_MAX];
	size_t		 len;
	struct {
		off_t	 from;
		off_t	 start;
		off_t	 len;
	} want[MB_MSGS];
	size_t		 n;
	size_t		 from_max;	/* the longest From_ line */
	const char	*name;		/* for failure messages */
};

static struct mbuild *
mb_new(void)
{
	struct mbuild *m = calloc(1, sizeof(*m));

	ck_assert_ptr_nonnull(m);
	m->name = "";
	return m;
}

static void
mb_raw(struct mbuild *m, const void *p, size_t len)
{
	ck_assert_uint_le(m->len + len, MB_MAX);
	if (len > 0) {
		memcpy(m->buf + m->len, p, len);
	}
	m->len += len;
}

/*
 * A message: its From_ line with line end (NULL: none), the bytes RETR
 * serves, then the separator that follows it ("\n", "\r\n" or "").
 */
static void
mb_msg(struct mbuild *m, const char *from, const void *body, size_t len,
    const char *sep)
{
	ck_assert_uint_lt(m->n, MB_MSGS);
	m->want[m->n].from = (off_t)m->len;
	if (from != NULL) {
		mb_raw(m, from, strlen(from));
		if (strlen(from) > m->from_max) {
			m->from_max = strlen(from);
		}
	}
	m->want[m->n].start = (off_t)m->len;
	m->want[m->n].len = (off_t)len;
	m->n++;
	mb_raw(m, body, len);
	mb_raw(m, sep, strlen(sep));
}

#define MB_MSG(m, from, body, sep)	mb_msg((m), (from), LIT(body), (sep))

#define FROM_A	"From alice@example.org Mon Jan  1 00:00:00 2024\n"
#define FROM_B	"From bob@example.org Tue Jan  2 00:00:00 2024\n"
#define FROM_C	"From carol@example.org Wed Jan  3 00:00:00 2024\n"

/* Feeds (data, len) to s exactly as mailbox.c's scan_file() does. */
static void
feed_in_pieces(struct scan *s, const unsigned char *data, size_t len,
    size_t bufsize)
{
	unsigned char *buf = malloc(bufsize);
	size_t have = 0, got, n;
	ssize_t used;
	off_t off = 0;
	int eof = 0;

	ck_assert_ptr_nonnull(buf);
	while (!eof) {
		n = len - ((size_t)off + have);
		n = n < bufsize - have ? n : bufsize - have;
		memcpy(buf + have, data + (size_t)off + have, n);
		got = have + n;
		eof = got < bufsize;
		used = mbox_scan(s, buf, got, off, eof);
		ck_assert_int_ge(used, 0);
		ck_assert_uint_le((size_t)used, got);
		ck_assert_msg(used > 0 || eof, "no progress, buffer %zu",
		    bufsize);
		ck_assert(!eof || (size_t)used == got);
		memmove(buf, buf + used, got - (size_t)used);
		have = got - (size_t)used;
		off += used;
	}
	ck_assert_uint_eq((size_t)off, len);
	free(buf);
}

static struct msg *
scan_in_pieces(const unsigned char *data, size_t len, size_t bufsize,
    size_t *count)
{
	struct scan *s = mbox_scan_new();
	struct msg *msgs;

	ck_assert_ptr_nonnull(s);
	feed_in_pieces(s, data, len, bufsize);
	msgs = mbox_scan_finish(s, (off_t)len, count);
	mbox_scan_free(s);
	return msgs;
}

static struct msg *
scan_whole(const struct mbuild *m, size_t *count)
{
	return scan_in_pieces(m->buf, m->len, m->len + 1, count);
}

/*
 * The POP3 size computed apart from mbox.c: stored bytes, one more for
 * each LF without a CR before it, two for an unterminated last line.
 */
static unsigned long long
expected_size(const unsigned char *p, size_t len)
{
	unsigned long long n = len;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) {
			n++;
		}
	}
	if (len > 0 && p[len - 1] != '\n') {
		n += 2;
	}
	return n;
}

/* What io_put_body() sends for (p, len), without "." CRLF and stuffing. */
static unsigned long long
served_size(const unsigned char *p, size_t len)
{
	struct io *io = fake_io(NULL, 0, NULL, NULL);
	struct body b;
	size_t i, outlen, dots = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '.' && (i == 0 || p[i - 1] == '\n')) {
			dots++;
		}
	}
	io_begin_body(&b);
	io_put_body(io, &b, p, len);
	io_end_body(io, &b);
	ck_assert_int_eq(io_flush(io), 0);
	fake_output(&outlen);
	fake_io_free(io);
	return outlen - 3 - dots;
}

static void
check_index(const struct mbuild *m, const struct msg *msgs, size_t count,
    size_t bufsize)
{
	const unsigned char *body;
	size_t i;

	ck_assert_msg(count == m->n, "%s: %zu messages, want %zu (buffer %zu)",
	    m->name, count, m->n, bufsize);
	for (i = 0; i < count; i++) {
		body = m->buf + m->want[i].start;
		ck_assert_msg(msgs[i].from == m->want[i].from &&
		    msgs[i].start == m->want[i].start &&
		    msgs[i].len == m->want[i].len,
		    "%s: message %zu at %lld+%lld..%lld, want %lld+%lld..%lld "
		    "(buffer %zu)", m->name, i + 1, (long long)msgs[i].from,
		    (long long)msgs[i].start, (long long)msgs[i].len,
		    (long long)m->want[i].from, (long long)m->want[i].start,
		    (long long)m->want[i].len, bufsize);
		ck_assert_msg(msgs[i].size == expected_size(body,
		    (size_t)m->want[i].len), "%s: message %zu size %llu, want "
		    "%llu (buffer %zu)", m->name, i + 1, msgs[i].size,
		    expected_size(body, (size_t)m->want[i].len), bufsize);
		ck_assert_uint_eq(msgs[i].size,
		    served_size(body, (size_t)m->want[i].len));
		ck_assert_uint_eq(msgs[i].deleted, 0);
	}
}

static int
same_hashes(const struct msg *a, const struct msg *b, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (memcmp(a[i].hash, b[i].hash, sizeof(a[i].hash)) != 0 ||
		    a[i].dup != b[i].dup) {
			return 0;
		}
	}
	return 1;
}

/*
 * The index is the same for every buffer of at least 5 bytes (a From_
 * line must be recognisable at a line start); the hashes are the same
 * once a buffer holds a whole From_ line and a volatile header's name.
 */
static void
check_mailbox(const struct mbuild *m)
{
	static const size_t big[] = { 255, 256, 1000, 1024, 4096, 65536 };
	size_t hash_min = m->from_max > 16 ? m->from_max : 16;
	size_t count, wcount, size, i, nbig = sizeof(big) / sizeof(big[0]);
	struct msg *whole = scan_whole(m, &wcount), *msgs;

	check_index(m, whole, wcount, m->len + 1);
	ck_assert(wcount > 0 || whole == NULL);
	for (i = 0; i < 130 + nbig + 3; i++) {
		size = i < 130 ? i + 5 : i < 130 + nbig ? big[i - 130] :
		    m->len + (i - 130 - nbig);
		if (size < 5) {
			continue;
		}
		msgs = scan_in_pieces(m->buf, m->len, size, &count);
		check_index(m, msgs, count, size);
		ck_assert_msg(size < hash_min || same_hashes(msgs, whole,
		    count), "%s: hashes differ with buffer %zu", m->name, size);
		free(msgs);
	}
	free(whole);
}

/*
 * A piece of a mailbox: a message (its From_ line or NULL, the bytes RETR
 * serves, then the blank line or nothing that ends it), or with sep NULL
 * bytes outside every message. A list ends with body NULL.
 */
struct part {
	const char	*from;
	const char	*body;
	size_t		 len;
	const char	*sep;
};

#define MSG(from, body, sep)	{ (from), LIT(body), (sep) }
#define RAW(bytes)		{ NULL, LIT(bytes), NULL }

struct mbox_case {
	const char	*name;
	struct part	 parts[5];
};

static const struct mbox_case mbox_cases[] = {
	{ "mboxo", {
		MSG(FROM_A, "Subject: one\nTo: x@y\n\nbody one\n", "\n"),
		MSG(FROM_B, "Subject: two\n\nbody\n>From the start\n\n.\n..\n",
		    "\n"),
		MSG(FROM_C, "Subject: three\n\nbody three\n", "\n") } },
	{ "no blank line at the end", {
		MSG(FROM_A, "Subject: one\n\nbody one\n", "\n"),
		MSG(FROM_B, "Subject: two\n\nbody two\n", "") } },
	{ "last message without final newline", {
		MSG(FROM_A, "Subject: one\n\nbody\n", "\n"),
		MSG(FROM_B, "Subject: two\n\nno newline here", "") } },
	{ "text before the first From_ line", {
		MSG(NULL, "Subject: no From_ line\n\nhello\n", "\n"),
		MSG(FROM_A, "Subject: one\n\nbody\n", "\n") } },
	{ "no From_ line at all", {
		MSG(NULL, "Subject: x\n\nhello\nFrom here on\nit is one\n",
		    "") } },
	{ "leading blank lines", {
		RAW("\n\n\r\n"),
		MSG(FROM_A, "Subject: one\n\nbody\n", "\n"),
		MSG(FROM_B, "Subject: two\n\nbody\n", "\n") } },
	{ "leading blank lines, then text", {
		RAW("\n\n"),
		MSG(NULL, "hello\n", "\n"),
		MSG(FROM_A, "Subject: one\n\nbody\n", "\n") } },
	{ "CRLF", {
		MSG("From a@b Mon Jan  1 00:00:00 2024\r\n",
		    "Subject: one\r\n\r\nbody\r\n.\r\n", "\r\n"),
		MSG("From c@d Mon Jan  1 00:00:00 2024\r\n",
		    "Subject: two\r\n\r\nbody\r\n\r\n", "\r\n"),
		MSG("From e@f Mon Jan  1 00:00:00 2024\r\n",
		    "Subject: three\r\n\r\nlast", "") } },
	{ "mixed line ends", {
		MSG(FROM_A, "A: 1\r\nB: 2\n\r\nx\ry\n\r\r\n", "\r\n"),
		MSG(FROM_B, "A: 1\n\nz\r", "") } },
	{ "NUL bytes", {
		MSG(FROM_A, "Subject: nul\n\na\0b\n\0\n\0", "") } },
	{ "NUL bytes around From_", {
		MSG(FROM_A, "X: \0\n\n\0From x\n", "\n"),
		MSG(FROM_B, "\0\n", "\n") } },
	{ "From_ after a line that is not empty", {
		MSG(FROM_A, "Subject: one\n\ntext\nFrom me to you\nmore\n",
		    "\n"),
		MSG(FROM_B, "Subject: two\nFrom x\n\nbody\n", "\n") } },
	{ "quoted and near From_ lines", {
		MSG(FROM_A, "Subject: one\n\na\n\n>From x\n\n>>From y\n\nFrom\n"
		    "\nFromage\n\nfrom z\n\n From w\n", "\n"),
		MSG(FROM_B, "Subject: two\n\nbody\n", "\n") } },
	{ "blank lines inside and before the separator", {
		MSG(FROM_A, "X: 1\n\nbody\n\n\n", "\n"),
		MSG(FROM_B, "X: 2\n\n", "\n"),
		MSG(FROM_C, "\n\n", "\n") } },
	{ "only a From_ line", {
		MSG(FROM_A, "", "") } },
	{ "only an unterminated From_ line", {
		MSG("From x", "", "") } },
	{ "two empty messages", {
		MSG(FROM_A, "", "\n"),
		MSG(FROM_B, "", "") } },
	{ "empty file", { { NULL, NULL, 0, NULL } } },
	{ "one LF", { RAW("\n") } },
	{ "two LFs", { RAW("\n\n") } },
	{ "two CRLFs", { RAW("\r\n\r\n") } },
	{ "mixed blank lines", { RAW("\n\r\n\n") } },
};

static struct mbuild *
mb_build(const struct mbox_case *c)
{
	struct mbuild *m = mb_new();
	const struct part *p;

	m->name = c->name;
	for (p = c->parts; p < c->parts + 5 && p->body != NULL; p++) {
		if (p->sep == NULL) {
			mb_raw(m, p->body, p->len);
		} else {
			mb_msg(m, p->from, p->body, p->len, p->sep);
		}
	}
	return m;
}

START_TEST(test_mbox_index_for_every_buffer_size)
{
	struct mbuild *m = mb_build(&mbox_cases[_i]);

	check_mailbox(m);
	free(m);
}
END_TEST

START_TEST(test_mbox_lines_longer_than_the_buffer)
{
	struct mbuild *m = mb_new();
	size_t n = 10000;
	char *body = malloc(n + 64), *from = malloc(400);

	ck_assert_ptr_nonnull(body);
	ck_assert_ptr_nonnull(from);
	memcpy(body, "Subject: long\n\n", 15);
	memset(body + 15, 'x', n);
	memcpy(body + 15 + n, "\r\nend\n", 6);
	memset(from, 'f', 399);
	memcpy(from, "From ", 5);
	memcpy(from + 397, "\n", 2);
	mb_msg(m, FROM_A, body, 15 + n + 6, "\n");
	mb_msg(m, from, body, 15 + n + 2, "\n");
	MB_MSG(m, FROM_C, "Subject: short\n\nok\n", "");
	check_mailbox(m);
	free(body);
	free(from);
	free(m);
}
END_TEST

/* The UIDL hash of a message without volatile headers, apart from mbox.c. */
static void
model_hash(const char *from, const unsigned char *p, size_t len,
    unsigned char out[16])
{
	XXH3_state_t *x = XXH3_createState();

	ck_assert_ptr_nonnull(x);
	XXH3_128bits_reset(x);
	XXH3_128bits_update(x, from, strlen(from) - 1);
	XXH3_128bits_update(x, p, len);
	XXH128_canonicalFromHash((XXH128_canonical_t *)(void *)out,
	    XXH3_128bits_digest(x));
	XXH3_freeState(x);
}

/*
 * Bodies are scanned 64 bytes at a time: the next From_ line, lines that
 * start with 'F' but are none, and CRLFs at every offset in and across
 * those blocks, with both kinds of empty line before the From_ line.
 */
START_TEST(test_mbox_separator_at_every_offset)
{
	static const char filler[] = "Fr\r\nb\n>From x\nFrom y\nF\r\n\r";
	struct mbuild *m = mb_new();
	unsigned char body[256], hash[16];
	size_t k = (size_t)_i, n = 0;
	struct msg *msgs;
	size_t count;

	memcpy(body, "Subject: a\n\n", 12);
	for (n = 0; n < k; n++) {
		body[12 + n] = (unsigned char)filler[n % (sizeof(filler) - 1)];
	}
	memcpy(body + 12 + k, "z\n", 2);
	m->name = "separator";
	mb_msg(m, FROM_A, body, 12 + k + 2, k % 2 == 0 ? "\n" : "\r\n");
	MB_MSG(m, FROM_B, "Subject: b\n\nb\n", "");
	check_mailbox(m);
	msgs = scan_whole(m, &count);
	model_hash(FROM_A, body, 12 + k + 2, hash);
	ck_assert(memcmp(msgs[0].hash, hash, sizeof(hash)) == 0);
	free(msgs);
	free(m);
}
END_TEST

/*
 * Header lines are found 64 bytes at a time too: lines of every length
 * across those blocks, both line ends, folded lines and a volatile
 * header (left out of the hash) among them; the first line is _i bytes
 * longer in each run, which moves the rest across the blocks.
 */
START_TEST(test_mbox_long_header_at_every_offset)
{
	struct mbuild *m = mb_new();
	char msg[4096], hashed[4096], line[128], fill[96];
	size_t k = (size_t)_i, n = 0, h = 0, len, i;
	unsigned char hash[16];
	struct msg *msgs;
	size_t count;

	memset(fill, 'v', sizeof(fill));
	for (i = 0; i < 32; i++) {
		len = (size_t)snprintf(line, sizeof(line), "H%02zu: %.*s%s", i,
		    (int)(i == 0 ? k : i * 13 % 90), fill,
		    i % 3 == 0 ? "\r\n" : "\n");
		if (i == 5) {
			len += (size_t)snprintf(line + len, sizeof(line) - len,
			    " folded\n");
		}
		if (i == 10 || i == 20) {
			len = (size_t)snprintf(line, sizeof(line),
			    "Status: RO\n\tfolded %zu\n", i);
		} else {
			memcpy(hashed + h, line, len);
			h += len;
		}
		memcpy(msg + n, line, len);
		n += len;
	}
	memcpy(msg + n, "\nbody\n", 6);
	memcpy(hashed + h, "\nbody\n", 6);
	m->name = "long header";
	mb_msg(m, FROM_A, msg, n + 6, "\n");
	MB_MSG(m, FROM_B, "Subject: b\n\nb\n", "");
	check_mailbox(m);
	msgs = scan_whole(m, &count);
	model_hash(FROM_A, (const unsigned char *)hashed, h + 6, hash);
	ck_assert(memcmp(msgs[0].hash, hash, sizeof(hash)) == 0);
	free(msgs);
	free(m);
}
END_TEST

/* Checks the UIDL rules of RFC 1939 and returns its length. */
static size_t
check_uidl(const struct msg *msg, char uidl[UIDL_MAX + 1])
{
	size_t i, len;

	memset(uidl, 'Z', UIDL_MAX + 1);
	mbox_uidl(msg, NULL, uidl);
	len = strnlen(uidl, UIDL_MAX + 1);
	ck_assert_uint_le(len, UIDL_MAX);
	ck_assert_uint_le(len, 70);
	ck_assert_uint_ge(len, 1);
	for (i = 0; i < len; i++) {
		ck_assert_msg(uidl[i] >= 0x21 && uidl[i] <= 0x7e,
		    "UIDL byte %zu is 0x%02x", i, (unsigned char)uidl[i]);
	}
	return len;
}

START_TEST(test_mbox_identical_messages_get_distinct_uidls)
{
	struct mbuild *m = mb_new();
	char uidl[4][UIDL_MAX + 1];
	struct msg *msgs;
	size_t count, i, j;

	MB_MSG(m, FROM_A, "Subject: same\n\nbody\n", "\n");
	MB_MSG(m, FROM_B, "Subject: other\n\nbody\n", "\n");
	MB_MSG(m, FROM_A, "Subject: same\n\nbody\n", "\n");
	MB_MSG(m, FROM_A, "Subject: same\n\nbody\n", "\n");
	check_mailbox(m);
	msgs = scan_whole(m, &count);
	ck_assert_uint_eq(count, 4);
	ck_assert_mem_eq(msgs[0].hash, msgs[2].hash, sizeof(msgs[0].hash));
	ck_assert_mem_eq(msgs[0].hash, msgs[3].hash, sizeof(msgs[0].hash));
	ck_assert_mem_ne(msgs[0].hash, msgs[1].hash, sizeof(msgs[0].hash));
	ck_assert_uint_eq(msgs[0].dup, 0);
	ck_assert_uint_eq(msgs[1].dup, 0);
	ck_assert_uint_eq(msgs[2].dup, 1);
	ck_assert_uint_eq(msgs[3].dup, 2);
	for (i = 0; i < 4; i++) {
		check_uidl(&msgs[i], uidl[i]);
		for (j = 0; j < i; j++) {
			ck_assert_str_ne(uidl[i], uidl[j]);
		}
	}
	ck_assert_uint_eq(strlen(uidl[0]), 32);
	ck_assert_mem_eq(uidl[2], uidl[0], 32);
	ck_assert_str_eq(uidl[2] + 32, "-2");
	ck_assert_str_eq(uidl[3] + 32, "-3");
	free(msgs);
	free(m);
}
END_TEST

START_TEST(test_mbox_uidl_of_many_duplicates_stays_short)
{
	struct msg msg;
	char uidl[UIDL_MAX + 1];

	memset(&msg, 0xff, sizeof(msg));
	msg.dup = 0xffffffU;	/* the largest dup holds */
	ck_assert_uint_eq(check_uidl(&msg, uidl), 40);
	msg.dup = 0;
	ck_assert_uint_eq(check_uidl(&msg, uidl), 32);
}
END_TEST

static void
hash_of(const char *mbox, unsigned char hash[16])
{
	struct mbuild *m = mb_new();
	struct msg *msgs;
	size_t count;

	mb_raw(m, mbox, strlen(mbox));
	msgs = scan_whole(m, &count);
	ck_assert_uint_eq(count, 1);
	memcpy(hash, msgs[0].hash, 16);
	free(msgs);
	free(m);
}

/* The hash of mbox compared with that of the base message. */
static void
check_hash(const char *base, const char *mbox, int same)
{
	unsigned char a[16], b[16];

	hash_of(base, a);
	hash_of(mbox, b);
	ck_assert_msg((memcmp(a, b, 16) == 0) == same, "hash %s for \"%s\"",
	    same ? "changed" : "unchanged", show(mbox, strlen(mbox), 0));
}

#define HEAD	FROM_A "Subject: hi\nTo: c@d,\n\te@f\n"

static const char base_message[] = HEAD
    "Status: RO\nX-Status: A\nX-Keywords: $Label1\n\tfolded\nX-UID: 5\n"
    "Content-Length: 6\nLines: 1\nX-IMAP: 1 2\nX-IMAPbase: 1 2\n"
    "\nbody.\n";

START_TEST(test_mbox_hash_ignores_volatile_headers)
{
	static const char *const same[] = {
		HEAD "\nbody.\n",
		HEAD "Status: O\nX-Status: \nX-Keywords: other\n\tfold\n"
		    " more\nX-UID: 123456\nContent-Length: 60\nLines: 10\n"
		    "X-IMAP: 9 9\nX-IMAPbase: 3 3\n\nbody.\n",
		HEAD "status: O\nX-STATUS: F\nx-keywords: a\nx-uid: 1\n"
		    "content-length: 0\nLINES: 0\nx-imap: 0\nx-imapbase: 0\n"
		    "\nbody.\n",
		HEAD "Lines: 1\nStatus: RO\n\nbody.\n",
		HEAD "\nbody.\n\n",
		FROM_A "Status: RO\nSubject: hi\nX-UID: 7\nTo: c@d,\n\te@f\n"
		    "\nbody.\n",
	};
	size_t i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		check_hash(base_message, same[i], 1);
	}
}
END_TEST

START_TEST(test_mbox_hash_covers_everything_else)
{
	static const char *const differ[] = {
		FROM_A "Subject: ho\nTo: c@d,\n\te@f\n\nbody.\n",
		FROM_A "Subject: hi\nTo: c@d,\n\te@g\n\nbody.\n",
		FROM_A "Subject: hi\nTo: c@d,\n\te@f\nStatusx: 1\n\nbody.\n",
		FROM_A "Subject: hi\nTo: c@d,\n\te@f\nX-UIDL: 1\n\nbody.\n",
		FROM_A "Subject: hi\nTo: c@d,\n\te@f\nStatus: RO\n more\n"
		    "Cc: g@h\n\nbody.\n",
		HEAD "\nbody!\n",
		HEAD "\nbody.\nStatus: RO\n",
		HEAD "\r\nbody.\n",
		HEAD "\nbody.\n.",
		FROM_B "Subject: hi\nTo: c@d,\n\te@f\n\nbody.\n",
	};
	size_t i;

	for (i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
		check_hash(HEAD "\nbody.\n", differ[i], 0);
	}
}
END_TEST

/* Deleting other messages must not change a message's UIDL. */
START_TEST(test_mbox_hash_does_not_depend_on_position)
{
	struct mbuild *a = mb_new(), *b = mb_new();
	struct msg *ma, *mb;
	size_t na, nb;

	MB_MSG(a, FROM_A, "Subject: one\n\nbody one\n", "\n");
	MB_MSG(a, FROM_B, "Subject: two\n\nbody two\n", "\n");
	MB_MSG(b, FROM_B, "Subject: two\n\nbody two\n", "\n");
	ma = scan_whole(a, &na);
	mb = scan_whole(b, &nb);
	ck_assert_uint_eq(na, 2);
	ck_assert_uint_eq(nb, 1);
	ck_assert_mem_eq(ma[1].hash, mb[0].hash, sizeof(mb[0].hash));
	free(ma);
	free(mb);
	free(a);
	free(b);
}
END_TEST

/* A From_ line far longer than any buffer still hashes the same. */
START_TEST(test_mbox_hash_of_huge_from_line_ignores_buffer_size)
{
	static const size_t sizes[] = { 1024, 4096, 65536 };
	struct mbuild *m = mb_new();
	char from[3002];
	struct msg *whole, *msgs;
	size_t count, i;

	memset(from, 'x', sizeof(from));
	memcpy(from, "From ", 5);
	memcpy(from + 3000, "\n", 2);
	mb_msg(m, from, LIT("Subject: x\n\nbody\n"), "\n");
	MB_MSG(m, from, "Subject: y\n\nbody\n", "");
	whole = scan_whole(m, &count);
	check_index(m, whole, count, m->len + 1);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		msgs = scan_in_pieces(m->buf, m->len, sizes[i], &count);
		check_index(m, msgs, count, sizes[i]);
		ck_assert_msg(same_hashes(msgs, whole, count),
		    "hashes differ with buffer %zu", sizes[i]);
		free(msgs);
	}
	free(whole);
	free(m);
}
END_TEST

/*
 * Mailboxes whose last message lacks its final newline, and what MDAs
 * write after it: the newline, a blank line, the next message (or only
 * part of that so far).
 */
struct stored {
	const char	*p;
	size_t		 len;
};

static const struct stored unended[] = {
	{ LIT(FROM_A "Subject: a\n\nbody\n\n" FROM_B "Subject: b\n\nend") },
	{ LIT(FROM_A "Subject: a\r\n\r\nbody\r\n\r\n" FROM_B
	    "Subject: b\r\n\r\nend") },
	{ LIT(FROM_A "Subject: a\n\nbody\n\n\nafter blank lines") },
	{ LIT(FROM_A "Subject: a\nTo: b@c") },
	{ LIT(FROM_A "Subject: a\nStatus: RO") },
	{ LIT(FROM_A "Subject: a\nX-Keywords: x\n y") },
	{ LIT(FROM_A "Subject: a\n\n>From quoted\nFrom not a separator") },
	{ LIT(FROM_A "\nFrom x") },
	{ LIT(FROM_A "Subject: a\n\nnul\0") },
	{ LIT("no From_ line at all") },
	{ LIT("From x") },
};

static const char *const appended[] = {
	"\n\n" FROM_C "Subject: new\n\nnew\n\n",
	"\n\n",
	"\n",
};

static struct msg *
scan_string(const char *p, size_t len, size_t bufsize, size_t *count)
{
	return scan_in_pieces((const unsigned char *)p, len,
	    bufsize == 0 ? len + 1 : bufsize, count);
}

/*
 * Issue 12, defect 10: the UIDL of a message stored without a final
 * newline changed once mail was appended, and clients fetched it again.
 * Its UIDL, size and place stay; so do those of the messages before it.
 */
START_TEST(test_mbox_uidl_stable_after_append_to_unterminated)
{
	static const size_t sizes[] = { 0, 7, 64, 100, 4096 };
	const char *mbox = unended[_i].p;
	char grown[256];
	struct msg *a, *b;
	size_t na, nb, i, k, j, len = unended[_i].len;

	for (i = 0; i < sizeof(appended) / sizeof(appended[0]); i++) {
		ck_assert_uint_lt(len + strlen(appended[i]), sizeof(grown));
		memcpy(grown, mbox, len);
		memcpy(grown + len, appended[i], strlen(appended[i]));
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			a = scan_string(mbox, len, sizes[k], &na);
			b = scan_string(grown, len + strlen(appended[i]),
			    sizes[k], &nb);
			ck_assert_uint_ge(nb, na);
			for (j = 0; j < na; j++) {
				ck_assert_msg(memcmp(a[j].hash, b[j].hash,
				    sizeof(a[j].hash)) == 0 &&
				    a[j].dup == b[j].dup, "mailbox %d, append "
				    "%zu, buffer %zu: UIDL %zu changed", _i, i,
				    sizes[k], j + 1);
				ck_assert_uint_eq(a[j].size, b[j].size);
				ck_assert_int_eq(a[j].from, b[j].from);
			}
			free(a);
			free(b);
		}
	}
}
END_TEST

/* popa3d's id of one message made of the lines given, as popa3d.c has it. */
static void
popa3d_of(const char *const *lines, char out[POPA3D_UIDL_LEN + 1])
{
	struct popa3d p;

	popa3d_begin(&p);
	for (; *lines != NULL; lines++) {
		popa3d_line(&p, (const unsigned char *)*lines, strlen(*lines),
		    strlen(*lines));
	}
	popa3d_end(&p, out);
}

/*
 * --uidl=popa3d: the digest and its odd byte order on fixed inputs; the
 * values are MD5's, taken apart from pop3d (Python's hashlib) and shown
 * as popa3d 1.0.3 shows them.
 */
START_TEST(test_popa3d_uidl_of_fixed_lines)
{
	static const char *const none[] = { "Subject: x\n", NULL };
	static const char *const date[] = { "Date: x\n", "Subject: y\n",
	    NULL };
	static const char *const folded[] = { "Date: x\n", "\tfolded\r\n",
	    "Subject: no\n", NULL };
	static const char *const after[] = { "Received: a\n", "Date: b\n",
	    "Message-ID: <c>\n", "\n", "Date: body\n", NULL };
	char out[POPA3D_UIDL_LEN + 1];

	popa3d_of(none, out);
	ck_assert_str_eq(out, "d98c1dd404b2008f");	/* MD5 of nothing */
	popa3d_of(date, out);
	ck_assert_str_eq(out, "705418d22efbeb67");
	popa3d_of(folded, out);
	ck_assert_str_eq(out, "6d34564e1aa48555");
	popa3d_of(after, out);
	ck_assert_str_eq(out, "03609776b4e9d82f");
}
END_TEST

/*
 * A mailbox's UIDLs from where says, read through buffers of bufsize
 * bytes, and its content UIDLs; how many.
 */
static size_t
uidls_in_pieces(const char *data, size_t len, size_t bufsize,
    enum uidl_source from, char (*out)[UIDL_MAX + 1],
    char (*content)[UIDL_MAX + 1], size_t max)
{
	struct scan *s = mbox_scan_new();
	struct msg *msgs;
	size_t count, i;
	char *pool;

	ck_assert_ptr_nonnull(s);
	mbox_scan_want_uidls(s, from);
	feed_in_pieces(s, (const unsigned char *)data, len, bufsize);
	msgs = mbox_scan_finish(s, (off_t)len, &count);
	pool = mbox_scan_take_pool(s);
	mbox_scan_free(s);
	ck_assert_uint_le(count, max);
	for (i = 0; i < count; i++) {
		mbox_uidl(&msgs[i], pool, out[i]);
		mbox_uidl(&msgs[i], NULL, content[i]);
	}
	free(msgs);
	free(pool);
	return count;
}

/*
 * The UIDLs from where, through every buffer of at least min bytes, are
 * want[0..n): NULL stands for the content UIDL, a value ending in '-'
 * for that value followed by the content UIDL.
 */
static void
check_uidls_every_size(const char *mbox, size_t len, enum uidl_source from,
    size_t min, const char *const *want, size_t n)
{
	char uidl[8][UIDL_MAX + 1], content[8][UIDL_MAX + 1], w[2 * UIDL_MAX];
	size_t size, i;

	for (size = min; size <= len + 1; size++) {
		ck_assert_uint_eq(uidls_in_pieces(mbox, len, size, from, uidl,
		    content, 8), n);
		for (i = 0; i < n; i++) {
			snprintf(w, sizeof(w), "%s%s", want[i] != NULL ?
			    want[i] : "", want[i] == NULL || want[i][strlen(
			    want[i]) - 1] == '-' ? content[i] : "");
			ck_assert_msg(strcmp(uidl[i], w) == 0,
			    "buffer %zu, message %zu: %s, not %s", size, i + 1,
			    uidl[i], w);
		}
	}
}

/*
 * Through every buffer size: the first Received: with its fold and every
 * Delivered-To: count, what follows Received: does not; a message with
 * none of popa3d's lines repeats MD5("") and is told apart; a CRLF header
 * goes on into the body; a last line without LF is hashed without one.
 */
START_TEST(test_mbox_popa3d_uidls_for_every_buffer_size)
{
	static const char mbox[] = FROM_A
	    "Received: from a\n\tby b\nReceived: from c\nDate: d\n"
	    "Message-ID: <1@x>\nDelivered-To: u\nSubject: s\n\nbody\n\n"
	    FROM_B "Subject: none\n\nbody\n\n"
	    FROM_C "Subject: none either\n\nbody 2\n\n"
	    FROM_A "Date: c\r\nSubject: s\r\n\r\nMessage-ID: <b@x>\r\n\n"
	    FROM_B "x-delivery-id: 1\nX-Delivery-ID: 2\nmessage-id: <u@x>";
	/* The later copy: popa3d's id, "-", its content UIDL. */
	static const char *const want[] = { "bda71c97d23cdcde",
	    "d98c1dd404b2008f", "d98c1dd404b2008f-", "fe15651128262376",
	    "8e6926e411335ecf" };

	check_uidls_every_size(mbox, sizeof(mbox) - 1, UIDL_POPA3D, 16, want,
	    5);
}
END_TEST

/*
 * Review 8, finding 1: a folded header popa3d does not hash, after one it
 * does (Received then Subject, Date then From, Received then a Gmail-style
 * ARC-Seal), is left out of the id, its continuation lines too.
 */
START_TEST(test_mbox_popa3d_fold_after_unhashed_header_is_not_hashed)
{
	static const char mbox[] = FROM_A
	    "Received: from a\n\tby b; Mon, 1 Jan 2024\nSubject: hello\n"
	    " world\n\nbody\n\n"
	    FROM_B "Date: Mon, 1 Jan 2024\nFrom: a user\n <u@example.org>\n"
	    "\nbody\n\n"
	    FROM_C "Received: from mx\nARC-Seal: i=1; a=rsa-sha256;\n"
	    "\tcv=none\nReceived: from b\n\nbody\n";
	static const char *const want[] = { "81bf68e0a260c2ae",
	    "5d421f1fbe9c316a", "0339050cdb9aa1d7" };

	check_uidls_every_size(mbox, sizeof(mbox) - 1, UIDL_POPA3D, 16, want,
	    3);
}
END_TEST

/* n messages of the smallest kind, "From n" and a blank line each. */
static char *
many_messages(size_t n, size_t *len)
{
	char *buf = malloc(n * 16), *p = buf;
	size_t i;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < n; i++) {
		p += snprintf(p, 16, "From %zu\n\n", i);
	}
	*len = (size_t)(p - buf);
	return buf;
}

/* Issue 12, defect 9: the limit is MESSAGES_MAX, not the next 2^k. */
START_TEST(test_mbox_message_limit_is_messages_max)
{
	size_t len, count, whole;
	char *buf = many_messages(MESSAGES_MAX + 1, &whole);
	struct scan *s = mbox_scan_new();
	struct msg *msgs;

	ck_assert_ptr_nonnull(s);
	len = whole - strlen("From 1000000\n\n");
	ck_assert_int_eq(mbox_scan(s, (unsigned char *)buf, len, 0, 1),
	    (ssize_t)len);
	msgs = mbox_scan_finish(s, (off_t)len, &count);
	ck_assert_ptr_nonnull(msgs);
	ck_assert_uint_eq(count, MESSAGES_MAX);
	free(msgs);
	mbox_scan_free(s);
	s = mbox_scan_new();
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(mbox_scan(s, (unsigned char *)buf, whole, 0, 1), -1);
	mbox_scan_free(s);
	free(buf);
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
mbox_suite(void)
{
	Suite *s = suite_create("mbox");
	TCase *ix = tcase_create("index");
	TCase *id = tcase_create("uidl");
	TCase *xuidl = tcase_create("x-uidl");

	tcase_set_timeout(ix, 60);
	tcase_add_loop_test(ix, test_mbox_index_for_every_buffer_size, 0,
	    (int)(sizeof(mbox_cases) / sizeof(mbox_cases[0])));
	tcase_add_test(ix, test_mbox_lines_longer_than_the_buffer);
	tcase_add_loop_test(ix, test_mbox_separator_at_every_offset, 0, 200);
	tcase_add_loop_test(ix, test_mbox_long_header_at_every_offset, 0, 64);
	suite_add_tcase(s, ix);
	ADD_TESTS(id, test_mbox_identical_messages_get_distinct_uidls,
	    test_mbox_uidl_of_many_duplicates_stays_short,
	    test_mbox_hash_ignores_volatile_headers,
	    test_mbox_hash_covers_everything_else,
	    test_mbox_hash_does_not_depend_on_position,
	    test_mbox_hash_of_huge_from_line_ignores_buffer_size,
	    test_popa3d_uidl_of_fixed_lines,
	    test_mbox_popa3d_uidls_for_every_buffer_size,
	    test_mbox_popa3d_fold_after_unhashed_header_is_not_hashed);
	tcase_add_loop_test(id,
	    test_mbox_uidl_stable_after_append_to_unterminated, 0,
	    (int)(sizeof(unended) / sizeof(unended[0])));
	tcase_add_test(ix, test_mbox_message_limit_is_messages_max);
	suite_add_tcase(s, id);
	tcase_add_test(xuidl, test_xuidl_values_are_taken_when_unique_and_valid);
	suite_add_tcase(s, xuidl);
	return s;
}
