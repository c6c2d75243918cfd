/* SPDX-License-Identifier: ISC */
/*
 * Test doubles shared by the unit suites: read(2) and write(2) fakes for
 * struct io that follow a plan (short transfers, EINTR, EAGAIN, errors)
 * and record what passed, and byte comparisons that show what differs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit.h"

void
unit_add_tests(TCase *tc, const TTest *const *tests, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		tcase_add_test(tc, tests[i]);
	}
}

static struct {
	unsigned char	*in;
	size_t		 inlen;
	size_t		 inpos;
	struct fake_plan rplan;
	struct fake_plan wplan;
	size_t		 reads;
	size_t		 writes;
	unsigned char	*out;
	size_t		 outlen;
	size_t		 outcap;
	size_t		 out_at_first_read;
} fake;

/*
 * How many of the `want` bytes call number `call` may move, in *n; -1 with
 * errno set when the plan makes the call fail.
 */
static int
plan_step(const struct fake_plan *p, size_t call, size_t want, size_t *n)
{
	size_t limit = p->chunk;

	if (call < p->nsteps) {
		if (p->steps[call] < 0) {
			errno = -p->steps[call];
			return -1;
		}
		if (p->steps[call] == 0) {
			*n = 0;
			return 0;
		}
		limit = (size_t)p->steps[call];
	}
	*n = limit == 0 || limit > want ? want : limit;
	return 0;
}

static ssize_t
fake_read(int fd, void *buf, size_t len)
{
	size_t n;

	(void)fd;
	if (fake.reads++ == 0) {
		fake.out_at_first_read = fake.outlen;
	}
	if (plan_step(&fake.rplan, fake.reads - 1, len, &n) == -1) {
		return -1;
	}
	if (n > fake.inlen - fake.inpos) {
		n = fake.inlen - fake.inpos;
	}
	memcpy(buf, fake.in + fake.inpos, n);
	fake.inpos += n;
	return (ssize_t)n;
}

static ssize_t
fake_write(int fd, const void *buf, size_t len)
{
	unsigned char *p;
	size_t n;

	(void)fd;
	if (plan_step(&fake.wplan, fake.writes++, len, &n) == -1) {
		return -1;
	}
	if (fake.outlen + n > fake.outcap) {
		fake.outcap = (fake.outlen + n) * 2;
		p = realloc(fake.out, fake.outcap);
		ck_assert_ptr_nonnull(p);
		fake.out = p;
	}
	memcpy(fake.out + fake.outlen, buf, n);
	fake.outlen += n;
	return (ssize_t)n;
}

static void
set_plan(struct fake_plan *dst, const struct fake_plan *src)
{
	static const struct fake_plan unlimited;

	*dst = src != NULL ? *src : unlimited;
}

static void
fake_reset(void)
{
	free(fake.in);
	free(fake.out);
	memset(&fake, 0, sizeof(fake));
}

struct io *
fake_io(const void *in, size_t inlen, const struct fake_plan *rplan,
    const struct fake_plan *wplan)
{
	struct io *io = malloc(sizeof(*io));
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	ck_assert_ptr_nonnull(io);
	ck_assert_int_ge(fd, 0);
	fake_reset();
	fake.in = malloc(inlen + 1);
	ck_assert_ptr_nonnull(fake.in);
	if (inlen > 0) {
		memcpy(fake.in, in, inlen);
	}
	fake.inlen = inlen;
	set_plan(&fake.rplan, rplan);
	set_plan(&fake.wplan, wplan);
	io_init(io, fd, fd, 1000);
	io->read_fn = fake_read;
	io->write_fn = fake_write;
	return io;
}

void
fake_io_free(struct io *io)
{
	close(io->in_fd);
	free(io);
	fake_reset();
}

const unsigned char *
fake_output(size_t *len)
{
	*len = fake.outlen;
	return fake.out != NULL ? fake.out : (const unsigned char *)"";
}

size_t
fake_reads(void)
{
	return fake.reads;
}

size_t
fake_writes(void)
{
	return fake.writes;
}

size_t
fake_output_at_first_read(void)
{
	return fake.out_at_first_read;
}

int
bytes_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

