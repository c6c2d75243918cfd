/* SPDX-License-Identifier: ISC */
/*
 * monitor.c: the real monitor_run() against a fake pre-login child that
 * sends what a compromised child could send. The monitor is the policy
 * point: what the child ignores, the monitor must still enforce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor.h"
#include "params.h"
#include "monmsg.h"
#include "privsep.h"
#include "tests/unit.h"

/* yescrypt of "pw" (mkpasswd -m yescrypt). */
#define PW_HASH	"$y$j9T$ciOeqktrJFQymXDZkgV/J.$" \
		"imtSYqDzYbAxCYWbAvoUZPmYy9tn.EDv0nV5.OyP1G."

/* Three padded failures and some slack. */
#define MONITOR_TEST_TIMEOUT	(AUTH_FAILURES_MAX * AUTH_FAIL_DELAY + 10)

/* Monitor ended by a login: monitor_run() returned. */
#define LOGGED_IN	3

struct attempt {
	enum auth_method method;
	const char	*pass;
};

static char dir[64], passwd_path[96];

static void
write_passwd(void)
{
	static const char line[] = "alice:" PW_HASH
	    ":64001:64001::/nonexistent:/bin/false\n";
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/pop3d-monitor-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	snprintf(passwd_path, sizeof(passwd_path), "%s/passwd", dir);
	ck_assert_ptr_nonnull(f = fopen(passwd_path, "w"));
	ck_assert_int_ne(fputs(line, f), EOF);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(passwd_path, 0600), 0);
}

static void
remove_passwd(void)
{
	unlink(passwd_path);
	rmdir(dir);
}

/*
 * The fake child: each attempt in turn, one byte per verdict ('0' +
 * verdict) on report; it stops when the monitor stops answering.
 */
static void __attribute__((noreturn))
fake_child(int chan, int report, const struct attempt *a, size_t n)
{
	enum priv_verdict v;
	char c;
	size_t i;

	for (i = 0; i < n; i++) {
		if (priv_send_auth(chan, a[i].method,
		    (const unsigned char *)"alice", 5,
		    (const unsigned char *)a[i].pass, strlen(a[i].pass)) == -1 ||
		    priv_recv_verdict(chan, &v) == -1) {
			break;
		}
		c = (char)('0' + v);
		if (write(report, &c, 1) != 1) {
			break;
		}
	}
	_exit(0);
}

/*
 * The monitor in a process of its own (it ends with exit()), the fake
 * child under it. The verdicts the child got go into seen; returns the
 * monitor's wait status.
 */
static int
run_monitor(const struct attempt *a, size_t n, const char *apop_secrets,
    char *seen, size_t size)
{
	static unsigned char handover[INPUT_BUFFER];
	static struct config cfg;
	static struct login_watch w;
	static char peer[PEER_MAX];
	struct account acct;
	size_t len = 0, got = 0;
	ssize_t r;
	pid_t monitor, child;
	int rep[2], status;

	ck_assert_int_eq(pipe(rep), 0);
	monitor = fork();
	ck_assert_int_ne(monitor, -1);
	if (monitor == 0) {
		close(rep[0]);
		cfg.passwd_file = passwd_path;
		cfg.pam_service = "pop3";
		cfg.apop_secrets = apop_secrets;
		w.cfg = &cfg;
		snprintf(peer, sizeof(peer), "192.0.2.1");
		w.peer = peer;
		w.timestamp = "<1.2@test>";
		child = fork_joined(&w.chan);
		if (child == 0) {
			fake_child(w.chan, rep[1], a, n);
		}
		close(rep[1]);
		monitor_run(&w, child, &acct, handover, &len);
		_exit(LOGGED_IN);
	}
	close(rep[1]);
	while (got + 1 < size &&
	    (r = read(rep[0], seen + got, size - 1 - got)) > 0) {
		got += (size_t)r;
	}
	seen[got] = '\0';
	close(rep[0]);
	ck_assert_int_eq(waitpid(monitor, &status, 0), monitor);
	return status;
}

/*
 * Review 2, F3: a child that ignores PV_FAIL_LAST got further checks,
 * and a login after the "last" failure. The monitor ends it instead.
 */
START_TEST(test_monitor_ends_child_after_last_failure)
{
	static const struct attempt a[] = {
		{ METHOD_USER, "wrong" }, { METHOD_USER, "wrong" },
		{ METHOD_USER, "wrong" }, { METHOD_USER, "pw" }
	};
	char seen[16], want[AUTH_FAILURES_MAX + 1];
	int status, i;

	for (i = 0; i < AUTH_FAILURES_MAX - 1; i++) {
		want[i] = '0' + PV_FAIL;
	}
	want[i++] = '0' + PV_FAIL_LAST;
	want[i] = '\0';
	status = run_monitor(a, sizeof(a) / sizeof(a[0]), NULL, seen,
	    sizeof(seen));
	ck_assert_str_eq(seen, want);
	ck_assert(WIFEXITED(status));
	ck_assert_int_ne(WEXITSTATUS(status), LOGGED_IN);
}
END_TEST

/*
 * Review 1, F6: APOP from a child whose greeting offered none reached
 * the root worker with no secrets file (a NULL path). The monitor ends
 * the child without a check.
 */
START_TEST(test_monitor_refuses_apop_without_secrets)
{
	static const struct attempt a[] = {
		{ METHOD_APOP, "c4c9334bac560ecc979e58001b3e22fb" }
	};
	char seen[16];
	int status;

	status = run_monitor(a, 1, NULL, seen, sizeof(seen));
	ck_assert_str_eq(seen, "");
	ck_assert(WIFEXITED(status));
	ck_assert_int_ne(WEXITSTATUS(status), LOGGED_IN);
}
END_TEST

/* The fake child itself: the right password logs in. */
START_TEST(test_monitor_logs_in)
{
	static const struct attempt a[] = { { METHOD_USER, "pw" } };
	char seen[16], want[2] = { '0' + PV_OK, '\0' };
	int status;

	status = run_monitor(a, 1, NULL, seen, sizeof(seen));
	ck_assert_str_eq(seen, want);
	ck_assert(WIFEXITED(status));
}
END_TEST

Suite *
monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("fake_child");

	tcase_set_timeout(tc, MONITOR_TEST_TIMEOUT);
	tcase_add_unchecked_fixture(tc, write_passwd, remove_passwd);
	ADD_TESTS(tc, test_monitor_ends_child_after_last_failure,
	    test_monitor_refuses_apop_without_secrets, test_monitor_logs_in);
	suite_add_tcase(s, tc);
	return s;
}
