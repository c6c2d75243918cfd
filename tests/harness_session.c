/* SPDX-License-Identifier: ISC */
/*
 * A client's side of a POP3 session with the real pop3d: start it on a
 * socketpair, write commands, read replies with a deadline, and read
 * what it logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define ARGS_MAX	32
#define SESSION_BUF	(64 * 1024)

struct session {
	pid_t	 pid;
	int	 fd;		/* the client's end; -1 once closed */
	int	 flags;
	char	 log[PATH_MAX];
	size_t	 start;		/* unread input is in[start, end) */
	size_t	 end;
	char	 line[SESSION_BUF];
	char	 in[SESSION_BUF];
};

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The options every session gets; the count. */
static size_t
common_args(char **argv, int flags)
{
	static char user[] = "--privsep-user=" PRIVSEP_USER;
	static char dir[PATH_MAX + 32];
	size_t n = 0;

	argv[n++] = (flags & S_PROBE) != 0 ? W.probe : W.pop3d;
	argv[n++] = (char *)"-d";
	argv[n++] = (char *)"-m";
	argv[n++] = W.template;
	if ((flags & S_PAM) == 0) {
		argv[n++] = (char *)"-p";
		argv[n++] = W.passwd_file;
	}
	if (W.root) {
		snprintf(dir, sizeof(dir), "--privsep-dir=%s", W.privsep_dir);
		argv[n++] = user;
		argv[n++] = dir;
	}
	return n;
}

struct session *
session_start(int flags, ...)
{
	static int serial;
	struct session *s = calloc(1, sizeof(*s));
	char *argv[ARGS_MAX];
	const char *a;
	size_t n;
	va_list ap;
	int sv[2], log;

	ck_assert_ptr_nonnull(s);
	n = common_args(argv, flags);
	va_start(ap, flags);
	while ((a = va_arg(ap, const char *)) != NULL && n < ARGS_MAX - 1) {
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	snprintf(s->log, sizeof(s->log), "%s/log.%d.%d", W.dir, (int)getpid(),
	    ++serial);
	log = open_log(s->log);
	s->flags = flags;
	s->pid = spawn(argv, flags, sv[1], sv[1], log);
	s->fd = sv[0];
	close(sv[1]);
	close(log);
	return s;
}

struct session *
logged_in(int flags)
{
	struct session *s = session_start(flags, NULL);

	greet(s);
	ck_assert_msg(strncmp(login(s), "+OK maildrop has ", 17) == 0,
	    "login refused: \"%s\"", s->line);
	return s;
}

pid_t
session_pid(const struct session *s)
{
	return s->pid;
}

void
send_raw(struct session *s, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(s->fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

void
send_line(struct session *s, const char *fmt, ...)
{
	char buf[SESSION_BUF];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < sizeof(buf) - 2);
	memcpy(buf + n, "\r\n", 2);
	send_raw(s, buf, (size_t)n + 2);
}

/* More input before the deadline: 1, or 0 when the server closed. */
static int
fill(struct session *s, long long deadline)
{
	struct pollfd pfd;
	long long left = deadline - now_ms();
	ssize_t n;

	if (s->start > 0) {
		memmove(s->in, s->in + s->start, s->end - s->start);
		s->end -= s->start;
		s->start = 0;
	}
	ck_assert_msg(s->end < sizeof(s->in), "reply line too long");
	pfd.fd = s->fd;
	pfd.events = POLLIN;
	ck_assert_msg(left > 0 && poll(&pfd, 1, (int)left) == 1,
	    "no reply within %d ms", REPLY_TIMEOUT_MS);
	do {
		n = read(s->fd, s->in + s->end, sizeof(s->in) - s->end);
	} while (n == -1 && errno == EINTR);
	if (n == 0 || (n == -1 && errno == ECONNRESET)) {
		return 0;
	}
	ck_assert_msg(n > 0, "read: %s", strerror(errno));
	s->end += (size_t)n;
	return 1;
}

char *
read_line(struct session *s, size_t *lenp)
{
	long long deadline = now_ms() + REPLY_TIMEOUT_MS;
	char *nl;
	size_t n;

	while ((nl = memchr(s->in + s->start, '\n', s->end - s->start)) ==
	    NULL) {
		if (!fill(s, deadline)) {
			ck_assert_msg(s->start == s->end, "closed inside a "
			    "line: \"%s\"", show(s->in + s->start,
			    s->end - s->start, 0));
			return NULL;
		}
	}
	n = (size_t)(nl - (s->in + s->start));
	ck_assert_msg(n > 0 && nl[-1] == '\r', "line without CRLF: \"%s\"",
	    show(s->in + s->start, n + 1, 0));
	memcpy(s->line, s->in + s->start, n - 1);
	s->line[n - 1] = '\0';
	s->start += n + 1;
	if (lenp != NULL) {
		*lenp = n - 1;
	}
	return s->line;
}

/* The next line, which must be there; what says what it answers. */
static char *
must_read(struct session *s, const char *what, const char *want, size_t *n)
{
	char *line = read_line(s, n);

	ck_assert_msg(line != NULL, "%s: connection closed; wanted \"%s\"",
	    what, want);
	return line;
}

static char *
line_is(struct session *s, const char *what, const char *want)
{
	size_t n;
	char *line = must_read(s, what, want, &n);

	expect_bytes(what, line, n, want, strlen(want));
	return line;
}

static char *
line_starts(struct session *s, const char *what, const char *prefix)
{
	size_t n, want = strlen(prefix);
	char *line = must_read(s, what, prefix, &n);

	ck_assert_msg(n >= want && memcmp(line, prefix, want) == 0,
	    "%s: got \"%s\", wanted \"%s...\"", what, show(line, n, 0),
	    prefix);
	return line;
}

char *
expect_line(struct session *s, const char *want)
{
	return line_is(s, "reply", want);
}

char *
expect_prefix(struct session *s, const char *prefix)
{
	return line_starts(s, "reply", prefix);
}

void
chat(struct session *s, const char *cmd, const char *reply)
{
	send_line(s, "%s", cmd);
	line_is(s, cmd, reply);
}

char *
chat_prefix(struct session *s, const char *cmd, const char *prefix)
{
	send_line(s, "%s", cmd);
	return line_starts(s, cmd, prefix);
}

void
expect_eof(struct session *s)
{
	size_t n;
	char *line = read_line(s, &n);

	ck_assert_msg(line == NULL, "wanted the connection closed, got \"%s\"",
	    show(line, n, 0));
}

void
greet(struct session *s)
{
	char *line = expect_prefix(s, "+OK");

	ck_assert_msg(strchr(line, '<') == NULL,
	    "greeting offers APOP: \"%s\"", line);
}

char *
login(struct session *s)
{
	send_line(s, "USER %s", W.user);
	expect_prefix(s, "+OK");
	send_line(s, "PASS %s",
	    (s->flags & S_PAM) != 0 ? PAM_PASSWORD : PASSWORD);
	return must_read(s, "PASS", "a reply", NULL);
}

char *
read_multiline(struct session *s, size_t *len)
{
	struct text t = TEXT_INIT;
	char *line;
	size_t n;

	text_add(&t, "", 0);
	for (;;) {
		line = must_read(s, "multi-line reply", "more lines", &n);
		if (n == 1 && line[0] == '.') {
			break;
		}
		if (line[0] == '.') {
			line++;
			n--;
		}
		text_add(&t, line, n);
		text_add(&t, "\r\n", 2);
	}
	*len = t.len;
	return t.p;
}

char *
fetch(struct session *s, const char *cmd, size_t *len)
{
	chat_prefix(s, cmd, "+OK");
	return read_multiline(s, len);
}

void
expect_body(struct session *s, const char *cmd, const void *want,
    size_t wlen)
{
	size_t len;
	char *body = fetch(s, cmd, &len);

	expect_bytes(cmd, body, len, want, wlen);
	free(body);
}

size_t
listing(struct session *s, const char *cmd, struct entry *e, size_t max)
{
	char *body, *line, *save = NULL;
	size_t len, n = 0;
	int used;

	body = fetch(s, cmd, &len);
	for (line = strtok_r(body, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save)) {
		ck_assert_uint_lt(n, max);
		used = 0;
		ck_assert_msg(sscanf(line, "%lu %71s%n", &e[n].n, e[n].value,
		    &used) == 2 && line[used] == '\0',
		    "bad %s line \"%s\"", cmd, line);
		n++;
	}
	free(body);
	return n;
}

int
session_wait(struct session *s)
{
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	return reap(s->pid);
}

void
session_free(struct session *s)
{
	if (s->fd != -1) {
		close(s->fd);
	}
	free(s);
}

void
session_end(struct session *s)
{
	int status = session_wait(s);

	if (status != 0) {
		dump_file(s->log);
	}
	ck_assert_msg(status == 0, "pop3d exit status %d", status);
	session_free(s);
}

void
quit(struct session *s)
{
	chat(s, "QUIT", "+OK bye");
	expect_eof(s);
	session_end(s);
}

int
log_has(const struct session *s, const char *want)
{
	size_t len;
	char *log = slurp(s->log, &len);
	int found = memmem(log, len, want, strlen(want)) != NULL;

	free(log);
	return found;
}

void
expect_log(const struct session *s, const char *want)
{
	if (!log_has(s, want)) {
		dump_file(s->log);
		ck_abort_msg("the log lacks \"%s\"", want);
	}
}

void
expect_no_log(const struct session *s, const char *unwanted)
{
	if (log_has(s, unwanted)) {
		dump_file(s->log);
		ck_abort_msg("the log holds \"%s\"", unwanted);
	}
}

/* Everything on fd until EOF, within the reply deadline. */
static void
read_all(int fd, struct text *out)
{
	long long deadline = now_ms() + REPLY_TIMEOUT_MS;
	struct pollfd pfd;
	char buf[4096];
	ssize_t n;

	text_add(out, "", 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		ck_assert_msg(poll(&pfd, 1, (int)(deadline - now_ms())) == 1,
		    "pop3d kept its stdout open");
		n = read(fd, buf, sizeof(buf));
		if (n <= 0) {
			return;
		}
		text_add(out, buf, (size_t)n);
	}
}

int
run_pop3d(const char *const *args, struct text *out)
{
	char *argv[ARGS_MAX], log[PATH_MAX];
	size_t n = 0;
	int p[2], in, err, status;
	pid_t pid;

	argv[n++] = W.pop3d;
	while (*args != NULL && n < ARGS_MAX - 1) {
		argv[n++] = (char *)*args++;
	}
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/cli.%d", W.dir, (int)getpid());
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	err = open_log(log);
	pid = spawn(argv, 0, in, p[1], err);
	close(p[1]);
	close(in);
	close(err);
	read_all(p[0], out);
	close(p[0]);
	status = reap(pid);
	return status;
}

pid_t
only_child(pid_t pid)
{
	char path[64], *text, *end;
	size_t len;
	long child;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
	    (int)pid);
	text = slurp(path, &len);
	child = strtol(text, &end, 10);
	ck_assert_msg(end != text && strspn(end, " \n") == strlen(end),
	    "pid %d has children \"%s\", want one", (int)pid, text);
	free(text);
	return (pid_t)child;
}
