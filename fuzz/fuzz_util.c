/* SPDX-License-Identifier: ISC */
/*
 * What the fuzz targets share (see fuzz.h). Not part of pop3d; runs as
 * whoever runs the fuzzer, which may be root: the mailbox fixture lives
 * in a fresh mkdtemp() directory of its own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"
#include "lockd.h"

/* Set by replay.c: the input being replayed, named when one fails. */
const char *fuzz_current_input;

void
fuzz_failed(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
	if (fuzz_current_input != NULL) {
		fprintf(stderr, "input: %s\n", fuzz_current_input);
	}
	__builtin_trap();
}

/*
 * log.c's log_msg() reaches syslog; the targets are linked with
 * -Wl,--wrap=log_msg so that millions of runs stay out of the journal.
 * The message is still formatted, so that a bad argument is found;
 * POP3D_FUZZ_LOG=1 shows it on stderr.
 */
void	__wrap_log_msg(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

void
__wrap_log_msg(int prio, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (getenv("POP3D_FUZZ_LOG") != NULL) {
		fprintf(stderr, "log %d: %s\n", prio, text);
	}
}

unsigned char *
fuzz_dup(const void *buf, size_t len)
{
	unsigned char *p = malloc(len);

	if (p == NULL && len > 0) {
		abort();
	}
	if (len > 0) {
		memcpy(p, buf, len);
	}
	return p;
}

static void __attribute__((noreturn))
fixture_fatal(const char *what)
{
	fprintf(stderr, "fuzz fixture: %s: %s\n", what, strerror(errno));
	abort();
}

static struct {
	char		 dir[PATH_MAX / 2];
	char		 path[PATH_MAX];
	char		 session[PATH_MAX];
	char		 dotlock[PATH_MAX];
	int		 chan;
	pid_t		 pid;
} fx = { .chan = -1, .pid = -1 };

static void
empty_dir(void)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(fx.dir);

	if (d == NULL) {
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    snprintf(path, sizeof(path), "%s/%s", fx.dir, e->d_name) <
		    (int)sizeof(path)) {
			unlink(path);
		}
	}
	closedir(d);
}

/* At exit the helper sees its channel close, and leaves. */
static void
fixture_stop(void)
{
	if (fx.chan != -1) {
		close(fx.chan);
		waitpid(fx.pid, NULL, 0);
		fx.chan = -1;
	}
}

/*
 * The lock helper runs in a child of this one, which removes the
 * directory once the helper is gone: also when the fuzzer crashed.
 */
static void __attribute__((noreturn))
fixture_keeper(int chan)
{
	pid_t helper;

	signal(SIGINT, SIG_IGN);
	helper = fork();
	if (helper == 0) {
		lockd_serve(chan, fx.path, lockd_directory(fx.path));
	}
	close(chan);
	if (helper != -1) {
		waitpid(helper, NULL, 0);
	}
	empty_dir();
	rmdir(fx.dir);
	_exit(0);
}

static const char *
scratch_base(void)
{
	const char *t = getenv("TMPDIR");

	if (access("/dev/shm", W_OK) == 0) {
		return "/dev/shm";
	}
	return t != NULL && *t == '/' ? t : "/tmp";
}

static void
name_in_dir(char *out, size_t len, const char *name)
{
	if (snprintf(out, len, "%s/%s", fx.dir, name) >= (int)len) {
		errno = ENAMETOOLONG;
		fixture_fatal(name);
	}
}

void
mailbox_fixture_start(void)
{
	int fds[2];

	if (fx.chan != -1) {
		return;
	}
	if (snprintf(fx.dir, sizeof(fx.dir), "%s/pop3d-fuzz-XXXXXX",
	    scratch_base()) >= (int)sizeof(fx.dir) || mkdtemp(fx.dir) == NULL) {
		fixture_fatal("mkdtemp");
	}
	name_in_dir(fx.path, sizeof(fx.path), "mbox");
	name_in_dir(fx.session, sizeof(fx.session), "mbox.pop3d");
	name_in_dir(fx.dotlock, sizeof(fx.dotlock), "mbox.lock");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == -1) {
		fixture_fatal("socketpair");
	}
	fx.pid = fork();
	if (fx.pid == -1) {
		fixture_fatal("fork");
	}
	if (fx.pid == 0) {
		close(fds[0]);
		fixture_keeper(fds[1]);
	}
	close(fds[1]);
	fx.chan = fds[0];
	atexit(fixture_stop);
}

const char *
mailbox_fixture_path(void)
{
	return fx.path;
}

int
mailbox_fixture_chan(void)
{
	return fx.chan;
}

static void
write_all(int fd, const unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n <= 0) {
			fixture_fatal("write");
		}
		buf += n;
		len -= (size_t)n;
	}
}

void
mailbox_fixture_write(const unsigned char *buf, size_t len)
{
	int fd;

	if (unlink(fx.session) == -1 && errno != ENOENT) {
		fixture_fatal("unlink session file");
	}
	fd = open(fx.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		fixture_fatal("open mailbox");
	}
	write_all(fd, buf, len);
	close(fd);
}

void
mailbox_fixture_remove(void)
{
	if ((unlink(fx.session) == -1 && errno != ENOENT) ||
	    (unlink(fx.path) == -1 && errno != ENOENT)) {
		fixture_fatal("unlink");
	}
}

void
mailbox_fixture_append(const unsigned char *buf, size_t len)
{
	int fd = open(fx.path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);

	if (fd == -1) {
		fixture_fatal("open mailbox to append");
	}
	write_all(fd, buf, len);
	close(fd);
}

unsigned char *
mailbox_fixture_read(size_t *len)
{
	struct stat st;
	unsigned char *buf;
	ssize_t n;
	size_t done = 0;
	int fd = open(fx.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd == -1 || fstat(fd, &st) == -1) {
		fixture_fatal("read mailbox");
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		abort();
	}
	while (done < (size_t)st.st_size) {
		n = read(fd, buf + done, (size_t)st.st_size - done);
		if (n <= 0) {
			fixture_fatal("read mailbox");
		}
		done += (size_t)n;
	}
	close(fd);
	*len = done;
	return buf;
}

int
mailbox_fixture_dotlocked(void)
{
	return access(fx.dotlock, F_OK) == 0;
}

static struct {
	const unsigned char *in;
	size_t		 inlen;
	size_t		 inpos;
	size_t		 rchunk;
	int		 reset;
	size_t		 wchunk;
	int		 keep;
	unsigned char	*out;
	size_t		 outlen;
	size_t		 outcap;
	int		 interrupt;
	size_t		 limit;
	unsigned long	 reads;
	unsigned long	 writes;
	int		 null;
} cl = { .null = -1 };

/* Every third call is interrupted first when faults are asked for. */
static int
interrupted(unsigned long *calls)
{
	if (!cl.interrupt || ++*calls % 3 != 0) {
		return 0;
	}
	errno = EINTR;
	return 1;
}

static ssize_t
client_read(int fd, void *buf, size_t len)
{
	size_t n = cl.inlen - cl.inpos;

	(void)fd;
	if (interrupted(&cl.reads)) {
		return -1;
	}
	if (n == 0) {
		if (cl.reset) {
			errno = ECONNRESET;
			return -1;
		}
		return 0;
	}
	if (n > len) {
		n = len;
	}
	if (cl.rchunk > 0 && n > cl.rchunk) {
		n = cl.rchunk;
	}
	memcpy(buf, cl.in + cl.inpos, n);
	cl.inpos += n;
	return (ssize_t)n;
}

static void
keep_output(const void *buf, size_t n)
{
	size_t cap = cl.outcap == 0 ? 4096 : cl.outcap;
	unsigned char *p;

	while (cap - cl.outlen < n) {
		cap *= 2;
	}
	if (cap != cl.outcap) {
		p = realloc(cl.out, cap);
		if (p == NULL) {
			abort();
		}
		cl.out = p;
		cl.outcap = cap;
	}
	memcpy(cl.out + cl.outlen, buf, n);
	cl.outlen += n;
}

static ssize_t
client_write(int fd, const void *buf, size_t len)
{
	size_t n = len;

	(void)fd;
	if (interrupted(&cl.writes)) {
		return -1;
	}
	if (cl.interrupt && cl.writes % 5 == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (cl.limit > 0 && cl.outlen >= cl.limit) {
		errno = EPIPE;
		return -1;
	}
	if (cl.wchunk > 0 && n > cl.wchunk) {
		n = cl.wchunk;
	}
	if (cl.keep) {
		keep_output(buf, n);
	} else {
		cl.outlen += n;
	}
	return (ssize_t)n;
}

void
fuzz_client_start(const unsigned char *in, size_t len, size_t rchunk,
    int reset)
{
	cl.in = in;
	cl.inlen = len;
	cl.inpos = 0;
	cl.rchunk = rchunk;
	cl.reset = reset;
	cl.wchunk = 0;
	cl.keep = 0;
	cl.outlen = 0;
	/* Readable and writable at once for poll(), as a busy client is. */
	cl.null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (cl.null == -1) {
		fixture_fatal("/dev/null");
	}
}

void
fuzz_client_writes(size_t wchunk, int keep)
{
	cl.wchunk = wchunk;
	cl.keep = keep;
}

void
fuzz_client_faults(int interrupt, size_t limit)
{
	cl.interrupt = interrupt;
	cl.limit = limit;
}

void
fuzz_client_attach(struct io *io, int timeout_ms)
{
	io_init(io, cl.null, cl.null, timeout_ms);
	io->read_fn = client_read;
	io->write_fn = client_write;
}

const unsigned char *
fuzz_client_output(size_t *len)
{
	*len = cl.outlen;
	return cl.out;
}

void
fuzz_client_end(void)
{
	if (cl.null != -1) {
		close(cl.null);
	}
	free(cl.out);
	memset(&cl, 0, sizeof(cl));
	cl.null = -1;
}

/* Lines of every kind the body writer treats apart: dots, CRLF, LF. */
static size_t
big_line(unsigned char *p, size_t i)
{
	size_t n;

	if (i % 50 == 0) {
		memcpy(p, ".dot-stuffed\n", 13);
		return 13;
	}
	if (i % 7 == 0) {
		memcpy(p, "a CRLF line\r\n", 13);
		return 13;
	}
	n = 40 + i % 60;
	memset(p, 'a' + (int)(i % 26), n);
	p[n] = '\n';
	return n + 1;
}

unsigned char *
fuzz_behind_big_message(const unsigned char *buf, size_t len, size_t *outlen)
{
	static const char head[] = "From big@example.org Mon Jan  1 "
	    "00:00:00 2024\nSubject: big\nStatus: RO\n\n";
	unsigned char *p = malloc(BIG_MESSAGE + 128 + len);
	size_t o = sizeof(head) - 1, i = 0;

	if (p == NULL) {
		abort();
	}
	memcpy(p, head, o);
	while (o < BIG_MESSAGE) {
		o += big_line(p + o, i++);
	}
	p[o++] = '\n';
	if (len > 0) {
		memcpy(p + o, buf, len);
	}
	*outlen = o + len;
	return p;
}

void
fuzz_rng_seed(struct fuzz_rng *r, const unsigned char *p, size_t len)
{
	size_t i;

	r->s = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < len; i++) {
		r->s = (r->s ^ p[i]) * 0x100000001b3ULL;
	}
}

/* splitmix64: 0 .. n - 1, and 0 when n is 0. */
size_t
fuzz_rng_below(struct fuzz_rng *r, size_t n)
{
	uint64_t z;

	r->s += 0x9e3779b97f4a7c15ULL;
	z = r->s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return n == 0 ? 0 : (size_t)(z % n);
}
