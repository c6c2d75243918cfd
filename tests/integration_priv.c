/* SPDX-License-Identifier: ISC */
/*
 * Privilege separation, seen on the live processes (root only): the
 * pre-login child is the privsep user inside the empty directory; the
 * session is the user with exactly the user's groups and no
 * capabilities, holding no descriptor it does not need; the lock helper
 * has the spool's group and nothing more.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define GROUPS_MAX	64

/* A group a Debian mail spool could have (mail is 8; any will do). */
#define SPOOL_GID	64996

/* What /proc/PID/status says about credentials. */
struct creds {
	unsigned long	 uid[4];	/* real, effective, saved, fs */
	unsigned long	 gid[4];
	unsigned long	 groups[GROUPS_MAX];
	size_t		 ngroups;
	unsigned long long caps[4];	/* inheritable, permitted, effective, */
};					/* ambient */

static void
parse_groups(const char *p, struct creds *c)
{
	char *end;

	for (;;) {
		unsigned long g = strtoul(p, &end, 10);

		if (end == p) {
			return;
		}
		ck_assert_uint_lt(c->ngroups, GROUPS_MAX);
		c->groups[c->ngroups++] = g;
		p = end;
	}
}

static void
read_creds(pid_t pid, struct creds *c)
{
	char path[64], *text, *line, *save = NULL;
	size_t len, n = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	text = slurp(path, &len);
	memset(c, 0, sizeof(*c));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		n += sscanf(line, "Uid: %lu %lu %lu %lu", &c->uid[0],
		    &c->uid[1], &c->uid[2], &c->uid[3]) == 4;
		n += sscanf(line, "Gid: %lu %lu %lu %lu", &c->gid[0],
		    &c->gid[1], &c->gid[2], &c->gid[3]) == 4;
		n += sscanf(line, "CapInh: %llx", &c->caps[0]) == 1;
		n += sscanf(line, "CapPrm: %llx", &c->caps[1]) == 1;
		n += sscanf(line, "CapEff: %llx", &c->caps[2]) == 1;
		n += sscanf(line, "CapAmb: %llx", &c->caps[3]) == 1;
		if (strncmp(line, "Groups:", 7) == 0) {
			parse_groups(line + 7, c);
		}
	}
	free(text);
	ck_assert_msg(n == 6, "%s: unexpected format", path);
}

static int
by_value(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return (x > y) - (x < y);
}

/*
 * pid runs as uid and gid in all four fields, with exactly the groups
 * (in any order) and no capabilities.
 */
static void
expect_creds(const char *who, pid_t pid, unsigned long uid,
    unsigned long gid, unsigned long *groups, size_t ngroups)
{
	struct creds c;
	size_t i;

	read_creds(pid, &c);
	for (i = 0; i < 4; i++) {
		ck_assert_msg(c.uid[i] == uid && c.gid[i] == gid,
		    "%s: uid/gid field %zu is %lu/%lu, want %lu/%lu", who, i,
		    c.uid[i], c.gid[i], uid, gid);
		ck_assert_msg(c.caps[i] == 0, "%s: capability set %zu is %llx",
		    who, i, c.caps[i]);
	}
	qsort(c.groups, c.ngroups, sizeof(c.groups[0]), by_value);
	if (ngroups > 0) {
		qsort(groups, ngroups, sizeof(groups[0]), by_value);
	}
	ck_assert_msg(c.ngroups == ngroups && (ngroups == 0 ||
	    memcmp(c.groups, groups, ngroups * sizeof(groups[0])) == 0),
	    "%s: %zu supplementary groups, want %zu", who, c.ngroups,
	    ngroups);
}

static void
expect_link(pid_t pid, const char *name, const char *want)
{
	char path[64], got[PATH_MAX], real[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	n = readlink(path, got, sizeof(got) - 1);
	ck_assert_msg(n > 0, "%s unreadable", path);
	got[n] = '\0';
	ck_assert_ptr_nonnull(realpath(want, real));
	ck_assert_str_eq(got, real);
}

/*
 * Logged in (passwd file: the user's gid alone; PAM: initgroups() from
 * nss_wrapper's group file), the session is the user for good; its one
 * child is the lock helper, the user with the spool's group.
 */
START_TEST(test_session_credentials)
{
	unsigned long file_groups[] = { TEST_ID };
	unsigned long pam_groups[] = { TEST_ID, EXTRA_GID };
	unsigned long helper_groups[] = { TEST_ID };
	struct session *s;

	mailbox_put(sample, 1, "\n");
	s = logged_in(_i == 0 ? 0 : S_PAM);
	if (_i == 0) {
		expect_creds("session", session_pid(s), TEST_ID, TEST_ID,
		    file_groups, 1);
	} else {
		expect_creds("session", session_pid(s), TEST_ID, TEST_ID,
		    pam_groups, 2);
	}
	expect_creds("lock helper", only_child(session_pid(s)), TEST_ID,
	    TEST_ID, helper_groups, 1);
	quit(s);
}
END_TEST

/* A 2775 root:mail spool: only the lock helper gets its group. */
START_TEST(test_spool_group)
{
	unsigned long session_groups[] = { TEST_ID };
	unsigned long helper_groups[] = { SPOOL_GID };
	struct session *s;

	mailbox_put(sample, 2, "\n");
	ck_assert_int_eq(chown(W.maildir, 0, SPOOL_GID), 0);
	ck_assert_int_eq(chmod(W.maildir, 02775), 0);
	s = logged_in(0);
	expect_creds("session", session_pid(s), TEST_ID, TEST_ID,
	    session_groups, 1);
	expect_creds("lock helper", only_child(session_pid(s)), TEST_ID,
	    SPOOL_GID, helper_groups, 1);
	chat_prefix(s, "DELE 1", "+OK");
	quit(s);
	expect_mailbox_msgs(sample + 1, 1, "\n");
}
END_TEST

/*
 * The passwd file with the user's primary group made 0 (root's), as
 * another file that the session reads instead (this process only).
 */
static void
use_passwd_with_gid0(void)
{
	char from[64], path[PATH_MAX], *text, *at;
	size_t len;
	FILE *f;

	snprintf(from, sizeof(from), ":%u:%u:pop3d test user:",
	    (unsigned)W.uid, (unsigned)W.gid);
	text = slurp(W.passwd_file, &len);
	at = strstr(text, from);
	ck_assert_ptr_nonnull(at);
	snprintf(path, sizeof(path), "%s/passwd-gid0", W.dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%.*s:%u:0:pop3d test user:%s", (int)(at - text), text,
	    (unsigned)W.uid, at + strlen(from));
	ck_assert_int_eq(fclose(f), 0);
	free(text);
	ck_assert_uint_lt(strlen(path), sizeof(W.passwd_file));
	memcpy(W.passwd_file, path, strlen(path) + 1);
}

/*
 * An account whose primary group is root's, password right: refused as a
 * wrong password is, the reason in the debug line, before any session (it
 * was dropped without a reply, exit 71: the check that root could not be
 * regained took setgid() to its own gid 0 for a way back).
 */
START_TEST(test_gid0_account_refused)
{
	struct session *s;

	mailbox_put(sample, 1, "\n");
	use_passwd_with_gid0();
	s = session_start(0, NULL);
	greet(s);
	send_line(s, "USER %s", W.user);
	expect_prefix(s, "+OK");
	send_line(s, "PASS %s", PASSWORD);
	expect_prefix(s, "-ERR [AUTH] ");
	send_line(s, "QUIT");
	expect_prefix(s, "+OK");
	expect_eof(s);
	ck_assert_int_eq(session_wait(s), 0);
	expect_log(s, "LOGIN FAILED, user=");
	expect_log(s, "primary group 0 refused");
	session_free(s);
	expect_mailbox_msgs(sample, 1, "\n");
}
END_TEST

/* The descriptors of a process, sorted out. */
struct fd_census {
	int	 sockets;	/* besides 0 and 1 */
	int	 unexpected;
	char	 seen[4096];	/* all of them, for the report */
};

/*
 * nss_wrapper keeps its files open once read (the monitor looked up the
 * privsep user as root); glibc's files module closes /etc/passwd.
 */
static int
test_artifact(const char *target)
{
	size_t n = strlen(W.dir);

	return strncmp(target, W.dir, n) == 0 &&
	    strncmp(target + n, "/nss-", 5) == 0;
}

static int
listed(const char *target, const char *const *files)
{
	for (; *files != NULL; files++) {
		if (strcmp(target, *files) == 0) {
			return 1;
		}
	}
	return 0;
}

static void
classify_fd(struct fd_census *c, int fd, const char *target,
    const char *const *files)
{
	size_t n = strlen(c->seen);

	snprintf(c->seen + n, sizeof(c->seen) - n, " %d=%s", fd, target);
	if (fd <= 2 || listed(target, files) || test_artifact(target)) {
		return;
	}
	if (strncmp(target, "socket:", 7) == 0) {
		c->sockets++;
	} else {
		c->unexpected++;
	}
}

/*
 * Besides 0, 1 and 2 (-d), pid holds only the files listed and at most
 * `sockets` sockets, and the syslog socket where /dev/log exists.
 */
static void
expect_descriptors(const char *who, pid_t pid, const char *const *files,
    int sockets)
{
	struct fd_census c;
	struct dirent *e;
	char path[64], link[PATH_MAX + 64], target[PATH_MAX];
	ssize_t n;
	DIR *d;

	memset(&c, 0, sizeof(c));
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		ck_assert_int_gt(n, 0);
		target[n] = '\0';
		classify_fd(&c, atoi(e->d_name), target, files);
	}
	closedir(d);
	if (getenv("POP3D_SHOW_FDS") != NULL) {
		fprintf(stderr, "%s fds:%s\n", who, c.seen);
	}
	ck_assert_msg(c.unexpected == 0, "%s holds other files:%s", who,
	    c.seen);
	ck_assert_msg(c.sockets <= sockets + (access("/dev/log", F_OK) == 0),
	    "%s holds %d sockets besides the client:%s", who, c.sockets,
	    c.seen);
}

/*
 * Before login: the child is the privsep user, confined, holding the
 * client and its channel to the monitor; the monitor is still root.
 */
START_TEST(test_prelogin_child_confined)
{
	static const char *const no_files[] = { NULL };
	struct session *s = session_start(0, NULL);
	struct creds monitor;
	pid_t child;

	greet(s);
	child = only_child(session_pid(s));
	expect_creds("pre-login child", child, PRIVSEP_ID, PRIVSEP_ID, NULL,
	    0);
	expect_link(child, "root", W.privsep_dir);
	expect_link(child, "cwd", W.privsep_dir);
	expect_descriptors("pre-login child", child, no_files, 1);
	read_creds(session_pid(s), &monitor);
	ck_assert_uint_eq(monitor.uid[1], 0);
	chat_prefix(s, "QUIT", "+OK");
	expect_eof(s);
	session_end(s);
}
END_TEST

/*
 * The session holds the client, the log (-d), the mailbox, its directory
 * (an O_PATH handle, to see at QUIT whether the name still leads to the
 * mailbox), its session file, the lock helper's socket and at most the
 * syslog socket: no passwd file, no PAM files, no channel to the monitor.
 */
START_TEST(test_session_descriptors)
{
	char session_file[PATH_MAX + 16];
	const char *files[] = { W.mailbox, W.maildir, session_file, NULL };
	struct session *s;

	snprintf(session_file, sizeof(session_file), "%s.pop3d", W.mailbox);
	mailbox_put(sample, 1, "\n");
	s = logged_in(0);
	expect_descriptors("session", session_pid(s), files, 1);
	quit(s);
}
END_TEST

Suite *
privilege_suite(void)
{
	Suite *s = suite_create("privilege");
	TCase *tc, *fds;

	if (!W.root) {
		return s;
	}
	tc = test_case("processes");
	tcase_add_loop_test(tc, test_session_credentials, 0, 2);
	tcase_add_test(tc, test_spool_group);
	tcase_add_test(tc, test_gid0_account_refused);
	fds = test_case("descriptors");
	tcase_set_tags(fds, TAG_UNWRAPPED);
	tcase_add_test(fds, test_prelogin_child_confined);
	tcase_add_test(fds, test_session_descriptors);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, fds);
	return s;
}
