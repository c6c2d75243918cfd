/* SPDX-License-Identifier: ISC */
/*
 * fuzz_proxy: proxy_parse() (proxy.c) on every prefix of the input, as
 * read_proxy_header() meets a header that arrives in pieces. The verdict
 * must not depend on how the bytes were split: once a prefix gives more
 * than PROXY_MORE, every longer one gives the same, and PROXY_OK means a
 * header of at most the bytes seen whose address is empty or one that
 * inet_pton() reads. Output goes to blocks of exactly the room given.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proxy.h"

#define ADDR_ROOM	256	/* main.c passes PEER_MAX */
/* Past the longest header every prefix must agree; the whole is tried. */
#define PREFIX_MAX	(PROXY_V2_MAX + 64)

struct verdict {
	enum proxy_result r;
	size_t		 used;
	char		 addr[ADDR_ROOM];
};

static void
parse(const unsigned char *in, size_t len, size_t room, struct verdict *v)
{
	unsigned char *copy = fuzz_dup(in, len);
	char *addr = malloc(room);
	size_t used = (size_t)-1;

	CHECK(addr != NULL);
	v->r = proxy_parse(copy, len, addr, room, &used);
	CHECK(v->r == PROXY_BAD || v->r == PROXY_MORE || v->r == PROXY_OK);
	v->used = 0;
	v->addr[0] = '\0';
	if (v->r == PROXY_OK) {
		CHECK(used <= len && used >= 8);
		CHECK(memchr(addr, '\0', room) != NULL);
		memcpy(v->addr, addr, strlen(addr) + 1);
		v->used = used;
	}
	free(addr);
	free(copy);
}

static void
check_header(const unsigned char *in, const struct verdict *v)
{
	unsigned char bin[sizeof(struct in6_addr)];

	CHECK(v->addr[0] == '\0' || inet_pton(AF_INET, v->addr, bin) == 1 ||
	    inet_pton(AF_INET6, v->addr, bin) == 1);
	if (in[0] == 'P') {
		CHECK(v->used <= PROXY_V1_MAX && in[v->used - 2] == '\r' &&
		    in[v->used - 1] == '\n');
		CHECK(memchr(in, '\n', v->used - 1) == NULL);
	} else {
		CHECK(v->used <= PROXY_V2_MAX &&
		    v->used == 16 + ((size_t)in[14] << 8 | in[15]));
	}
}

/* Every length up to PREFIX_MAX, then the whole input. */
static size_t
next_length(size_t n, size_t size)
{
	if (n < PREFIX_MAX || n == size) {
		return n + 1;
	}
	return size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct verdict first, v, small;
	size_t n, room;
	int decided = 0;

	memset(&first, 0, sizeof(first));
	for (n = 0; n <= size; n = next_length(n, size)) {
		parse(in, n, ADDR_ROOM, &v);
		if (decided) {
			CHECK(v.r == first.r && v.used == first.used &&
			    strcmp(v.addr, first.addr) == 0);
		} else if (v.r != PROXY_MORE) {
			CHECK(n > 0);
			first = v;
			decided = 1;
		}
		if (v.r == PROXY_OK) {
			check_header(in, &v);
		}
	}
	room = 1 + (size > 0 ? in[size - 1] % 48 : 0);
	parse(in, size, room, &small);
	CHECK(small.r == v.r || (small.r == PROXY_BAD && v.r == PROXY_OK &&
	    strlen(v.addr) >= room));
	CHECK(small.r != PROXY_OK || strcmp(small.addr, v.addr) == 0);
	return 0;
}
