/* SPDX-License-Identifier: ISC */
/*
 * Mailbox locking (Debian Policy 11.6, liblockfile's conventions): an
 * fcntl() write lock on the whole file, then "MAILBOX.lock" created by
 * link(2) from a unique name, which is safe on NFS. If the second lock
 * cannot be had, the first is dropped and both are tried again after a
 * random pause, so that we never block a writer while waiting.
 * Run by the session, as the user: it takes the fcntl lock itself and
 * asks its lock helper (lockd.c) for the dot-lock and the session file.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"
#include "lockchan.h"
#include "params.h"

static int
fcntl_lock(int fd, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

/* One attempt at both locks; -1 with errno EAGAIN when either is busy. */
static int
try_both(struct lock *l)
{
	enum lock_status s;

	if (fcntl_lock(l->fd, F_WRLCK) == -1) {
		if (errno == EACCES) {
			errno = EAGAIN;
		}
		return -1;
	}
	s = l->helper == -1 ? LOCK_OK : lockd_dotlock(l->helper);
	if (s == LOCK_OK) {
		return 0;
	}
	fcntl_lock(l->fd, F_UNLCK);
	errno = s == LOCK_BUSY ? EAGAIN : EIO;
	return -1;
}

enum lock_status
lock_take(struct lock *l)
{
	int i;

	for (i = 0; i < LOCK_TRIES; i++) {
		if (try_both(l) == 0) {
			l->held = 1;
			return LOCK_OK;
		}
		if (errno != EAGAIN) {
			return LOCK_ERROR;
		}
		lock_pause();
	}
	return LOCK_BUSY;
}

void
lock_release(struct lock *l)
{
	if (!l->held) {
		return;
	}
	if (l->helper != -1) {
		lockd_dotunlock(l->helper);
	}
	fcntl_lock(l->fd, F_UNLCK);
	l->held = 0;
}

/* A request, with the descriptor out unless -1; the answer, *in its fd. */
static char
ask(int chan, char req, int out, int *in)
{
	char answer = ANS_ERROR;
	int fd;

	if (lockchan_send(chan, req, out) == -1 ||
	    lockchan_recv(chan, &answer, &fd) != 1) {
		return ANS_GONE;
	}
	if (in != NULL) {
		*in = fd;
	} else if (fd != -1) {
		close(fd);
	}
	return answer;
}

int
lockd_session_file(int chan, int dirfd)
{
	int fd = -1;
	char answer = ask(chan, REQ_SESSION, dirfd, &fd);

	if (answer != ANS_OK && fd != -1) {
		close(fd);
		fd = -1;
	}
	errno = answer == ANS_GONE ? EPIPE : 0;
	return fd;
}

enum lock_status
lockd_dotlock(int chan)
{
	switch (ask(chan, REQ_LOCK, -1, NULL)) {
	case ANS_OK:
		return LOCK_OK;
	case ANS_BUSY:
		return LOCK_BUSY;
	default:
		errno = EIO;
		return LOCK_ERROR;
	}
}

void
lockd_dotunlock(int chan)
{
	ask(chan, REQ_UNLOCK, -1, NULL);
}
