/* SPDX-License-Identifier: ISC */
/*
 * Line reader and reply writer for the client connection.
 * Runs in every process that talks to the client: the unprivileged
 * pre-login child and the session running as the user.
 */
#ifndef POP3D_IO_H
#define POP3D_IO_H

#include <stddef.h>
#include <sys/types.h>

#include "params.h"

enum io_status {
	IO_LINE,	/* a complete line, terminator removed */
	IO_TOOLONG,	/* a line over line_max octets, discarded whole */
	IO_EOF,		/* the client closed (a partial last line is dropped) */
	IO_TIMEOUT,	/* no progress for timeout_ms, or the deadline passed */
	IO_ERROR	/* read or write failed */
};

/*
 * A write function never blocks: it moves what the client can take at
 * once, or fails with EAGAIN (io.c says why and how).
 */
typedef ssize_t io_read_fn(int, void *, size_t);
typedef ssize_t io_write_fn(int, const void *, size_t);

struct io {
	int		 in_fd;
	int		 out_fd;
	int		 timeout_ms;	/* a read or write without progress */
	long long	 deadline_ms;	/* the phase's end (monotonic), or 0 */
	size_t		 line_max;	/* with its CRLF; LINE_MAX_OCTETS */
	io_read_fn	*read_fn;	/* read(2) unless a test injects one */
	io_write_fn	*write_fn;	/* chosen by io_init(), or injected */
	enum io_status	 failed;	/* IO_LINE (0) until a write fails,
					   then IO_TIMEOUT or IO_ERROR: output
					   is dropped from then on */
	int		 discarding;	/* inside an over-long line */
	size_t		 in_start;
	size_t		 in_end;
	size_t		 out_len;
	unsigned long long sent;	/* octets written, for the logout line */
	unsigned char	 in[INPUT_BUFFER];
	unsigned char	 out[OUTPUT_BUFFER];
};

/* State of a multi-line reply body between calls to io_put_body(). */
struct body {
	int		 bol;		/* at the start of a line */
	int		 cr;		/* the last byte was a CR */
};

/* Reads in_fd, writes out_fd; timeout_ms bounds each wait for the client. */
void	io_init(struct io *, int, int, int);

/*
 * The phase ends ms from now (0: no deadline): no wait lasts beyond it,
 * however often the client makes progress, and once it has passed reads
 * and writes that would wait give IO_TIMEOUT.
 */
void	io_set_deadline(struct io *, int);
int	io_deadline_passed(const struct io *);

/*
 * Returns the next line in *line and *len (valid until the next call), or why
 * there is none. Pending replies are flushed before the call blocks. Once
 * a write has failed no line is returned, not even one already received:
 * the failure instead.
 */
enum io_status io_read_line(struct io *, unsigned char **, size_t *);

/* Bytes received but not yet returned as lines (handed on at login). */
size_t	io_pending(const struct io *, const unsigned char **);

/*
 * For what precedes the first line (a PROXY header): reads once more into
 * the buffer (IO_LINE when something came), and drops n taken bytes.
 */
enum io_status io_read_more(struct io *);
void	io_consume(struct io *, size_t);
int	io_preload(struct io *, const unsigned char *, size_t);

void	io_put(struct io *, const void *, size_t);
void	io_printf(struct io *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* 0, or -1 when the output failed (now or before; io->failed says how). */
int	io_flush(struct io *);

/*
 * Multi-line bodies (RFC 1939 section 3): every line end leaves as CRLF,
 * a line starting with "." gets one more, and io_end_body() closes an
 * unterminated last line before the final ".".
 */
void	io_begin_body(struct body *);
void	io_put_body(struct io *, struct body *, const unsigned char *, size_t);
void	io_end_body(struct io *, struct body *);

#endif
