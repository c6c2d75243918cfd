/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mbox: the mbox parser (mbox.c: mbox_scan, mbox_scan_finish,
 * mbox_uidl, top_*) and the body writer (io.c: io_put_body) on a mailbox
 * held in memory, against an independent model of what they must do.
 *
 * Input: four bytes of settings, then the mailbox.
 *   byte 0	modulo 3: where UIDLs come from (enum uidl_source: the
 *		content hash, --x-uidl, --uidl=popa3d)
 *   bytes 1-2	seed of the piece sizes
 *   byte 3	TOP's number of lines
 *
 * The mailbox is indexed three times: in one call; through a buffer of a
 * fixed capacity (1 KiB or more) refilled as mailbox.c's scan_range()
 * does, which must give the same index; and in pieces of random sizes,
 * whose index need only be consistent in itself (mbox_scan() wants the
 * first bytes of a line in one piece, which scan_range() ensures). Each
 * piece sits in a heap block of its exact size, so that ASan sees any
 * read beyond it. Every message is then written as RETR and TOP write
 * it, in random pieces, and compared with the model's bytes. And mail
 * is appended after a last line without LF, as MDAs do, and the whole
 * indexed again: the messages already there keep place, size and UIDL
 * (but for the last one's popa3d UIDL, which, as with popa3d, may change
 * once its last line has an LF). popa3d's ids are checked against a
 * reference that reads popa3d's rule line by line, as popa3d does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "mbox.h"
#include "popa3d.h"

#define SETTINGS	4
#define CAPACITY_MIN	1024

struct index {
	struct msg	*msgs;
	size_t		 count;
	char		*pool;
};

enum mode { WHOLE, CAPACITY, PIECES };

/* The io that RETR and TOP write through: scratch, reset each time. */
static struct io out_io;

static size_t
next_piece(enum mode mode, struct fuzz_rng *r, size_t capacity, size_t have,
    size_t left)
{
	size_t n = left;

	if (mode == CAPACITY) {
		n = capacity - have;
	} else if (mode == PIECES) {
		n = 1 + fuzz_rng_below(r, fuzz_rng_below(r, 2) ? 8 : 512);
	}
	return n < left ? n : left;
}

/*
 * Feeds data as scan_range() does: what mbox_scan() leaves is handed in
 * again at the front of the next buffer.
 */
static void
scan(const unsigned char *data, size_t len, enum uidl_source from,
    enum mode mode,
    struct fuzz_rng *r, size_t capacity, struct index *ix)
{
	struct scan *s = mbox_scan_new();
	size_t off = 0, have = 0, n, got;
	unsigned char *piece;
	ssize_t used;
	int eof = 0;

	CHECK(s != NULL);
	mbox_scan_want_uidls(s, from);
	while (!eof) {
		n = next_piece(mode, r, capacity, have, len - off - have);
		got = have + n;
		eof = mode == CAPACITY ? got < capacity : off + got == len;
		piece = fuzz_dup(data + off, got);
		used = mbox_scan(s, piece, got, (off_t)off, eof);
		free(piece);
		CHECK(used >= 0 && (size_t)used <= got);
		CHECK(used > 0 || got == 0);
		CHECK(!eof || (size_t)used == got);
		off += (size_t)used;
		have = got - (size_t)used;
	}
	ix->msgs = mbox_scan_finish(s, (off_t)off, &ix->count);
	CHECK(ix->msgs != NULL || ix->count == 0);
	ix->pool = mbox_scan_take_pool(s);
	mbox_scan_free(s);
}

static void
index_free(struct index *ix)
{
	free(ix->msgs);
	free(ix->pool);
}

static size_t
region_end(const struct index *ix, size_t i, size_t len)
{
	return i + 1 < ix->count ? (size_t)ix->msgs[i + 1].from : len;
}

static int
is_blank_line(const unsigned char *p, size_t n)
{
	return (n == 1 && p[0] == '\n') ||
	    (n == 2 && p[0] == '\r' && p[1] == '\n');
}

/* Only empty lines may come before the first message. */
static int
only_blank_lines(const unsigned char *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = p[i] == '\r' ? 2 : 1;
		if (k > n - i || !is_blank_line(p + i, k)) {
			return 0;
		}
		i += k;
	}
	return 1;
}

/* Octets RETR sends before byte-stuffing: bare LFs become CRLF. */
static unsigned long long
model_size(const unsigned char *p, size_t n)
{
	unsigned long long size = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		size += p[i] == '\n' && (i == 0 || p[i - 1] != '\r') ? 2 : 1;
	}
	if (n > 0 && p[n - 1] != '\n') {
		size += 2;
	}
	return size;
}

static void
check_layout(const struct index *ix, const unsigned char *data, size_t len)
{
	const struct msg *m;
	size_t i, end, from, start, stop;

	for (i = 0; i < ix->count; i++) {
		m = &ix->msgs[i];
		CHECK(m->from >= 0 && m->from <= m->start && m->len >= 0);
		from = (size_t)m->from;
		start = (size_t)m->start;
		stop = start + (size_t)m->len;
		end = region_end(ix, i, len);
		CHECK(from < end && stop <= end && end <= len);
		CHECK(stop == end || is_blank_line(data + stop, end - stop));
		CHECK(i == 0 || start > from);
		if (start > from) {
			CHECK(end - from >= 5 && memcmp(data + from, "From ",
			    5) == 0);
			CHECK(data[start - 1] == '\n' || start == end);
		}
		CHECK(m->size == model_size(data + start, (size_t)m->len));
	}
	CHECK(ix->count > 0 || only_blank_lines(data, len));
	CHECK(ix->count == 0 || only_blank_lines(data, (size_t)ix->msgs[0].from));
}

static int
by_string(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* UIDLs (RFC 1939 section 7): 1 to 70 of 0x21..0x7e, unique. */
static void
check_uidls(const struct index *ix, const unsigned char *data, size_t len,
    enum uidl_source from)
{
	char (*u)[UIDL_MAX + 1];
	size_t i, k, n;

	u = calloc(ix->count + 1, sizeof(*u));
	CHECK(u != NULL);
	for (i = 0; i < ix->count; i++) {
		mbox_uidl(&ix->msgs[i], ix->pool, u[i]);
		n = strlen(u[i]);
		CHECK(n >= 1 && n <= UIDL_MAX);
		for (k = 0; k < n; k++) {
			CHECK(u[i][k] >= 0x21 && u[i][k] <= 0x7e);
		}
		if (from == UIDL_X_UIDL && ix->msgs[i].xuidl != 0) {
			CHECK(memmem(data + ix->msgs[i].from, region_end(ix, i,
			    len) - (size_t)ix->msgs[i].from, u[i], n) != NULL);
		}
	}
	qsort(u, ix->count, sizeof(*u), by_string);
	for (i = 1; i < ix->count; i++) {
		CHECK(strcmp(u[i - 1], u[i]) != 0);
	}
	free(u);
}

/* The line p, n bytes, starts with name (its colon included). */
static int
model_named(const unsigned char *p, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n >= k && strncasecmp((const char *)p, name, k) == 0;
}

/* Whether popa3d hashes a header line p of n bytes that is no fold. */
static int
model_popa3d_hashes(const unsigned char *p, size_t n, int *received)
{
	if (!*received && model_named(p, n, "Received:")) {
		*received = 1;
		return 1;
	}
	return model_named(p, n, "Delivered-To:") ||
	    (p[0] == 'X' && model_named(p, n, "X-Delivery-ID:")) ||
	    (!*received && (model_named(p, n, "Date:") ||
	    model_named(p, n, "Message-ID:")));
}

/*
 * popa3d's id of the message p, n bytes, read as popa3d reads it: line by
 * line up to the first lone LF, each line that is no fold hashed or not
 * by its name, each fold as the line it folds.
 */
static void
model_popa3d(const unsigned char *p, size_t n, char out[POPA3D_UIDL_LEN + 1])
{
	static const unsigned char order[8] = { 3, 2, 1, 0, 7, 6, 5, 4 };
	unsigned char d[MD5_DIGEST_LENGTH];
	const unsigned char *nl;
	int received = 0, hashed = 0;
	size_t k, i;
	MD5_CTX md5;

	MD5Init(&md5);
	for (; n > 0 && p[0] != '\n'; p += k, n -= k) {
		nl = memchr(p, '\n', n);
		k = nl == NULL ? n : (size_t)(nl - p) + 1;
		if (p[0] != ' ' && p[0] != '\t') {
			hashed = model_popa3d_hashes(p, k, &received);
		}
		if (hashed) {
			MD5Update(&md5, p, k);
		}
	}
	MD5Final(d, &md5);
	for (i = 0; i < sizeof(order); i++) {
		(void)snprintf(out + 2 * i, 3, "%02x", d[order[i]]);
	}
}

/* Each popa3d-mode UIDL is the reference's id, alone or before a '-'. */
static void
check_popa3d(const struct index *ix, const unsigned char *data)
{
	char u[UIDL_MAX + 1], want[POPA3D_UIDL_LEN + 1];
	size_t i;

	for (i = 0; i < ix->count; i++) {
		model_popa3d(data + ix->msgs[i].start,
		    (size_t)ix->msgs[i].len, want);
		mbox_uidl(&ix->msgs[i], ix->pool, u);
		CHECK(strncmp(u, want, POPA3D_UIDL_LEN) == 0 &&
		    (u[POPA3D_UIDL_LEN] == '\0' || u[POPA3D_UIDL_LEN] == '-'));
	}
}

/* The first count UIDLs of a and b are the same. */
static void
check_same_uidls(const struct index *a, const struct index *b, size_t count)
{
	char ua[UIDL_MAX + 1], ub[UIDL_MAX + 1];
	size_t i;

	for (i = 0; i < count; i++) {
		mbox_uidl(&a->msgs[i], a->pool, ua);
		mbox_uidl(&b->msgs[i], b->pool, ub);
		CHECK(strcmp(ua, ub) == 0);
	}
}

static int
same_hash(const struct msg *x, const struct msg *y)
{
	return memcmp(x->hash, y->hash, sizeof(x->hash)) == 0 &&
	    x->dup == y->dup;
}

static void
check_same(const struct index *a, const struct index *b, int uidls)
{
	const struct msg *x, *y;
	size_t i;

	CHECK(a->count == b->count);
	for (i = 0; i < a->count; i++) {
		x = &a->msgs[i];
		y = &b->msgs[i];
		CHECK(x->from == y->from && x->start == y->start &&
		    x->len == y->len && x->size == y->size);
		CHECK(same_hash(x, y));
	}
	if (uidls) {
		check_same_uidls(a, b, a->count);
	}
}

/*
 * After a last line without LF an MDA appends the LF, a blank line and
 * the next message: the messages already there keep their place, size
 * and UIDL. (Not after a CR: the LF makes it a CRLF, sent otherwise.)
 */
static void
check_append(const struct index *ix, const unsigned char *data, size_t len,
    enum uidl_source from, struct fuzz_rng *r)
{
	static const char tail[] = "\n\nFrom fuzz\nSubject: new\n\nnew\n";
	struct index after;
	unsigned char *grown;
	size_t i;

	if (len == 0 || data[len - 1] == '\n' || data[len - 1] == '\r') {
		return;
	}
	grown = malloc(len + sizeof(tail) - 1);
	CHECK(grown != NULL);
	memcpy(grown, data, len);
	memcpy(grown + len, tail, sizeof(tail) - 1);
	scan(grown, len + sizeof(tail) - 1, from, WHOLE, r, 0, &after);
	CHECK(after.count == ix->count + 1);
	for (i = 0; i < ix->count; i++) {
		CHECK(after.msgs[i].from == ix->msgs[i].from &&
		    after.msgs[i].size == ix->msgs[i].size);
		CHECK(same_hash(&after.msgs[i], &ix->msgs[i]));
	}
	check_same_uidls(ix, &after, from == UIDL_POPA3D ? ix->count - 1 :
	    ix->count);
	index_free(&after);
	free(grown);
}

static size_t
longest_line(const unsigned char *p, size_t n)
{
	const unsigned char *nl;
	size_t most = 0, k;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		k = nl == NULL ? n : (size_t)(nl - p) + 1;
		most = k > most ? k : most;
		p += k;
		n -= k;
	}
	return most;
}

/*
 * What TOP takes of a stored message: the header, its empty line and
 * `lines` more lines (RFC 1939 section 7); a last line without LF counts.
 */
static size_t
model_top(const unsigned char *p, size_t n, unsigned long lines)
{
	const unsigned char *nl;
	size_t i = 0, k;
	int in_header = 1;

	while (i < n && (in_header || lines > 0)) {
		nl = memchr(p + i, '\n', n - i);
		if (nl == NULL) {
			return n;
		}
		k = (size_t)(nl - (p + i));
		if (!in_header) {
			lines--;
		} else if (k == 0 || (k == 1 && p[i] == '\r')) {
			in_header = 0;
		}
		i += k + 1;
	}
	return i;
}

/* The body as it must leave: dot-stuffed, CRLF, closed by ".". */
static unsigned char *
model_body(const unsigned char *p, size_t n, size_t *outlen)
{
	unsigned char *o = malloc(2 * n + 5);
	size_t i, k = 0;

	CHECK(o != NULL);
	for (i = 0; i < n; i++) {
		if ((i == 0 || p[i - 1] == '\n') && p[i] == '.') {
			o[k++] = '.';
		}
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) {
			o[k++] = '\r';
		}
		o[k++] = p[i];
	}
	if (n > 0 && p[n - 1] != '\n') {
		o[k++] = '\r';
		o[k++] = '\n';
	}
	memcpy(o + k, ".\r\n", 3);
	*outlen = k + 3;
	return o;
}

/*
 * Writes the message as serve() (session.c) does, in random pieces, through
 * top_take() when top is set; returns how much of it was taken.
 */
static size_t
write_body(const unsigned char *p, size_t n, struct top *top,
    struct fuzz_rng *r)
{
	struct body b;
	size_t off = 0, k, take, taken = 0;

	io_begin_body(&b);
	while (off < n && (top == NULL || !top_done(top))) {
		k = 1 + fuzz_rng_below(r, n - off);
		take = top == NULL ? k : top_take(top, p + off, k);
		CHECK(take <= k);
		CHECK(take == k || top_done(top));
		io_put_body(&out_io, &b, p + off, take);
		taken += take;
		off += k;
	}
	io_end_body(&out_io, &b);
	CHECK(io_flush(&out_io) == 0);
	return taken;
}

/* The bytes written must be the model's for the part taken. */
static size_t
check_body(const unsigned char *p, size_t n, struct top *top,
    struct fuzz_rng *r)
{
	const unsigned char *got;
	unsigned char *want;
	size_t gotlen, wantlen, taken;

	fuzz_client_start(NULL, 0, 0, 0);
	fuzz_client_writes(1 + fuzz_rng_below(r, 4096), 1);
	fuzz_client_attach(&out_io, 1000);
	taken = write_body(p, n, top, r);
	want = model_body(p, taken, &wantlen);
	got = fuzz_client_output(&gotlen);
	CHECK(gotlen == wantlen && memcmp(got, want, wantlen) == 0);
	free(want);
	fuzz_client_end();
	return taken;
}

static void
check_messages(const struct index *ix, const unsigned char *data,
    unsigned long lines, struct fuzz_rng *r)
{
	const unsigned char *p;
	struct top top;
	size_t i, n, want;

	for (i = 0; i < ix->count; i++) {
		p = data + ix->msgs[i].start;
		n = (size_t)ix->msgs[i].len;
		CHECK(check_body(p, n, NULL, r) == n);
		want = model_top(p, n, lines);
		top_begin(&top, lines);
		CHECK(check_body(p, n, &top, r) == want);
		top_begin(&top, lines);
		CHECK(top_take(&top, p, n) == want);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct index whole, fixed, pieces;
	struct fuzz_rng r;
	const unsigned char *data = in + SETTINGS;
	size_t len = size - SETTINGS, capacity;
	enum uidl_source from;

	if (size < SETTINGS) {
		return 0;
	}
	from = (enum uidl_source)(in[0] % 3);
	fuzz_rng_seed(&r, in + 1, 2);
	capacity = CAPACITY_MIN + fuzz_rng_below(&r, len + 1);
	scan(data, len, from, WHOLE, &r, 0, &whole);
	check_layout(&whole, data, len);
	check_uidls(&whole, data, len, from);
	if (from == UIDL_POPA3D) {
		check_popa3d(&whole, data);
	}
	check_append(&whole, data, len, from, &r);
	scan(data, len, from, CAPACITY, &r, capacity, &fixed);
	check_same(&whole, &fixed, longest_line(data, len) < capacity);
	scan(data, len, from, PIECES, &r, 0, &pieces);
	check_layout(&pieces, data, len);
	check_messages(&whole, data, in[3], &r);
	index_free(&whole);
	index_free(&fixed);
	index_free(&pieces);
	return 0;
}
