/* SPDX-License-Identifier: ISC */
/*
 * Bytes for the integration tests: growing strings, mbox files composed
 * from messages, what RETR must send for a stored message, and byte
 * comparisons that show where two strings part.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* How much of two differing strings a failure shows. */
#define SHOW_BEFORE	40

/* Grows by doubling: messages are built a byte at a time. */
void
text_add(struct text *t, const void *p, size_t n)
{
	size_t cap = t->p == NULL ? 64 : t->cap;

	while (cap < t->len + n + 1) {
		cap *= 2;
	}
	if (t->p == NULL || cap != t->cap) {
		t->p = realloc(t->p, cap);
		ck_assert_ptr_nonnull(t->p);
		t->cap = cap;
	}
	if (n > 0) {
		memcpy(t->p + t->len, p, n);
	}
	t->len += n;
	t->p[t->len] = '\0';
}

void
text_adds(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

void
text_free(struct text *t)
{
	free(t->p);
	t->p = NULL;
	t->len = 0;
	t->cap = 0;
}

void
mbox_compose(struct text *t, const char *const *msgs, size_t n,
    const char *eol)
{
	size_t i;

	text_add(t, "", 0);
	for (i = 0; i < n; i++) {
		text_adds(t, FROM_LINE);
		text_adds(t, eol);
		text_adds(t, msgs[i]);
		text_adds(t, eol);
	}
}

void
wire_form(struct text *t, const char *p, size_t len)
{
	size_t i;

	text_add(t, "", 0);
	for (i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) {
			text_add(t, "\r", 1);
		}
		text_add(t, p + i, 1);
	}
	if (len > 0 && p[len - 1] != '\n') {
		text_add(t, "\r\n", 2);
	}
}

static void
write_mailbox(int flags, const void *p, size_t len)
{
	int fd = open(W.mailbox, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    flags, 0600);

	ck_assert_msg(fd != -1, "%s: %s", W.mailbox, strerror(errno));
	ck_assert_int_eq(write(fd, p, len), (ssize_t)len);
	if (W.root) {
		ck_assert_int_eq(fchown(fd, W.uid, W.gid), 0);
	}
	ck_assert_int_eq(close(fd), 0);
}

void
mailbox_write(const void *p, size_t len)
{
	write_mailbox(O_TRUNC, p, len);
}

void
mailbox_append(const void *p, size_t len)
{
	write_mailbox(O_APPEND, p, len);
}

/* Composes the messages and hands the mbox to fn. */
static void
with_mbox(const char *const *msgs, size_t n, const char *eol,
    void (*fn)(const void *, size_t))
{
	struct text t = TEXT_INIT;

	mbox_compose(&t, msgs, n, eol);
	fn(t.p, t.len);
	text_free(&t);
}

void
mailbox_put(const char *const *msgs, size_t n, const char *eol)
{
	with_mbox(msgs, n, eol, mailbox_write);
}

char *
mailbox_read(size_t *len)
{
	return slurp(W.mailbox, len);
}

void
expect_mailbox(const void *p, size_t len)
{
	size_t n;
	char *now = mailbox_read(&n);

	expect_bytes("mailbox", now, n, p, len);
	free(now);
}

void
expect_mailbox_msgs(const char *const *msgs, size_t n, const char *eol)
{
	with_mbox(msgs, n, eol, expect_mailbox);
}

char *
slurp(const char *path, size_t *len)
{
	struct text t = TEXT_INIT;
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	text_add(&t, "", 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		text_add(&t, buf, (size_t)n);
	}
	close(fd);
	ck_assert_msg(n == 0, "%s: %s", path, strerror(errno));
	*len = t.len;
	return t.p;
}

void
dump_file(const char *path)
{
	size_t len;
	char *p = slurp(path, &len);

	fprintf(stderr, "---- %s\n%s---- end\n", path, p);
	free(p);
}

void
expect_bytes(const char *what, const void *got, size_t glen,
    const void *want, size_t wlen)
{
	const char *g = got, *w = want;
	size_t d = 0, from;

	while (d < glen && d < wlen && g[d] == w[d]) {
		d++;
	}
	if (d == glen && d == wlen) {
		return;
	}
	from = d > SHOW_BEFORE ? d - SHOW_BEFORE : 0;
	ck_abort_msg("%s differs at byte %zu (lengths %zu, want %zu): got "
	    "\"%s\", want \"%s\"", what, d, glen, wlen,
	    show(g + from, glen - from, 0), show(w + from, wlen - from, 1));
}

/* Three small messages, LF-terminated, as most tests store them. */
const char *const sample[SAMPLE_COUNT] = {
	"Subject: first\nFrom: alice@example.org\n\nHello.\n",
	"Subject: second\nFrom: bob@example.org\n\nThe second message,\n"
	    "in two lines.\n",
	"Subject: third\n\nThird.\n"
};

unsigned long long
wire_size(const char *stored)
{
	struct text t = TEXT_INIT;
	unsigned long long n;

	wire_form(&t, stored, strlen(stored));
	n = t.len;
	text_free(&t);
	return n;
}

const char *
maildrop_reply(const char *const *msgs, size_t n)
{
	static char out[128];
	unsigned long long size = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		size += wire_size(msgs[i]);
	}
	snprintf(out, sizeof(out), "+OK maildrop has %zu messages (%llu "
	    "octets)", n, size);
	return out;
}
