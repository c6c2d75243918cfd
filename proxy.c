/* SPDX-License-Identifier: ISC */
/*
 * PROXY protocol headers, v1 (text) and v2 (binary). Runs unprivileged, in
 * the pre-login child; (buf, len) in, nothing trusted beyond what it
 * checks: exact keywords, single spaces, addresses through inet_pton(),
 * ports in range, lengths within bounds.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"

static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/*
 * The address as text; IPv4-mapped IPv6 as IPv4, as the rest of pop3d
 * logs it and fail2ban bans it. -1 if it does not fit.
 */
static int
addr_text(int af, const unsigned char *bin, char *out, size_t len)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (af == AF_INET6 && memcmp(bin, mapped, sizeof(mapped)) == 0) {
		af = AF_INET;
		bin += sizeof(mapped);
	}
	return inet_ntop(af, bin, out, (socklen_t)len) == NULL ? -1 : 0;
}

/* The first n bytes of buf agree with prefix (of plen bytes). */
static int
starts(const unsigned char *buf, size_t n, const void *prefix, size_t plen)
{
	return memcmp(buf, prefix, n < plen ? n : plen) == 0;
}

/* Next space-separated token of [*p, end); -1 if empty. */
static int
token(const char **p, const char *end, char *out, size_t outlen)
{
	const char *sp = memchr(*p, ' ', (size_t)(end - *p));
	size_t n = (size_t)((sp == NULL ? end : sp) - *p);

	if (n == 0 || n >= outlen) {
		return -1;
	}
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n + (sp != NULL);
	return 0;
}

static int
port_ok(const char *s)
{
	unsigned long v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0')) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return 0;
		}
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= 65535;
}

/* "TCP4 src dst sport dport" or "TCP6 ..." after "PROXY ". */
static enum proxy_result
v1_fields(const char *p, const char *end, char *addr, size_t addrlen)
{
	char proto[8], src[64], dst[64], sport[8], dport[8];
	unsigned char bin[sizeof(struct in6_addr)];
	int af;

	if (token(&p, end, proto, sizeof(proto)) == -1) {
		return PROXY_BAD;
	}
	if (strcmp(proto, "UNKNOWN") == 0) {
		addr[0] = '\0';
		return PROXY_OK;
	}
	af = strcmp(proto, "TCP4") == 0 ? AF_INET :
	    strcmp(proto, "TCP6") == 0 ? AF_INET6 : -1;
	if (af == -1 || token(&p, end, src, sizeof(src)) == -1 ||
	    token(&p, end, dst, sizeof(dst)) == -1 ||
	    token(&p, end, sport, sizeof(sport)) == -1 ||
	    token(&p, end, dport, sizeof(dport)) == -1 || p != end ||
	    end[-1] == ' ' || inet_pton(af, dst, bin) != 1 ||
	    inet_pton(af, src, bin) != 1 || !port_ok(sport) ||
	    !port_ok(dport) || addr_text(af, bin, addr, addrlen) == -1) {
		return PROXY_BAD;
	}
	return PROXY_OK;
}

static enum proxy_result
parse_v1(const unsigned char *buf, size_t len, char *addr, size_t addrlen,
    size_t *used)
{
	const unsigned char *cr;
	size_t n = len < PROXY_V1_MAX - 1 ? len : PROXY_V1_MAX - 1;

	cr = memchr(buf, '\r', n);
	if (memchr(buf, '\n', cr == NULL ? n : (size_t)(cr - buf)) != NULL) {
		return PROXY_BAD;
	}
	if (cr == NULL) {
		return len < PROXY_V1_MAX - 1 ? PROXY_MORE : PROXY_BAD;
	}
	if ((size_t)(cr - buf) + 1 == len) {
		return PROXY_MORE;
	}
	if (cr[1] != '\n' || memchr(buf, '\0', (size_t)(cr - buf)) != NULL) {
		return PROXY_BAD;
	}
	*used = (size_t)(cr - buf) + 2;
	return v1_fields((const char *)buf + 6, (const char *)cr, addr,
	    addrlen);
}

static enum proxy_result
v2_address(const unsigned char *a, size_t alen, unsigned char fam,
    char *addr, size_t addrlen)
{
	addr[0] = '\0';
	if (fam == 0x11 || fam == 0x12) {
		if (alen < 12 || addr_text(AF_INET, a, addr, addrlen) == -1) {
			return PROXY_BAD;
		}
	} else if (fam == 0x21 || fam == 0x22) {
		if (alen < 36 || addr_text(AF_INET6, a, addr, addrlen) == -1) {
			return PROXY_BAD;
		}
	} else if (fam != 0x00 && fam != 0x31 && fam != 0x32) {
		return PROXY_BAD;
	}
	return PROXY_OK;
}

static enum proxy_result
parse_v2(const unsigned char *buf, size_t len, char *addr, size_t addrlen,
    size_t *used)
{
	size_t alen;

	if (len < 16) {
		return PROXY_MORE;
	}
	alen = (size_t)buf[14] << 8 | buf[15];
	if ((buf[12] & 0xf0) != 0x20 || (buf[12] & 0x0f) > 1 ||
	    16 + alen > PROXY_V2_MAX) {
		return PROXY_BAD;
	}
	if (len < 16 + alen) {
		return PROXY_MORE;
	}
	*used = 16 + alen;
	if ((buf[12] & 0x0f) == 0) {
		addr[0] = '\0';		/* LOCAL: the proxy's own check */
		return PROXY_OK;
	}
	return v2_address(buf + 16, alen, buf[13], addr, addrlen);
}

enum proxy_result
proxy_parse(const unsigned char *buf, size_t len, char *addr,
    size_t addrlen, size_t *used)
{
	if (len == 0) {
		return PROXY_MORE;
	}
	if (starts(buf, len, "PROXY ", 6)) {
		return len < 6 ? PROXY_MORE :
		    parse_v1(buf, len, addr, addrlen, used);
	}
	if (starts(buf, len, v2_sig, sizeof(v2_sig))) {
		return parse_v2(buf, len, addr, addrlen, used);
	}
	return PROXY_BAD;
}
