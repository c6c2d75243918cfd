/* SPDX-License-Identifier: ISC */
/*
 * monmsg.c: the messages between the pre-login child and the monitor, the
 * parser the monitor trusts, and the real SOCK_SEQPACKET channel.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monmsg.h"
#include "tests/unit.h"

/*
 * An AUTH message: 'A', the method, the two lengths as given, then user
 * and pass.
 */
static size_t
auth_msg(unsigned char *buf, unsigned int ulen, unsigned int plen,
    const char *user, const char *pass)
{
	size_t u = strlen(user), p = strlen(pass);

	buf[0] = 'A';
	buf[1] = METHOD_PLAIN;
	buf[2] = (unsigned char)ulen;
	buf[3] = (unsigned char)plen;
	memcpy(buf + 4, user, u);
	memcpy(buf + 4 + u, pass, p);
	return 4 + u + p;
}

/* priv_parse_auth() refuses and leaves *a untouched. */
static void
check_refused(const unsigned char *buf, size_t len)
{
	struct priv_auth a, before;

	memset(&a, 0x5a, sizeof(a));
	before = a;
	ck_assert_int_eq(priv_parse_auth(buf, len, &a), -1);
	ck_assert_mem_eq(&a, &before, sizeof(a));
}

static void
check_auth(const struct priv_auth *a, enum auth_method method,
    const char *user, const char *pass)
{
	ck_assert_int_eq(a->method, method);
	ck_assert_uint_eq(a->userlen, strlen(user));
	ck_assert_str_eq(a->user, user);
	ck_assert_uint_eq(a->passlen, strlen(pass));
	ck_assert_mem_eq(a->pass, pass, strlen(pass) + 1);
}

START_TEST(test_parse_auth_valid)
{
	unsigned char buf[PRIV_MSG_MAX];
	struct priv_auth a;
	size_t len = auth_msg(buf, 3, 11, "bob", "pass word\xe4!");

	ck_assert_int_eq(priv_parse_auth(buf, len, &a), 0);
	check_auth(&a, METHOD_PLAIN, "bob", "pass word\xe4!");
	len = auth_msg(buf, 0, 0, "", "");
	ck_assert_int_eq(priv_parse_auth(buf, len, &a), 0);
	check_auth(&a, METHOD_PLAIN, "", "");
}
END_TEST

START_TEST(test_parse_auth_at_both_limits)
{
	unsigned char buf[PRIV_MSG_MAX];
	char user[USER_MAX + 1], pass[PASS_MAX + 1];
	struct priv_auth a;
	size_t len;

	memset(user, 'u', USER_MAX);
	user[USER_MAX] = '\0';
	memset(pass, 'p', PASS_MAX);
	pass[PASS_MAX] = '\0';
	len = auth_msg(buf, USER_MAX, PASS_MAX, user, pass);
	ck_assert_int_eq(priv_parse_auth(buf, len, &a), 0);
	check_auth(&a, METHOD_PLAIN, user, pass);
}
END_TEST

START_TEST(test_parse_auth_wrong_type)
{
	unsigned char buf[PRIV_MSG_MAX];
	size_t len = auth_msg(buf, 3, 4, "bob", "pass");

	buf[0] = 'V';
	check_refused(buf, len);
	buf[0] = 'a';
	check_refused(buf, len);
	buf[0] = '\0';
	check_refused(buf, len);
}
END_TEST

START_TEST(test_parse_auth_every_method)
{
	static const enum auth_method all[] = {
		METHOD_USER, METHOD_PLAIN, METHOD_LOGIN, METHOD_APOP
	};
	unsigned char buf[PRIV_MSG_MAX];
	struct priv_auth a;
	size_t len = auth_msg(buf, 3, 4, "bob", "pass"), i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		buf[1] = (unsigned char)all[i];
		ck_assert_int_eq(priv_parse_auth(buf, len, &a), 0);
		check_auth(&a, all[i], "bob", "pass");
	}
	buf[1] = METHOD_APOP + 1;
	check_refused(buf, len);
	buf[1] = 0xff;
	check_refused(buf, len);
}
END_TEST

START_TEST(test_parse_auth_lengths_must_match)
{
	unsigned char buf[PRIV_MSG_MAX];
	size_t len = auth_msg(buf, 3, 4, "bob", "pass");

	check_refused(buf, len - 1);
	check_refused(buf, len + 1);
	check_refused(buf, 0);
	check_refused(buf, 1);
	check_refused(buf, 2);
	check_refused(buf, 3);
	check_refused(buf, 4);
	len = auth_msg(buf, 4, 4, "bob", "pass");
	check_refused(buf, len);
	len = auth_msg(buf, 3, 3, "bob", "pass");
	check_refused(buf, len);
	len = auth_msg(buf, 255, 255, "bob", "pass");
	check_refused(buf, len);
}
END_TEST

START_TEST(test_parse_auth_over_limits)
{
	unsigned char buf[PRIV_MSG_MAX];
	char user[USER_MAX + 2], pass[PASS_MAX + 2];
	size_t len;

	memset(user, 'u', USER_MAX + 1);
	user[USER_MAX + 1] = '\0';
	memset(pass, 'p', PASS_MAX + 1);
	pass[PASS_MAX + 1] = '\0';
	len = auth_msg(buf, USER_MAX + 1, 1, user, "p");
	check_refused(buf, len);
	len = auth_msg(buf, 1, PASS_MAX + 1, "u", pass);
	check_refused(buf, len);
}
END_TEST

static void
channel(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sv), 0);
}

static void
channel_close(int sv[2])
{
	close(sv[0]);
	close(sv[1]);
}

/* Nothing is waiting on fd. */
static void
check_nothing_sent(int fd)
{
	unsigned char c;

	ck_assert_int_eq(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
}

START_TEST(test_auth_round_trip)
{
	static const char pass[] = "  spaces and \xff\xfe 8-bit ";
	unsigned char buf[PRIV_MSG_MAX];
	struct priv_auth a;
	ssize_t n;
	int sv[2];

	channel(sv);
	ck_assert_int_eq(priv_send_auth(sv[0], METHOD_LOGIN,
	    (const unsigned char *)"alice", 5, (const unsigned char *)pass,
	    sizeof(pass) - 1), 0);
	n = priv_recv(sv[1], buf, sizeof(buf));
	ck_assert_int_eq(n, 4 + 5 + (ssize_t)sizeof(pass) - 1);
	ck_assert_int_eq(priv_parse_auth(buf, (size_t)n, &a), 0);
	check_auth(&a, METHOD_LOGIN, "alice", pass);
	channel_close(sv);
}
END_TEST

START_TEST(test_send_auth_refuses_over_limits)
{
	unsigned char big[USER_MAX + PASS_MAX];
	int sv[2];

	memset(big, 'x', sizeof(big));
	channel(sv);
	ck_assert_int_eq(priv_send_auth(sv[0], METHOD_USER, big, USER_MAX + 1,
	    big, 1), -1);
	ck_assert_int_eq(priv_send_auth(sv[0], METHOD_USER, big, 1, big,
	    PASS_MAX + 1), -1);
	check_nothing_sent(sv[1]);
	ck_assert_int_eq(priv_send_auth(sv[0], METHOD_USER, big, USER_MAX,
	    big, PASS_MAX), 0);
	channel_close(sv);
}
END_TEST

START_TEST(test_verdict_round_trip)
{
	static const enum priv_verdict all[] = {
		PV_OK, PV_FAIL, PV_FAIL_LAST, PV_TEMPFAIL, PV_TEMPFAIL_LAST
	};
	enum priv_verdict v;
	size_t i;
	int sv[2];

	channel(sv);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ck_assert_int_eq(priv_send_verdict(sv[1], all[i]), 0);
		v = (enum priv_verdict)-1;
		ck_assert_int_eq(priv_recv_verdict(sv[0], &v), 0);
		ck_assert_int_eq(v, all[i]);
	}
	channel_close(sv);
}
END_TEST

/* A raw message on the channel is refused as a verdict. */
static void
check_bad_verdict(const void *msg, size_t len)
{
	enum priv_verdict v = PV_TEMPFAIL;
	int sv[2];

	channel(sv);
	ck_assert_int_eq(send(sv[1], msg, len, 0), (ssize_t)len);
	ck_assert_int_eq(priv_recv_verdict(sv[0], &v), -1);
	ck_assert_int_eq(v, PV_TEMPFAIL);
	channel_close(sv);
}

START_TEST(test_invalid_verdicts_are_refused)
{
	check_bad_verdict("V\x06", 2);
	check_bad_verdict("V\xff", 2);
	check_bad_verdict("A\x00", 2);
	check_bad_verdict("V", 1);
	check_bad_verdict("V\x00\x00", 3);
	check_bad_verdict("H\x00", 2);
}
END_TEST

START_TEST(test_verdict_at_eof_is_refused)
{
	enum priv_verdict v = PV_TEMPFAIL;
	int sv[2];

	channel(sv);
	close(sv[1]);
	ck_assert_int_eq(priv_recv_verdict(sv[0], &v), -1);
	ck_assert_int_eq(v, PV_TEMPFAIL);
	close(sv[0]);
}
END_TEST

static void
check_handover(size_t len)
{
	unsigned char *data = malloc(len + 1), buf[PRIV_MSG_MAX];
	const unsigned char *got = NULL;
	ssize_t n;
	size_t i;
	int sv[2];

	ck_assert_ptr_nonnull(data);
	for (i = 0; i < len; i++) {
		data[i] = (unsigned char)(i * 31 + 7);
	}
	channel(sv);
	ck_assert_int_eq(priv_send_handover(sv[0], data, len), 0);
	n = priv_recv(sv[1], buf, sizeof(buf));
	ck_assert_int_eq(n, (ssize_t)len + 1);
	ck_assert_int_eq(priv_parse_handover(buf, (size_t)n, &got),
	    (ssize_t)len);
	ck_assert_ptr_eq(got, buf + 1);
	ck_assert_bytes(got, len, data, len);
	channel_close(sv);
	free(data);
}

START_TEST(test_handover_round_trip)
{
	check_handover(0);
	check_handover(1);
	check_handover(17);
	check_handover(INPUT_BUFFER);
}
END_TEST

START_TEST(test_handover_over_input_buffer_is_refused)
{
	unsigned char *big = calloc(1, INPUT_BUFFER + 1);
	int sv[2];

	ck_assert_ptr_nonnull(big);
	channel(sv);
	ck_assert_int_eq(priv_send_handover(sv[0], big, INPUT_BUFFER + 1), -1);
	check_nothing_sent(sv[1]);
	channel_close(sv);
	free(big);
}
END_TEST

START_TEST(test_parse_handover_refuses_malformed)
{
	unsigned char buf[PRIV_MSG_MAX + 1];
	const unsigned char *got = NULL;

	memset(buf, 0, sizeof(buf));
	buf[0] = 'H';
	ck_assert_int_eq(priv_parse_handover(buf, 0, &got), -1);
	ck_assert_int_eq(priv_parse_handover(buf, PRIV_MSG_MAX + 1, &got), -1);
	ck_assert_int_eq(priv_parse_handover(buf, PRIV_MSG_MAX, &got),
	    INPUT_BUFFER);
	buf[0] = 'A';
	got = NULL;
	ck_assert_int_eq(priv_parse_handover(buf, 5, &got), -1);
	ck_assert_ptr_null(got);
}
END_TEST

/* A message too big for the buffer is an error, and only that one. */
START_TEST(test_recv_of_oversize_message_fails)
{
	unsigned char *big = calloc(1, PRIV_MSG_MAX + 1);
	unsigned char buf[PRIV_MSG_MAX];
	enum priv_verdict v;
	int sv[2];

	ck_assert_ptr_nonnull(big);
	channel(sv);
	ck_assert_int_eq(send(sv[0], big, PRIV_MSG_MAX + 1, 0),
	    PRIV_MSG_MAX + 1);
	ck_assert_int_eq(priv_send_verdict(sv[0], PV_FAIL), 0);
	errno = 0;
	ck_assert_int_eq(priv_recv(sv[1], buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(priv_recv_verdict(sv[1], &v), 0);
	ck_assert_int_eq(v, PV_FAIL);
	ck_assert_int_eq(send(sv[0], big, PRIV_MSG_MAX, 0), PRIV_MSG_MAX);
	ck_assert_int_eq(priv_recv(sv[1], buf, sizeof(buf)), PRIV_MSG_MAX);
	channel_close(sv);
	free(big);
}
END_TEST

START_TEST(test_recv_at_eof_returns_zero)
{
	unsigned char buf[PRIV_MSG_MAX];
	int sv[2];

	channel(sv);
	close(sv[0]);
	ck_assert_int_eq(priv_recv(sv[1], buf, sizeof(buf)), 0);
	close(sv[1]);
}
END_TEST

Suite *
priv_suite(void)
{
	Suite *s = suite_create("priv");
	TCase *parse = tcase_create("parse_auth");
	TCase *chan = tcase_create("channel");

	ADD_TESTS(parse, test_parse_auth_valid, test_parse_auth_at_both_limits,
	    test_parse_auth_wrong_type, test_parse_auth_every_method,
	    test_parse_auth_lengths_must_match, test_parse_auth_over_limits,
	    test_parse_handover_refuses_malformed);
	suite_add_tcase(s, parse);
	ADD_TESTS(chan, test_auth_round_trip,
	    test_send_auth_refuses_over_limits, test_verdict_round_trip,
	    test_invalid_verdicts_are_refused, test_verdict_at_eof_is_refused,
	    test_handover_round_trip,
	    test_handover_over_input_buffer_is_refused,
	    test_recv_of_oversize_message_fails, test_recv_at_eof_returns_zero);
	suite_add_tcase(s, chan);
	return s;
}
