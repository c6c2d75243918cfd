/* SPDX-License-Identifier: ISC */
/*
 * popa3d 1.0.3's UIDLs, as read in its source and observed on Debian's
 * binary (tests/t-uidl-popa3d.py compares the two). Runs as the user.
 *
 * popa3d's id of a message is MD5 over the raw bytes, line ends included,
 * of a few header lines in file order, each with its continuation lines:
 * the first "Received:"; every "Delivered-To:"; "Date:" and "Message-ID:"
 * only before the first "Received:"; every "X-Delivery-ID:", with an
 * upper-case X only. A name matches without regard to case and only with
 * its colon right after it. Nothing else counts: not the From_ line, the
 * body or the size. The header ends at the first line that is a lone LF
 * (a CRLF line does not end it, so in a CRLF message body lines count
 * too). A last line without LF is hashed as it is. Two messages with the
 * same such lines (or none at all) get the same id.
 */
#include <string.h>
#include <strings.h>

#include "popa3d.h"

void
popa3d_begin(struct popa3d *p)
{
	MD5Init(&p->md5);
	p->in_header = 1;
	p->hashed = 0;
	p->received = 0;
}

/* The header name and its colon start the line. */
static int
named(const unsigned char *p, size_t avail, const char *name)
{
	size_t n = strlen(name);

	return avail >= n && strncasecmp((const char *)p, name, n) == 0;
}

static int
hashed_line(struct popa3d *p, const unsigned char *s, size_t avail)
{
	switch (s[0]) {
	case ' ':
	case '\t':
		return p->hashed;
	case 'R':
	case 'r':
		if (p->received) {
			return 0;
		}
		p->received = named(s, avail, "Received:");
		return p->received;
	case 'D':
	case 'd':
		return named(s, avail, "Delivered-To:") ||
		    (!p->received && named(s, avail, "Date:"));
	case 'M':
	case 'm':
		return !p->received && named(s, avail, "Message-ID:");
	case 'X':
		return named(s, avail, "X-Delivery-ID:");
	default:
		return 0;
	}
}

void
popa3d_line(struct popa3d *p, const unsigned char *s, size_t n,
    size_t avail)
{
	if (!p->in_header) {
		return;
	}
	if (s[0] == '\n') {
		p->in_header = 0;
		p->hashed = 0;
		return;
	}
	p->hashed = hashed_line(p, s, avail);
	popa3d_more(p, s, n);
}

void
popa3d_more(struct popa3d *p, const unsigned char *s, size_t n)
{
	if (p->hashed) {
		MD5Update(&p->md5, s, n);
	}
}

int
popa3d_may_hash(const struct popa3d *p, unsigned char c)
{
	if (!p->in_header) {
		return 0;
	}
	if (c == ' ' || c == '\t') {
		return p->hashed;
	}
	switch (c) {
	case 'R': case 'r':	/* Received: */
	case 'D': case 'd':	/* Date:, Delivered-To: */
	case 'M': case 'm':	/* Message-ID: */
	case 'X':		/* X-Delivery-ID:, upper case only */
		return 1;
	default:
		return 0;
	}
}

/* popa3d prints the first two 32-bit words of the digest, little-endian. */
void
popa3d_end(struct popa3d *p, char out[POPA3D_UIDL_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	static const unsigned char order[8] = { 3, 2, 1, 0, 7, 6, 5, 4 };
	unsigned char d[MD5_DIGEST_LENGTH];
	size_t i;

	MD5Final(d, &p->md5);
	for (i = 0; i < sizeof(order); i++) {
		out[2 * i] = hex[d[order[i]] >> 4];
		out[2 * i + 1] = hex[d[order[i]] & 0x0f];
	}
	out[POPA3D_UIDL_LEN] = '\0';
}
