/* SPDX-License-Identifier: ISC */
/*
 * proxy.c: PROXY protocol v1 and v2 headers, whole, cut short at every
 * byte, and malformed; peer.c's address lists.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"
#include "proxy.h"
#include "tests/unit.h"

struct proxy_case {
	const char	*hdr;
	size_t		 len;
	const char	*addr;		/* NULL: refused */
	size_t		 used;
};

#define H(s)	s, sizeof(s) - 1

static const char v2_tcp4[] = "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c"
    "\xc6\x33\x64\x09\x0a\x00\x00\x01\x0f\xa0\x00\x6e";
static const char v2_local[] = "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00";
static const char v2_tcp6[] = "\r\n\r\n\0\r\nQUIT\n\x21\x21\x00\x24"
    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07"
    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x0f\xa0\x00\x6e";

static const struct proxy_case cases[] = {
	{ H("PROXY TCP4 192.0.2.55 10.0.0.1 51234 110\r\n"), "192.0.2.55",
	    42 },
	{ H("PROXY TCP6 2001:db8::7 2001:db8::1 1 65535\r\n"), "2001:db8::7",
	    44 },
	{ H("PROXY UNKNOWN\r\n"), "", 15 },
	{ H("PROXY TCP6 ::ffff:192.0.2.9 ::ffff:10.0.0.1 1 2\r\n"),
	    "192.0.2.9", 49 },
	{ H("PROXY UNKNOWN ffff:f...f ffff:f...f 65535 65535\r\n"), "", 49 },
	{ v2_tcp4, sizeof(v2_tcp4) - 1, "198.51.100.9", 28 },
	{ v2_local, sizeof(v2_local) - 1, "", 16 },
	{ v2_tcp6, sizeof(v2_tcp6) - 1, "2001:db8::7", 52 },
	{ H("PROXY TCP4 192.0.2.55  10.0.0.1 51234 110\r\n"), NULL, 0 },
	{ H("PROXY TCP4 192.0.2.55 10.0.0.1 51234 110 \r\n"), NULL, 0 },
	{ H("PROXY TCP4 192.0.2.555 10.0.0.1 51234 110\r\n"), NULL, 0 },
	{ H("PROXY TCP4 2001:db8::7 10.0.0.1 51234 110\r\n"), NULL, 0 },
	{ H("PROXY TCP4 192.0.2.55 10.0.0.1 65536 110\r\n"), NULL, 0 },
	{ H("PROXY TCP4 192.0.2.55 10.0.0.1 0123 110\r\n"), NULL, 0 },
	{ H("PROXY TCP5 192.0.2.55 10.0.0.1 1 2\r\n"), NULL, 0 },
	{ H("PROXY TCP4 192.0.2.55 10.0.0.1 1 2\n"), NULL, 0 },
	{ H("PROXY TCP4 192.0.2.55 10.0.0.1 1 2\r\r"), NULL, 0 },
	{ H("proxy TCP4 192.0.2.55 10.0.0.1 1 2\r\n"), NULL, 0 },
	{ H("USER demo\r\n"), NULL, 0 },
	{ H("\r\n\r\n\0\r\nQUIT\n\x31\x11\x00\x00"), NULL, 0 },
	{ H("\r\n\r\n\0\r\nQUIT\n\x22\x11\x00\x00"), NULL, 0 },
	{ H("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x04\1\2\3\4"), NULL, 0 },
	{ H("\r\n\r\n\0\r\nQUIT\n\x21\x41\x00\x00"), NULL, 0 },
	{ H("\r\n\r\n\0\r\nQUIT\n\x21\x11\xff\xff"), NULL, 0 },
};

START_TEST(test_proxy_header)
{
	const struct proxy_case *c = &cases[_i];
	char addr[64];
	size_t used = 0;
	enum proxy_result r;

	r = proxy_parse((const unsigned char *)c->hdr, c->len, addr,
	    sizeof(addr), &used);
	if (c->addr == NULL) {
		ck_assert_msg(r == PROXY_BAD, "case %d: %d", _i, r);
		return;
	}
	ck_assert_msg(r == PROXY_OK, "case %d: %d", _i, r);
	ck_assert_str_eq(addr, c->addr);
	ck_assert_uint_eq(used, c->used);
}
END_TEST

/* Every proper prefix of a valid header asks for more, never decides. */
START_TEST(test_proxy_header_cut_short)
{
	const struct proxy_case *c = &cases[_i];
	char addr[64];
	size_t n, used;

	if (c->addr == NULL) {
		return;
	}
	for (n = 0; n < c->used; n++) {
		ck_assert_msg(proxy_parse((const unsigned char *)c->hdr, n,
		    addr, sizeof(addr), &used) == PROXY_MORE,
		    "case %d, %zu bytes", _i, n);
	}
}
END_TEST

START_TEST(test_proxy_v1_without_end_is_refused)
{
	unsigned char buf[PROXY_V1_MAX + 10];
	char addr[64];
	size_t used;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "PROXY ", 6);
	ck_assert_int_eq(proxy_parse(buf, sizeof(buf), addr, sizeof(addr),
	    &used), PROXY_BAD);
}
END_TEST

START_TEST(test_peer_lists)
{
	ck_assert_int_eq(peer_list_ok("127.0.0.1"), 0);
	ck_assert_int_eq(peer_list_ok("127.0.0.1,::1,192.0.2.1"), 0);
	ck_assert_int_eq(peer_list_ok(""), -1);
	ck_assert_int_eq(peer_list_ok("127.0.0.1,"), -1);
	ck_assert_int_eq(peer_list_ok("localhost"), -1);
	ck_assert_int_eq(peer_list_ok("10.0.0.0/8"), -1);
	ck_assert_int_eq(peer_in_list(-1, "127.0.0.1"), 0);
}
END_TEST

/*
 * Without a network socket on fd, the superserver's environment names
 * the client: REMOTE_ADDR (systemd), REMOTE_HOST (xinetd, stunnel),
 * TCPREMOTEIP (ucspi-tcp), in that order; only valid addresses count.
 */
START_TEST(test_peer_from_environment)
{
	char out[64];
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	unsetenv("REMOTE_ADDR");
	unsetenv("REMOTE_HOST");
	unsetenv("TCPREMOTEIP");
	peer_address(sv[0], out, sizeof(out));
	ck_assert_str_eq(out, "unknown");
	setenv("TCPREMOTEIP", "2001:db8::9", 1);
	peer_address(sv[0], out, sizeof(out));
	ck_assert_str_eq(out, "2001:db8::9");
	setenv("REMOTE_HOST", "::ffff:192.0.2.8", 1);
	peer_address(sv[0], out, sizeof(out));
	ck_assert_str_eq(out, "192.0.2.8");
	setenv("REMOTE_ADDR", "x, ip=[6.6.6.6]", 1);
	peer_address(sv[0], out, sizeof(out));
	ck_assert_str_eq(out, "192.0.2.8");
	setenv("REMOTE_ADDR", "198.51.100.1", 1);
	peer_address(sv[0], out, sizeof(out));
	ck_assert_str_eq(out, "198.51.100.1");
	close(sv[0]);
	close(sv[1]);
}
END_TEST

Suite *
proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("proxy");
	int n = (int)(sizeof(cases) / sizeof(cases[0]));

	tcase_add_loop_test(tc, test_proxy_header, 0, n);
	tcase_add_loop_test(tc, test_proxy_header_cut_short, 0, n);
	ADD_TESTS(tc, test_proxy_v1_without_end_is_refused, test_peer_lists,
	    test_peer_from_environment);
	suite_add_tcase(s, tc);
	return s;
}
