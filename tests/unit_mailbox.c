/* SPDX-License-Identifier: ISC */
/*
 * mailbox.c: the path template, and real mailbox files in a temporary
 * directory, each session with its own lock helper (lockd.c) forked as
 * pop3d does: what is refused, what the index says, what verification
 * finds, and what the file holds after mailbox_update() when other
 * programs wrote to it meanwhile.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lockd.h"
#include "template.h"
#include "mailbox.h"
#include "params.h"
#include "tests/unit.h"

static char dir[64];

/* Lock helpers started by the test, stopped by the fixture. */
#define HELPERS_MAX	4

static struct {
	pid_t		 pid;
	int		 chan;
} helpers[HELPERS_MAX];
static size_t nhelpers;

/* The directory of a test case, made once: its tests empty it. */
static void
make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pop3d-unit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* dir/name in static storage, one of two slots. */
static const char *
path_of(const char *name, int slot)
{
	static char path[2][PATH_MAX];

	snprintf(path[slot & 1], sizeof(path[0]), "%s/%s", dir, name);
	return path[slot & 1];
}

/* Each helper exits, and cleanly, once its session's channel closes. */
static void
stop_helpers(void)
{
	int status;

	for (; nhelpers > 0; nhelpers--) {
		close(helpers[nhelpers - 1].chan);
		ck_assert_int_eq(waitpid(helpers[nhelpers - 1].pid, &status,
		    0), helpers[nhelpers - 1].pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "lock helper ended with status %#x", status);
	}
}

/* Removes whatever a test left in the directory. */
static void
empty_dir(void)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) == -1 && rmdir(path) == -1) {
			ck_abort_msg("cannot remove %s", path);
		}
	}
	closedir(d);
}

/*
 * Each test starts in an empty directory and ends with its helpers gone.
 * A failed test skips its teardown (Check), hence the emptying up front
 * and the unchecked removal of the directory at the end of the case.
 */
static void
begin_test(void)
{
	nhelpers = 0;
	empty_dir();
}

static void
end_test(void)
{
	stop_helpers();
	empty_dir();
}

static void
remove_dir(void)
{
	empty_dir();
	rmdir(dir);
}

/* Forks the lock helper for dir/mbox; returns the session's end. */
static int
start_helper(void)
{
	int fds[2];
	pid_t pid;

	ck_assert_uint_lt(nhelpers, HELPERS_MAX);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    fds), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(fds[0]);
		lockd_serve(fds[1], path_of("mbox", 0),
		    lockd_directory(path_of("mbox", 0)));
	}
	close(fds[1]);
	helpers[nhelpers].pid = pid;
	helpers[nhelpers].chan = fds[0];
	nhelpers++;
	return fds[0];
}

static void
write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	int fd = open(path_of(name, 0), O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void
append_file(const char *name, const char *text)
{
	int fd = open(path_of(name, 0), O_WRONLY | O_APPEND | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The file holds exactly want. */
static void
check_file(const char *name, const char *want)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path_of(name, 0), O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	ck_assert_int_ge(n, 0);
	ck_assert_bytes_str(buf, (size_t)n, want);
}

/* No dot-lock is left, and the journal in the session file is empty. */
static void
check_unlocked(void)
{
	struct stat st;

	ck_assert_int_eq(lstat(path_of("mbox.lock", 0), &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	if (lstat(path_of("mbox.pop3d", 0), &st) == 0) {
		ck_assert_int_eq(st.st_size, 0);
	}
}

/* Opens dir/name with a helper of its own and checks the status. */
static void
open_as(struct mailbox *mb, const char *name, enum mbx_status want)
{
	enum mbx_status st = mailbox_open(mb, path_of(name, 1), start_helper(), 0);

	ck_assert_msg(st == want, "mailbox_open: %d (%s), want %d", st,
	    mb->problem != NULL ? mb->problem : "", want);
	ck_assert(st == MBX_OK || mb->problem != NULL);
}

/* dir/mbox is refused as not ours to serve. */
static void
check_refused(void)
{
	struct mailbox mb;

	open_as(&mb, "mbox", MBX_PERM);
	ck_assert_uint_eq(mb.count, 0);
	mailbox_close(&mb);
	check_unlocked();
}

START_TEST(test_open_missing_file_is_empty_maildrop)
{
	struct mailbox mb;

	open_as(&mb, "mbox", MBX_OK);
	ck_assert_int_eq(mb.fd, -1);
	ck_assert_uint_eq(mb.count, 0);
	ck_assert_int_eq(mailbox_update(&mb), MBX_OK);
	mailbox_close(&mb);
	mailbox_close(&mb);
	check_unlocked();
}
END_TEST

#define SKIPPED		1

static int
make_symlink(void)
{
	write_file("real", LIT("From a\n\nx\n"), 0600);
	return symlink(path_of("real", 0), path_of("mbox", 1));
}

static int
make_dangling_symlink(void)
{
	return symlink("nowhere", path_of("mbox", 0));
}

static int
make_fifo(void)
{
	return mkfifo(path_of("mbox", 0), 0600);
}

static int
make_directory(void)
{
	return mkdir(path_of("mbox", 0), 0700);
}

static int
make_hard_link(void)
{
	write_file("mbox", LIT("From a\n\nx\n"), 0600);
	return link(path_of("mbox", 0), path_of("other", 1));
}

static int
make_world_writable(void)
{
	write_file("mbox", LIT("From a\n\nx\n"), 0602);
	return 0;
}

/* A group we belong to other than the directory's, or -1. */
static gid_t
other_group(void)
{
	gid_t groups[64];
	int i, n;

	if (geteuid() == 0) {
		return 65534;
	}
	n = getgroups(64, groups);
	for (i = 0; i < n; i++) {
		if (groups[i] != getegid()) {
			return groups[i];
		}
	}
	return (gid_t)-1;
}

static int
make_writable_by_other_group(void)
{
	gid_t g = other_group();

	if (g == (gid_t)-1) {
		return SKIPPED;
	}
	write_file("mbox", LIT("From a\n\nx\n"), 0660);
	return chown(path_of("mbox", 0), (uid_t)-1, g);
}

/* The path goes through a symbolic link to the directory itself. */
static int
make_symlinked_directory(void)
{
	write_file("mbox", LIT("From a\n\nx\n"), 0600);
	return symlink(".", path_of("spool", 0));
}

/* Only root can give a file away; for others there is nothing to test. */
static int
make_file_of_another_user(void)
{
	if (geteuid() != 0) {
		return SKIPPED;
	}
	write_file("mbox", LIT("From a\n\nx\n"), 0600);
	return chown(path_of("mbox", 0), 65534, 65534);
}

/* What dir/mbox may be instead of a plain file of the user's own. */
static const struct {
	const char	*what;
	int		(*make)(void);
} not_ours[] = {
	{ "symbolic link", make_symlink },
	{ "dangling symbolic link", make_dangling_symlink },
	{ "FIFO (must not block)", make_fifo },
	{ "directory", make_directory },
	{ "file with a second hard link", make_hard_link },
	{ "world-writable file", make_world_writable },
	{ "file of another user", make_file_of_another_user },
	{ "file writable by a group not the directory's",
	    make_writable_by_other_group },
};

START_TEST(test_open_refuses_what_is_not_a_plain_file_of_ours)
{
	int rc = not_ours[_i].make();

	if (rc == SKIPPED) {
		return;
	}
	ck_assert_msg(rc == 0, "cannot make a %s", not_ours[_i].what);
	check_refused();
}
END_TEST

START_TEST(test_open_accepts_group_mail_mode)
{
	struct mailbox mb;

	write_file("mbox", LIT("From a\n\nx\n"), 0660);
	open_as(&mb, "mbox", MBX_OK);
	ck_assert_uint_eq(mb.count, 1);
	mailbox_close(&mb);
	check_unlocked();
}
END_TEST

/* A symbolic link anywhere on the path refuses it, the spool included. */
START_TEST(test_open_refuses_symlinked_directory)
{
	struct mailbox mb;

	ck_assert_int_eq(make_symlinked_directory(), 0);
	open_as(&mb, "spool/mbox", MBX_PERM);
	ck_assert_str_eq(mb.problem, "mailbox path has a symbolic link");
	mailbox_close(&mb);
	open_as(&mb, "./mbox", MBX_OK);
	ck_assert_uint_eq(mb.count, 1);
	mailbox_close(&mb);
}
END_TEST

/*
 * The lock helper's directory comes from the same walk (review 2, F4):
 * no link on the way; and it makes nothing for a session whose own walk
 * reached another directory.
 */
START_TEST(test_lockd_works_only_in_the_session_directory)
{
	struct stat st;
	int chan, other, here, fd;

	ck_assert_int_eq(make_symlinked_directory(), 0);
	ck_assert_int_eq(lockd_directory(path_of("spool/mbox", 0)), -1);
	chan = start_helper();
	other = open("/", MAILBOX_DIR_FLAGS);
	here = open(dir, MAILBOX_DIR_FLAGS);
	ck_assert_int_ge(other, 0);
	ck_assert_int_ge(here, 0);
	ck_assert_int_eq(lockd_session_file(chan, other), -1);
	ck_assert_int_eq(lockd_session_file(chan, -1), -1);
	ck_assert_int_eq(lockd_dotlock(chan), LOCK_ERROR);
	ck_assert_int_eq(lstat(path_of("mbox.pop3d", 0), &st), -1);
	ck_assert_int_eq(lstat(path_of("mbox.lock", 0), &st), -1);
	fd = lockd_session_file(chan, here);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(lockd_dotlock(chan), LOCK_OK);
	lockd_dotunlock(chan);
	close(fd);
	close(other);
	close(here);
}
END_TEST

/* RFC 1939: one session per maildrop; the next may start once it ends. */
START_TEST(test_open_second_session_is_in_use)
{
	struct mailbox a, b;

	write_file("mbox", LIT("From a\n\nx\n"), 0600);
	open_as(&a, "mbox", MBX_OK);
	open_as(&b, "mbox", MBX_IN_USE);
	mailbox_close(&b);
	mailbox_close(&a);
	stop_helpers();
	open_as(&b, "mbox", MBX_OK);
	ck_assert_uint_eq(b.count, 1);
	mailbox_close(&b);
	check_unlocked();
}
END_TEST

/* An MDA's dot-lock beside the mailbox, last touched `age` seconds ago. */
static void
make_dotlock(time_t age)
{
	struct timespec t[2];

	write_file("mbox.lock", LIT("12345\n"), 0644);
	t[0].tv_sec = t[1].tv_sec = time(NULL) - age;
	t[0].tv_nsec = t[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, path_of("mbox.lock", 0), t, 0),
	    0);
}

/* Policy 11.6: a delivery in progress keeps us out, after some retries. */
START_TEST(test_open_respects_dotlock_of_another_program)
{
	struct mailbox mb;

	write_file("mbox", LIT("From a\n\nx\n"), 0600);
	make_dotlock(0);
	open_as(&mb, "mbox", MBX_IN_USE);
	mailbox_close(&mb);
	check_file("mbox.lock", "12345\n");
}
END_TEST

START_TEST(test_open_breaks_stale_dotlock)
{
	struct mailbox mb;

	write_file("mbox", LIT("From a\n\nx\n"), 0600);
	make_dotlock(DOTLOCK_STALE + 60);
	open_as(&mb, "mbox", MBX_OK);
	ck_assert_uint_eq(mb.count, 1);
	mailbox_close(&mb);
	check_unlocked();
}
END_TEST

/* Three messages, each with the blank line that ends it in mboxo. */
static const char *const msg[] = {
	"From a@b Mon Jan  1 00:00:00 2024\nSubject: one\nStatus: O\n\n"
	    "first\n\n",
	"From c@d Mon Jan  1 00:00:01 2024\nSubject: two\nStatus: O\n\n"
	    ">From x\n.\n\n",
	"From e@f Mon Jan  1 00:00:02 2024\nSubject: three\n\nthird\n\n",
};

static const char appended[] =
    "From g@h Tue Jan  2 00:00:00 2024\nSubject: new\n\nnew mail\n\n";

/* The messages whose bit is set in mask, end to end. */
static void
join(char *text, size_t size, unsigned int mask)
{
	size_t i;

	text[0] = '\0';
	for (i = 0; i < 3; i++) {
		if (mask & (1U << i)) {
			strncat(text, msg[i], size - strlen(text) - 1);
		}
	}
}

/* Writes the three messages with an old mtime and opens them. */
static void
open_three(struct mailbox *mb)
{
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char text[1024];

	join(text, sizeof(text), 7);
	write_file("mbox", text, strlen(text), 0600);
	ck_assert_int_eq(utimensat(AT_FDCWD, path_of("mbox", 0), old, 0), 0);
	open_as(mb, "mbox", MBX_OK);
	ck_assert_uint_eq(mb->count, 3);
	check_unlocked();
}

/*
 * Retrieves message i whole (RETR's path) into a new buffer, *len bytes;
 * the first status that is not MBX_OK, or MBX_OK. change, if not NULL,
 * runs once the first bytes were handed out, as another program would
 * while a client reads them.
 */
static enum mbx_status
retrieve(struct mailbox *mb, size_t i, unsigned char **out, size_t *len,
    void (*change)(void))
{
	struct retrieval r;
	const unsigned char *p;
	enum mbx_status st;
	size_t n;

	*len = 0;
	*out = malloc((size_t)mb->msgs[i].len + 1);
	ck_assert_ptr_nonnull(*out);
	st = mailbox_retrieve(mb, i, &r);
	while (st == MBX_OK && (st = mailbox_next(mb, &r, &p, &n)) == MBX_OK &&
	    n > 0) {
		ck_assert_uint_le(*len + n, (size_t)mb->msgs[i].len);
		memcpy(*out + *len, p, n);
		*len += n;
		if (change != NULL) {
			change();
			change = NULL;
		}
	}
	mailbox_done(&r);
	return st;
}

/* Message i is retrieved whole, and is the stored bytes want. */
static void
check_retrieved(struct mailbox *mb, size_t i, const void *want, size_t len)
{
	unsigned char *got;
	size_t n;

	ck_assert_int_eq(retrieve(mb, i, &got, &n, NULL), MBX_OK);
	ck_assert_bytes(got, n, want, len);
	free(got);
}

/* The status of retrieving message i whole; what it handed out is freed. */
static enum mbx_status
retrieval_status(struct mailbox *mb, size_t i)
{
	unsigned char *got;
	size_t n;
	enum mbx_status st = retrieve(mb, i, &got, &n, NULL);

	free(got);
	return st;
}

START_TEST(test_open_indexes_and_reads_messages)
{
	struct mailbox mb;
	const char *body;
	size_t i;
	off_t from = 0;

	open_three(&mb);
	for (i = 0; i < 3; i++) {
		body = strchr(msg[i], '\n') + 1;
		ck_assert_int_eq(mb.msgs[i].from, from);
		check_retrieved(&mb, i, body, strlen(body) - 1);
		from += (off_t)strlen(msg[i]);
	}
	ck_assert_int_eq(mb.end, from);
	mailbox_close(&mb);
}
END_TEST

/* Deletes the messages whose bit is set in del; checks what is left. */
static void
check_update(unsigned int del)
{
	struct mailbox mb;
	struct stat st;
	char want[1024];
	size_t i;

	open_three(&mb);
	for (i = 0; i < 3; i++) {
		mb.msgs[i].deleted = (del & (1U << i)) != 0;
	}
	ck_assert_int_eq(mailbox_update(&mb), MBX_OK);
	ck_assert_uint_eq(mb.unmatched, 0);
	mailbox_close(&mb);
	join(want, sizeof(want), ~del & 7);
	check_file("mbox", want);
	check_unlocked();
	ck_assert_int_eq(stat(path_of("mbox", 0), &st), 0);
	ck_assert_msg((st.st_mtime == 1000000000) == (del == 0),
	    "mtime %lld after deleting %#x", (long long)st.st_mtime, del);
}

START_TEST(test_update_deletes_exactly_the_marked_messages)
{
	unsigned int del;

	for (del = 0; del < 8; del++) {
		check_update(del);
		stop_helpers();
	}
}
END_TEST

/*
 * Another program rewrites the mailbox (to `now`) after the session
 * indexed it; the client deleted the messages in del. What is left, and
 * how many deletions could not be matched?
 */
static void
check_update_after(const char *now, unsigned int del, const char *want,
    size_t unmatched)
{
	struct mailbox mb;
	size_t i;

	open_three(&mb);
	write_file("mbox", now, strlen(now), 0600);
	for (i = 0; i < 3; i++) {
		mb.msgs[i].deleted = (del & (1U << i)) != 0;
	}
	ck_assert_int_eq(mailbox_update(&mb), MBX_OK);
	ck_assert_uint_eq(mb.unmatched, unmatched);
	mailbox_close(&mb);
	check_file("mbox", want);
	check_unlocked();
}

/* text: the three messages with `from` replaced by `to` once. */
static void
edited(char *text, size_t size, const char *from, const char *to)
{
	char *p, rest[1024];

	join(text, size, 7);
	p = strstr(text, from);
	ck_assert_ptr_nonnull(p);
	snprintf(rest, sizeof(rest), "%s", p + strlen(from));
	snprintf(p, size - (size_t)(p - text), "%s%s", to, rest);
}

START_TEST(test_update_keeps_mail_appended_meanwhile)
{
	char now[1024], want[1024];

	join(now, sizeof(now), 7);
	strcat(now, appended);
	join(want, sizeof(want), 5);
	strcat(want, appended);
	check_update_after(now, 2, want, 0);
	check_update_after(now, 7, appended, 0);
	stop_helpers();
	check_update_after(now, 0, now, 0);
	snprintf(want, sizeof(want), "%s%s", msg[1], appended);
	check_update_after(now, 5, want, 0);
}
END_TEST

/* A deleted message that was edited is no longer the one deleted. */
START_TEST(test_update_keeps_deleted_message_edited_meanwhile)
{
	char now[1024];

	edited(now, sizeof(now), "third", "THIRD");
	check_update_after(now, 4, now, 1);
	check_update_after(now, 5, strstr(now, msg[1]), 1);
}
END_TEST

START_TEST(test_update_deletes_around_message_edited_meanwhile)
{
	char now[1024], want[1024];

	edited(now, sizeof(now), "third", "THIRD");
	snprintf(want, sizeof(want), "%s", strstr(now, msg[1]));
	check_update_after(now, 1, want, 0);
}
END_TEST

/*
 * Edits that keep every deleted message where it was, byte for byte, but
 * make it part of a kept one: the empty line before it became text, or
 * text now follows it where the next From_ line was expected.
 */
START_TEST(test_update_keeps_message_joined_meanwhile)
{
	char now[1024];

	edited(now, sizeof(now), "first\n\n", "first\nx\n");
	check_update_after(now, 2, now, 1);
	stop_helpers();
	join(now, sizeof(now), 7);
	strncat(now, "more of the third\n", sizeof(now) - strlen(now) - 1);
	check_update_after(now, 4, now, 1);
}
END_TEST

/* Messages are found by content when others moved them. */
START_TEST(test_update_finds_messages_moved_by_another_program)
{
	char now[1024], want[1024];

	join(now, sizeof(now), 6);
	check_update_after(now, 2, msg[2], 0);
	stop_helpers();
	check_update_after(now, 3, msg[2], 1);
	stop_helpers();
	join(now, sizeof(now), 3);
	check_update_after(now, 1, msg[1], 0);
	stop_helpers();
	check_update_after(now, 4, now, 1);
	stop_helpers();
	edited(now, sizeof(now), "Status: O\n", "Status: RO\nX-UID: 7\n");
	snprintf(want, sizeof(want), "%.*s", (int)(strstr(now, msg[1]) - now),
	    now);
	check_update_after(now, 6, want, 0);
}
END_TEST

/* A MUA rewrote a status flag in place: the message is still the same. */
START_TEST(test_update_accepts_changed_status_header)
{
	char now[1024];

	char want[1024];

	edited(now, sizeof(now), "Subject: two\nStatus: O",
	    "Subject: two\nStatus: R");
	check_update_after(now, 1, now + strlen(msg[0]), 0);
	join(want, sizeof(want), 5);
	check_update_after(now, 2, want, 0);
}
END_TEST

START_TEST(test_update_with_identical_copies)
{
	char three[1024];
	struct mailbox mb;
	size_t i;

	snprintf(three, sizeof(three), "%s%s%s", msg[0], msg[0], msg[0]);
	write_file("mbox", three, strlen(three), 0600);
	open_as(&mb, "mbox", MBX_OK);
	ck_assert_uint_eq(mb.count, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(mb.msgs[i].dup, i);
	}
	mb.msgs[1].deleted = 1;
	ck_assert_int_eq(mailbox_update(&mb), MBX_OK);
	mailbox_close(&mb);
	check_file("mbox", three + strlen(msg[0]));
}
END_TEST

/*
 * dup_shift_loss: the client deleted copy 1 (or 2) of two, and another
 * program expunged copy 1 meanwhile. Which copy is left cannot be told,
 * so none is deleted: the copy numbers shifted.
 */
START_TEST(test_update_keeps_copy_when_another_copy_expunged)
{
	char two[1024];
	struct mailbox mb;

	snprintf(two, sizeof(two), "%s%s", msg[0], msg[0]);
	write_file("mbox", two, strlen(two), 0600);
	open_as(&mb, "mbox", MBX_OK);
	ck_assert_uint_eq(mb.count, 2);
	mb.msgs[_i].deleted = 1;
	write_file("mbox", msg[0], strlen(msg[0]), 0600);
	ck_assert_int_eq(mailbox_update(&mb), MBX_OK);
	ck_assert_uint_eq(mb.unmatched, 1);
	mailbox_close(&mb);
	check_file("mbox", msg[0]);
	check_unlocked();
}
END_TEST

/* rename_over: the path names another file now; nothing is deleted. */
START_TEST(test_update_refuses_mailbox_renamed_over)
{
	char text[1024];
	struct mailbox mb;

	open_three(&mb);
	join(text, sizeof(text), 6);
	write_file("mbox.new", text, strlen(text), 0600);
	ck_assert_int_eq(rename(path_of("mbox.new", 0), path_of("mbox", 1)),
	    0);
	mb.msgs[1].deleted = 1;
	ck_assert_int_eq(mailbox_update(&mb), MBX_TEMP);
	ck_assert_ptr_nonnull(strstr(mb.problem, "replaced"));
	mailbox_close(&mb);
	check_file("mbox", text);
	check_unlocked();
}
END_TEST

/* len bytes of dir/mbox from off, in a new buffer. */
static unsigned char *
file_bytes(off_t off, size_t len)
{
	unsigned char *b = malloc(len + 1);
	int fd = open(path_of("mbox", 0), O_RDONLY | O_CLOEXEC);

	ck_assert_ptr_nonnull(b);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, b, len, off), (ssize_t)len);
	close(fd);
	return b;
}

/* Unless nothing is cached, buf holds the whole region of message i. */
static int
buf_holds(struct mailbox *mb, size_t i)
{
	unsigned char *region;
	size_t len = (size_t)((i + 1 < mb->count ? mb->msgs[i + 1].from :
	    mb->end) - mb->msgs[i].from);
	int same;

	if (mb->buf_holds == 0) {
		return 1;
	}
	ck_assert_uint_eq(mb->buf_holds, i + 1);
	region = file_bytes(mb->msgs[i].from, len);
	same = memcmp(mb->buf, region, len) == 0;
	free(region);
	return same;
}

/* Message i is retrieved whole, as the file holds it now. */
static void
check_verified(struct mailbox *mb, size_t i)
{
	unsigned char *want = file_bytes(mb->msgs[i].start,
	    (size_t)mb->msgs[i].len);

	check_retrieved(mb, i, want, (size_t)mb->msgs[i].len);
	free(want);
	ck_assert_msg(buf_holds(mb, i), "buf does not hold message %zu",
	    i + 1);
}

START_TEST(test_verify_unchanged_messages)
{
	struct mailbox mb;
	size_t i;

	open_three(&mb);
	for (i = 0; i < 3; i++) {
		check_verified(&mb, i);
		check_verified(&mb, i);
	}
	append_file("mbox", appended);
	check_verified(&mb, 2);
	check_verified(&mb, 0);
	mailbox_close(&mb);
	check_unlocked();
}
END_TEST

START_TEST(test_verify_finds_edited_message)
{
	struct mailbox mb;
	char now[1024];

	open_three(&mb);
	edited(now, sizeof(now), "third", "THIRD");
	write_file("mbox", now, strlen(now), 0600);
	ck_assert_int_eq(retrieval_status(&mb, 2), MBX_CHANGED);
	ck_assert_ptr_nonnull(mb.problem);
	check_verified(&mb, 0);
	check_verified(&mb, 1);
	ck_assert_int_eq(retrieval_status(&mb, 2), MBX_CHANGED);
	mailbox_close(&mb);
}
END_TEST

START_TEST(test_verify_finds_removed_and_moved_messages)
{
	struct mailbox mb;
	char now[1024];

	open_three(&mb);
	join(now, sizeof(now), 3);
	write_file("mbox", now, strlen(now), 0600);
	ck_assert_int_eq(retrieval_status(&mb, 2), MBX_CHANGED);
	check_verified(&mb, 1);
	join(now, sizeof(now), 6);
	write_file("mbox", now, strlen(now), 0600);
	ck_assert_int_eq(retrieval_status(&mb, 0), MBX_CHANGED);
	ck_assert_int_eq(retrieval_status(&mb, 1), MBX_CHANGED);
	mailbox_close(&mb);
}
END_TEST

/*
 * A flag header an MUA rewrites in place at the same length is no part of
 * the listed message (nor of its UIDL): it is served as it now reads. One
 * that changes the message's length is not.
 */
START_TEST(test_verify_serves_status_rewritten_in_place)
{
	struct mailbox mb;
	char now[1024];
	const char *body;

	open_three(&mb);
	edited(now, sizeof(now), "Status: O\n\nfirst", "Status: R\n\nfirst");
	write_file("mbox", now, strlen(now), 0600);
	body = strchr(now, '\n') + 1;
	check_retrieved(&mb, 0, body, strlen(msg[0]) - (size_t)(body - now) - 1);
	edited(now, sizeof(now), "Status: O\n\n>From", "Status: RO\n\n>From");
	write_file("mbox", now, strlen(now), 0600);
	ck_assert_int_eq(retrieval_status(&mb, 1), MBX_CHANGED);
	mailbox_close(&mb);
}
END_TEST

/* A mailbox of one message whose region is `size` bytes, after `before`. */
static void
write_big(size_t size, int final_newline, const char *before)
{
	size_t skip = strlen(before), i;
	char *text = malloc(skip + size);

	ck_assert_ptr_nonnull(text);
	memcpy(text, before, skip);
	memset(text + skip, 'x', size);
	memcpy(text + skip, "From big\nSubject: big\n\n", 23);
	for (i = skip + 23 + 99; i < skip + size; i += 100) {
		text[i] = '\n';
	}
	text[skip + size - 1] = final_newline ? '\n' : 'x';
	write_file("mbox", text, skip + size, 0600);
	free(text);
}

/* Cleans up before it asserts, so that it leaks nothing when it fails. */
static void
check_big(size_t size, int final_newline)
{
	struct mailbox mb;
	enum mbx_status st;
	unsigned char *got, *want;
	size_t len;
	int holds, same;

	write_big(size, final_newline, "");
	open_as(&mb, "mbox", MBX_OK);
	ck_assert_uint_eq(mb.count, 1);
	st = retrieve(&mb, 0, &got, &len, NULL);
	want = file_bytes(mb.msgs[0].start, (size_t)mb.msgs[0].len);
	same = len == (size_t)mb.msgs[0].len && memcmp(got, want, len) == 0;
	holds = buf_holds(&mb, 0);
	free(got);
	free(want);
	mailbox_close(&mb);
	stop_helpers();
	ck_assert_int_eq(st, MBX_OK);
	ck_assert_msg(same, "the message of %zu bytes is not served whole",
	    size);
	ck_assert_msg(holds, "buf does not hold the message of %zu bytes",
	    size);
}

START_TEST(test_verify_large_messages)
{
	check_big(READ_BUFFER - 1, 0);
	check_big(READ_BUFFER, 1);
	check_big(READ_BUFFER + 1, 0);
	check_big(3 * READ_BUFFER + 5, 1);
}
END_TEST

/*
 * Regression: a region of exactly READ_BUFFER bytes whose last line has
 * no LF was not taken as ended in one read; mbox_scan() left the last
 * line, which moved to the front of buf, and yet the region was marked
 * cached, so RETR served the corrupted buf.
 */
START_TEST(test_verify_region_of_read_buffer_without_final_newline)
{
	check_big(READ_BUFFER, 0);
}
END_TEST

static const char small_first[] = "From a\nSubject: a\n\nshort\n\n";

/* Another program's in-place expunge of the first message. */
static void
expunge_first(void)
{
	size_t skip = strlen(small_first);
	unsigned char *rest;
	struct stat st;
	int fd = open(path_of("mbox", 0), O_RDWR | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	rest = file_bytes((off_t)skip, (size_t)st.st_size - skip);
	ck_assert_int_eq(pwrite(fd, rest, (size_t)st.st_size - skip, 0),
	    st.st_size - (off_t)skip);
	ck_assert_int_eq(ftruncate(fd, st.st_size - (off_t)skip), 0);
	close(fd);
	free(rest);
}

/* Another program's change of one byte near the end: same size. */
static void
change_last_line(void)
{
	struct stat st;
	int fd = open(path_of("mbox", 0), O_WRONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(pwrite(fd, "y", 1, st.st_size - 10), 1);
	close(fd);
}

/*
 * Regression (retr_foreign_rewrite): a message longer than buf was read
 * again after its check, so what another program did meanwhile was sent
 * as the message. Now every piece handed out is the one parsed, and the
 * end of the message says whether it was the listed one.
 */
static void
check_change_while_retrieved(void (*change)(void))
{
	struct mailbox mb;
	unsigned char *got;
	size_t len;
	enum mbx_status st;

	write_big(3 * READ_BUFFER + 5, 1, small_first);
	open_as(&mb, "mbox", MBX_OK);
	ck_assert_uint_eq(mb.count, 2);
	st = retrieve(&mb, 1, &got, &len, change);
	free(got);
	ck_assert_int_eq(st, MBX_CHANGED);
	ck_assert_uint_lt(len, (size_t)mb.msgs[1].len);
	ck_assert_uint_eq(mb.buf_holds, 0);
	mailbox_close(&mb);
}

START_TEST(test_verify_finds_change_while_retrieved)
{
	check_change_while_retrieved(expunge_first);
	end_test();
	check_change_while_retrieved(change_last_line);
}
END_TEST

/* Moved before RETR: the first piece shows it, before anything is sent. */
START_TEST(test_verify_refuses_moved_large_message_at_once)
{
	struct mailbox mb;
	struct retrieval r;

	write_big(3 * READ_BUFFER + 5, 1, small_first);
	open_as(&mb, "mbox", MBX_OK);
	expunge_first();
	ck_assert_int_eq(mailbox_retrieve(&mb, 1, &r), MBX_CHANGED);
	ck_assert_ptr_null(r.scan);
	mailbox_close(&mb);
}
END_TEST

/*
 * A mailbox of several windows: messages of pseudo-random sizes, so that
 * From_ lines, CRLFs and line ends fall on and around window and page
 * boundaries, one body line longer than a window, and a From_ line at
 * exactly 1 MiB. Returns its bytes (the caller frees them).
 */
static unsigned char *
write_windows_mailbox(size_t *len)
{
	size_t cap = 5 * WINDOW_BYTES, n = 0, body, i;
	unsigned char *b = malloc(cap);
	unsigned int x = 12345;
	int k;

	ck_assert_ptr_nonnull(b);
	for (k = 0; n < 4 * WINDOW_BYTES; k++) {
		n += (size_t)snprintf((char *)b + n, cap - n, "From a@b Mon Jan "
		    "1 00:00:%02d 2024\nSubject: %d\nStatus: RO\n\n", k % 60, k);
		x = x * 1103515245 + 12345;
		body = k == 7 ? WINDOW_BYTES + WINDOW_BYTES / 2 :
		    (x >> 8) % 200000;
		if (n < WINDOW_BYTES && n + body + 4 > WINDOW_BYTES) {
			body = WINDOW_BYTES - n - 2;
		}
		for (i = 0; i < body; i++) {
			b[n + i] = i % 61 == 60 ? '\n' : i % 61 == 59 && k % 3 == 0 ?
			    '\r' : i % 61 == 0 ? 'F' : 'a';
		}
		n += body;
		b[n++] = '\n';
		b[n++] = '\n';
	}
	write_file("mbox", b, n, 0600);
	*len = n;
	return b;
}

static void
check_same_msg(const struct msg *a, const struct msg *b, size_t i)
{
	ck_assert_msg(a->from == b->from && a->start == b->start &&
	    a->len == b->len && a->size == b->size && a->dup == b->dup &&
	    memcmp(a->hash, b->hash, sizeof(a->hash)) == 0,
	    "message %zu differs", i + 1);
}

/*
 * Indexing reads a long mailbox through mapped windows; the index is the
 * one mbox_scan() makes of the whole file in one piece.
 */
START_TEST(test_open_indexes_through_windows_as_in_one_piece)
{
	struct scan *sc = mbox_scan_new();
	struct mailbox mb;
	struct msg *want;
	unsigned char *b;
	size_t len, count, i;

	b = write_windows_mailbox(&len);
	ck_assert_ptr_nonnull(sc);
	ck_assert_int_eq(mbox_scan(sc, b, len, 0, 1), (ssize_t)len);
	want = mbox_scan_finish(sc, (off_t)len, &count);
	mbox_scan_free(sc);
	free(b);
	open_as(&mb, "mbox", MBX_OK);
	ck_assert_uint_gt(count, 20);
	ck_assert_uint_eq(mb.count, count);
	ck_assert_int_eq(mb.end, (off_t)len);
	for (i = 0; i < count; i++) {
		check_same_msg(&mb.msgs[i], &want[i], i);
	}
	for (i = 0; i < count; i++) {
		mb.msgs[i].deleted = i % 2 == 0;
	}
	ck_assert_int_eq(mailbox_update(&mb), MBX_OK);
	ck_assert_uint_eq(mb.unmatched, 0);
	mailbox_close(&mb);
	free(want);
}
END_TEST

/*
 * An editor that ignores the locks truncates and rewrites the mailbox
 * again and again while sessions index it: some of them find it shrunk
 * under a mapped window; each gets a status, none is killed, and the
 * index of those that succeed is the file's.
 */
START_TEST(test_open_survives_truncation_while_indexing)
{
	struct mailbox mb;
	enum mbx_status st;
	unsigned char *b;
	size_t len, count = 0, lost = 0, tries;
	int status, fd;
	pid_t pid;

	b = write_windows_mailbox(&len);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		fd = open(path_of("mbox", 0), O_WRONLY | O_CLOEXEC);
		for (;;) {
			if (fd == -1 || ftruncate(fd, 4096) == -1 ||
			    pwrite(fd, b, len, 0) != (ssize_t)len) {
				_exit(1);
			}
		}
	}
	for (tries = 0; tries < 2000 && lost < 3; tries++) {
		st = mailbox_open(&mb, path_of("mbox", 1), start_helper(), 0);
		ck_assert_msg(st == MBX_OK || st == MBX_TEMP || st == MBX_CHANGED,
		    "status %d (%s)", st, mb.problem);
		lost += st == MBX_TEMP && strstr(mb.problem, "shrank") != NULL;
		count += st == MBX_OK;
		mailbox_close(&mb);
		stop_helpers();
	}
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	free(b);
	ck_assert_msg(lost > 0, "no truncation seen in %zu sessions (%zu ok)",
	    tries, count);
}
END_TEST

struct path_case {
	const char	*tmpl;
	const char	*user;
	const char	*home;
	const char	*want;	/* NULL: refused */
};

static void
check_path(const struct path_case *t)
{
	char out[PATH_MAX];
	int r = mailbox_path(out, sizeof(out), t->tmpl, t->user, t->home);

	if (t->want == NULL) {
		ck_assert_msg(r == -1, "\"%s\" accepted", t->tmpl);
		return;
	}
	ck_assert_msg(r == 0, "\"%s\" refused", t->tmpl);
	ck_assert_str_eq(out, t->want);
}

START_TEST(test_path_expansions)
{
	static const struct path_case t[] = {
		{ "/var/mail/%u", "bob", "/home/bob", "/var/mail/bob" },
		{ "%h/mbox", "bob", "/home/bob", "/home/bob/mbox" },
		{ "/m/%u/%u%%", "b", "/h", "/m/b/b%" },
		{ "/m/%%u%%h", "b", "/h", "/m/%u%h" },
		{ "/plain", "b", "/h", "/plain" },
		{ "%h", "b", "/", "/" },
		{ "/m/%x", "b", "/h", NULL },
		{ "/m/%U", "b", "/h", NULL },
		{ "/m/%", "b", "/h", NULL },
		{ "/m/%u%", "b", "/h", NULL },
		{ "mail/%u", "b", "/h", NULL },
		{ "%u/mbox", "b", "/h", NULL },
		{ "%h/mbox", "b", "home", NULL },
		{ "", "b", "/h", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		check_path(&t[i]);
	}
}
END_TEST

/*
 * The result and its NUL need exactly strlen(want) + 1 bytes: one fewer
 * is refused, and nothing is written past outlen.
 */
static void
check_path_boundary(const char *tmpl, const char *user, const char *home,
    const char *want)
{
	char out[64];
	size_t need = strlen(want) + 1, len;

	for (len = 0; len <= need + 1; len++) {
		memset(out, 'Z', sizeof(out));
		ck_assert_int_eq(mailbox_path(out, len, tmpl, user, home),
		    len >= need ? 0 : -1);
		ck_assert_msg(out[len] == 'Z', "wrote past %zu bytes", len);
		if (len >= need) {
			ck_assert_str_eq(out, want);
		}
	}
}

START_TEST(test_path_overflow_at_exact_size)
{
	check_path_boundary("/var/mail/%u", "bob", "/h", "/var/mail/bob");
	check_path_boundary("%h", "u", "/home/bob", "/home/bob");
	check_path_boundary("/a%%", "u", "/h", "/a%");
	check_path_boundary("/a/%u/b", "user", "/h", "/a/user/b");
}
END_TEST

Suite *
mailbox_suite(void)
{
	Suite *s = suite_create("mailbox");
	TCase *path = tcase_create("mailbox_path");
	TCase *open = tcase_create("mailbox_open");
	TCase *cut = tcase_create("mailbox_open_truncated");
	TCase *upd = tcase_create("mailbox_update");
	TCase *ver = tcase_create("mailbox_retrieve");

	ADD_TESTS(path, test_path_expansions, test_path_overflow_at_exact_size);
	suite_add_tcase(s, path);
	tcase_add_unchecked_fixture(open, make_dir, remove_dir);
	tcase_add_checked_fixture(open, begin_test, end_test);
	tcase_set_timeout(open, 30);
	tcase_add_loop_test(open,
	    test_open_refuses_what_is_not_a_plain_file_of_ours, 0,
	    (int)(sizeof(not_ours) / sizeof(not_ours[0])));
	ADD_TESTS(open, test_open_missing_file_is_empty_maildrop,
	    test_open_accepts_group_mail_mode,
	    test_open_refuses_symlinked_directory,
	    test_lockd_works_only_in_the_session_directory,
	    test_open_second_session_is_in_use,
	    test_open_respects_dotlock_of_another_program,
	    test_open_breaks_stale_dotlock,
	    test_open_indexes_and_reads_messages,
	    test_open_indexes_through_windows_as_in_one_piece);
	suite_add_tcase(s, open);
	tcase_add_unchecked_fixture(cut, make_dir, remove_dir);
	tcase_add_checked_fixture(cut, begin_test, end_test);
	tcase_set_tags(cut, TAG_SIGBUS);
	tcase_set_timeout(cut, 30);
	ADD_TESTS(cut, test_open_survives_truncation_while_indexing);
	suite_add_tcase(s, cut);
	tcase_add_unchecked_fixture(upd, make_dir, remove_dir);
	tcase_add_checked_fixture(upd, begin_test, end_test);
	ADD_TESTS(upd, test_update_deletes_exactly_the_marked_messages,
	    test_update_keeps_mail_appended_meanwhile,
	    test_update_keeps_deleted_message_edited_meanwhile,
	    test_update_deletes_around_message_edited_meanwhile,
	    test_update_keeps_message_joined_meanwhile,
	    test_update_finds_messages_moved_by_another_program,
	    test_update_accepts_changed_status_header,
	    test_update_with_identical_copies,
	    test_update_refuses_mailbox_renamed_over);
	tcase_add_loop_test(upd,
	    test_update_keeps_copy_when_another_copy_expunged, 0, 2);
	suite_add_tcase(s, upd);
	tcase_add_unchecked_fixture(ver, make_dir, remove_dir);
	tcase_add_checked_fixture(ver, begin_test, end_test);
	tcase_set_timeout(ver, 30);
	ADD_TESTS(ver, test_verify_unchanged_messages,
	    test_verify_finds_edited_message,
	    test_verify_finds_removed_and_moved_messages,
	    test_verify_serves_status_rewritten_in_place,
	    test_verify_large_messages,
	    test_verify_region_of_read_buffer_without_final_newline,
	    test_verify_finds_change_while_retrieved,
	    test_verify_refuses_moved_large_message_at_once);
	suite_add_tcase(s, ver);
	return s;
}
