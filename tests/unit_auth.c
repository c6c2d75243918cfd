/* SPDX-License-Identifier: ISC */
/*
 * auth.c: one line of a passwd(5)-format file, as the passwd-file check
 * reads it, the line iterator, and APOP's account checks against a
 * passwd file. PAM and crypt(3) belong to the integration tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cred.h"
#include "tests/unit.h"

static int
parse_n(const char *line, size_t len, struct account *a, const char **hash,
    size_t *hashlen)
{
	return passwd_parse_line(line, len, a, hash, hashlen);
}

static int
parse(const char *line)
{
	struct account a;
	const char *hash;
	size_t hashlen;

	return parse_n(line, strlen(line), &a, &hash, &hashlen);
}

/* Refused, with every out-parameter left alone. */
static void
check_refused_n(const char *line, size_t len)
{
	struct account a, before;
	const char *hash = NULL;
	size_t hashlen = 77;

	memset(&a, 0x5a, sizeof(a));
	before = a;
	ck_assert_msg(parse_n(line, len, &a, &hash, &hashlen) == -1,
	    "\"%s\" accepted", show(line, len, 0));
	ck_assert_mem_eq(&a, &before, sizeof(a));
	ck_assert_ptr_null(hash);
	ck_assert_uint_eq(hashlen, 77);
}

static void
check_refused(const char *line)
{
	check_refused_n(line, strlen(line));
}

static void
check_accepted(const char *line, const char *name, unsigned long uid,
    unsigned long gid, const char *home)
{
	struct account a;
	const char *hash = NULL;
	size_t hashlen = 0;

	ck_assert_msg(parse_n(line, strlen(line), &a, &hash, &hashlen) == 0,
	    "\"%s\" refused", line);
	ck_assert_str_eq(a.name, name);
	ck_assert_uint_eq(a.uid, uid);
	ck_assert_uint_eq(a.gid, gid);
	ck_assert_str_eq(a.home, home);
	ck_assert_ptr_eq(hash, line + strlen(name) + 1);
	ck_assert_ptr_eq(hash + hashlen, strchr(hash, ':'));
}

START_TEST(test_passwd_valid_lines)
{
	check_accepted("bob:$y$j9T$salt$hash:1000:1001:Bob,,,:/home/bob:/bin/sh",
	    "bob", 1000, 1001, "/home/bob");
	check_accepted("root:x:0:0:root:/root:/bin/bash", "root", 0, 0,
	    "/root");
	check_accepted("a::1:2:::", "a", 1, 2, "");
	check_accepted("b\xc3\xb6" "b:!:0000001000:7:g:/h b:/s", "b\xc3\xb6" "b",
	    1000, 7, "/h b");
}
END_TEST

START_TEST(test_passwd_largest_ids)
{
	check_accepted("u:x:4294967294:4294967294::/h:", "u", 4294967294UL,
	    4294967294UL, "/h");
	check_refused("u:x:4294967295:1::/h:");
	check_refused("u:x:1:4294967295::/h:");
	check_refused("u:x:4294967296:1::/h:");
	check_refused("u:x:9999999999:1::/h:");
	check_refused("u:x:99999999999:1::/h:");
	check_refused("u:x:00000001000:1::/h:");
	check_refused("u:x:18446744073709551617:1::/h:");
}
END_TEST

START_TEST(test_passwd_malformed_ids)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1x", "0x10", "1.0", "abc", "\t1"
	};
	char line[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "u:x:%s:1::/h:/s", bad[i]);
		check_refused(line);
		snprintf(line, sizeof(line), "u:x:1:%s::/h:/s", bad[i]);
		check_refused(line);
	}
}
END_TEST

START_TEST(test_passwd_wrong_number_of_fields)
{
	check_refused("");
	check_refused("bob");
	check_refused("bob:x:1:1:g:/h");
	check_refused("bob:x:1:1:g:/h:/s:");
	check_refused("bob:x:1:1:g:/h:/s:extra");
	check_refused("::::::");
	check_refused(":x:1:1:g:/h:/s");
}
END_TEST

START_TEST(test_passwd_reads_only_len_bytes)
{
	static const char line[] = "bob:x:1:2:g:/h:/s:extra";
	struct account a;
	const char *hash;
	size_t hashlen;

	ck_assert_int_eq(parse_n(line, strlen(line) - 6, &a, &hash, &hashlen),
	    0);
	ck_assert_str_eq(a.home, "/h");
	check_refused_n(line, 5);
}
END_TEST

START_TEST(test_passwd_nul_byte_is_refused)
{
	check_refused_n(LIT("bob:x:1:1:\0:/h:/s"));
	check_refused_n(LIT("b\0b:x:1:1::/h:/s"));
	check_refused_n(LIT("bob:x:1:1::/h:/s\0"));
	check_refused_n(LIT("bob:x\0:1:1::/h:/s"));
}
END_TEST

START_TEST(test_passwd_null_line_is_refused)
{
	struct account a;
	const char *hash;
	size_t hashlen;

	ck_assert_int_eq(passwd_parse_line(NULL, 0, &a, &hash, &hashlen), -1);
}
END_TEST

/* A line whose name has nlen bytes and whose home has hlen. */
static char *
long_line(size_t nlen, size_t hlen)
{
	char *line = malloc(nlen + hlen + 32);

	ck_assert_ptr_nonnull(line);
	memset(line, 'n', nlen);
	memcpy(line + nlen, ":x:1:1::/", 10);
	memset(line + nlen + 9, 'h', hlen - 1);
	strcpy(line + nlen + 8 + hlen, ":/bin/sh");
	return line;
}

START_TEST(test_passwd_long_name_and_home)
{
	char *line;

	line = long_line(USER_MAX, HOME_MAX - 1);
	ck_assert_int_eq(parse(line), 0);
	free(line);
	line = long_line(USER_MAX + 1, 10);
	check_refused(line);
	free(line);
	line = long_line(10, HOME_MAX);
	check_refused(line);
	free(line);
}
END_TEST

/* RFC 1939 section 7: the digest of this timestamp and "tanstaaf". */
#define RFC_TIMESTAMP	"<1896.697170952@dbc.mtview.ca.us>"
#define RFC_DIGEST	"c4c9334bac560ecc979e58001b3e22fb"
#define SOME_HASH	"$y$j9T$OTcR7TqFOspiJrH5bq4tX/$vTa2EzCWzAIHvN/QxmcvVv"

static char passwd_path[64], secrets_path[64];

static void
write_temp(char *path, size_t size, const char *text)
{
	int fd;

	snprintf(path, size, "/tmp/pop3d-auth-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
write_apop_files(void)
{
	write_temp(passwd_path, sizeof(passwd_path),
	    "open:" SOME_HASH ":1000:1000::/tmp:/bin/sh\n"
	    "locked:!" SOME_HASH ":1000:1000::/tmp:/bin/sh\n"
	    "star:*:1000:1000::/tmp:/bin/sh\n"
	    "never:!:1000:1000::/tmp:/bin/sh\n"
	    "bangbang:!!:1000:1000::/tmp:/bin/sh\n"
	    "bangstar:!*:1000:1000::/tmp:/bin/sh\n"
	    "starlk:*LK*:1000:1000::/tmp:/bin/sh\n"
	    "empty::1000:1000::/tmp:/bin/sh\n"
	    "zero:" SOME_HASH ":0:0::/tmp:/bin/sh\n");
	write_temp(secrets_path, sizeof(secrets_path),
	    "open:tanstaaf\nlocked:tanstaaf\nstar:tanstaaf\n"
	    "never:tanstaaf\nbangbang:tanstaaf\nbangstar:tanstaaf\n"
	    "starlk:tanstaaf\nempty:tanstaaf\nzero:tanstaaf\n");
}

static void
remove_apop_files(void)
{
	unlink(passwd_path);
	unlink(secrets_path);
}

static enum auth_result
apop_login(const char *user)
{
	struct auth_request r;
	struct account a;
	const char *why = NULL;

	memset(&r, 0, sizeof(r));
	r.passwd_file = passwd_path;
	r.apop_secrets = secrets_path;
	r.apop_timestamp = RFC_TIMESTAMP;
	r.user = user;
	r.pass = RFC_DIGEST;
	r.apop = 1;
	return auth_check(&r, &a, &why);
}

/*
 * Defect 4 of issue 12: the right digest logged into an account whose
 * passwd-file hash was locked. APOP runs a password's account checks.
 */
START_TEST(test_apop_runs_account_checks)
{
	ck_assert_int_eq(apop_login("open"), AUTH_OK);
	ck_assert_int_eq(apop_login("locked"), AUTH_FAIL);
	ck_assert_int_eq(apop_login("empty"), AUTH_FAIL);
	ck_assert_int_eq(apop_login("zero"), AUTH_FAIL);
}
END_TEST

/*
 * Review 1, note on APOP: a hash locked by usermod -L or passwd -l is '!'
 * and at least one more byte; a field of exactly "!" or "*" means no
 * password was ever set, which is what an APOP-only account looks like.
 */
START_TEST(test_apop_locked_hash_rule)
{
	static const struct {
		const char	*user;
		enum auth_result want;
	} rule[] = {
		{ "star", AUTH_OK }, { "never", AUTH_OK },
		{ "bangbang", AUTH_FAIL }, { "bangstar", AUTH_FAIL },
		{ "starlk", AUTH_FAIL }
	};
	size_t i;

	for (i = 0; i < sizeof(rule) / sizeof(rule[0]); i++) {
		ck_assert_msg(apop_login(rule[i].user) == rule[i].want,
		    "APOP of %s", rule[i].user);
	}
}
END_TEST

/* A secrets file that cannot be read: try again later, APOP or not. */
START_TEST(test_apop_unreadable_secrets_file_is_tempfail)
{
	char saved[sizeof(secrets_path)];
	struct auth_request r;
	struct account a;
	const char *why = NULL;

	memcpy(saved, secrets_path, sizeof(saved));
	snprintf(secrets_path, sizeof(secrets_path), "/nonexistent/secrets");
	ck_assert_int_eq(apop_login("open"), AUTH_TEMPFAIL);
	memset(&r, 0, sizeof(r));
	r.passwd_file = passwd_path;
	r.apop_secrets = secrets_path;
	r.user = "open";
	r.pass = "whatever";
	ck_assert_int_eq(auth_check(&r, &a, &why), AUTH_TEMPFAIL);
	memcpy(secrets_path, saved, sizeof(saved));
}
END_TEST

/* After the digest is right, a refusal is never "temporarily unavailable". */
START_TEST(test_apop_unreadable_passwd_file_is_a_refusal)
{
	char saved[sizeof(passwd_path)];

	memcpy(saved, passwd_path, sizeof(saved));
	snprintf(passwd_path, sizeof(passwd_path), "/nonexistent/passwd");
	ck_assert_int_eq(apop_login("open"), AUTH_FAIL);
	memcpy(passwd_path, saved, sizeof(saved));
}
END_TEST

/* Blank lines and comments skipped, the last line without a newline. */
START_TEST(test_cred_next_line)
{
	static const char text[] = "\n# c\na:1\n\n\nb\n#\nc:3";
	const char *want[] = { "a:1", "b", "c:3" };
	const char *line;
	size_t pos = 0, len, i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(cred_next_line(text, sizeof(text) - 1, &pos,
		    &line, &len), 1);
		ck_assert_uint_eq(len, strlen(want[i]));
		ck_assert(memcmp(line, want[i], len) == 0);
	}
	ck_assert_int_eq(cred_next_line(text, sizeof(text) - 1, &pos, &line,
	    &len), 0);
	ck_assert_uint_eq(pos, sizeof(text) - 1);
}
END_TEST

Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("passwd_parse_line");

	ADD_TESTS(tc, test_passwd_valid_lines, test_passwd_largest_ids,
	    test_passwd_malformed_ids, test_passwd_wrong_number_of_fields,
	    test_passwd_reads_only_len_bytes, test_passwd_nul_byte_is_refused,
	    test_passwd_null_line_is_refused, test_passwd_long_name_and_home);
	suite_add_tcase(s, tc);
	tc = tcase_create("apop_account");
	tcase_add_unchecked_fixture(tc, write_apop_files, remove_apop_files);
	ADD_TESTS(tc, test_apop_runs_account_checks, test_apop_locked_hash_rule,
	    test_apop_unreadable_passwd_file_is_a_refusal, test_cred_next_line,
	    test_apop_unreadable_secrets_file_is_tempfail);
	suite_add_tcase(s, tc);
	return s;
}
