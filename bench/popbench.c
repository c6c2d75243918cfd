/* SPDX-License-Identifier: ISC */
/*
 * popbench: the benchmark's POP3 client. One scenario per run, against
 * 127.0.0.1:PORT; prints one line of key=value pairs (times in seconds)
 * and exits 0, or prints "ok=0 err=..." and exits 1.
 *
 *	popbench [-P port] [-u user] [-n count] [-t seconds] [-T seconds]
 *	    MODE [FILE]
 *
 * -t bounds the whole run. -T stops a one-command-at-a-time fetch (retr,
 * top, concurrent) that has run this long; "done=" says how many messages
 * it fetched, and the rate is over those.
 * The password comes from the environment (POPBENCH_PASS), not argv.
 * Modes:
 *   stat       login, STAT, QUIT
 *   uidl       login, UIDL, QUIT
 *   retr       login, STAT, RETR 1..n one command at a time, QUIT
 *   retr-pipe  the same with all RETR commands sent in one write
 *   top        login, STAT, TOP i 0 for every message one at a time, QUIT
 *   dele1      login, DELE 1, QUIT (quit_s: QUIT until its +OK)
 *   deleall    login, STAT, DELE 1..n in one write, QUIT
 *   rss        login, STAT, LIST, UIDL, RETR 1, RETR n, TOP n 0, DELE 1,
 *              QUIT (exercises everything; not timed)
 *   sessions   -n times: connect, login, STAT, QUIT
 *   concurrent -n sessions at once as users USER01, USER02, ... (-u
 *              USER), each fetching all messages one RETR at a time
 *   raw        connect and read until the server closes (a `cat`)
 *   scan FILE  read FILE in 256 KiB pieces and memchr every line end
 *
 * The client must not be the bottleneck: replies are read with large
 * recv() calls into one buffer, and the end of a multi-line reply
 * ("\r\n.\r\n") is found 16 bytes at a time with SSE2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define BUF_SIZE	(4 << 20)
#define RECV_MIN	(1 << 20)
#define LINE_MAX_	1024

struct conn {
	int		 fd;
	char		*buf;
	size_t		 start;
	size_t		 end;
	unsigned long long rx;	/* bytes received */
	char		 err[256];
};

static int port = 110;
static const char *user = "benchuser";
static const char *pass = "";
static int io_timeout = 120;
static double budget;		/* -T: stop one-at-a-time fetches after */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(struct conn *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static int command(struct conn *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

static void
die_line(const char *err)
{
	char clean[256];
	size_t i, n = strnlen(err, sizeof(clean) - 1);

	memcpy(clean, err, n);
	clean[n] = '\0';
	for (i = 0; i < n; i++) {
		if (clean[i] < 0x20 || clean[i] >= 0x7f || clean[i] == '"') {
			clean[i] = '?';
		}
	}
	printf("ok=0 err=\"%s\"\n", clean);
	exit(1);
}

static int
conn_open(struct conn *c)
{
	struct sockaddr_in sa;
	struct timeval tv;
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->buf = malloc(BUF_SIZE);
	if (c->buf == NULL) {
		return fail(c, "out of memory");
	}
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		return fail(c, "socket: %s", strerror(errno));
	}
	tv.tv_sec = io_timeout;
	tv.tv_usec = 0;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		return fail(c, "connect 127.0.0.1:%d: %s", port,
		    strerror(errno));
	}
	return 0;
}

static void
conn_close(struct conn *c)
{
	if (c->fd != -1) {
		close(c->fd);
	}
	free(c->buf);
	c->buf = NULL;
	c->fd = -1;
}

/* Reads more; keeps the unread bytes. 1 read, 0 EOF, -1 error. */
static int
fill(struct conn *c)
{
	ssize_t n;

	if (BUF_SIZE - c->end < RECV_MIN) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	do {
		n = recv(c->fd, c->buf + c->end, BUF_SIZE - c->end, 0);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		return fail(c, "recv: %s", errno == EAGAIN ? "timeout" :
		    strerror(errno));
	}
	if (n == 0) {
		return 0;
	}
	c->end += (size_t)n;
	c->rx += (unsigned long long)n;
	return 1;
}

static int
send_all(struct conn *c, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR) {
			continue;
		}
		if (w == -1) {
			return fail(c, "send: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The next reply line, without CRLF, into line. */
static int
read_line(struct conn *c, char *line, size_t max)
{
	char *nl, *p;
	size_t n;
	int r;

	for (;;) {
		nl = memchr(c->buf + c->start, '\n', c->end - c->start);
		if (nl != NULL) {
			break;
		}
		r = fill(c);
		if (r <= 0) {
			return r == 0 ? fail(c, "connection closed") : -1;
		}
	}
	p = c->buf + c->start;
	n = (size_t)(nl - p);
	c->start += n + 1;
	if (n > 0 && p[n - 1] == '\r') {
		n--;
	}
	if (n >= max) {
		n = max - 1;
	}
	memcpy(line, p, n);
	line[n] = '\0';
	return 0;
}

static int
status(struct conn *c, const char *what)
{
	char line[LINE_MAX_];

	if (read_line(c, line, sizeof(line)) == -1) {
		return -1;
	}
	if (strncmp(line, "+OK", 3) != 0) {
		return fail(c, "%s: %s", what, line);
	}
	return 0;
}

/* Finds "\n.\r\n" in [p, end); NULL if not wholly there. */
static const char *
find_end(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n'), dot = _mm_set1_epi8('.');
	__m128i a, b;
	unsigned int m;
	int i;

	while (end - p >= 17) {
		a = _mm_loadu_si128((const __m128i *)(const void *)p);
		b = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
		m = (unsigned int)_mm_movemask_epi8(_mm_and_si128(
		    _mm_cmpeq_epi8(a, nl), _mm_cmpeq_epi8(b, dot)));
		while (m != 0) {
			i = __builtin_ctz(m);
			if (end - (p + i) < 4) {
				return NULL;
			}
			if (p[i + 2] == '\r' && p[i + 3] == '\n') {
				return p + i;
			}
			m &= m - 1;
		}
		p += 16;
	}
#endif
	return memmem(p, (size_t)(end - p), "\n.\r\n", 4);
}

/*
 * The rest of a multi-line reply whose status line has been read, up to
 * and including the final ".\r\n". Adds the bytes to *bytes and, with
 * lines != NULL, counts its lines.
 */
static int
read_body(struct conn *c, unsigned long long *bytes, unsigned long *lines)
{
	const char *hit, *p, *q;
	size_t keep;
	int r;

	/* An empty body: ".\r\n" right away. */
	while (c->end - c->start < 3 &&
	    memcmp(c->buf + c->start, ".\r\n", c->end - c->start) == 0) {
		r = fill(c);
		if (r <= 0) {
			return r == 0 ? fail(c, "connection closed") : -1;
		}
	}
	if (memcmp(c->buf + c->start, ".\r\n", 3) == 0) {
		c->start += 3;
		*bytes += 3;
		return 0;
	}
	for (;;) {
		hit = find_end(c->buf + c->start, c->buf + c->end);
		q = hit != NULL ? hit + 4 : c->buf + c->end -
		    (c->end - c->start < 3 ? c->end - c->start : 3);
		if (lines != NULL) {
			for (p = c->buf + c->start; p < q &&
			    (p = memchr(p, '\n', (size_t)(q - p))) != NULL;
			    p++) {
				(*lines)++;
			}
		}
		keep = (size_t)(q - (c->buf + c->start));
		*bytes += keep;
		c->start += keep;
		if (hit != NULL) {
			if (lines != NULL) {
				(*lines)--;	/* the "." line */
			}
			return 0;
		}
		r = fill(c);
		if (r <= 0) {
			return r == 0 ? fail(c, "connection closed in a "
			    "multi-line reply") : -1;
		}
	}
}

static int
command(struct conn *c, const char *what, const char *fmt, ...)
{
	char line[LINE_MAX_];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (send_all(c, line, (size_t)n) == -1) {
		return -1;
	}
	return status(c, what);
}

static int
login(struct conn *c, const char *name)
{
	if (status(c, "greeting") == -1 ||
	    command(c, "USER", "USER %s\r\n", name) == -1 ||
	    command(c, "PASS", "PASS %s\r\n", pass) == -1) {
		return -1;
	}
	return 0;
}

static int
stat_cmd(struct conn *c, unsigned long *count, unsigned long long *octets)
{
	char line[LINE_MAX_];

	if (send_all(c, "STAT\r\n", 6) == -1 ||
	    read_line(c, line, sizeof(line)) == -1) {
		return -1;
	}
	if (sscanf(line, "+OK %lu %llu", count, octets) != 2) {
		return fail(c, "STAT: %s", line);
	}
	return 0;
}

/* Waits (bounded by the socket timeout) until the server closes. */
static void
drain(struct conn *c)
{
	c->start = c->end = 0;
	while (fill(c) == 1) {
		c->start = c->end = 0;
	}
}

/* Sends a whole buffer from its own thread while replies are read. */
struct writer {
	struct conn	*c;
	char		*buf;
	size_t		 len;
	int		 failed;
	pthread_t	 th;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	ssize_t n;
	size_t done = 0;

	/* One write() call: the kernel takes it as the socket drains. */
	while (done < w->len) {
		n = send(w->c->fd, w->buf + done, w->len - done, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			w->failed = 1;
			break;
		}
		done += (size_t)n;
	}
	return NULL;
}

static int
pipelined(struct conn *c, struct writer *w, const char *verb,
    unsigned long count, const char *suffix)
{
	size_t cap = (count + 1) * (strlen(verb) + strlen(suffix) + 16), o = 0;
	unsigned long i;

	w->c = c;
	w->failed = 0;
	w->buf = malloc(cap);
	if (w->buf == NULL) {
		return fail(c, "out of memory");
	}
	for (i = 1; i <= count; i++) {
		o += (size_t)snprintf(w->buf + o, cap - o, "%s %lu%s\r\n",
		    verb, i, suffix);
	}
	w->len = o;
	if (pthread_create(&w->th, NULL, writer_main, w) != 0) {
		free(w->buf);
		return fail(c, "pthread_create failed");
	}
	return 0;
}

static int
pipelined_done(struct conn *c, struct writer *w)
{
	pthread_join(w->th, NULL);
	free(w->buf);
	return w->failed ? fail(c, "pipelined send failed") : 0;
}

struct result {
	double		 total;		/* connect to QUIT's +OK */
	double		 login;		/* connect to PASS's +OK */
	double		 phase;		/* the measured commands */
	double		 quit;		/* QUIT to its +OK */
	unsigned long	 count;		/* messages (STAT) */
	unsigned long long octets;	/* STAT's size */
	unsigned long long bytes;	/* bytes received in the phase */
	unsigned long	 lines;
	unsigned long	 done;		/* messages fetched in the phase */
};

/* Fetches every message; pipe: all RETR commands in one write. */
static int
fetch_all(struct conn *c, struct result *r, const char *verb,
    const char *suffix, int pipe)
{
	struct writer w;
	unsigned long i;
	unsigned long long rx0 = c->rx - (c->end - c->start), junk = 0;
	double t0 = now();

	if (pipe && pipelined(c, &w, verb, r->count, suffix) == -1) {
		return -1;
	}
	for (i = 1; i <= r->count; i++) {
		if (!pipe && budget > 0 && now() - t0 > budget) {
			break;
		}
		if (!pipe && command(c, verb, "%s %lu%s\r\n", verb, i,
		    suffix) == -1) {
			return -1;
		}
		if (pipe && status(c, verb) == -1) {
			pthread_join(w.th, NULL);
			return -1;
		}
		if (read_body(c, &junk, NULL) == -1) {
			if (pipe) {
				pthread_join(w.th, NULL);
			}
			return -1;
		}
	}
	r->phase = now() - t0;
	r->bytes = c->rx - (c->end - c->start) - rx0;
	r->done = i - 1;
	return pipe ? pipelined_done(c, &w) : 0;
}

static int
quit(struct conn *c, struct result *r, double t_start)
{
	double t0 = now();

	if (command(c, "QUIT", "QUIT\r\n") == -1) {
		return -1;
	}
	r->quit = now() - t0;
	r->total = now() - t_start;
	drain(c);
	return 0;
}

static int
run_session(const char *mode, const char *name, struct result *r)
{
	struct conn c;
	struct writer w;
	unsigned long i;
	unsigned long long junk = 0;
	double t0 = now(), t;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (conn_open(&c) == -1 || login(&c, name) == -1) {
		goto out;
	}
	r->login = now() - t0;
	if (strcmp(mode, "uidl") == 0) {
		t = now();
		if (command(&c, "UIDL", "UIDL\r\n") == -1 ||
		    read_body(&c, &r->bytes, &r->lines) == -1) {
			goto out;
		}
		r->phase = now() - t;
		r->count = r->lines;
	} else if (strcmp(mode, "dele1") == 0) {
		if (command(&c, "DELE", "DELE 1\r\n") == -1) {
			goto out;
		}
	} else if (stat_cmd(&c, &r->count, &r->octets) == -1) {
		goto out;
	}
	if (strcmp(mode, "retr") == 0 || strcmp(mode, "concurrent") == 0) {
		if (fetch_all(&c, r, "RETR", "", 0) == -1) {
			goto out;
		}
	} else if (strcmp(mode, "retr-pipe") == 0) {
		if (fetch_all(&c, r, "RETR", "", 1) == -1) {
			goto out;
		}
	} else if (strcmp(mode, "top") == 0) {
		if (fetch_all(&c, r, "TOP", " 0", 0) == -1) {
			goto out;
		}
	} else if (strcmp(mode, "deleall") == 0) {
		t = now();
		if (pipelined(&c, &w, "DELE", r->count, "") == -1) {
			goto out;
		}
		for (i = 1; i <= r->count; i++) {
			if (status(&c, "DELE") == -1) {
				pthread_join(w.th, NULL);
				goto out;
			}
		}
		if (pipelined_done(&c, &w) == -1) {
			goto out;
		}
		r->phase = now() - t;
	} else if (strcmp(mode, "rss") == 0) {
		if (command(&c, "LIST", "LIST\r\n") == -1 ||
		    read_body(&c, &junk, NULL) == -1 ||
		    command(&c, "UIDL", "UIDL\r\n") == -1 ||
		    read_body(&c, &junk, NULL) == -1 ||
		    command(&c, "RETR", "RETR 1\r\n") == -1 ||
		    read_body(&c, &junk, NULL) == -1 ||
		    command(&c, "RETR", "RETR %lu\r\n", r->count) == -1 ||
		    read_body(&c, &junk, NULL) == -1 ||
		    command(&c, "TOP", "TOP %lu 0\r\n", r->count) == -1 ||
		    read_body(&c, &junk, NULL) == -1 ||
		    command(&c, "DELE", "DELE 1\r\n") == -1) {
			goto out;
		}
	}
	if (quit(&c, r, t0) == -1) {
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		die_line(c.err);
	}
	conn_close(&c);
	return rc;
}

/* Short sessions, one after the other: connect, login, STAT, QUIT. */
static void
sessions(unsigned long n)
{
	struct conn c;
	unsigned long i, count;
	unsigned long long octets;
	double t0 = now();

	for (i = 0; i < n; i++) {
		if (conn_open(&c) == -1 || login(&c, user) == -1 ||
		    stat_cmd(&c, &count, &octets) == -1 ||
		    command(&c, "QUIT", "QUIT\r\n") == -1) {
			die_line(c.err);
		}
		conn_close(&c);
	}
	t0 = now() - t0;
	printf("ok=1 total=%.6f sessions=%lu rate=%.3f\n", t0, n,
	    (double)n / t0);
}

struct job {
	char		 name[128];
	struct result	 r;
	struct conn	 c;
	int		 failed;
	char		 err[400];
	pthread_t	 th;
};

static void *
job_main(void *arg)
{
	struct job *j = arg;
	struct conn *c = &j->c;
	double t0 = now();

	if (conn_open(c) == -1 || login(c, j->name) == -1 ||
	    stat_cmd(c, &j->r.count, &j->r.octets) == -1 ||
	    fetch_all(c, &j->r, "RETR", "", 0) == -1 ||
	    quit(c, &j->r, t0) == -1) {
		j->failed = 1;
		snprintf(j->err, sizeof(j->err), "%s: %s", j->name, c->err);
	}
	conn_close(c);
	return NULL;
}

static void
concurrent(unsigned long n)
{
	struct job *jobs = calloc(n, sizeof(*jobs));
	unsigned long i, msgs = 0, done = 0;
	unsigned long long bytes = 0;
	double t0, slowest = 0;

	if (jobs == NULL) {
		die_line("out of memory");
	}
	for (i = 0; i < n; i++) {
		snprintf(jobs[i].name, sizeof(jobs[i].name), "%.100s%02lu",
		    user, i + 1);
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		if (pthread_create(&jobs[i].th, NULL, job_main, &jobs[i]) !=
		    0) {
			die_line("pthread_create failed");
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(jobs[i].th, NULL);
	}
	t0 = now() - t0;
	for (i = 0; i < n; i++) {
		if (jobs[i].failed) {
			die_line(jobs[i].err);
		}
		msgs += jobs[i].r.count;
		done += jobs[i].r.done;
		bytes += jobs[i].r.bytes;
		if (jobs[i].r.total > slowest) {
			slowest = jobs[i].r.total;
		}
	}
	printf("ok=1 total=%.6f users=%lu count=%lu done=%lu bytes=%llu "
	    "slowest=%.6f mbps=%.3f\n", t0, n, msgs, done, bytes, slowest,
	    (double)bytes / 1e6 / t0);
	free(jobs);
}

static void
raw(void)
{
	struct conn c;
	double t0 = now(), t;
	int r;

	if (conn_open(&c) == -1) {
		die_line(c.err);
	}
	while ((r = fill(&c)) == 1) {
		c.start = c.end = 0;
	}
	if (r == -1) {
		die_line(c.err);
	}
	t = now() - t0;
	printf("ok=1 total=%.6f bytes=%llu mbps=%.3f\n", t, c.rx,
	    (double)c.rx / 1e6 / t);
	conn_close(&c);
}

static void
scan(const char *path)
{
	static char buf[256 * 1024];
	unsigned long long bytes = 0, lines = 0;
	const char *p, *end;
	double t0 = now(), t;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		die_line(strerror(errno));
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		bytes += (unsigned long long)n;
		end = buf + n;
		for (p = buf; p < end &&
		    (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
			lines++;
		}
	}
	if (n == -1) {
		die_line(strerror(errno));
	}
	close(fd);
	t = now() - t0;
	printf("ok=1 total=%.6f bytes=%llu lines=%llu mbps=%.3f\n", t, bytes,
	    lines, (double)bytes / 1e6 / t);
}

/*
 * Writes what from holds from offset 0 to to, starting writeback as it
 * goes, then fdatasync()s it; the seconds that took.
 */
static double
synced_write(int from, int to)
{
	static char buf[1024 * 1024];
	double t0 = now();
	off_t o = 0;
	ssize_t n;

	while ((n = pread(from, buf, sizeof(buf), o)) > 0) {
		if (pwrite(to, buf, (size_t)n, o) != n ||
		    sync_file_range(to, o, n, SYNC_FILE_RANGE_WRITE) == -1) {
			die_line(strerror(errno));
		}
		o += n;
	}
	if (n == -1 || fdatasync(to) == -1) {
		die_line(strerror(errno));
	}
	return now() - t0;
}

/*
 * The disk work a mailbox update cannot avoid, for the DELE rows: path
 * emptied by ftruncate() and fsync() (what deleting every message comes
 * to); or path written twice, synced each time (what moving all of it
 * crash-safely comes to: a copy in new blocks, then every byte again in
 * place).
 */
static void
disk(const char *mode, const char *path)
{
	char tmp[4096];
	double t0 = now(), copy, inplace;
	int fd, out;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd == -1) {
		die_line(strerror(errno));
	}
	if (strcmp(mode, "truncate") == 0) {
		if (ftruncate(fd, 0) == -1 || fsync(fd) == -1) {
			die_line(strerror(errno));
		}
		printf("ok=1 total=%.6f\n", now() - t0);
		close(fd);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out == -1) {
		die_line(strerror(errno));
	}
	copy = synced_write(fd, out);
	close(out);
	unlink(tmp);
	inplace = synced_write(fd, fd);
	close(fd);
	printf("ok=1 total=%.6f copy=%.6f inplace=%.6f\n", copy + inplace,
	    copy, inplace);
}

static void
on_alarm(int sig)
{
	static const char msg[] = "ok=0 err=\"timeout\"\n";

	(void)sig;
	(void)!write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

static void
usage(void)
{
	fprintf(stderr, "usage: popbench [-P port] [-u user] [-n count] "
	    "[-t seconds] [-T seconds] MODE [FILE]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	struct result r;
	unsigned long n = 1;
	const char *mode;
	int ch, limit = 600;

	while ((ch = getopt(argc, argv, "P:u:n:t:T:")) != -1) {
		switch (ch) {
		case 'P':
			port = atoi(optarg);
			break;
		case 'u':
			user = optarg;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 't':
			limit = atoi(optarg);
			break;
		case 'T':
			budget = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind >= argc || port <= 0 || port > 65535 || n == 0 ||
	    limit <= 0) {
		usage();
	}
	mode = argv[optind];
	if (getenv("POPBENCH_PASS") != NULL) {
		pass = getenv("POPBENCH_PASS");
	}
	io_timeout = limit;
	signal(SIGALRM, on_alarm);
	alarm((unsigned int)limit);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (strcmp(mode, "sessions") == 0) {
		sessions(n);
	} else if (strcmp(mode, "concurrent") == 0) {
		concurrent(n);
	} else if (strcmp(mode, "raw") == 0) {
		raw();
	} else if (strcmp(mode, "truncate") == 0 ||
	    strcmp(mode, "rewrite") == 0) {
		if (optind + 1 >= argc) {
			usage();
		}
		disk(mode, argv[optind + 1]);
	} else if (strcmp(mode, "scan") == 0) {
		if (optind + 1 >= argc) {
			usage();
		}
		scan(argv[optind + 1]);
	} else if (strcmp(mode, "stat") == 0 || strcmp(mode, "uidl") == 0 ||
	    strcmp(mode, "retr") == 0 || strcmp(mode, "retr-pipe") == 0 ||
	    strcmp(mode, "top") == 0 || strcmp(mode, "dele1") == 0 ||
	    strcmp(mode, "deleall") == 0 || strcmp(mode, "rss") == 0) {
		run_session(mode, user, &r);
		printf("ok=1 total=%.6f login=%.6f phase=%.6f quit=%.6f "
		    "count=%lu octets=%llu bytes=%llu done=%lu\n", r.total,
		    r.login, r.phase, r.quit, r.count, r.octets, r.bytes,
		    r.done);
	} else {
		usage();
	}
	return 0;
}
