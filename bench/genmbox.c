/* SPDX-License-Identifier: ISC */
/*
 * genmbox: writes a deterministic, realistic mbox (mboxo, as Debian's MDAs
 * write it) of COUNT messages.
 *
 *	genmbox COUNT FILE [SEED]
 *
 * Message i depends only on (SEED, i), so the mailbox of N messages is the
 * first N messages of every larger one. What is in it:
 *
 * - headers as delivered mail has them: Return-Path, two to four Received
 *   lines with folded continuations, a folded DKIM-Signature on most,
 *   From/To/Subject (some RFC 2047 encoded)/Date/Message-ID (unique), MIME
 *   headers, list headers on some, Status: RO on some;
 * - bodies: plain text (71 %), text + HTML alternatives with long HTML
 *   lines (22 %), attachments of 8 to 40 KB in base64 (6.5 %), of 100 to
 *   400 KB (0.4 %), and one of 1 to 2.5 MB (1.3 to 3.3 MB as base64) in
 *   every 1000 messages (message 38, 1038, ...);
 * - the lines servers must handle: lines that are only ".", "..", start
 *   with "." (byte-stuffing), ">From " lines (mboxo quoting), lines of 1 to
 *   20 KB, and one line of 200 KB in every 1000 messages (message 538, ...).
 *
 * The average message is about 10 KB: 10,000 messages make about 100 MB,
 * 100,000 about 1 GB. No message has a body line starting "From ".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bump when the output changes, so that cached mailboxes are remade. */
#define GENMBOX_VERSION	1

struct rng {
	uint64_t	s;
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
next(struct rng *r)
{
	return splitmix64(&r->s);
}

/* A number in [lo, hi]. */
static unsigned long
range(struct rng *r, unsigned long lo, unsigned long hi)
{
	return lo + (unsigned long)(next(r) % (hi - lo + 1));
}

static int
chance(struct rng *r, unsigned int percent)
{
	return next(r) % 100 < percent;
}

static FILE *out;

static void
put(const char *s, size_t n)
{
	if (fwrite(s, 1, n, out) != n) {
		perror("genmbox: write");
		exit(1);
	}
}

static void
puts_(const char *s)
{
	put(s, strlen(s));
}

static void
printf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
printf_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vfprintf(out, fmt, ap) < 0) {
		perror("genmbox: write");
		exit(1);
	}
	va_end(ap);
}

static const char *const words[] = {
	"the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as",
	"was", "with", "be", "by", "on", "not", "he", "this", "are", "or",
	"his", "from", "at", "which", "but", "have", "an", "had", "they",
	"you", "were", "their", "one", "all", "we", "can", "her", "has",
	"there", "been", "if", "more", "when", "will", "would", "who", "so",
	"no", "meeting", "report", "server", "mailbox", "invoice", "project",
	"budget", "schedule", "attached", "please", "thanks", "regards",
	"tomorrow", "review", "draft", "version", "release", "customer",
	"delivery", "network", "configuration", "backup", "holiday", "office",
	"quarterly", "numbers", "deadline", "question", "answer", "update",
	"Grüße", "naïve", "café", "€100", "über", "déjà", "vu", "résumé",
};
#define NWORDS	(sizeof(words) / sizeof(words[0]))

static const char *const names[] = {
	"Alice Martin", "Bob Schneider", "Carol Dubois", "Dave O'Neil",
	"Eve Kowalski", "Frank Müller", "Grace Hopper", "Heidi Larsen",
	"Ivan Petrov", "Judy Nakamura", "Mallory Smith", "Oscar Rossi",
};
#define NNAMES	(sizeof(names) / sizeof(names[0]))

static const char *const lists[] = {
	"debian-devel.lists.debian.org", "linux-kernel.vger.kernel.org",
	"announce.example.org", "newsletter.shop.example.com",
};

static const char *const days[] = {
	"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
};
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Words up to about n bytes, wrapped at 72 columns. */
static void
text(struct rng *r, size_t n, int quirks)
{
	char line[200];
	size_t done = 0, len = 0, w;
	const char *word;

	while (done < n) {
		word = words[next(r) % NWORDS];
		w = strlen(word);
		if (len > 0 && len + 1 + w > 72) {
			line[len++] = '\n';
			put(line, len);
			done += len;
			len = 0;
			if (next(r) % 8 == 0) {
				puts_("\n");
				done++;
			}
			if (quirks && next(r) % 40 == 0) {
				switch (next(r) % 6) {
				case 0:
					puts_(".\n");
					break;
				case 1:
					puts_("..\n");
					break;
				case 2:
					puts_(".signature follows\n");
					break;
				case 3:
					puts_(">From the archives: quoted by "
					    "the MDA\n");
					break;
				case 4:
					puts_(">>From twice quoted\n");
					break;
				default:
					puts_("From: a header-like body line "
					    "(no separator)\n");
					break;
				}
			}
			continue;
		}
		if (len > 0) {
			line[len++] = ' ';
		}
		memcpy(line + len, word, w);
		len += w;
		if (next(r) % 12 == 0) {
			line[len++] = next(r) % 3 == 0 ? ',' : '.';
		}
	}
	if (len > 0) {
		line[len++] = '\n';
		put(line, len);
	}
}

/* One line of n bytes of HTML-ish text (no newline inside). */
static void
long_line(struct rng *r, size_t n)
{
	static const char *const tags[] = {
		"<td style=\"padding:0;margin:0\">", "</td>", "<tr>", "</tr>",
		"<span class=\"x\">", "</span>",
		("<a href=\"https://example.com/track?u=12345&amp;id=6789\">"),
		"</a>", "<br>", "&nbsp;",
	};
	const char *s;
	size_t done = 0, k;

	while (done < n) {
		if (next(r) % 3 == 0) {
			s = tags[next(r) % (sizeof(tags) / sizeof(tags[0]))];
		} else {
			s = words[next(r) % NWORDS];
		}
		k = strlen(s);
		put(s, k);
		put(" ", 1);
		done += k + 1;
	}
	put("\n", 1);
}

/* n bytes of attachment as base64, in 76-column lines. */
static void
base64(struct rng *r, size_t n)
{
	char line[78];
	size_t done = 0, i;
	uint64_t v = 0;
	int bits = 0;

	while (done < n) {
		for (i = 0; i < 76; i++) {
			if (bits < 6) {
				v = next(r);
				bits = 64;
			}
			line[i] = b64[v & 63];
			v >>= 6;
			bits -= 6;
		}
		line[76] = '\n';
		put(line, 77);
		done += 57;
	}
}

static void
headers(struct rng *r, unsigned long i, const char *ctype,
    const char *boundary)
{
	unsigned long t = 1700000000UL + i * 311 + (unsigned long)(next(r) %
	    300);
	unsigned long day = t / 86400, sec = t % 86400;
	unsigned long hops = range(r, 2, 4), h, k;
	const char *from = names[next(r) % NNAMES];
	int dom = (int)(day % 28) + 1, mon = (int)(day / 28 % 12);
	int year = 2023 + (int)(day / 336 % 3);
	char date[64];

	snprintf(date, sizeof(date), "%s, %d %s %d %02lu:%02lu:%02lu +0000",
	    days[day % 7], dom, months[mon], year, sec / 3600, sec / 60 % 60,
	    sec % 60);
	printf_("Return-Path: <sender%lu@example.org>\n", i % 997);
	for (h = 0; h < hops; h++) {
		printf_("Received: from mx%lu.example.org (mx%lu.example.org "
		    "[192.0.2.%lu])\n\tby mail.example.net (Postfix) with "
		    "ESMTPS id 4X%08lX%lu\n\tfor <user@example.net>; %s\n",
		    h, h, range(r, 1, 254), (unsigned long)(next(r) &
		    0xffffffff), h, date);
	}
	if (chance(r, 70)) {
		puts_("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; "
		    "d=example.org; s=2023;\n\tt=1700000000; bh=");
		for (k = 0; k < 44; k++) {
			put(&b64[next(r) % 64], 1);
		}
		puts_(";\n\th=From:To:Subject:Date:Message-ID:MIME-Version;\n"
		    "\tb=");
		for (h = 0; h < 4; h++) {
			for (k = 0; k < 70; k++) {
				put(&b64[next(r) % 64], 1);
			}
			puts_(h < 3 ? "\n\t " : "\n");
		}
	}
	printf_("From: %s <%s%lu@example.org>\n", from,
	    next(r) % 2 ? "noreply" : "sender", i % 997);
	puts_("To: user@example.net\n");
	if (chance(r, 10)) {
		puts_("Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4g4piV?=\n");
	} else {
		puts_("Subject: ");
		for (h = range(r, 2, 8); h > 0; h--) {
			puts_(words[next(r) % NWORDS]);
			puts_(h > 1 ? " " : "\n");
		}
	}
	printf_("Date: %s\n", date);
	printf_("Message-ID: <%lu.%016llx@example.org>\n", i,
	    (unsigned long long)next(r));
	if (chance(r, 15)) {
		printf_("List-Id: <%s>\nList-Unsubscribe: "
		    "<mailto:leave@example.org>\nPrecedence: list\n",
		    lists[next(r) % 4]);
	}
	puts_("MIME-Version: 1.0\n");
	if (boundary != NULL) {
		printf_("Content-Type: %s;\n\tboundary=\"%s\"\n", ctype,
		    boundary);
	} else {
		printf_("Content-Type: %s\nContent-Transfer-Encoding: 8bit\n",
		    ctype);
	}
	if (chance(r, 20)) {
		puts_("Status: RO\n");
	}
	puts_("\n");
}

static void
plain(struct rng *r, unsigned long i, size_t n)
{
	headers(r, i, "text/plain; charset=utf-8", NULL);
	text(r, n, 1);
	if (chance(r, 3)) {
		long_line(r, range(r, 1000, 20000));
	}
	puts_("-- \nSent from a benchmark\n");
}

static void
alternative(struct rng *r, unsigned long i, size_t n)
{
	char bnd[40];

	snprintf(bnd, sizeof(bnd), "=_alt_%lu_%08lx", i,
	    (unsigned long)(next(r) & 0xffffffff));
	headers(r, i, "multipart/alternative", bnd);
	printf_("This is a multi-part message in MIME format.\n\n--%s\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n", bnd);
	text(r, n / 3, 1);
	printf_("\n--%s\nContent-Type: text/html; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n<html><body>\n", bnd);
	while (n > 0) {
		size_t k = range(r, 200, 8000);

		k = k > n ? n : k;
		long_line(r, k);
		n -= k;
	}
	printf_("</body></html>\n\n--%s--\n", bnd);
}

static void
attachment(struct rng *r, unsigned long i, size_t n)
{
	static const char *const kinds[] = {
		"application/pdf; name=\"report.pdf\"",
		"image/jpeg; name=\"photo.jpg\"",
		"application/zip; name=\"archive.zip\"",
		("application/vnd.openxmlformats-officedocument."
		"spreadsheetml.sheet; name=\"numbers.xlsx\""),
	};
	char bnd[40];

	snprintf(bnd, sizeof(bnd), "=_mix_%lu_%08lx", i,
	    (unsigned long)(next(r) & 0xffffffff));
	headers(r, i, "multipart/mixed", bnd);
	printf_("This is a multi-part message in MIME format.\n\n--%s\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n", bnd);
	text(r, range(r, 200, 2000), 1);
	printf_("\n--%s\nContent-Type: %s\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment\n\n", bnd, kinds[next(r) % 4]);
	base64(r, n);
	printf_("\n--%s--\n", bnd);
}

static void
message(uint64_t seed, unsigned long i)
{
	struct rng r;
	unsigned long kind;

	r.s = seed ^ (0xd1b54a32d192ed03ULL * (i + 1));
	(void)next(&r);
	printf_("From sender%lu@example.org  %s %s %2lu %02lu:%02lu:%02lu "
	    "2025\n", i % 997, days[i % 7], months[i / 1000 % 12],
	    i / 100 % 28 + 1, i / 60 % 24, i % 60, (i * 7) % 60);
	if (i % 1000 == 37) {
		attachment(&r, i, range(&r, 1000000, 2500000));
		return;
	}
	if (i % 1000 == 537) {
		headers(&r, i, "text/html; charset=utf-8", NULL);
		long_line(&r, 200000);
		return;
	}
	kind = (unsigned long)(next(&r) % 1000);
	if (kind < 711) {
		plain(&r, i, range(&r, 300, 4000));
	} else if (kind < 931) {
		alternative(&r, i, range(&r, 2000, 9000));
	} else if (kind < 996) {
		attachment(&r, i, range(&r, 8000, 40000));
	} else {
		attachment(&r, i, range(&r, 100000, 400000));
	}
}

int
main(int argc, char **argv)
{
	unsigned long count, i;
	uint64_t seed = 1939;
	char *end;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("%d\n", GENMBOX_VERSION);
		return 0;
	}
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: genmbox COUNT FILE [SEED]\n");
		return 64;
	}
	errno = 0;
	count = strtoul(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || count == 0) {
		fprintf(stderr, "genmbox: bad count %s\n", argv[1]);
		return 64;
	}
	if (argc == 4) {
		seed = strtoull(argv[3], &end, 10);
		if (*end != '\0') {
			fprintf(stderr, "genmbox: bad seed %s\n", argv[3]);
			return 64;
		}
	}
	out = fopen(argv[2], "w");
	if (out == NULL) {
		perror(argv[2]);
		return 1;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	/* Every message ends with an empty line, as Postfix writes it. */
	for (i = 0; i < count; i++) {
		message(seed, i);
		puts_("\n");
	}
	if (fclose(out) != 0) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
