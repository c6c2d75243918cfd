/* SPDX-License-Identifier: ISC */
/*
 * The maildrop file against the real server: exact sizes and bytes for
 * the mbox shapes found on Debian, unique and stable UIDLs, files that
 * must not be served, and locks held by others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "params.h"

#define SAMPLE_ALL	sample, SAMPLE_COUNT

/* Messages with lines a careless server gets wrong. */
static const char *const tricky[] = {
	"Subject: dots\nFrom: alice@example.org\n\n.\n..\n.hidden\n"
	    ">From the quoted line\n>>From deeper\nA line\n"
	    "From the middle of a paragraph\n",
	"Subject: empty body\n\n",
	"Subject: no body\n",
	"Subject: last line is a dot\n\nbody\n.\n"
};
#define TRICKY_COUNT	(sizeof(tricky) / sizeof(tricky[0]))

/*
 * For every message: LIST n, the LIST listing and RETR n agree, and RETR
 * sends exactly the stored bytes in their wire form.
 */
static void
expect_messages(struct session *s, const char *const *msgs, size_t n)
{
	struct entry e[16];
	struct text want = TEXT_INIT;
	char cmd[32], line[64];
	size_t i;

	ck_assert_uint_eq(listing(s, "LIST", e, 16), n);
	for (i = 0; i < n; i++) {
		wire_form(&want, msgs[i], strlen(msgs[i]));
		snprintf(line, sizeof(line), "%zu %zu", i + 1, want.len);
		snprintf(cmd, sizeof(cmd), "LIST %zu", i + 1);
		ck_assert_uint_eq(strtoull(e[i].value, NULL, 10), want.len);
		ck_assert_str_eq(chat_prefix(s, cmd, "+OK ") + 4, line);
		snprintf(cmd, sizeof(cmd), "RETR %zu", i + 1);
		expect_body(s, cmd, want.p, want.len);
		text_free(&want);
	}
}

/* Copies of msgs with every LF turned into CRLF; free them. */
static void
crlf_copies(const char *const *msgs, const char **out, size_t n)
{
	struct text t;
	size_t i;
	const char *p;

	for (i = 0; i < n; i++) {
		memset(&t, 0, sizeof(t));
		text_add(&t, "", 0);
		for (p = msgs[i]; *p != '\0'; p++) {
			text_add(&t, *p == '\n' ? "\r\n" : p, *p == '\n' ? 2 : 1);
		}
		out[i] = t.p;
	}
}

START_TEST(test_sizes_lf)
{
	struct session *s;

	mailbox_put(tricky, TRICKY_COUNT, "\n");
	s = logged_in(0);
	expect_messages(s, tricky, TRICKY_COUNT);
	session_end(s);
}
END_TEST

START_TEST(test_sizes_crlf)
{
	const char *msgs[TRICKY_COUNT];
	struct session *s;
	size_t i;

	crlf_copies(tricky, msgs, TRICKY_COUNT);
	mailbox_put(msgs, TRICKY_COUNT, "\r\n");
	s = logged_in(0);
	expect_messages(s, msgs, TRICKY_COUNT);
	session_end(s);
	for (i = 0; i < TRICKY_COUNT; i++) {
		free((void *)msgs[i]);
	}
}
END_TEST

#define UNENDED		"Subject: unended\n\nno newline at the end"

START_TEST(test_sizes_no_final_newline)
{
	const char *const msgs[] = { sample[0], UNENDED };
	struct text t = TEXT_INIT;
	struct session *s;

	mbox_compose(&t, sample, 1, "\n");
	text_adds(&t, FROM_LINE "\n" UNENDED);
	mailbox_write(t.p, t.len);
	s = logged_in(0);
	expect_messages(s, msgs, 2);
	chat_prefix(s, "DELE 1", "+OK");
	quit(s);
	expect_mailbox(FROM_LINE "\n" UNENDED, strlen(FROM_LINE "\n" UNENDED));
	text_free(&t);
}
END_TEST

/* A NUL byte, 8-bit text and a line far over any command limit. */
START_TEST(test_odd_bytes)
{
	static const char head[] = FROM_LINE "\nSubject: odd\n\nnul\0byte\n"
	    "caf\xc3\xa9 \xe9t\xe9\n";
	static const char wire[] = "Subject: odd\r\n\r\nnul\0byte\r\n"
	    "caf\xc3\xa9 \xe9t\xe9\r\n";
	struct text file = TEXT_INIT, want = TEXT_INIT;
	struct session *s;
	size_t i;

	text_add(&file, head, sizeof(head) - 1);
	text_add(&want, wire, sizeof(wire) - 1);
	for (i = 0; i < 10000; i++) {
		text_add(&file, i % 2000 == 0 ? "." : "x", 1);
		text_add(&want, i % 2000 == 0 ? "." : "x", 1);
	}
	text_adds(&file, "\n\n");
	text_adds(&want, "\r\n");
	mailbox_write(file.p, file.len);
	s = logged_in(0);
	expect_body(s, "RETR 1", want.p, want.len);
	session_end(s);
	text_free(&file);
	text_free(&want);
}
END_TEST

/*
 * A message of many 64-byte lines, all starting with ".", laid out so
 * that a line starts exactly where RETR's second read of READ_BUFFER
 * bytes begins (LF), or that its CR and LF fall on both sides (CRLF).
 */
static void
big_message(struct text *t, const char *eol)
{
	static const char head_lf[] = "Subject: big\n\n";
	static const char head_crlf[] = "Subject: big\r\n\r\n";
	const char *head = strlen(eol) == 1 ? head_lf : head_crlf;
	size_t target = READ_BUFFER + strlen(eol) - 1;
	size_t pad = (target - strlen(head)) % 64, i;

	if (pad < 4) {
		pad += 64;
	}
	text_add(t, "", 0);
	text_adds(t, head);
	for (i = 0; i < pad - strlen(eol); i++) {
		text_adds(t, "p");
	}
	text_adds(t, eol);
	for (i = 0; t->len < 3 * READ_BUFFER; i++) {
		text_add(t, ".0123456789abcdef0123456789abcdef0123456789abcdef"
		    "0123456789abcd", 64 - strlen(eol));
		text_adds(t, eol);
	}
}

/* The first lines of stored: its header, its blank line, lines lines. */
static void
top_of(struct text *t, const char *stored, size_t lines)
{
	const char *p = strstr(stored, "\n\n");

	if (p == NULL) {
		p = strstr(stored, "\n\r\n");
	}
	ck_assert_ptr_nonnull(p);
	for (p = strchr(p + 1, '\n') + 1; lines > 0; lines--) {
		p = strchr(p, '\n') + 1;
	}
	text_add(t, "", 0);
	text_add(t, stored, (size_t)(p - stored));
}

START_TEST(test_big_message)
{
	const char *eol = _i == 0 ? "\n" : "\r\n";
	struct text msg = TEXT_INIT, top = TEXT_INIT, want = TEXT_INIT;
	const char *msgs[1];
	struct session *s;

	big_message(&msg, eol);
	msgs[0] = msg.p;
	mailbox_put(msgs, 1, eol);
	s = logged_in(0);
	expect_messages(s, msgs, 1);
	top_of(&top, msg.p, 5000);
	wire_form(&want, top.p, top.len);
	expect_body(s, "TOP 1 5000", want.p, want.len);
	session_end(s);
	text_free(&msg);
	text_free(&top);
	text_free(&want);
}
END_TEST

/* UIDL of every message, in a new session. */
static size_t
uidls(struct entry *e, size_t max)
{
	struct session *s = logged_in(0);
	size_t n = listing(s, "UIDL", e, max);

	quit(s);
	return n;
}

/* Two identical messages (From_ line and all) and one other. */
START_TEST(test_uidl_unique_and_stable)
{
	const char *const msgs[] = { sample[0], sample[0], sample[1] };
	struct entry first[4], second[4];
	size_t i;

	mailbox_put(msgs, 3, "\n");
	ck_assert_uint_eq(uidls(first, 4), 3);
	ck_assert_str_ne(first[0].value, first[1].value);
	ck_assert_str_ne(first[0].value, first[2].value);
	ck_assert_str_ne(first[1].value, first[2].value);
	ck_assert_uint_eq(uidls(second, 4), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_str_eq(second[i].value, first[i].value);
	}
}
END_TEST

/* MUAs rewrite Status: and X-Status: in place; the UIDL stays. */
START_TEST(test_uidl_ignores_status_headers)
{
	const char *const before[] = { sample[0], sample[1] };
	const char *const after[] = {
		"Status: RO\nX-Status: A\n" "Subject: first\nFrom: "
		    "alice@example.org\n\nHello.\n", sample[1]
	};
	struct entry first[3], second[3];

	ck_assert_str_eq(after[0] + strlen("Status: RO\nX-Status: A\n"),
	    sample[0]);
	mailbox_put(before, 2, "\n");
	ck_assert_uint_eq(uidls(first, 3), 2);
	mailbox_put(after, 2, "\n");
	ck_assert_uint_eq(uidls(second, 3), 2);
	ck_assert_str_eq(second[0].value, first[0].value);
	ck_assert_str_eq(second[1].value, first[1].value);
}
END_TEST

START_TEST(test_missing_mailbox)
{
	struct session *s = logged_in(0);

	chat(s, "STAT", "+OK 0 0");
	quit(s);
	ck_assert_int_eq(access(W.mailbox, F_OK), -1);
}
END_TEST

/*
 * Login must answer -ERR [SYS/PERM] (or code), close, and log the
 * mailbox (path) with the same reason; tmpl: another -m, or NULL.
 */
static void
expect_refused_at(const char *path, const char *code, const char *tmpl)
{
	struct session *s = tmpl == NULL ? session_start(0, NULL) :
	    session_start(0, "-m", tmpl, NULL);
	char prefix[64], reason[256], line[PATH_MAX + 512];
	const char *reply;

	greet(s);
	snprintf(prefix, sizeof(prefix), "-ERR [%s] ", code);
	reply = login(s);
	ck_assert_msg(strncmp(reply, prefix, strlen(prefix)) == 0,
	    "got \"%s\", wanted \"%s...\"", reply, prefix);
	snprintf(reason, sizeof(reason), "%s", reply + strlen(prefix));
	expect_eof(s);
	ck_assert_int_eq(session_wait(s), 0);
	snprintf(line, sizeof(line), "%s: %s, user=%s", path, reason, W.user);
	expect_log(s, line);
	session_free(s);
}

static void
expect_refused(const char *code)
{
	expect_refused_at(W.mailbox, code, NULL);
}

/* The spool reached through a symbolic link: the path is refused. */
START_TEST(test_spool_symlink)
{
	char link[PATH_MAX], tmpl[PATH_MAX + 8], path[PATH_MAX + 80];

	mailbox_put(SAMPLE_ALL, "\n");
	snprintf(link, sizeof(link), "%s/spool-link", W.dir);
	ck_assert_int_eq(symlink(W.maildir, link), 0);
	snprintf(tmpl, sizeof(tmpl), "%s/%%u", link);
	snprintf(path, sizeof(path), "%s/%s", link, W.user);
	expect_refused_at(path, "SYS/PERM", tmpl);
	ck_assert_int_eq(unlink(link), 0);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

/*
 * A mailbox directory dir (under W.dir) the session refuses with problem:
 * the reply, and the path and errno (err, or none) logged once, by the
 * session; the lock helper, whose walk finds the same, is silent.
 */
static void
expect_dir_refused_once(const char *dir, const char *problem, int err)
{
	char tmpl[PATH_MAX + 16], path[PATH_MAX + 80], line[2 * PATH_MAX];
	char reply[256];
	struct session *s;

	snprintf(tmpl, sizeof(tmpl), "%s/%s/%%u", W.dir, dir);
	snprintf(path, sizeof(path), "%s/%s/%s", W.dir, dir, W.user);
	snprintf(reply, sizeof(reply), "-ERR [SYS/PERM] %s", problem);
	s = session_start(0, "-m", tmpl, NULL);
	greet(s);
	ck_assert_str_eq(login(s), reply);
	expect_eof(s);
	ck_assert_int_eq(session_wait(s), 0);
	snprintf(line, sizeof(line), "%s: %s, user=%s%s%s", path, problem,
	    W.user, err != 0 ? ", error=" : "", err != 0 ? strerror(err) : "");
	expect_log(s, line);
	expect_no_log(s, "lock helper");
	session_free(s);
}

/*
 * A directory missing on the way to the mailbox (a spool never made, a
 * %h/mail/inbox without ~/mail) is a fault only an administrator can
 * mend: refused with the path and errno logged once, not served as an
 * empty maildrop.
 */
START_TEST(test_missing_mailbox_directory)
{
	char path[PATH_MAX + 80];

	expect_dir_refused_once("no-such-dir", "mailbox directory does not "
	    "exist", ENOENT);
	snprintf(path, sizeof(path), "%s/no-such-dir/%s", W.dir, W.user);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

/* A file where a directory should be is logged once, by the session. */
START_TEST(test_mailbox_path_through_file_logged_once)
{
	char file[PATH_MAX + 16];
	int fd;

	snprintf(file, sizeof(file), "%s/a-file", W.dir);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ne(fd, -1);
	close(fd);
	expect_dir_refused_once("a-file", "mailbox path goes through a file",
	    0);
	ck_assert_int_eq(unlink(file), 0);
}
END_TEST

/*
 * A directory the user cannot search (root's, 0700) is the directory's
 * fault, not the mailbox's; root's walk for the helper gets through.
 */
START_TEST(test_mailbox_directory_unsearchable)
{
	char dir[PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s/roots", W.dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(chown(dir, 0, 0), 0);
	expect_dir_refused_once("roots", "mailbox directory permission denied",
	    EACCES);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Group write is for the spool's group (mail) only. */
START_TEST(test_mailbox_other_group_writable)
{
	mailbox_put(SAMPLE_ALL, "\n");
	ck_assert_int_eq(chmod(W.mailbox, 0660), 0);
	ck_assert_int_eq(chown(W.mailbox, (uid_t)-1, PRIVSEP_ID), 0);
	expect_refused("SYS/PERM");
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

START_TEST(test_mailbox_symlink)
{
	char target[PATH_MAX + 16];

	mailbox_put(SAMPLE_ALL, "\n");
	snprintf(target, sizeof(target), "%s.real", W.mailbox);
	ck_assert_int_eq(rename(W.mailbox, target), 0);
	ck_assert_int_eq(symlink(target, W.mailbox), 0);
	expect_refused("SYS/PERM");
	ck_assert_int_eq(unlink(W.mailbox), 0);
	ck_assert_int_eq(rename(target, W.mailbox), 0);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

/* A mailbox that is not a file, made by mk and given to the user. */
static void
expect_not_file_refused(int (*mk)(const char *, mode_t))
{
	ck_assert_int_eq(mk(W.mailbox, 0700), 0);
	if (W.root) {
		ck_assert_int_eq(chown(W.mailbox, W.uid, W.gid), 0);
	}
	expect_refused("SYS/PERM");
}

START_TEST(test_mailbox_fifo)
{
	expect_not_file_refused(mkfifo);
}
END_TEST

START_TEST(test_mailbox_directory)
{
	expect_not_file_refused(mkdir);
}
END_TEST

START_TEST(test_mailbox_hard_link)
{
	char other[PATH_MAX + 16];

	mailbox_put(SAMPLE_ALL, "\n");
	snprintf(other, sizeof(other), "%s.link", W.mailbox);
	ck_assert_int_eq(link(W.mailbox, other), 0);
	expect_refused("SYS/PERM");
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

START_TEST(test_mailbox_world_writable)
{
	mailbox_put(SAMPLE_ALL, "\n");
	ck_assert_int_eq(chmod(W.mailbox, 0666), 0);
	expect_refused("SYS/PERM");
}
END_TEST

/* Root only: nobody else can give a file away. */
START_TEST(test_mailbox_other_owner)
{
	mailbox_put(SAMPLE_ALL, "\n");
	ck_assert_int_eq(chown(W.mailbox, PRIVSEP_ID, PRIVSEP_ID), 0);
	expect_refused("SYS/PERM");
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

/* An MDA delivering: an fcntl write lock on the whole mailbox. */
START_TEST(test_mailbox_fcntl_locked)
{
	struct flock fl;
	int fd;

	mailbox_put(SAMPLE_ALL, "\n");
	fd = open(W.mailbox, O_RDWR | O_CLOEXEC);
	ck_assert_int_ne(fd, -1);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	ck_assert_int_eq(fcntl(fd, F_SETLK, &fl), 0);
	expect_refused("IN-USE");
	close(fd);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

/* A dot-lock beside the mailbox, last changed age seconds ago. */
static void
make_dot_lock(char *lock, size_t len, time_t age)
{
	struct timespec t[2];
	int fd;

	snprintf(lock, len, "%s.lock", W.mailbox);
	fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_int_ne(fd, -1);
	t[0].tv_sec = t[1].tv_sec = time(NULL) - age;
	t[0].tv_nsec = t[1].tv_nsec = 0;
	ck_assert_int_eq(futimens(fd, t), 0);
	close(fd);
}

/* An MDA delivering: the dot-lock beside the mailbox. */
START_TEST(test_mailbox_dot_locked)
{
	char lock[PATH_MAX + 16];

	mailbox_put(SAMPLE_ALL, "\n");
	make_dot_lock(lock, sizeof(lock), 0);
	expect_refused("IN-USE");
	ck_assert_int_eq(access(lock, F_OK), 0);
	expect_mailbox_msgs(SAMPLE_ALL, "\n");
}
END_TEST

/* A dot-lock older than DOTLOCK_STALE was left by a dead process. */
START_TEST(test_stale_dot_lock)
{
	char lock[PATH_MAX + 16];
	struct session *s;

	mailbox_put(SAMPLE_ALL, "\n");
	make_dot_lock(lock, sizeof(lock), DOTLOCK_STALE + 60);
	s = logged_in(0);
	ck_assert_int_eq(access(lock, F_OK), -1);
	expect_log(s, "stale lock");
	quit(s);
}
END_TEST

/* RFC 1939: one session per maildrop; the second hears it at once. */
START_TEST(test_second_session)
{
	struct session *first, *second;
	long long t0;
	char lock[PATH_MAX + 16];

	mailbox_put(SAMPLE_ALL, "\n");
	first = logged_in(0);
	t0 = now_ms();
	expect_refused("IN-USE");
	ck_assert_int_lt(now_ms() - t0, 2000);
	chat_prefix(first, "DELE 1", "+OK");
	chat(first, "QUIT", "+OK bye");
	second = logged_in(0);
	chat(second, "QUIT", "+OK bye");
	session_end(second);
	session_end(first);
	snprintf(lock, sizeof(lock), "%s.lock", W.mailbox);
	ck_assert_int_eq(access(lock, F_OK), -1);
	expect_mailbox_msgs(sample + 1, 2, "\n");
}
END_TEST

Suite *
maildrop_suite(void)
{
	Suite *s = suite_create("maildrop");
	TCase *bytes = test_case("bytes");
	TCase *files = test_case("files");
	TCase *timing = test_case("timing");

	tcase_add_test(bytes, test_sizes_lf);
	tcase_add_test(bytes, test_sizes_crlf);
	tcase_add_test(bytes, test_sizes_no_final_newline);
	tcase_add_test(bytes, test_odd_bytes);
	tcase_add_loop_test(bytes, test_big_message, 0, 2);
	tcase_add_test(bytes, test_uidl_unique_and_stable);
	tcase_add_test(bytes, test_uidl_ignores_status_headers);
	tcase_add_test(files, test_missing_mailbox);
	tcase_add_test(files, test_mailbox_symlink);
	tcase_add_test(files, test_spool_symlink);
	tcase_add_test(files, test_missing_mailbox_directory);
	tcase_add_test(files, test_mailbox_path_through_file_logged_once);
	tcase_add_test(files, test_mailbox_directory_unsearchable);
	tcase_add_test(files, test_mailbox_fifo);
	tcase_add_test(files, test_mailbox_directory);
	tcase_add_test(files, test_mailbox_hard_link);
	tcase_add_test(files, test_mailbox_world_writable);
	if (W.root) {
		tcase_add_test(files, test_mailbox_other_owner);
		tcase_add_test(files, test_mailbox_other_group_writable);
	}
	tcase_add_test(files, test_mailbox_fcntl_locked);
	tcase_add_test(files, test_mailbox_dot_locked);
	tcase_add_test(files, test_stale_dot_lock);
	tcase_set_tags(timing, TAG_UNWRAPPED);
	tcase_add_test(timing, test_second_session);
	suite_add_tcase(s, bytes);
	suite_add_tcase(s, files);
	suite_add_tcase(s, timing);
	return s;
}
