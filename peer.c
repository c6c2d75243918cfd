/* SPDX-License-Identifier: ISC */
/*
 * The client's address: from the socket, else from the superserver's
 * environment. Runs as root before anything is read from the client.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "peer.h"

/* IPv4-mapped IPv6 addresses are logged as IPv4, as fail2ban bans them. */
static int
from_socket(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1) {
		return -1;
	}
	if (ss.ss_family == AF_INET) {
		return inet_ntop(AF_INET, &s4->sin_addr, out,
		    (socklen_t)len) == NULL ? -1 : 0;
	}
	if (ss.ss_family != AF_INET6) {
		return -1;
	}
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		return inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out,
		    (socklen_t)len) == NULL ? -1 : 0;
	}
	return inet_ntop(AF_INET6, &s6->sin6_addr, out,
	    (socklen_t)len) == NULL ? -1 : 0;
}

/* Only a well-formed address from the environment is believed. */
static int
from_env(const char *name, char *out, size_t len)
{
	const char *v = getenv(name);
	unsigned char bin[sizeof(struct in6_addr)];

	if (v == NULL) {
		return -1;
	}
	if (strncmp(v, "::ffff:", 7) == 0 &&
	    inet_pton(AF_INET, v + 7, bin) == 1) {
		v += 7;
	}
	if (inet_pton(AF_INET, v, bin) != 1 &&
	    inet_pton(AF_INET6, v, bin) != 1) {
		return -1;
	}
	return snprintf(out, len, "%s", v) < (int)len ? 0 : -1;
}

static int
from_env_any(char *out, size_t len)
{
	return from_env("REMOTE_ADDR", out, len) == 0 ||
	    from_env("REMOTE_HOST", out, len) == 0 ||
	    from_env("TCPREMOTEIP", out, len) == 0 ? 0 : -1;
}

static int
is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

/*
 * A loopback peer may be a superserver relaying for the real client:
 * stunnel in exec mode hands its child a loopback TCP connection and the
 * client's address in REMOTE_HOST. The environment comes from the parent,
 * so it is believed then.
 */
void
peer_address(int fd, char *out, size_t len)
{
	if (from_socket(fd, out, len) == 0) {
		if (is_loopback(out)) {
			(void)from_env_any(out, len);
		}
		return;
	}
	if (from_env_any(out, len) == 0) {
		return;
	}
	snprintf(out, len, "unknown");
}

/* One entry of a comma-separated list, as a binary address of family *af. */
static int
list_entry(const char **p, unsigned char *bin, int *af)
{
	char text[INET6_ADDRSTRLEN];
	const char *comma = strchr(*p, ',');
	size_t n = comma == NULL ? strlen(*p) : (size_t)(comma - *p);

	if (n == 0 || n >= sizeof(text)) {
		return -1;
	}
	memcpy(text, *p, n);
	text[n] = '\0';
	*p += n + (comma != NULL);
	if (comma != NULL && **p == '\0') {
		return -1;
	}
	*af = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	return inet_pton(*af, text, bin) == 1 ? 0 : -1;
}

int
peer_list_ok(const char *list)
{
	unsigned char bin[sizeof(struct in6_addr)];
	int af;

	do {
		if (list_entry(&list, bin, &af) == -1) {
			return -1;
		}
	} while (*list != '\0');
	return 0;
}

int
peer_in_list(int fd, const char *list)
{
	unsigned char want[sizeof(struct in6_addr)], got[sizeof(struct in6_addr)];
	char text[INET6_ADDRSTRLEN];
	int af, gaf;

	if (from_socket(fd, text, sizeof(text)) == -1) {
		return 0;
	}
	gaf = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(gaf, text, got) != 1) {
		return 0;
	}
	while (*list != '\0') {
		if (list_entry(&list, want, &af) == -1) {
			return 0;
		}
		if (af == gaf && memcmp(want, got, af == AF_INET ? 4 : 16) == 0) {
			return 1;
		}
	}
	return 0;
}
