/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of pop3d (Check). Each tests/unit_*.c file holds the tests
 * of one part of the server and exports one suite; tests/unit.c runs them
 * all, and tests/unit_fake.c holds what they share: fakes of read(2) and
 * write(2) for struct io, byte comparisons that print what differs with
 * every unprintable byte escaped, and a helper to register tests.
 */
#ifndef POP3D_TESTS_UNIT_H
#define POP3D_TESTS_UNIT_H

#include <stddef.h>
#include <string.h>

#include <check.h>

#include "io.h"
#include "tests/show.h"

Suite	*apop_suite(void);
Suite	*auth_suite(void);
Suite	*body_suite(void);
Suite	*io_suite(void);
Suite	*journal_suite(void);
Suite	*log_suite(void);
Suite	*mailbox_suite(void);
Suite	*mbox_suite(void);
Suite	*monitor_suite(void);
Suite	*priv_suite(void);
Suite	*privsep_suite(void);
Suite	*proto_suite(void);
Suite	*proxy_suite(void);
Suite	*sasl_suite(void);
Suite	*top_suite(void);
Suite	*window_suite(void);

/*
 * Cases of tests that truncate a file under a mapped window. valgrind
 * turns the SIGBUS this raises into a SIGSEGV at a wrong address, so
 * tests/valgrind leaves them out; make check runs them natively and
 * under ASan.
 */
#define TAG_SIGBUS	"sigbus"

/* Adds the tests named (START_TEST names) to a test case. */
void	unit_add_tests(TCase *, const TTest *const *, size_t);

#define ADD_TESTS(tc, ...) \
	unit_add_tests((tc), (const TTest *const []){ __VA_ARGS__ }, \
	    sizeof((const TTest *const []){ __VA_ARGS__ }) / \
	    sizeof(const TTest *))

/* Length of a string literal, for literals with NUL bytes inside. */
#define LIT(s)		(s), (sizeof(s) - 1)

/*
 * Plans for the fake read and write: one step a call, then every later
 * call moves up to `chunk` bytes (0: as many as asked). A step > 0 moves
 * at most that many bytes, 0 returns 0 (EOF, or a write of nothing), and
 * -E fails with errno E.
 */
struct fake_plan {
	const int	*steps;
	size_t		 nsteps;
	size_t		 chunk;
};

/*
 * A struct io on the heap whose read_fn and write_fn are the fakes, with
 * both descriptors on /dev/null so that poll() always finds them ready.
 * The fake reader serves (data, len) by its plan and then 0 (EOF); the
 * fake writer collects everything written.
 */
struct io *fake_io(const void *, size_t, const struct fake_plan *,
	    const struct fake_plan *);
void	fake_io_free(struct io *);

/* What the fake writer has received so far. */
const unsigned char *fake_output(size_t *);

/* Calls of the fake read and write so far. */
size_t	fake_reads(void);
size_t	fake_writes(void);

/* Bytes the fake writer had received when the fake read was first called. */
size_t	fake_output_at_first_read(void);


int	bytes_equal(const void *, size_t, const void *, size_t);

/* Fails the test with both byte strings shown when they differ. */
#define ck_assert_bytes(got, gotlen, want, wantlen) \
	ck_assert_msg(bytes_equal((got), (gotlen), (want), (wantlen)), \
	    "got \"%s\", want \"%s\"", show((got), (gotlen), 0), \
	    show((want), (wantlen), 1))

/* The same against a C string. */
#define ck_assert_bytes_str(got, gotlen, want) \
	ck_assert_bytes((got), (gotlen), (want), strlen(want))

/* The fake writer's output against a C string. */
#define ck_assert_output(want) do { \
	size_t out_len_; \
	const unsigned char *out_ = fake_output(&out_len_); \
	ck_assert_bytes_str(out_, out_len_, (want)); \
} while (0)

#endif
