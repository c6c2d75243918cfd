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

#include "mbox.h"
#include "params.h"

struct scan {
	struct msg	*msgs;
	size_t		 count;
	size_t		 cap;
	XXH3_state_t	*xx;
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
	char		*pool;		/* X-UIDL values, NUL-terminated */
	size_t		 pool_len;
	size_t		 pool_cap;
};

/*
 * Headers that MUAs rewrite in place (status flags, folder bookkeeping,
 * lengths recomputed on sync): a UIDL must not change when they do.
 */
static const char *const volatile_headers[] = {
	"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase",
	"Content-Length", "Lines", NULL
};

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
mbox_scan_want_xuidl(struct scan *s)
{
	s->want_xuidl = 1;
}

char *
mbox_scan_take_pool(struct scan *s)
{
	char *p = s->pool;

	s->pool = NULL;
	s->pool_len = s->pool_cap = 0;
	return p;
}

static int
pool_add(struct scan *s, const unsigned char *v, size_t len)
{
	size_t cap;
	char *p;

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
	    7) != 0 || s->pool_len >= UINT32_MAX - UIDL_MAX) {
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
	    looks_like_hash_uidl(p + start, end - start) ||
	    pool_add(s, p + start, end - start) == -1) {
		return;
	}
	m->xuidl = (unsigned int)(s->pool_len - (end - start) - 1) + 1;
	m->xuidl_len = (unsigned char)(end - start);
}

static int
is_volatile_header(const unsigned char *p, size_t len)
{
	const char *const *h;
	size_t n;

	for (h = volatile_headers; *h != NULL; h++) {
		n = strlen(*h);
		if (len > n && p[n] == ':' &&
		    strncasecmp((const char *)p, *h, n) == 0) {
			return 1;
		}
	}
	return 0;
}

static struct msg *
current(struct scan *s)
{
	return &s->msgs[s->count - 1];
}

static void
close_message(struct scan *s, off_t end)
{
	struct msg *m;
	XXH128_hash_t h;

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
	s->started = 0;
}

static int
open_message(struct scan *s, off_t from, off_t start,
    const unsigned char *sep, size_t seplen)
{
	struct msg *m;
	size_t cap;

	if (s->count == s->cap) {
		if (s->count >= MESSAGES_MAX) {
			return -1;
		}
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
	XXH3_128bits_update(s->xx, sep, seplen);
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
		XXH3_128bits_update(s->xx, s->blank_len == 2 ? "\r\n" : "\n",
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
	count_line(s, p, n, has_lf);
}

ssize_t
mbox_scan(struct scan *s, const unsigned char *buf, size_t len, off_t base,
    int eof)
{
	const unsigned char *p = buf, *end = buf + len, *nl, *hashed = buf;
	size_t n;
	int kind;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL && !eof && p != buf && !s->mid_line) {
			break;
		}
		n = nl == NULL ? (size_t)(end - p) : (size_t)(nl - p) + 1;
		if (s->mid_line) {
			continue_line(s, p, n, nl != NULL);
		} else {
			if (s->started) {
				XXH3_128bits_update(s->xx, hashed,
				    (size_t)(p - hashed));
			}
			hashed = p;
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
			hashed = p + n;
		}
		s->last_cr = p[n - 1] == '\r';
		s->mid_line = nl == NULL;
		p += n;
	}
	if (s->started && p > hashed) {
		XXH3_128bits_update(s->xx, hashed, (size_t)(p - hashed));
	}
	return p - buf;
}

static int
by_hash_then_offset(const void *a, const void *b)
{
	const struct msg *x = *(const struct msg *const *)a;
	const struct msg *y = *(const struct msg *const *)b;
	int c = memcmp(x->hash, y->hash, sizeof(x->hash));

	if (c != 0) {
		return c;
	}
	return (x->from > y->from) - (x->from < y->from);
}

/* Identical messages get distinct UIDLs: the n-th copy carries "-n". */
static int
number_duplicates(struct msg *msgs, size_t count)
{
	struct msg **order;
	size_t i;

	order = reallocarray(NULL, count, sizeof(*order));
	if (order == NULL) {
		return -1;
	}
	for (i = 0; i < count; i++) {
		order[i] = &msgs[i];
	}
	qsort(order, count, sizeof(*order), by_hash_then_offset);
	for (i = 1; i < count; i++) {
		if (memcmp(order[i]->hash, order[i - 1]->hash,
		    sizeof(order[i]->hash)) == 0) {
			order[i]->dup = order[i - 1]->dup + 1;
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

/* An X-UIDL that repeats is no id: every copy after the first loses it. */
static int
drop_repeated_xuidls(struct scan *s)
{
	struct msg **order;
	size_t i, k = 0;

	if (s->pool == NULL) {
		return 0;
	}
	order = reallocarray(NULL, s->count, sizeof(*order));
	if (order == NULL) {
		return -1;
	}
	for (i = 0; i < s->count; i++) {
		if (s->msgs[i].xuidl != 0) {
			order[k++] = &s->msgs[i];
		}
	}
	qsort_r(order, k, sizeof(*order), by_xuidl_then_offset, s->pool);
	for (i = k; i > 1; i--) {
		if (strcmp(s->pool + order[i - 1]->xuidl - 1,
		    s->pool + order[i - 2]->xuidl - 1) == 0) {
			order[i - 1]->xuidl = 0;
			order[i - 1]->xuidl_len = 0;
		}
	}
	free(order);
	return 0;
}

struct msg *
mbox_scan_finish(struct scan *s, off_t end, size_t *n)
{
	struct msg *msgs;

	if (s->started && s->mid_line && s->kind != LINE_OUTSIDE) {
		current(s)->size += 2;
	}
	close_message(s, end);
	*n = s->count;
	if (s->count == 0) {
		return NULL;
	}
	if (number_duplicates(s->msgs, s->count) == -1 ||
	    drop_repeated_xuidls(s) == -1) {
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
	size_t i;

	if (pool != NULL && m->xuidl != 0) {
		memcpy(out, pool + m->xuidl - 1, m->xuidl_len);
		out[m->xuidl_len] = '\0';
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
