/* SPDX-License-Identifier: ISC */
/*
 * Line reader and reply writer for the client connection.
 * Runs unprivileged: in the pre-login child and in the user's session.
 *
 * Every wait for the client is a poll() bounded by the idle timeout and the
 * phase's deadline; no read or write may block outside it, or a client
 * that stops reading would hold its session, and its maildrop, forever.
 * fd 0 and 1 may be a TCP or UNIX socket (systemd, xinetd, inetd, stunnel)
 * or a pipe, and their open file description is shared with the monitor,
 * the pre-login child and whatever started pop3d. O_NONBLOCK is a flag of
 * that description: set, it would change every holder's reads and writes
 * (a parent reading it would get EAGAIN). SO_SNDTIMEO exists for sockets
 * only, and also changes the shared socket. So the writes are made
 * non-blocking call by call instead, and all waiting is done in poll():
 *  - a socket gets send(MSG_DONTWAIT), which takes what fits and never
 *    blocks, whatever the description's flags are;
 *  - anything else (a pipe) gets write() only after poll() reported
 *    POLLOUT, and of at most PIPE_BUF octets: POLLOUT on a Linux pipe
 *    means a free buffer page, and a write of PIPE_BUF octets or fewer
 *    goes into it whole, at once (we are the pipe's only writer).
 * Reads need nothing of the kind: poll() reported POLLIN before each, and
 * nobody else reads the connection meanwhile.
 *
 * A write that makes progress starts a new wait: a slow client that keeps
 * reading is served, as RFC 1939's idle timer asks. Progress is the kernel
 * reporting room, which a socket does once the client has taken a good
 * part of a full send buffer (a third for TCP, three quarters for a UNIX
 * socket; a page of a pipe), not byte by byte: a client that reads less
 * than that within -t is idle. The deadline bounds a phase whatever the
 * progress: login (LOGIN_TIMEOUT), a PROXY header (PROXY_TIMEOUT).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

static int
wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd;
	int n;

	pfd.fd = fd;
	pfd.events = events;
	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n == -1 && errno == EINTR);
	return n;
}

static ssize_t
send_nowait(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_DONTWAIT);
}

static ssize_t
write_nowait(int fd, const void *buf, size_t len)
{
	int ready = wait_fd(fd, POLLOUT, 0);

	if (ready <= 0) {
		if (ready == 0) {
			errno = EAGAIN;
		}
		return -1;
	}
	return write(fd, buf, len < PIPE_BUF ? len : PIPE_BUF);
}

void
io_init(struct io *io, int in_fd, int out_fd, int timeout_ms)
{
	struct stat st;

	memset(io, 0, offsetof(struct io, in));
	io->in_fd = in_fd;
	io->out_fd = out_fd;
	io->timeout_ms = timeout_ms;
	io->line_max = LINE_MAX_OCTETS;
	io->read_fn = read;
	io->write_fn = fstat(out_fd, &st) == 0 && S_ISSOCK(st.st_mode) ?
	    send_nowait : write_nowait;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
io_set_deadline(struct io *io, int ms)
{
	io->deadline_ms = ms > 0 ? now_ms() + ms : 0;
}

int
io_deadline_passed(const struct io *io)
{
	return io->deadline_ms != 0 && now_ms() >= io->deadline_ms;
}

/*
 * Waits until fd is ready for events, for the idle timeout at most and
 * never past the deadline: 1 when ready, 0 on a timeout, -1 on an error.
 */
static int
wait_client(const struct io *io, int fd, short events)
{
	long long left;

	if (io->deadline_ms == 0) {
		return wait_fd(fd, events, io->timeout_ms);
	}
	left = io->deadline_ms - now_ms();
	if (left <= 0) {
		return 0;
	}
	return wait_fd(fd, events, left < io->timeout_ms ? (int)left :
	    io->timeout_ms);
}

/* One write of what the client takes, or one wait for room: how it went. */
static enum io_status
write_some(struct io *io, size_t *done)
{
	ssize_t n;
	int ready;

	n = io->write_fn(io->out_fd, io->out + *done, io->out_len - *done);
	if (n > 0) {
		*done += (size_t)n;
		return IO_LINE;
	}
	if (n == -1 && errno == EINTR) {
		return IO_LINE;
	}
	if (n == -1 && errno == EAGAIN) {
		ready = wait_client(io, io->out_fd, POLLOUT);
		return ready > 0 ? IO_LINE : ready == 0 ? IO_TIMEOUT : IO_ERROR;
	}
	return IO_ERROR;
}

int
io_flush(struct io *io)
{
	size_t done = 0;

	while (io->failed == IO_LINE && done < io->out_len) {
		io->failed = write_some(io, &done);
	}
	io->sent += done;
	io->out_len = 0;
	return io->failed == IO_LINE ? 0 : -1;
}

void
io_put(struct io *io, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t room;

	while (len > 0) {
		if (io->out_len == sizeof(io->out) && io_flush(io) == -1) {
			return;
		}
		room = sizeof(io->out) - io->out_len;
		if (room > len) {
			room = len;
		}
		memcpy(io->out + io->out_len, p, room);
		io->out_len += room;
		p += room;
		len -= room;
	}
}

void
io_printf(struct io *io, const char *fmt, ...)
{
	char line[LINE_MAX_OCTETS * 2 + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
	}
	io_put(io, line, (size_t)n);
}

/* Finds a complete line in the buffer; discards over-long ones. */
static enum io_status
take_line(struct io *io, unsigned char **line, size_t *len, int *found)
{
	unsigned char *start = io->in + io->in_start;
	size_t avail = io->in_end - io->in_start;
	unsigned char *nl = memchr(start, '\n', avail);
	size_t n;

	*found = 0;
	if (nl == NULL) {
		if (avail >= io->line_max || avail == sizeof(io->in)) {
			io->discarding = 1;
			io->in_start = io->in_end = 0;
		}
		return IO_LINE;
	}
	n = (size_t)(nl - start);
	io->in_start += n + 1;
	*found = 1;
	if (io->discarding || n + 1 > io->line_max) {
		io->discarding = 0;
		return IO_TOOLONG;
	}
	if (n > 0 && start[n - 1] == '\r') {
		n--;
	}
	*line = start;
	*len = n;
	return IO_LINE;
}

static enum io_status
fill(struct io *io)
{
	ssize_t n;
	int ready;

	if (io->in_start > 0) {
		memmove(io->in, io->in + io->in_start,
		    io->in_end - io->in_start);
		io->in_end -= io->in_start;
		io->in_start = 0;
	}
	if (io_flush(io) == -1) {
		return io->failed;
	}
	ready = wait_client(io, io->in_fd, POLLIN);
	if (ready == 0) {
		return IO_TIMEOUT;
	}
	if (ready == -1) {
		return IO_ERROR;
	}
	do {
		n = io->read_fn(io->in_fd, io->in + io->in_end,
		    sizeof(io->in) - io->in_end);
	} while (n == -1 && errno == EINTR);
	if (n == 0) {
		return IO_EOF;
	}
	if (n < 0) {
		return errno == ECONNRESET ? IO_EOF : IO_ERROR;
	}
	io->in_end += (size_t)n;
	return IO_LINE;
}

enum io_status
io_read_line(struct io *io, unsigned char **line, size_t *len)
{
	enum io_status st;
	int found;

	/*
	 * A reply that did not go out ends the session before the next
	 * command runs, even one pipelined already: a QUIT behind a RETR
	 * the client never took must not reach UPDATE.
	 */
	if (io->failed != IO_LINE) {
		return io->failed;
	}
	for (;;) {
		st = take_line(io, line, len, &found);
		if (found) {
			return st;
		}
		st = fill(io);
		if (st != IO_LINE) {
			return st;
		}
	}
}

enum io_status
io_read_more(struct io *io)
{
	if (io->in_end - io->in_start == sizeof(io->in)) {
		return IO_TOOLONG;
	}
	return fill(io);
}

void
io_consume(struct io *io, size_t n)
{
	io->in_start += n < io->in_end - io->in_start ? n :
	    io->in_end - io->in_start;
}

size_t
io_pending(const struct io *io, const unsigned char **buf)
{
	*buf = io->in + io->in_start;
	return io->in_end - io->in_start;
}

int
io_preload(struct io *io, const unsigned char *buf, size_t len)
{
	if (len > sizeof(io->in)) {
		return -1;
	}
	memcpy(io->in, buf, len);
	io->in_start = 0;
	io->in_end = len;
	return 0;
}

void
io_begin_body(struct body *b)
{
	b->bol = 1;
	b->cr = 0;
}

void
io_put_body(struct io *io, struct body *b, const unsigned char *p, size_t len)
{
	const unsigned char *nl;
	size_t seg;

	while (len > 0) {
		if (b->bol && *p == '.') {
			io_put(io, ".", 1);
		}
		nl = memchr(p, '\n', len);
		if (nl == NULL) {
			io_put(io, p, len);
			b->bol = 0;
			b->cr = p[len - 1] == '\r';
			return;
		}
		seg = (size_t)(nl - p);
		if (seg > 0) {
			io_put(io, p, seg);
			b->cr = p[seg - 1] == '\r';
		} else if (b->bol) {
			b->cr = 0;
		}
		io_put(io, b->cr ? "\n" : "\r\n", b->cr ? 1 : 2);
		b->bol = 1;
		b->cr = 0;
		p = nl + 1;
		len -= seg + 1;
	}
}

void
io_end_body(struct io *io, struct body *b)
{
	if (!b->bol) {
		io_put(io, "\r\n", 2);
	}
	io_put(io, ".\r\n", 3);
}
