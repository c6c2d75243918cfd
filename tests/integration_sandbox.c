/* SPDX-License-Identifier: ISC */
/*
 * The system call filters (sandbox.c), seen on the live processes and
 * proved by their effect: the pre-login child runs under seccomp with
 * no_new_privs, and once logged in so does the session, which still
 * serves a whole session; in the probe build (tests/pop3d-probe) the
 * session or the pre-login child makes one forbidden call and dies of
 * SIGSYS. As root and as any other user.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "harness.h"
#include "sandbox.h"

/* A field of /proc/PID/status as a number; fails if it is missing. */
static long
status_field(pid_t pid, const char *name)
{
	char path[64], *text, *p;
	size_t len, n = strlen(name);
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	text = slurp(path, &len);
	for (p = text; p != NULL; p = strchr(p, '\n')) {
		p += *p == '\n';
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			v = strtol(p + n + 1, NULL, 10);
			break;
		}
	}
	free(text);
	ck_assert_msg(v != -1, "%s has no %s field", path, name);
	return v;
}

/* Seccomp 2 is SECCOMP_MODE_FILTER; NoNewPrivs 1 is set. */
static void
expect_filter(pid_t pid, long seccomp, long nnp)
{
	ck_assert_int_eq(status_field(pid, "Seccomp"), seccomp);
	ck_assert_int_eq(status_field(pid, "NoNewPrivs"), nnp);
}

/* What pop3d inherits from us (a container may have a filter already). */
static void
expect_inherited(pid_t pid)
{
	expect_filter(pid, status_field(getpid(), "Seccomp"),
	    status_field(getpid(), "NoNewPrivs"));
}

#ifndef POP3D_NO_SANDBOX

/*
 * The pre-login child at once; the monitor not before login (root when
 * run as root, it must still change credentials); the session after it,
 * for good, through RETR, TOP, DELE, UIDL and UPDATE.
 */
START_TEST(test_session_filtered)
{
	struct session *s;
	size_t len;
	char *body;

	mailbox_put(sample, SAMPLE_COUNT, "\n");
	s = session_start(_i == 0 ? 0 : S_PAM, NULL);
	greet(s);
	expect_filter(only_child(session_pid(s)), 2, 1);
	expect_inherited(session_pid(s));
	ck_assert_str_eq(login(s), maildrop_reply(sample, SAMPLE_COUNT));
	expect_filter(session_pid(s), 2, 1);
	body = fetch(s, "RETR 2", &len);
	free(body);
	chat_prefix(s, "TOP 3 0", "+OK");
	free(read_multiline(s, &len));
	chat_prefix(s, "DELE 1", "+OK");
	chat_prefix(s, "UIDL", "+OK");
	free(read_multiline(s, &len));
	quit(s);
	expect_mailbox_msgs(sample + 1, SAMPLE_COUNT - 1, "\n");
}
END_TEST

/*
 * Each is refused by the filter, whatever the session's credentials.
 * Under AddressSanitizer the filter lets read-only opens through, for
 * its reports (sandbox.c).
 */
static const char *const forbidden[] = {
	"execve", "socket", "open-write", "mmap-exec", "fork",
	"tgkill-other-process", "unix-stream-socket",
#ifndef SANDBOX_SANITIZED
	"open-read"
#endif
};

/* The probe build, to make the call "stage:call" names. */
static struct session *
probe_start(const char *stage, const char *call)
{
	char what[64];

	ck_assert_msg(access(W.probe, X_OK) == 0, "%s missing (make "
	    "tests/pop3d-probe)", W.probe);
	snprintf(what, sizeof(what), "%s:%s", stage, call);
	ck_assert_int_eq(setenv("POP3D_PROBE", what, 1), 0);
	return session_start(S_PROBE, NULL);
}

/* Logged in, the probe makes its call before the maildrop is opened. */
START_TEST(test_forbidden_call)
{
	struct session *s;
	int status;

	mailbox_put(sample, 1, "\n");
	s = probe_start("session", forbidden[_i]);
	greet(s);
	send_line(s, "USER %s", W.user);
	expect_prefix(s, "+OK");
	send_line(s, "PASS %s", PASSWORD);
	expect_eof(s);
	status = session_wait(s);
	ck_assert_msg(status == 128 + SIGSYS, "probe %s: exit status %d, "
	    "want %d (SIGSYS)", forbidden[_i], status, 128 + SIGSYS);
	session_free(s);
	expect_mailbox_msgs(sample, 1, "\n");
}
END_TEST

/*
 * The pre-login child makes its call before the greeting; the monitor
 * sees how it died and says so.
 */
START_TEST(test_prelogin_forbidden_call)
{
	struct session *s = probe_start("prelogin", forbidden[_i]);
	char want[64];

	expect_eof(s);
	ck_assert_int_eq(session_wait(s), 0);
	snprintf(want, sizeof(want), "pre-login child killed by signal %d",
	    SIGSYS);
	expect_log(s, want);
	session_free(s);
}
END_TEST

/*
 * abort() (a failed fortify or stack check) still ends either process
 * with SIGABRT, though tgkill(2) reaches no other process.
 */
START_TEST(test_abort_still_allowed)
{
	struct session *s;
	char want[64];

	mailbox_put(sample, 1, "\n");
	s = probe_start(_i == 0 ? "prelogin" : "session", "abort");
	if (_i == 0) {
		expect_eof(s);
		ck_assert_int_eq(session_wait(s), 0);
		snprintf(want, sizeof(want), "pre-login child killed by "
		    "signal %d", SIGABRT);
		expect_log(s, want);
	} else {
		greet(s);
		send_line(s, "USER %s", W.user);
		expect_prefix(s, "+OK");
		send_line(s, "PASS %s", PASSWORD);
		expect_eof(s);
		ck_assert_int_eq(session_wait(s), 128 + SIGABRT);
	}
	session_free(s);
}
END_TEST

/*
 * A filter around pop3d that answers seccomp(2) with EPERM, as systemd's
 * SystemCallFilter=@system-service without seccomp did, put on this test
 * process (Check runs each test in a process of its own) and inherited by
 * pop3d. Any architecture's call of that number is refused: only a test.
 */
static void
refuse_seccomp_around(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		(unsigned short)(sizeof(code) / sizeof(code[0])), code
	};

	ck_assert_int_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	ck_assert_int_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
}

/*
 * Then pop3d cannot install its filter: no greeting, and the exit status
 * is 71, as pop3d.8 promises (it was 0: the monitor hid the pre-login
 * child's status), so that systemd marks the instance failed. The child's
 * log line cannot reach the log file here (its RLIMIT_FSIZE is 0);
 * tests/systemd/run finds it in the journal.
 */
START_TEST(test_seccomp_refused_around)
{
	struct session *s;
	int status;

	/*
	 * Under AddressSanitizer the child's exit() runs LeakSanitizer,
	 * which cannot stop a non-dumpable process and would exit 1 first.
	 */
	ck_assert_int_eq(setenv("LSAN_OPTIONS", "detect_leaks=0", 1), 0);
	refuse_seccomp_around();
	s = session_start(0, NULL);
	expect_eof(s);
	status = session_wait(s);
	ck_assert_msg(status == 71, "exit status %d, want 71 (EX_OSERR)",
	    status);
	session_free(s);
}
END_TEST

/* The probe build without a probe is an ordinary server. */
START_TEST(test_probe_build_serves)
{
	struct session *s;

	mailbox_put(sample, 2, "\n");
	s = probe_start("none", "none");
	greet(s);
	ck_assert_str_eq(login(s), maildrop_reply(sample, 2));
	chat_prefix(s, "DELE 2", "+OK");
	quit(s);
	expect_mailbox_msgs(sample, 1, "\n");
}
END_TEST

/* pop3d itself has no probe: it does not even know its variable. */
START_TEST(test_no_probe_in_pop3d)
{
	static const char name[] = "POP3D_PROBE";
	size_t len;
	char *bin;

	bin = slurp(W.probe, &len);
	ck_assert_ptr_nonnull(memmem(bin, len, name, strlen(name)));
	free(bin);
	bin = slurp(W.pop3d, &len);
	ck_assert_ptr_null(memmem(bin, len, name, strlen(name)));
	free(bin);
}
END_TEST

Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = test_case("seccomp");

	tcase_add_loop_test(tc, test_session_filtered, 0, 2);
	tcase_add_loop_test(tc, test_forbidden_call, 0,
	    (int)(sizeof(forbidden) / sizeof(forbidden[0])));
	tcase_add_loop_test(tc, test_prelogin_forbidden_call, 0,
	    (int)(sizeof(forbidden) / sizeof(forbidden[0])));
	tcase_add_loop_test(tc, test_abort_still_allowed, 0, 2);
	tcase_add_test(tc, test_seccomp_refused_around);
	tcase_add_test(tc, test_probe_build_serves);
	tcase_add_test(tc, test_no_probe_in_pop3d);
	suite_add_tcase(s, tc);
	return s;
}

#else

/* make SANDBOX=0 (valgrind): no filter, and the log says so. */
START_TEST(test_sandbox_compiled_out)
{
	struct session *s;

	mailbox_put(sample, 1, "\n");
	s = session_start(0, NULL);
	greet(s);
	expect_inherited(only_child(session_pid(s)));
	ck_assert_str_eq(login(s), maildrop_reply(sample, 1));
	expect_inherited(session_pid(s));
	expect_log(s, "no system call filter: built with SANDBOX=0");
	quit(s);
}
END_TEST

Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = test_case("seccomp compiled out");

	tcase_add_test(tc, test_sandbox_compiled_out);
	suite_add_tcase(s, tc);
	return s;
}

#endif
