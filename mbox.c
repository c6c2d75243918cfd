/* SPDX-License-Identifier: ISC */
/*
 * The mbox parser (mbox(5), "mboxo" as Debian's MDAs write it): finds
 * messages, their exact POP3 sizes and content hashes in one pass over
 * buffers handed in by mailbox.c. Runs as the user; no I/O here.
 *
 * A message starts after a line beginning "From " that is the first line
 * of the file or follows an empty line; the empty line before the next
 * From_ line (or before the end of the file) belongs to the separator.
 * Text before the first From_ line is a message of its own unless it is
 * only empty lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>
#if defined(__x86_64__) || defined(__i386__)
/* Debian's libxxhash picks SSE2, AVX2 or AVX-512 at run time here. */
#define XXH_DISPATCH_DISABLE_REPLACE
#include <xxh_x86dispatch.h>
#define hash_update	XXH3_128bits_update_dispatch
#else
#define hash_update	XXH3_128bits_update
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "mbox.h"
#include "params.h"
#include "popa3d.h"

/*
 * For what runs once a line or once 64 bytes; and so that the scanner
 * built for each kind of CPU below makes its masks inline.
 */
#define ALWAYS_INLINE	inline __attribute__((always_inline))

#define DUP_MAX		0xffffffU
#if MESSAGES_MAX > DUP_MAX
#error "struct msg's dup needs fewer messages"
#endif

struct scan {
	struct msg	*msgs;
	size_t		 count;
	size_t		 cap;
	XXH3_state_t	*xx;
	const unsigned char *run;	/* hashed text not yet fed to xx */
	int		 started;	/* a message is open */
	int		 in_header;
	int		 excluding;	/* inside a header left out of the hash */
	int		 prev_empty;	/* the last line was empty, or none was */
	int		 mid_line;	/* the next byte continues a line */
	int		 kind;		/* enum line_kind of that line */
	int		 last_cr;	/* the last byte seen was CR */
	off_t		 blank_at;	/* offset of a held-back empty line */
	size_t		 blank_len;	/* its length, 0 if none is held */
	int		 want_xuidl;
	int		 want_popa3d;
	int		 failed;	/* out of memory for the pool */
	struct popa3d	 p3;		/* the open message's popa3d id */
	char		*pool;		/* UIDLs, NUL-terminated */
	size_t		 pool_len;
	size_t		 pool_cap;
};

/*
 * Headers that MUAs rewrite in place (status flags, folder bookkeeping,
 * lengths recomputed on sync): a UIDL must not change when they do.
 */
#define HEADER(name)	{ name, sizeof(name) - 1 }
static const struct header {
	const char	*name;
	size_t		 len;
} volatile_headers[] = {
	HEADER("Status"), HEADER("X-Status"), HEADER("X-Keywords"),
	HEADER("X-UID"), HEADER("X-IMAP"), HEADER("X-IMAPbase"),
	HEADER("Content-Length"), HEADER("Lines")
};
#define VOLATILE_HEADERS \
	(sizeof(volatile_headers) / sizeof(volatile_headers[0]))

struct scan *
mbox_scan_new(void)
{
	struct scan *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return NULL;
	}
	s->xx = XXH3_createState();
	if (s->xx == NULL) {
		free(s);
		return NULL;
	}
	s->prev_empty = 1;
	return s;
}

void
mbox_scan_free(struct scan *s)
{
	if (s == NULL) {
		return;
	}
	XXH3_freeState(s->xx);
	free(s->msgs);
	free(s->pool);
	free(s);
}

void
mbox_scan_want_uidls(struct scan *s, enum uidl_source from)
{
	s->want_xuidl = from == UIDL_X_UIDL;
	s->want_popa3d = from == UIDL_POPA3D;
}

char *
mbox_scan_take_pool(struct scan *s)
{
	char *p = s->pool;

	s->pool = NULL;
	s->pool_len = s->pool_cap = 0;
	return p;
}

/* Makes v (len bytes) m's UIDL. */
static int
pool_put(struct scan *s, struct msg *m, const void *v, size_t len)
{
	size_t cap;
	char *p;

	if (s->pool_len >= UINT32_MAX - UIDL_MAX) {
		return -1;
	}
	if (s->pool_cap - s->pool_len < len + 1) {
		cap = s->pool_cap == 0 ? 4096 : s->pool_cap * 2;
		p = realloc(s->pool, cap);
		if (p == NULL) {
			return -1;
		}
		s->pool = p;
		s->pool_cap = cap;
	}
	memcpy(s->pool + s->pool_len, v, len);
	s->pool[s->pool_len + len] = '\0';
	m->xuidl = (unsigned int)s->pool_len + 1;
	s->pool_len += len + 1;
	return 0;
}

/*
 * Our own UIDLs are 32 lowercase hex digits, perhaps "-n": an X-UIDL of
 * that form could repeat another message's id, so it is not taken.
 */
static int
looks_like_hash_uidl(const unsigned char *v, size_t len)
{
	size_t i;

	if (len < 32) {
		return 0;
	}
	for (i = 0; i < 32; i++) {
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' &&
		    v[i] <= 'f'))) {
			return 0;
		}
	}
	if (len == 32) {
		return 1;
	}
	if (v[32] != '-' || len == 33) {
		return 0;
	}
	for (i = 33; i < len; i++) {
		if (v[i] < '0' || v[i] > '9') {
			return 0;
		}
	}
	return 1;
}

/*
 * "X-UIDL: value" as servers that wrote it left it; a value that is not
 * a valid UIDL is ignored. p holds the header line, n bytes of it.
 */
static void
take_xuidl(struct scan *s, const unsigned char *p, size_t n)
{
	struct msg *m = &s->msgs[s->count - 1];
	size_t i = 7, start, end;

	if (m->xuidl != 0 || n < 8 || strncasecmp((const char *)p, "X-UIDL:",
	    7) != 0) {
		return;
	}
	while (i < n && (p[i] == ' ' || p[i] == '\t')) {
		i++;
	}
	start = i;
	while (i < n && p[i] > 0x20 && p[i] < 0x7f) {
		i++;
	}
	end = i;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r')) {
		i++;
	}
	if (end == start || end - start > UIDL_MAX || (i < n && p[i] != '\n') ||
	    looks_like_hash_uidl(p + start, end - start)) {
		return;
	}
	(void)pool_put(s, m, p + start, end - start);
}

static int
is_volatile_name(const unsigned char *p, size_t len)
{
	const struct header *h;

	for (h = volatile_headers; h < volatile_headers + VOLATILE_HEADERS;
	    h++) {
		if (len > h->len && p[h->len] == ':' &&
		    strncasecmp((const char *)p, h->name, h->len) == 0) {
			return 1;
		}
	}
	return 0;
}

/* Called for every header line: the first letter rules out most. */
static ALWAYS_INLINE int
is_volatile_header(const unsigned char *p, size_t len)
{
	switch (p[0] | 0x20) {
	case 'c':
	case 'l':
	case 's':
	case 'x':
		return is_volatile_name(p, len);
	default:
		return 0;
	}
}

static struct msg *
current(struct scan *s)
{
	return &s->msgs[s->count - 1];
}

/* Text is hashed in runs of lines, each with one call, up to upto. */
static void
flush_run(struct scan *s, const unsigned char *upto)
{
	if (s->run != NULL && upto > s->run) {
		hash_update(s->xx, s->run, (size_t)(upto - s->run));
	}
	s->run = NULL;
}

static void
close_message(struct scan *s, off_t end)
{
	struct msg *m;
	XXH128_hash_t h;
	char id[POPA3D_UIDL_LEN + 1];

	if (!s->started) {
		return;
	}
	m = current(s);
	if (s->blank_len > 0) {
		end = s->blank_at;
		m->size -= 2;
		s->blank_len = 0;
	}
	m->len = end - m->start;
	h = XXH3_128bits_digest(s->xx);
	XXH128_canonicalFromHash((XXH128_canonical_t *)m->hash, h);
	if (s->want_popa3d) {
		popa3d_end(&s->p3, id);
		if (pool_put(s, m, id, POPA3D_UIDL_LEN) == -1) {
			s->failed = 1;
		}
	}
	s->started = 0;
}

static int
open_message(struct scan *s, off_t from, off_t start,
    const unsigned char *sep, size_t seplen)
{
	struct msg *m;
	size_t cap;

	if (s->count >= MESSAGES_MAX) {
		return -1;
	}
	if (s->count == s->cap) {
		cap = s->cap == 0 ? 256 : s->cap * 2;
		m = reallocarray(s->msgs, cap, sizeof(*m));
		if (m == NULL) {
			return -1;
		}
		s->msgs = m;
		s->cap = cap;
	}
	m = &s->msgs[s->count++];
	memset(m, 0, sizeof(*m));
	m->from = from;
	m->start = start;
	XXH3_128bits_reset(s->xx);
	hash_update(s->xx, sep, seplen);
	if (s->want_popa3d) {
		popa3d_begin(&s->p3);
	}
	s->started = 1;
	s->in_header = 1;
	s->excluding = 0;
	return 0;
}

/* An empty line is held back until we know whether a From_ line follows. */
static void
release_blank(struct scan *s)
{
	if (s->blank_len > 0) {
		hash_update(s->xx, s->blank_len == 2 ? "\r\n" : "\n",
		    s->blank_len);
		s->blank_len = 0;
	}
}

/* What the line being read is, decided at its first byte. */
enum line_kind {
	LINE_TEXT,	/* served, counted and hashed */
	LINE_HIDDEN,	/* served and counted, left out of the hash */
	LINE_OUTSIDE	/* a From_ line or blank lines before the first one */
};

/*
 * The UIDL hash takes at most this much of a From_ line, so that it does
 * not depend on where a read happened to split an absurdly long one.
 */
#define FROM_HASHED_MAX	1000

static size_t
from_hashed_len(const unsigned char *p, size_t n, int has_lf)
{
	if (has_lf) {
		n--;
		if (n > 0 && p[n - 1] == '\r') {
			n--;
		}
	}
	return n > FROM_HASHED_MAX ? FROM_HASHED_MAX : n;
}

/*
 * Classifies a line starting at p (n bytes of it in this buffer, avail
 * bytes of buffer left). -1 when the message limit is reached.
 */
static int
line_start(struct scan *s, const unsigned char *p, size_t avail, off_t off,
    size_t n, int has_lf)
{
	int empty = has_lf && (n == 1 || (n == 2 && p[0] == '\r'));

	if (s->prev_empty && avail >= 5 &&
	    memcmp(p, "From ", 5) == 0) {
		flush_run(s, p);
		close_message(s, off);
		s->prev_empty = 0;
		if (open_message(s, off, off + (off_t)n, p,
		    from_hashed_len(p, n, has_lf)) == -1) {
			return -1;
		}
		return LINE_OUTSIDE;
	}
	s->prev_empty = empty;
	if (!s->started) {
		if (empty) {
			return LINE_OUTSIDE;
		}
		if (open_message(s, off, off, NULL, 0) == -1) {
			return -1;
		}
	}
	if (s->want_popa3d) {
		popa3d_line(&s->p3, p, n, avail);
	}
	release_blank(s);
	if (empty) {
		s->in_header = 0;
		s->blank_at = off;
		s->blank_len = n;
		return LINE_HIDDEN;
	}
	if (s->in_header && p[0] != ' ' && p[0] != '\t') {
		s->excluding = is_volatile_header(p, avail);
		if (s->want_xuidl) {
			take_xuidl(s, p, n);
		}
	}
	return s->in_header && s->excluding ? LINE_HIDDEN : LINE_TEXT;
}

/* Size in octets as sent: every bare LF goes out as CRLF. */
static void
count_line(struct scan *s, const unsigned char *p, size_t n, int has_lf)
{
	int cr;

	current(s)->size += n;
	if (has_lf) {
		cr = n >= 2 ? p[n - 2] == '\r' : (s->mid_line && s->last_cr);
		if (!cr) {
			current(s)->size++;
		}
	}
}

/* A line that continues from the previous buffer keeps its kind. */
static void
continue_line(struct scan *s, const unsigned char *p, size_t n, int has_lf)
{
	if (s->kind == LINE_OUTSIDE) {
		if (s->started) {
			current(s)->start += (off_t)n;
		}
		return;
	}
	if (s->want_popa3d) {
		popa3d_more(&s->p3, p, n);
	}
	count_line(s, p, n, has_lf);
}

/* x starts a line after p, which starts one too: is the line before empty? */
static int
follows_empty_line(const unsigned char *p, const unsigned char *x)
{
	if (x - p < 2 || x[-2] == '\n') {
		return 1;
	}
	return x[-2] == '\r' && (x - p == 2 || x[-3] == '\n');
}

static int
starts_from_line(const unsigned char *x, const unsigned char *end)
{
	return end - x >= 5 && memcmp(x, "From ", 5) == 0;
}

/*
 * Text in bulk is looked at 64 bytes at a time, as three masks whose
 * bit i says that byte i is an LF, a CR or an 'F'. In a body they give
 * the LFs with no CR before them (they go out as CRLF) and the lines
 * that start with 'F' (only those need a closer look); in a header, the
 * ends of its lines. The masks are made with the widest vectors the CPU
 * has (AVX-512BW, AVX2, SSE2, which every x86-64 has) or in plain C
 * elsewhere: the code that uses them is written once, built for each,
 * and bulk() picks at run time.
 */
struct group {
	uint64_t	lf;
	uint64_t	cr;
	uint64_t	f;
};

typedef struct group (*group_fn)(const unsigned char *);

/* What a group hands on to the next: its last byte was an LF, a CR. */
struct carry {
	uint64_t	lf;
	uint64_t	cr;
};

/* The From_ line after an empty line among the candidates at b, or NULL. */
static const unsigned char *
separator_among(const unsigned char *p, const unsigned char *b,
    uint64_t cand, const unsigned char *end)
{
	const unsigned char *x;

	for (; cand != 0; cand &= cand - 1) {
		x = b + __builtin_ctzll(cand);
		if (follows_empty_line(p, x) && starts_from_line(x, end)) {
			return x;
		}
	}
	return NULL;
}

/*
 * The group g at b: adds its bare LFs to *bare and returns the separator
 * in it, or NULL; then only the bare LFs before the separator count.
 */
static ALWAYS_INLINE const unsigned char *
group_step(struct group g, struct carry *c, const unsigned char *p,
    const unsigned char *b, const unsigned char *end, size_t *bare)
{
	uint64_t lone = g.lf & ~(g.cr << 1 | c->cr);
	uint64_t cand = g.f & (g.lf << 1 | c->lf);
	const unsigned char *x = NULL;

	if (cand != 0) {
		x = separator_among(p, b, cand, end);
		if (x != NULL) {
			lone &= ((uint64_t)1 << (x - b)) - 1;
		}
	}
	*bare += (size_t)__builtin_popcountll(lone);
	c->lf = g.lf >> 63;
	c->cr = g.cr >> 63;
	return x;
}

/*
 * The first From_ line after an empty line in (p, limit), whole lines
 * from p on, or limit; adds the LFs before it that go out as CRLF to
 * *bare. Nothing before p is read: p starts a line, so the byte before
 * it counts as neither LF nor CR. A short last group is read from a copy
 * padded with NULs, which are neither.
 */
static ALWAYS_INLINE const unsigned char *
find_separator(group_fn masks, const unsigned char *p,
    const unsigned char *limit, const unsigned char *end, size_t *bare)
{
	struct carry c = { 0, 0 };
	const unsigned char *b, *x = NULL;
	unsigned char tail[64];
	size_t n = 0;

	for (b = p; x == NULL && limit - b >= 64; b += 64) {
		x = group_step(masks(b), &c, p, b, end, &n);
	}
	if (x == NULL && b < limit) {
		memset(tail, 0, sizeof(tail));
		memcpy(tail, b, (size_t)(limit - b));
		x = group_step(masks(tail), &c, p, b, end, &n);
	}
	*bare += n;
	return x != NULL ? x : limit;
}

/*
 * Whole lines [p, limit) of a message body, p not a From_ line: they are
 * all served and hashed but for an empty last line, which is held back
 * as line_start() does. Returns where the next message starts, or limit.
 */
static ALWAYS_INLINE const unsigned char *
body_run(group_fn masks, struct scan *s, const unsigned char *p,
    const unsigned char *limit, const unsigned char *end, off_t off)
{
	const unsigned char *q;
	size_t bare = 0, blank;

	q = find_separator(masks, p, limit, end, &bare);
	release_blank(s);
	if (s->run == NULL) {
		s->run = p;
	}
	current(s)->size += (size_t)(q - p) + bare;
	blank = 0;
	if (q - p == 1 || q[-2] == '\n') {
		blank = 1;
	} else if (q[-2] == '\r' && (q - p == 2 || q[-3] == '\n')) {
		blank = 2;
	}
	s->prev_empty = blank > 0;
	s->kind = blank > 0 ? LINE_HIDDEN : LINE_TEXT;
	s->last_cr = 0;
	if (blank > 0) {
		flush_run(s, q - blank);
		s->blank_at = off + (q - blank - p);
		s->blank_len = blank;
	}
	return q;
}

/* Where the last whole line in [p, end) ends, or p. */
static const unsigned char *
whole_lines_end(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *nl = memrchr(p, '\n', (size_t)(end - p));

	return nl == NULL ? p : nl + 1;
}

/*
 * A whole header line at p that is simply served and hashed: not empty,
 * not a volatile header, not one that may be an X-UIDL or that popa3d
 * may hash, not continuing a header left out. In a header the line before is never empty, so no
 * From_ line needs looking for.
 */
static ALWAYS_INLINE int
plain_header_line(const struct scan *s, const unsigned char *p,
    const unsigned char *limit)
{
	if (s->want_popa3d && popa3d_may_hash(&s->p3, *p)) {
		return 0;
	}
	if (*p == ' ' || *p == '\t') {
		return !s->excluding;
	}
	if (*p == '\n' || *p == '\r' || (s->want_xuidl && (*p | 0x20) == 'x')) {
		return 0;
	}
	return !is_volatile_header(p, (size_t)(limit - p));
}

/*
 * The LFs of a header, taken in order from groups read one after the
 * other: unlike a search from each line start, a read need not wait for
 * the line before it to be found, so the reads of a header that is not
 * in the cache yet overlap.
 */
struct lf_scan {
	const unsigned char *b;		/* the group read last */
	uint64_t	 lf;		/* its LFs not yet passed */
};

/* The LF that ends the line at p, the one after the last LF taken. */
static ALWAYS_INLINE const unsigned char *
next_lf(group_fn masks, struct lf_scan *ls, const unsigned char *p,
    const unsigned char *limit)
{
	const unsigned char *nl;

	while (ls->lf == 0) {
		if (limit - ls->b < 2 * 64) {
			return memchr(p, '\n', (size_t)(limit - p));
		}
		ls->b += 64;
		ls->lf = masks(ls->b).lf;
	}
	nl = ls->b + __builtin_ctzll(ls->lf);
	ls->lf &= ls->lf - 1;
	return nl;
}

/* Whole plain header lines from p, before limit; where they end. */
static ALWAYS_INLINE const unsigned char *
header_run(group_fn masks, struct scan *s, const unsigned char *p,
    const unsigned char *limit)
{
	struct lf_scan ls = { p, 0 };
	const unsigned char *nl;
	unsigned long long size = 0;

	if (s->run == NULL) {
		s->run = p;
	}
	if (limit - p >= 64) {
		ls.lf = masks(p).lf;
	}
	while (p < limit && plain_header_line(s, p, limit)) {
		nl = next_lf(masks, &ls, p, limit);
		if (nl == NULL) {
			break;
		}
		size += (size_t)(nl - p) + 1 + (nl[-1] != '\r');
		p = nl + 1;
	}
	current(s)->size += size;
	s->excluding = 0;
	/*
	 * popa3d_line() saw none of these lines: none is hashed, so a fold
	 * after them does not continue a hashed line.
	 */
	s->p3.hashed = 0;
	s->prev_empty = 0;
	s->kind = LINE_TEXT;
	s->last_cr = 0;
	return p;
}

/*
 * Whole lines from p that need no look one at a time go in bulk: plain
 * header lines, and a body up to the next From_ line (not while popa3d's
 * header goes on, as it does in a CRLF message). Where they end.
 */
static ALWAYS_INLINE const unsigned char *
bulk_with(group_fn masks, struct scan *s, const unsigned char *p,
    const unsigned char *limit, const unsigned char *end, off_t off)
{
	if (s->in_header) {
		return plain_header_line(s, p, limit) ?
		    header_run(masks, s, p, limit) : p;
	}
	if ((s->prev_empty && starts_from_line(p, end)) ||
	    (s->want_popa3d && s->p3.in_header)) {
		return p;
	}
	return body_run(masks, s, p, limit, end, off);
}

#if defined(__x86_64__)
/* Their counts and bit scans want POPCNT and BMI1, which come with AVX2. */
#define FOR_AVX512	__attribute__((target("avx512bw,popcnt,bmi")))
#define FOR_AVX2	__attribute__((target("avx2,popcnt,bmi")))

static ALWAYS_INLINE FOR_AVX512 struct group
group_avx512(const unsigned char *b)
{
	__m512i v = _mm512_loadu_si512((const void *)b);
	struct group g;

	g.lf = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
	g.cr = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r'));
	g.f = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('F'));
	return g;
}

/* movemask's int holds 32 bits, or 16 for SSE2; they are what we want. */
static ALWAYS_INLINE FOR_AVX2 uint64_t
mask_avx2(__m256i lo, __m256i hi, char ch)
{
	__m256i k = _mm256_set1_epi8(ch);
	uint32_t l = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, k));
	uint32_t h = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, k));

	return (uint64_t)h << 32 | l;
}

static ALWAYS_INLINE FOR_AVX2 struct group
group_avx2(const unsigned char *b)
{
	__m256i lo = _mm256_loadu_si256((const void *)b);
	__m256i hi = _mm256_loadu_si256((const void *)(b + 32));
	struct group g = { mask_avx2(lo, hi, '\n'), mask_avx2(lo, hi, '\r'),
	    mask_avx2(lo, hi, 'F') };

	return g;
}

static ALWAYS_INLINE uint64_t
mask_sse2(__m128i v, __m128i k)
{
	return (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, k));
}

/* Unrolled by hand: gcc -O2 would keep four vectors in memory. */
static ALWAYS_INLINE uint64_t
mask_sse2x4(const __m128i *v, char ch)
{
	__m128i k = _mm_set1_epi8(ch);

	return mask_sse2(v[0], k) | mask_sse2(v[1], k) << 16 |
	    mask_sse2(v[2], k) << 32 | mask_sse2(v[3], k) << 48;
}

static ALWAYS_INLINE struct group
group_sse2(const unsigned char *b)
{
	__m128i v[4] = { _mm_loadu_si128((const void *)b),
	    _mm_loadu_si128((const void *)(b + 16)),
	    _mm_loadu_si128((const void *)(b + 32)),
	    _mm_loadu_si128((const void *)(b + 48)) };
	struct group g = { mask_sse2x4(v, '\n'), mask_sse2x4(v, '\r'),
	    mask_sse2x4(v, 'F') };

	return g;
}

static FOR_AVX512 const unsigned char *
bulk_avx512(struct scan *s, const unsigned char *p,
    const unsigned char *limit, const unsigned char *end, off_t off)
{
	return bulk_with(group_avx512, s, p, limit, end, off);
}

static FOR_AVX2 const unsigned char *
bulk_avx2(struct scan *s, const unsigned char *p,
    const unsigned char *limit, const unsigned char *end, off_t off)
{
	return bulk_with(group_avx2, s, p, limit, end, off);
}

static const unsigned char *
bulk_sse2(struct scan *s, const unsigned char *p,
    const unsigned char *limit, const unsigned char *end, off_t off)
{
	return bulk_with(group_sse2, s, p, limit, end, off);
}
#else
/*
 * Elsewhere the masks are made in plain C, eight bytes at a time as one
 * number whose lowest byte is the first.
 */
static ALWAYS_INLINE uint64_t
word_at(const unsigned char *b)
{
	uint64_t w;

	memcpy(&w, b, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* 0x80 in each byte of w that is ch, 0 in the others (no carries). */
static ALWAYS_INLINE uint64_t
bytes_equal(uint64_t w, unsigned char ch)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t x = w ^ (0x0101010101010101ULL * ch);

	return ~(((x & low7) + low7) | x | low7);
}

/* The top bits of the bytes of t, byte i's as bit i: a gather by product. */
static ALWAYS_INLINE uint64_t
top_bits(uint64_t t)
{
	return ((t >> 7) * 0x0102040810204080ULL) >> 56;
}

static ALWAYS_INLINE struct group
group_plain(const unsigned char *b)
{
	struct group g = { 0, 0, 0 };
	unsigned int i;
	uint64_t w;

	for (i = 0; i < 8; i++) {
		w = word_at(b + 8 * i);
		g.lf |= top_bits(bytes_equal(w, '\n')) << (8 * i);
		g.cr |= top_bits(bytes_equal(w, '\r')) << (8 * i);
		g.f |= top_bits(bytes_equal(w, 'F')) << (8 * i);
	}
	return g;
}
#endif

/*
 * Where the lines from p that go in bulk end. The CPU's features (and
 * whether the kernel saves its wide registers) are read before main();
 * asking costs a load and a test.
 */
static const unsigned char *
bulk(struct scan *s, const unsigned char *p, const unsigned char *limit,
    const unsigned char *end, off_t off)
{
	if (p >= limit || !s->started || s->mid_line) {
		return p;
	}
#if defined(__x86_64__)
	if (__builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi")) {
		if (__builtin_cpu_supports("avx512bw")) {
			return bulk_avx512(s, p, limit, end, off);
		}
		if (__builtin_cpu_supports("avx2")) {
			return bulk_avx2(s, p, limit, end, off);
		}
	}
	return bulk_sse2(s, p, limit, end, off);
#else
	return bulk_with(group_plain, s, p, limit, end, off);
#endif
}

ssize_t
mbox_scan(struct scan *s, const unsigned char *buf, size_t len, off_t base,
    int eof)
{
	const unsigned char *p = buf, *end = buf + len, *nl, *limit, *q;
	size_t n;
	int kind;

	limit = whole_lines_end(buf, end);
	s->run = NULL;
	while (p < end) {
		q = bulk(s, p, limit, end, base + (p - buf));
		if (q != p) {
			p = q;
			continue;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL && !eof && p != buf && !s->mid_line) {
			break;
		}
		n = nl == NULL ? (size_t)(end - p) : (size_t)(nl - p) + 1;
		if (s->mid_line) {
			continue_line(s, p, n, nl != NULL);
		} else {
			kind = line_start(s, p, (size_t)(end - p),
			    base + (p - buf), n, nl != NULL);
			if (kind == -1) {
				return -1;
			}
			s->kind = kind;
			if (kind != LINE_OUTSIDE) {
				count_line(s, p, n, nl != NULL);
			}
		}
		if (s->kind != LINE_TEXT) {
			flush_run(s, p);
		} else if (s->run == NULL) {
			s->run = p;
		}
		s->last_cr = p[n - 1] == '\r';
		s->mid_line = nl == NULL;
		p += n;
	}
	flush_run(s, p);
	return p - buf;
}

/*
 * Indexes into msgs, which is in file order: an index is an offset. Any
 * order of the hashes groups the copies, so they are compared as two
 * words rather than with memcmp() (the sort runs 2 M comparisons for
 * 100,000 messages).
 */
static int
by_hash_then_index(const void *a, const void *b, void *msgs)
{
	uint32_t i = *(const uint32_t *)a, k = *(const uint32_t *)b;
	const struct msg *m = msgs;
	uint64_t x[2], y[2];

	memcpy(x, m[i].hash, sizeof(x));
	memcpy(y, m[k].hash, sizeof(y));
	if (x[0] != y[0]) {
		return x[0] < y[0] ? -1 : 1;
	}
	if (x[1] != y[1]) {
		return x[1] < y[1] ? -1 : 1;
	}
	return (i > k) - (i < k);
}

/* Where m falls in a filter of slots bits, a power of 2. */
static size_t
filter_slot(const struct msg *m, size_t slots)
{
	uint64_t h;

	memcpy(&h, m->hash, sizeof(h));
	return (size_t)(h & (slots - 1));
}

/*
 * The messages that may have a copy, in file order (*n of them): a filter
 * of 8 bits a message marks the slots hit once and those hit again, and
 * every copy of a message hits its slot.
 */
static uint32_t *
maybe_copies(const struct msg *msgs, size_t count, size_t *n)
{
	unsigned char *once, *again, bit;
	uint32_t *maybe;
	size_t slots = 64, i, k;

	while (slots < 8 * count) {
		slots *= 2;
	}
	once = calloc(2, slots / 8);
	if (once == NULL) {
		return NULL;
	}
	again = once + slots / 8;
	for (i = 0; i < count; i++) {
		k = filter_slot(&msgs[i], slots);
		bit = (unsigned char)(1U << (k % 8));
		again[k / 8] |= once[k / 8] & bit;
		once[k / 8] |= bit;
	}
	*n = 0;
	maybe = reallocarray(NULL, count, sizeof(*maybe));
	for (i = 0; maybe != NULL && i < count; i++) {
		k = filter_slot(&msgs[i], slots);
		if ((again[k / 8] >> (k % 8)) & 1) {
			maybe[(*n)++] = (uint32_t)i;
		}
	}
	free(once);
	return maybe;
}

/*
 * Identical messages get distinct UIDLs: the n-th copy carries "-n".
 * Copies are rare, so only the messages that may have one are sorted.
 */
static int
number_duplicates(struct msg *msgs, size_t count)
{
	uint32_t *order;
	size_t i, n;

	order = maybe_copies(msgs, count, &n);
	if (order == NULL) {
		return -1;
	}
	qsort_r(order, n, sizeof(*order), by_hash_then_index, msgs);
	for (i = 1; i < n; i++) {
		if (memcmp(msgs[order[i]].hash, msgs[order[i - 1]].hash,
		    sizeof(msgs[0].hash)) == 0) {
			msgs[order[i]].dup = (msgs[order[i - 1]].dup + 1) &
			    DUP_MAX;
		}
	}
	free(order);
	return 0;
}

static int
by_xuidl_then_offset(const void *a, const void *b, void *pool)
{
	const struct msg *x = *(const struct msg *const *)a;
	const struct msg *y = *(const struct msg *const *)b;
	int c = strcmp((const char *)pool + x->xuidl - 1,
	    (const char *)pool + y->xuidl - 1);

	if (c != 0) {
		return c;
	}
	return (x->from > y->from) - (x->from < y->from);
}

/* The messages with a UIDL in the pool, *k of them, by it, then in order. */
static struct msg **
by_pool_uidl(struct scan *s, size_t *k)
{
	struct msg **order;
	size_t i;

	order = reallocarray(NULL, s->count, sizeof(*order));
	if (order == NULL) {
		return NULL;
	}
	*k = 0;
	for (i = 0; i < s->count; i++) {
		if (s->msgs[i].xuidl != 0) {
			order[(*k)++] = &s->msgs[i];
		}
	}
	qsort_r(order, *k, sizeof(*order), by_xuidl_then_offset, s->pool);
	return order;
}

static int
same_pool_uidl(const struct scan *s, const struct msg *a, const struct msg *b)
{
	return strcmp(s->pool + a->xuidl - 1, s->pool + b->xuidl - 1) == 0;
}

/* An X-UIDL that repeats is no id: every copy after the first loses it. */
static int
drop_repeated_xuidls(struct scan *s)
{
	struct msg **order;
	size_t i, k;

	order = by_pool_uidl(s, &k);
	if (order == NULL) {
		return -1;
	}
	for (i = k; i > 1; i--) {
		if (same_pool_uidl(s, order[i - 1], order[i - 2])) {
			order[i - 1]->xuidl = 0;
		}
	}
	free(order);
	return 0;
}

/*
 * popa3d gives one id to messages whose hashed lines are the same (or that
 * have none); RFC 1939 wants them unique. The first in the file keeps it,
 * each later one gets "id-" and its content UIDL, which is unique and does
 * not depend on where the message is.
 */
static int
vary_popa3d_copies(struct scan *s)
{
	struct msg **order;
	char c[UIDL_MAX + 1], v[UIDL_MAX];
	size_t i, k, n;

	order = by_pool_uidl(s, &k);
	if (order == NULL) {
		return -1;
	}
	for (i = k; i > 1; i--) {
		if (!same_pool_uidl(s, order[i - 1], order[i - 2])) {
			continue;
		}
		mbox_uidl(order[i - 1], NULL, c);
		/* 16 + 1 + at most 40 octets: well within UIDL_MAX. */
		n = strnlen(c, UIDL_MAX - POPA3D_UIDL_LEN - 1);
		memcpy(v, s->pool + order[i - 1]->xuidl - 1, POPA3D_UIDL_LEN);
		v[POPA3D_UIDL_LEN] = '-';
		memcpy(v + POPA3D_UIDL_LEN + 1, c, n);
		if (pool_put(s, order[i - 1], v, POPA3D_UIDL_LEN + 1 + n) ==
		    -1) {
			free(order);
			return -1;
		}
	}
	free(order);
	return 0;
}

/* The pool's UIDLs made unique as --x-uidl or --uidl=popa3d says. */
static int
unique_pool_uidls(struct scan *s)
{
	if (s->pool == NULL) {
		return 0;
	}
	return s->want_popa3d ? vary_popa3d_copies(s) : drop_repeated_xuidls(s);
}

const struct msg *
mbox_scan_found(const struct scan *s, size_t *n)
{
	*n = s->count;
	return s->msgs;
}

struct msg *
mbox_scan_finish(struct scan *s, off_t end, size_t *n)
{
	struct msg *msgs;

	/*
	 * A last line without LF goes out with CRLF. It is hashed with the
	 * LF that an MDA writes before it appends (MDAs write LF, into CRLF
	 * files too): its UIDL stays the same once mail follows it.
	 */
	if (s->started && s->mid_line && s->kind != LINE_OUTSIDE) {
		current(s)->size += 2;
		if (s->kind == LINE_TEXT) {
			hash_update(s->xx, "\n", 1);
		}
	}
	close_message(s, end);
	*n = s->count;
	if (s->count == 0) {
		return NULL;
	}
	if (s->failed || number_duplicates(s->msgs, s->count) == -1 ||
	    unique_pool_uidls(s) == -1) {
		*n = 1;
		return NULL;
	}
	msgs = s->msgs;
	s->msgs = NULL;
	s->count = s->cap = 0;
	return msgs;
}

void
mbox_uidl(const struct msg *m, const char *pool, char out[UIDL_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n;

	if (pool != NULL && m->xuidl != 0) {
		n = strnlen(pool + m->xuidl - 1, UIDL_MAX);
		memcpy(out, pool + m->xuidl - 1, n);
		out[n] = '\0';
		return;
	}
	for (i = 0; i < sizeof(m->hash); i++) {
		out[2 * i] = hex[m->hash[i] >> 4];
		out[2 * i + 1] = hex[m->hash[i] & 0x0f];
	}
	out[32] = '\0';
	if (m->dup > 0) {
		snprintf(out + 32, UIDL_MAX + 1 - 32, "-%u",
		    m->dup < 9999999 ? m->dup + 1 : 9999999);
	}
}

void
top_begin(struct top *t, unsigned long lines)
{
	t->in_header = 1;
	t->last_cr = 0;
	t->lines_left = lines;
	t->linelen = 0;
}

int
top_done(const struct top *t)
{
	return !t->in_header && t->lines_left == 0;
}

size_t
top_take(struct top *t, const unsigned char *p, size_t len)
{
	const unsigned char *nl;
	size_t i = 0, n, total;
	int cr;

	while (i < len && !top_done(t)) {
		nl = memchr(p + i, '\n', len - i);
		if (nl == NULL) {
			t->linelen += len - i;
			t->last_cr = p[len - 1] == '\r';
			return len;
		}
		n = (size_t)(nl - (p + i));
		total = t->linelen + n;
		cr = n > 0 ? p[i + n - 1] == '\r' : t->last_cr;
		i += n + 1;
		t->linelen = 0;
		if (!t->in_header) {
			t->lines_left--;
		} else if (total == 0 || (total == 1 && cr)) {
			t->in_header = 0;
		}
	}
	return i;
}
