/* SPDX-License-Identifier: ISC */
/*
 * io.c: the line reader and the buffered writer, through injected read
 * and write functions that deliver and accept bytes in awkward pieces.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "tests/unit.h"

/* Reads the next line and checks it is want (NULL: expect st instead). */
static void
expect_line(struct io *io, const char *want)
{
	unsigned char *line = NULL;
	size_t len = 0;
	enum io_status st = io_read_line(io, &line, &len);

	ck_assert_msg(st == IO_LINE, "status %d, want a line \"%s\"", st,
	    want);
	ck_assert_bytes_str(line, len, want);
}

static void
expect_status(struct io *io, enum io_status want)
{
	unsigned char *line = NULL;
	size_t len = 0;
	enum io_status st = io_read_line(io, &line, &len);

	ck_assert_msg(st == want, "status %d, want %d (line \"%s\")", st, want,
	    st == IO_LINE ? show(line, len, 0) : "");
}

/* An io whose reads deliver in at most `chunk` bytes. */
static struct io *
reader(const void *data, size_t len, size_t chunk)
{
	struct fake_plan p = { NULL, 0, chunk };

	return fake_io(data, len, &p, NULL);
}

static struct io *
writer(const int *steps, size_t nsteps, size_t chunk)
{
	struct fake_plan p = { steps, nsteps, chunk };

	return fake_io(NULL, 0, NULL, &p);
}

/* A line of n bytes: n - len(end) letters, then end. */
static char *
line_of(size_t n, const char *end)
{
	size_t e = strlen(end);
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_ge(n, e);
	memset(s, 'a', n - e);
	memcpy(s + n - e, end, e + 1);
	return s;
}

START_TEST(test_read_line_one_byte_at_a_time)
{
	struct io *io = reader(LIT("USER bob\r\nPASS x y\r\n"), 1);

	expect_line(io, "USER bob");
	expect_line(io, "PASS x y");
	expect_status(io, IO_EOF);
	fake_io_free(io);
}
END_TEST

START_TEST(test_read_line_crlf_split_across_reads)
{
	static const int steps[] = { 5, 1, 3, 4 };
	struct fake_plan p = { steps, 4, 0 };
	struct io *io = fake_io(LIT("NOOP\r\nSTAT\r\n"), &p, NULL);

	expect_line(io, "NOOP");
	expect_line(io, "STAT");
	expect_status(io, IO_EOF);
	fake_io_free(io);
}
END_TEST

START_TEST(test_read_line_bare_lf_and_empty_lines)
{
	struct io *io = reader(LIT("NOOP\n\n\r\nQUIT\n"), 0);

	expect_line(io, "NOOP");
	expect_line(io, "");
	expect_line(io, "");
	expect_line(io, "QUIT");
	expect_status(io, IO_EOF);
	fake_io_free(io);
}
END_TEST

/* Only the terminating CR goes: one inside the line is the caller's. */
START_TEST(test_read_line_keeps_inner_cr)
{
	struct io *io = reader(LIT("A\rB\r\r\n"), 0);

	expect_line(io, "A\rB\r");
	fake_io_free(io);
}
END_TEST

START_TEST(test_read_line_pipelined_lines_need_one_read)
{
	struct io *io = reader(LIT("USER a\r\nPASS b\r\nSTAT\r\nQUIT\r\n"), 0);

	expect_line(io, "USER a");
	expect_line(io, "PASS b");
	expect_line(io, "STAT");
	expect_line(io, "QUIT");
	ck_assert_uint_eq(fake_reads(), 1);
	expect_status(io, IO_EOF);
	fake_io_free(io);
}
END_TEST

START_TEST(test_read_line_eof_mid_line)
{
	struct io *io = reader(LIT("NOOP\r\nQUI"), 2);

	expect_line(io, "NOOP");
	expect_status(io, IO_EOF);
	fake_io_free(io);
}
END_TEST

START_TEST(test_read_line_eof_before_anything)
{
	struct io *io = reader(NULL, 0, 0);

	expect_status(io, IO_EOF);
	fake_io_free(io);
}
END_TEST

/*
 * A line of `total` bytes with its terminator, then "NEXT", in pieces of
 * `chunk`, to an io that takes lines of at most line_max.
 */
static void
check_long_line(size_t line_max, size_t total, const char *end,
    size_t chunk)
{
	char *line = line_of(total, end);
	char *data = malloc(total + 7);
	struct io *io;

	ck_assert_ptr_nonnull(data);
	memcpy(data, line, total);
	memcpy(data + total, "NEXT\r\n", 6);
	io = reader(data, total + 6, chunk);
	io->line_max = line_max;
	if (total <= line_max) {
		line[total - strlen(end)] = '\0';
		expect_line(io, line);
	} else {
		expect_status(io, IO_TOOLONG);
	}
	expect_line(io, "NEXT");
	expect_status(io, IO_EOF);
	fake_io_free(io);
	free(data);
	free(line);
}

/* Lines of max octets with CRLF or LF pass, one more is too long. */
static void
check_limit(size_t max)
{
	const size_t chunks[] = { 0, 1, 7, max - 1, max, max + 1 };
	size_t i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		check_long_line(max, max, "\r\n", chunks[i]);
		check_long_line(max, max, "\n", chunks[i]);
		check_long_line(max, max + 1, "\r\n", chunks[i]);
		check_long_line(max, max + 1, "\n", chunks[i]);
	}
}

START_TEST(test_read_line_limit_is_rfc_2449_line)
{
	struct io *io = reader(NULL, 0, 0);

	ck_assert_uint_eq(io->line_max, LINE_MAX_OCTETS);
	fake_io_free(io);
	check_limit(LINE_MAX_OCTETS);
}
END_TEST

START_TEST(test_read_line_limit_raised_for_sasl)
{
	check_limit(SASL_LINE_MAX);
}
END_TEST

START_TEST(test_read_line_too_long_across_many_reads)
{
	check_long_line(LINE_MAX_OCTETS, 3 * INPUT_BUFFER + 17, "\r\n", 100);
	check_long_line(LINE_MAX_OCTETS, 3 * INPUT_BUFFER + 17, "\r\n", 1);
	check_long_line(LINE_MAX_OCTETS, 3 * INPUT_BUFFER + 17, "\r\n",
	    INPUT_BUFFER);
	check_long_line(LINE_MAX_OCTETS, INPUT_BUFFER, "\n", 0);
	check_long_line(LINE_MAX_OCTETS, INPUT_BUFFER + 1, "\n", 0);
	check_long_line(SASL_LINE_MAX, INPUT_BUFFER + 1, "\n", 0);
}
END_TEST

START_TEST(test_read_line_two_long_lines_in_a_row)
{
	char *a = line_of(300, "\r\n"), *b = line_of(1000, "\n");
	char data[1400];
	struct io *io;

	memcpy(data, a, 300);
	memcpy(data + 300, b, 1000);
	memcpy(data + 1300, "QUIT\r\n", 6);
	io = reader(data, 1306, 64);
	expect_status(io, IO_TOOLONG);
	expect_status(io, IO_TOOLONG);
	expect_line(io, "QUIT");
	fake_io_free(io);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_read_line_long_line_then_eof)
{
	char *a = line_of(1000, "x");
	struct io *io = reader(a, 1000, 0);

	expect_status(io, IO_EOF);
	fake_io_free(io);
	free(a);
}
END_TEST

START_TEST(test_read_line_retries_eintr)
{
	static const int steps[] = { -EINTR, 3, -EINTR, -EINTR };
	struct fake_plan p = { steps, 4, 0 };
	struct io *io = fake_io(LIT("NOOP\r\n"), &p, NULL);

	expect_line(io, "NOOP");
	fake_io_free(io);
}
END_TEST

START_TEST(test_read_line_errors)
{
	static const int reset[] = { -ECONNRESET };
	static const int eio[] = { -EIO };
	struct fake_plan p = { reset, 1, 0 };
	struct io *io = fake_io(LIT("NOOP\r\n"), &p, NULL);

	expect_status(io, IO_EOF);
	fake_io_free(io);
	p.steps = eio;
	io = fake_io(LIT("NOOP\r\n"), &p, NULL);
	expect_status(io, IO_ERROR);
	fake_io_free(io);
}
END_TEST

START_TEST(test_read_line_flushes_replies_before_reading)
{
	struct io *io = reader(LIT("STAT\r\n"), 0);

	io_put(io, LIT("+OK ready\r\n"));
	expect_line(io, "STAT");
	ck_assert_uint_eq(fake_output_at_first_read(), 11);
	ck_assert_output("+OK ready\r\n");
	ck_assert_uint_eq(io->sent, 11);
	fake_io_free(io);
}
END_TEST

START_TEST(test_read_line_fails_when_flush_fails)
{
	static const int steps[] = { -EPIPE };
	struct fake_plan w = { steps, 1, 0 };
	struct io *io = fake_io(LIT("STAT\r\n"), NULL, &w);

	io_put(io, LIT("+OK\r\n"));
	expect_status(io, IO_ERROR);
	ck_assert_uint_eq(fake_reads(), 0);
	fake_io_free(io);
}
END_TEST

static struct io *
pipe_io(int fds[2], int timeout_ms)
{
	struct io *io = malloc(sizeof(*io));

	ck_assert_ptr_nonnull(io);
	ck_assert_int_eq(pipe(fds), 0);
	io_init(io, fds[0], fds[1], timeout_ms);
	return io;
}

static void
pipe_io_free(struct io *io, int fds[2])
{
	close(fds[0]);
	if (fds[1] != -1) {
		close(fds[1]);
	}
	free(io);
}

START_TEST(test_read_line_from_a_pipe)
{
	int fds[2];
	struct io *io = pipe_io(fds, 1000);

	ck_assert_int_eq(write(fds[1], "LIST 1\r\nNO", 10), 10);
	expect_line(io, "LIST 1");
	ck_assert_int_eq(write(fds[1], "OP\r\n", 4), 4);
	expect_line(io, "NOOP");
	close(fds[1]);
	fds[1] = -1;
	expect_status(io, IO_EOF);
	pipe_io_free(io, fds);
}
END_TEST

START_TEST(test_read_line_times_out_on_a_silent_pipe)
{
	int fds[2];
	struct io *io = pipe_io(fds, 30);

	ck_assert_int_eq(write(fds[1], "NOO", 3), 3);
	expect_status(io, IO_TIMEOUT);
	ck_assert_int_eq(write(fds[1], "P\r\n", 3), 3);
	expect_line(io, "NOOP");
	expect_status(io, IO_TIMEOUT);
	pipe_io_free(io, fds);
}
END_TEST

/* The reply before a read that times out has still gone out. */
START_TEST(test_read_line_flushes_before_timeout)
{
	int fds[2], out[2];
	struct io *io = pipe_io(fds, 20);
	char buf[16];
	ssize_t n;

	ck_assert_int_eq(pipe(out), 0);
	io->out_fd = out[1];
	io_put(io, LIT("+OK hi\r\n"));
	expect_status(io, IO_TIMEOUT);
	n = read(out[0], buf, sizeof(buf));
	ck_assert_bytes_str(buf, n < 0 ? 0 : (size_t)n, "+OK hi\r\n");
	close(out[0]);
	close(out[1]);
	pipe_io_free(io, fds);
}
END_TEST

/* Everything put arrives once, in order, whatever the write plan. */
static void
check_written(struct io *io, const void *data, size_t len)
{
	const unsigned char *out;
	size_t outlen;

	io_put(io, data, len);
	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_int_eq(io->failed, 0);
	ck_assert_uint_eq(io->sent, len);
	ck_assert_uint_eq(io->out_len, 0);
	out = fake_output(&outlen);
	ck_assert_bytes(out, outlen, data, len);
}

START_TEST(test_flush_with_one_byte_writes)
{
	struct io *io = writer(NULL, 0, 1);

	check_written(io, LIT("+OK 2 messages\r\n"));
	ck_assert_uint_eq(fake_writes(), 16);
	fake_io_free(io);
}
END_TEST

START_TEST(test_flush_retries_eintr_and_eagain)
{
	static const int steps[] = {
		-EINTR, 3, -EAGAIN, 1, -EINTR, -EAGAIN, -EAGAIN, 2, -EINTR
	};
	struct io *io = writer(steps, sizeof(steps) / sizeof(steps[0]), 4);

	check_written(io, LIT("-ERR [IN-USE] maildrop busy\r\n"));
	fake_io_free(io);
}
END_TEST

START_TEST(test_flush_nothing_writes_nothing)
{
	struct io *io = writer(NULL, 0, 0);

	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_uint_eq(fake_writes(), 0);
	fake_io_free(io);
}
END_TEST

/* More than OUTPUT_BUFFER: io_put() flushes when the buffer is full. */
START_TEST(test_put_larger_than_output_buffer)
{
	size_t len = 2 * OUTPUT_BUFFER + 123, i;
	unsigned char *data = malloc(len);
	struct io *io = writer(NULL, 0, 5000);

	ck_assert_ptr_nonnull(data);
	for (i = 0; i < len; i++) {
		data[i] = (unsigned char)(i * 7 + i / 251);
	}
	check_written(io, data, len);
	ck_assert_uint_ge(fake_writes(), len / 5000);
	fake_io_free(io);
	free(data);
}
END_TEST

static void
check_failure_drops_later_output(const int *steps, size_t nsteps,
    const char *first, const char *kept)
{
	struct io *io = writer(steps, nsteps, 0);
	size_t writes;

	io_put(io, first, strlen(first));
	ck_assert_int_eq(io_flush(io), -1);
	ck_assert_int_eq(io->failed, IO_ERROR);
	ck_assert_uint_eq(io->sent, strlen(kept));
	writes = fake_writes();
	io_printf(io, "+OK %d\r\n", 2);
	ck_assert_int_eq(io_flush(io), -1);
	ck_assert_uint_eq(fake_writes(), writes);
	ck_assert_uint_eq(io->out_len, 0);
	ck_assert_output(kept);
	fake_io_free(io);
}

START_TEST(test_write_error_sets_failed_and_drops_output)
{
	static const int epipe[] = { 2, -EPIPE };
	static const int zero[] = { 3, 0 };

	check_failure_drops_later_output(epipe, 2, "+OK 1\r\n", "+O");
	check_failure_drops_later_output(zero, 2, "+OK 1\r\n", "+OK");
}
END_TEST

START_TEST(test_printf_formats)
{
	struct io *io = writer(NULL, 0, 0);

	io_printf(io, "%zu %llu\r\n", (size_t)3, 4294967296ULL);
	io_printf(io, "%s", "");
	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_output("3 4294967296\r\n");
	fake_io_free(io);
}
END_TEST

START_TEST(test_pending_and_preload_round_trip)
{
	struct io *io = reader(LIT("USER a\r\nPASS b c\r\nST"), 0);
	const unsigned char *rest;
	unsigned char copy[64];
	size_t n;

	expect_line(io, "USER a");
	n = io_pending(io, &rest);
	ck_assert_bytes_str(rest, n, "PASS b c\r\nST");
	memcpy(copy, rest, n);
	fake_io_free(io);

	io = reader(LIT("AT\r\n"), 0);
	ck_assert_int_eq(io_preload(io, copy, n), 0);
	expect_line(io, "PASS b c");
	ck_assert_uint_eq(fake_reads(), 0);
	expect_line(io, "STAT");
	expect_status(io, IO_EOF);
	n = io_pending(io, &rest);
	ck_assert_uint_eq(n, 0);
	fake_io_free(io);
}
END_TEST

START_TEST(test_preload_limits)
{
	unsigned char *big = calloc(1, INPUT_BUFFER + 1);
	struct io *io = reader(NULL, 0, 0);
	const unsigned char *rest;

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(io_preload(io, big, INPUT_BUFFER + 1), -1);
	ck_assert_int_eq(io_preload(io, big, INPUT_BUFFER), 0);
	ck_assert_uint_eq(io_pending(io, &rest), INPUT_BUFFER);
	ck_assert_int_eq(io_preload(io, big, 0), 0);
	ck_assert_uint_eq(io_pending(io, &rest), 0);
	fake_io_free(io);
	free(big);
}
END_TEST

/* --- time limits on writes, and deadlines (issue 12, defects 2 and 7) */

static long long
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
reap_status(pid_t pid)
{
	int status = 0;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* More than any pipe or socket buffer takes without a reader. */
#define STALL_BYTES	(4 * 1024 * 1024)

static void
put_zeros(struct io *io, size_t len)
{
	static const unsigned char zeros[4096];
	size_t n;

	while (len > 0 && !io->failed) {
		n = len < sizeof(zeros) ? len : sizeof(zeros);
		io_put(io, zeros, n);
		len -= n;
	}
}

/*
 * Writes STALL_BYTES to a pipe or a socket that nobody reads: the flush
 * must give up as IO_TIMEOUT after about timeout_ms (or the deadline),
 * not block.
 */
static void
check_stalled_write(int use_socket, int timeout_ms, int deadline_ms)
{
	struct io io;
	long long t0 = clock_ms();
	int fds[2];

	ck_assert_int_eq(use_socket ?
	    socketpair(AF_UNIX, SOCK_STREAM, 0, fds) : pipe(fds), 0);
	io_init(&io, fds[0], fds[1], timeout_ms);
	io_set_deadline(&io, deadline_ms);
	put_zeros(&io, STALL_BYTES);
	ck_assert_int_eq(io_flush(&io), -1);
	ck_assert_int_eq(io.failed, IO_TIMEOUT);
	ck_assert_int_le(clock_ms() - t0, 1000);
	ck_assert_uint_gt(io.sent, 0);
	ck_assert_uint_lt(io.sent, STALL_BYTES);
	close(fds[0]);
	close(fds[1]);
}

START_TEST(test_write_timeout_stalled_reader_pipe)
{
	check_stalled_write(0, 50, 0);
}
END_TEST

START_TEST(test_write_timeout_stalled_reader_socket)
{
	check_stalled_write(1, 50, 0);
}
END_TEST

/* A long idle timeout does not outlast the phase's deadline. */
START_TEST(test_write_deadline_stalled_reader)
{
	check_stalled_write(1, 60000, 100);
}
END_TEST

#define SLOW_TOTAL	(512 * 1024)

/*
 * A child process at the other end of a pipe: peer(fds[end]) runs there;
 * the parent keeps the other end. The child's pid.
 */
static pid_t
pipe_peer(int fds[2], int end, void (*peer)(int))
{
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(fds[1 - end]);
		peer(fds[end]);
		_exit(0);
	}
	close(fds[end]);
	return pid;
}

/* Takes 16 KB every 20 ms; exits 1 unless it got SLOW_TOTAL in all. */
static void
slow_reader(int fd)
{
	static char buf[16 * 1024];
	size_t got = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		got += (size_t)n;
		usleep(20 * 1000);
	}
	if (got != SLOW_TOTAL) {
		_exit(1);
	}
}

/* One byte every 20 ms, until the reader is gone. */
static void
trickler(int fd)
{
	while (write(fd, "x", 1) == 1) {
		usleep(20 * 1000);
	}
}

/*
 * A reader that takes a piece every 20 ms keeps a 400 ms timeout from
 * firing, however long the whole takes: progress starts a new wait.
 */
START_TEST(test_write_timeout_spares_slow_reader)
{
	struct io io;
	long long t0;
	int fds[2];
	pid_t pid = pipe_peer(fds, 0, slow_reader);

	io_init(&io, fds[1], fds[1], 400);
	t0 = clock_ms();
	put_zeros(&io, SLOW_TOTAL);
	ck_assert_int_eq(io_flush(&io), 0);
	ck_assert_int_gt(clock_ms() - t0, 400);
	ck_assert_uint_eq(io.sent, SLOW_TOTAL);
	close(fds[1]);
	ck_assert_int_eq(reap_status(pid), 0);
}
END_TEST

/*
 * A reply that did not go out ends the session before a pipelined command
 * runs: a QUIT queued behind a RETR the client never read is not
 * returned, so it cannot reach UPDATE.
 */
START_TEST(test_write_timeout_hides_pipelined_quit)
{
	int in[2], out[2];
	struct io io;

	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	io_init(&io, in[0], out[1], 50);
	ck_assert_int_eq(write(in[1], "RETR 1\r\nQUIT\r\n", 14), 14);
	expect_line(&io, "RETR 1");
	put_zeros(&io, STALL_BYTES);
	expect_status(&io, IO_TIMEOUT);
	expect_status(&io, IO_TIMEOUT);
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}
END_TEST

START_TEST(test_write_error_hides_pipelined_quit)
{
	static const int epipe[] = { -EPIPE };
	struct fake_plan w = { epipe, 1, 0 };
	struct io *io = fake_io(LIT("RETR 1\r\nQUIT\r\n"), NULL, &w);

	expect_line(io, "RETR 1");
	put_zeros(io, OUTPUT_BUFFER + 1);
	ck_assert_int_eq(io->failed, IO_ERROR);
	expect_status(io, IO_ERROR);
	expect_status(io, IO_ERROR);
	fake_io_free(io);
}
END_TEST

/*
 * One byte every 20 ms never leaves the reader idle for its 250 ms, but
 * the 400 ms deadline ends the phase all the same.
 */
START_TEST(test_read_deadline_slow_bytes)
{
	struct io io;
	long long t0;
	int fds[2];
	pid_t pid = pipe_peer(fds, 1, trickler);

	io_init(&io, fds[0], STDOUT_FILENO, 250);
	t0 = clock_ms();
	io_set_deadline(&io, 400);
	ck_assert_int_eq(io_deadline_passed(&io), 0);
	expect_status(&io, IO_TIMEOUT);
	ck_assert_int_ge(clock_ms() - t0, 390);
	ck_assert_int_le(clock_ms() - t0, 2000);
	ck_assert_int_eq(io_deadline_passed(&io), 1);
	close(fds[0]);
	kill(pid, SIGKILL);
	reap_status(pid);
}
END_TEST

/*
 * Past the deadline a reply still leaves if the client has room for it
 * (the -ERR that says why), but nothing waits: no read, no write.
 */
START_TEST(test_deadline_passed_reply_goes_waits_do_not)
{
	int in[2], out[2];
	struct io io;
	char buf[16];
	ssize_t n;

	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	io_init(&io, in[0], out[1], 60000);
	io_set_deadline(&io, 1);
	usleep(5 * 1000);
	ck_assert_int_eq(write(in[1], "NOOP\r\n", 6), 6);
	io_put(&io, LIT("-ERR late\r\n"));
	expect_status(&io, IO_TIMEOUT);
	n = read(out[0], buf, sizeof(buf));
	ck_assert_bytes_str(buf, n < 0 ? 0 : (size_t)n, "-ERR late\r\n");
	io_set_deadline(&io, 0);
	expect_line(&io, "NOOP");
	close(in[0]);
	close(in[1]);
	close(out[0]);
	close(out[1]);
}
END_TEST

Suite *
io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *rd = tcase_create("read_line");
	TCase *wr = tcase_create("write");
	TCase *dl = tcase_create("deadlines");

	ADD_TESTS(rd, test_read_line_one_byte_at_a_time,
	    test_read_line_crlf_split_across_reads,
	    test_read_line_bare_lf_and_empty_lines,
	    test_read_line_keeps_inner_cr,
	    test_read_line_pipelined_lines_need_one_read,
	    test_read_line_eof_mid_line, test_read_line_eof_before_anything,
	    test_read_line_limit_is_rfc_2449_line,
	    test_read_line_limit_raised_for_sasl,
	    test_read_line_too_long_across_many_reads,
	    test_read_line_two_long_lines_in_a_row,
	    test_read_line_long_line_then_eof, test_read_line_retries_eintr,
	    test_read_line_errors,
	    test_read_line_flushes_replies_before_reading,
	    test_read_line_fails_when_flush_fails, test_read_line_from_a_pipe,
	    test_read_line_times_out_on_a_silent_pipe,
	    test_read_line_flushes_before_timeout,
	    test_pending_and_preload_round_trip, test_preload_limits);
	suite_add_tcase(s, rd);
	ADD_TESTS(wr, test_flush_with_one_byte_writes,
	    test_flush_retries_eintr_and_eagain,
	    test_flush_nothing_writes_nothing,
	    test_put_larger_than_output_buffer,
	    test_write_error_sets_failed_and_drops_output, test_printf_formats);
	suite_add_tcase(s, wr);
	ADD_TESTS(dl, test_write_timeout_stalled_reader_pipe,
	    test_write_timeout_stalled_reader_socket,
	    test_write_deadline_stalled_reader,
	    test_write_timeout_spares_slow_reader,
	    test_write_timeout_hides_pipelined_quit,
	    test_write_error_hides_pipelined_quit,
	    test_read_deadline_slow_bytes,
	    test_deadline_passed_reply_goes_waits_do_not);
	suite_add_tcase(s, dl);
	return s;
}
