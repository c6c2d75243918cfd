/* SPDX-License-Identifier: ISC */
/*
 * Both ends of the lock helper's channel (lockchan.h): run by the session
 * and by the lock helper alike.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lockchan.h"
#include "params.h"

int
lockchan_send(int chan, char byte, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh;
	struct cmsghdr *cm;
	struct iovec iov;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(chan, &mh, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

ssize_t
lockchan_recv(int chan, char *byte, int *fd)
{
	/* Room for several: whatever arrives is ours to close. */
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	int got[4], n_got = 0, i;
	struct msghdr mh;
	struct cmsghdr *cm;
	struct iovec iov;
	size_t k;
	ssize_t n;

	*fd = -1;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = byte;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	do {
		n = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	for (cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm != NULL;
	    cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		for (k = 0; CMSG_LEN((k + 1) * sizeof(int)) <= cm->cmsg_len &&
		    n_got < 4; k++) {
			memcpy(&got[n_got++], CMSG_DATA(cm) + k * sizeof(int),
			    sizeof(int));
		}
	}
	if (n == 1 && n_got == 1 && !(mh.msg_flags & MSG_CTRUNC)) {
		*fd = got[0];
		return n;
	}
	for (i = 0; i < n_got; i++) {
		close(got[i]);
	}
	return n;
}

/*
 * random() was never seeded: every process drew the same pauses, so two
 * that met a busy lock together kept meeting. The clock's nanoseconds and
 * the process id vary instead; neither needs a system call that the
 * filters (sandbox.c) do not already allow, nor a seed kept between calls.
 */
void
lock_pause(void)
{
	struct timespec now, ts;
	unsigned long mix;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1) {
		now.tv_nsec = 0;
	}
	mix = (unsigned long)now.tv_nsec ^ (unsigned long)getpid() << 10;
	ts.tv_sec = 0;
	ts.tv_nsec = (LOCK_BACKOFF_MS / 2 +
	    (long)(mix % LOCK_BACKOFF_MS)) * 1000000L;
	nanosleep(&ts, NULL);
}
