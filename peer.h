/* SPDX-License-Identifier: ISC */
/*
 * The client's address for logs and PAM_RHOST. Runs as root before
 * anything is read from the client.
 */
#ifndef POP3D_PEER_H
#define POP3D_PEER_H

#include <stddef.h>

/*
 * The address of the peer on fd, or what the superserver put in the
 * environment (REMOTE_ADDR, REMOTE_HOST, TCPREMOTEIP) when fd is not a
 * network socket; "unknown" when there is none. Always NUL-terminated.
 */
void	peer_address(int, char *, size_t);

/*
 * 1 if the network peer of fd is one of the addresses in list (separated
 * by commas), 0 if not; peer_list_ok() checks such a list: 0, or -1.
 */
int	peer_in_list(int, const char *);
int	peer_list_ok(const char *);

#endif
