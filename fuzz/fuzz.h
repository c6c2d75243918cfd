/* SPDX-License-Identifier: ISC */
/*
 * What the fuzz targets share: a quiet log, a real mailbox file with one
 * lock helper per fuzzing process, a client that feeds bytes through
 * struct io's injected read and write functions, and CHECK() for the
 * invariants. Not part of pop3d; runs as whoever runs the fuzzer.
 */
#ifndef POP3D_FUZZ_H
#define POP3D_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "io.h"

/* A violated invariant is a crash, so that libFuzzer keeps the input. */
#define CHECK(x)	do {						\
	if (!(x)) {							\
		fuzz_failed(__FILE__, __LINE__, #x);			\
	}								\
} while (0)

void	fuzz_failed(const char *, int, const char *)
	    __attribute__((noreturn));

/* libFuzzer's entry points, also called by replay.c. */
/* Optional, as in libFuzzer: only targets with a fixture define it. */
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A copy of (buf, len) in a heap block of exactly len bytes (ASan). */
unsigned char *fuzz_dup(const void *, size_t);

/*
 * The mailbox fixture: DIR/mbox in a private directory under /dev/shm
 * (tmpfs: fsync costs nothing) or $TMPDIR, served by one lock helper
 * (lockd_serve) forked at start and reused by every run; the directory
 * goes when the helper does, even after a crash. Each run writes the
 * mailbox afresh and removes the session file, so runs share nothing.
 */
void	mailbox_fixture_start(void);
const char *mailbox_fixture_path(void);
int	mailbox_fixture_chan(void);
void	mailbox_fixture_write(const unsigned char *, size_t);
void	mailbox_fixture_remove(void);
void	mailbox_fixture_append(const unsigned char *, size_t);
/* The whole mailbox file, malloc'ed (at least one byte). */
unsigned char *mailbox_fixture_read(size_t *);
/* 1 while a dot-lock is left behind: no lock may outlive a call. */
int	mailbox_fixture_dotlocked(void);

/*
 * The client side of struct io: reads deliver (buf, len) in pieces of at
 * most rchunk bytes (0: as much as asked) and end in EOF, or in
 * ECONNRESET with reset; writes take at most wchunk bytes a call and are
 * counted, and kept when keep is set (fuzz_client_output()). With
 * fuzz_client_faults(), every third read and write first fails with
 * EINTR and every fifth write with EAGAIN; and after limit octets (0:
 * never) the client is gone: writes fail with EPIPE.
 */
void	fuzz_client_start(const unsigned char *, size_t, size_t, int);
void	fuzz_client_writes(size_t, int);
void	fuzz_client_faults(int, size_t);
void	fuzz_client_attach(struct io *, int);
const unsigned char *fuzz_client_output(size_t *);
void	fuzz_client_end(void);

/*
 * A copy of (buf, len) behind a message of BIG_MESSAGE octets and a blank
 * line, for mailboxes larger than READ_BUFFER: the loops that read the
 * mailbox in pieces run only then. The caller frees it.
 */
#define BIG_MESSAGE	(300 * 1024)
unsigned char *fuzz_behind_big_message(const unsigned char *, size_t,
	    size_t *);

/* A tiny deterministic generator for piece sizes derived from the input. */
struct fuzz_rng {
	uint64_t	 s;
};

void	fuzz_rng_seed(struct fuzz_rng *, const unsigned char *, size_t);
size_t	fuzz_rng_below(struct fuzz_rng *, size_t);

#endif
