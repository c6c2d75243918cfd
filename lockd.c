/* SPDX-License-Identifier: ISC */
/*
 * The lock helper (see lockd.h). Runs as the user, with the spool's group
 * when the spool needs it and nothing else; it reads one-byte requests
 * from the session and acts only on the one mailbox it was started for,
 * in the directory root reached for it (lockd_directory()), and only once
 * the session showed that its own walk reached that same directory.
 * When the session is gone, it looks at the session file: a journal there
 * is an update the session did not finish (killed while the helper held
 * the dot-lock for it, or given up after an I/O error), which the helper
 * completes (mailbox_recover(): the login's recovery, under the fcntl
 * lock too) before it removes the dot-lock, so that no program that
 * honours the locks sees the mailbox half rewritten. Its own system call
 * filter (sandbox.c) allows just that. pop3d --recover runs the same code
 * once per mailbox (lockd_recover()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lockd.h"
#include "log.h"
#include "mailbox.h"
#include "params.h"
#include "sandbox.h"

enum {
	REQ_SESSION = 'S',
	REQ_LOCK = 'L',
	REQ_UNLOCK = 'U',
	ANS_OK = 'K',
	ANS_BUSY = 'B',
	ANS_ERROR = 'E'
};

struct helper {
	int		 chan;
	int		 dirfd;
	char		 base[NAME_MAX + 1];
	int		 locked;
	int		 no_dotlock;
	int		 opened;	/* the session asked for its file */
};

/* One byte on the channel, with the descriptor fd unless it is -1. */
static int
send_byte(int chan, char byte, int fd)
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

/*
 * One byte from the channel, and the descriptor sent with it (*fd, else
 * -1); what recvmsg() returns.
 */
static ssize_t
recv_byte(int chan, char *byte, int *fd)
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

/* The session file must be a plain file of ours that nobody else links. */
static int
open_session_file(struct helper *h)
{
	char name[NAME_MAX + 1];
	struct stat st;
	int fd;

	if (snprintf(name, sizeof(name), "%s.pop3d", h->base) >=
	    (int)sizeof(name)) {
		return -1;
	}
	fd = openat(h->dirfd, name, LOCKD_SESSION_FLAGS, 0600);
	if (fd == -1) {
		log_msg(LOG_ERR, "cannot open session file %s: %s", name,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_nlink != 1) {
		log_msg(LOG_ERR, "session file %s is not a plain file of "
		    "the user", name);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A spool nobody let us write to leaves the fcntl lock alone, which
 * Debian's MDAs take too; said once in the log.
 */
static char
take_dotlock(struct helper *h)
{
	if (h->no_dotlock || dotlock_create(h->dirfd, h->base) == 0) {
		h->locked = !h->no_dotlock;
		return ANS_OK;
	}
	if (errno == EEXIST) {
		return ANS_BUSY;
	}
	if (errno == EACCES || errno == EPERM || errno == EROFS) {
		log_msg(LOG_WARNING, "cannot dot-lock %s: %s; relying on "
		    "fcntl locks", h->base, strerror(errno));
		h->no_dotlock = 1;
		return ANS_OK;
	}
	return ANS_ERROR;
}

/*
 * The session sends the directory its own walk reached, as the user:
 * the helper works for it only if that is the helper's own. Otherwise a
 * path changed between the two walks would have the session serve one
 * mailbox while its locks and journal went to another directory.
 */
static int
same_directory(const struct helper *h, int sent)
{
	struct stat mine, theirs;

	if (sent == -1 || fstat(sent, &theirs) == -1 ||
	    fstat(h->dirfd, &mine) == -1 ||
	    mine.st_dev != theirs.st_dev || mine.st_ino != theirs.st_ino) {
		log_msg(LOG_ERR, "lock helper: the session reached another "
		    "directory than %s's", h->base);
		return 0;
	}
	return 1;
}

/* Nothing is made before the session proved its directory. */
static void
serve_one(struct helper *h, char req, int sent)
{
	int fd;

	switch (req) {
	case REQ_SESSION:
		fd = same_directory(h, sent) ? open_session_file(h) : -1;
		send_byte(h->chan, fd == -1 ? ANS_ERROR : ANS_OK, fd);
		if (fd != -1) {
			h->opened = 1;
			close(fd);
		}
		break;
	case REQ_LOCK:
		send_byte(h->chan, h->locked || !h->opened ? ANS_ERROR :
		    take_dotlock(h), -1);
		break;
	case REQ_UNLOCK:
		if (h->locked) {
			dotlock_remove(h->dirfd, h->base);
			h->locked = 0;
		}
		send_byte(h->chan, ANS_OK, -1);
		break;
	default:
		send_byte(h->chan, ANS_ERROR, -1);
		break;
	}
}

int
lockd_directory(const char *path)
{
	const char *problem;
	int dirfd;

	/* A missing directory: the session refuses the login and logs it. */
	if (mailbox_dir(path, &dirfd, &problem) != MBX_OK) {
		log_msg(LOG_ERR, "lock helper: %s: %s", path, problem);
	}
	return dirfd;
}

/* For the helper's own use: the dot-lock, waiting a bounded time. */
static int
take_dotlock_waiting(struct helper *h)
{
	char answer = ANS_BUSY;
	int i;

	for (i = 0; i < LOCK_TRIES && answer == ANS_BUSY; i++) {
		if (i > 0) {
			lock_pause();
		}
		answer = take_dotlock(h);
	}
	if (answer != ANS_OK) {
		log_msg(LOG_ERR, "cannot dot-lock %s: %s", h->base,
		    answer == ANS_BUSY ? "held by another program" :
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Once the session is gone: a journal in the session file is an update
 * that did not finish (killed, or stopped by an I/O error). It is
 * completed under both locks; the dot-lock is taken when the session did
 * not leave it held. -1 when a journal is left (logged).
 */
static int
finish_update(struct helper *h)
{
	struct stat st;
	int fd, rc = 0;

	fd = open_session_file(h);
	if (fd == -1) {
		return -1;
	}
	if (fstat(fd, &st) == -1 || st.st_size != 0) {
		rc = h->locked || h->no_dotlock ||
		    take_dotlock_waiting(h) == 0 ?
		    mailbox_recover(h->dirfd, h->base, fd) : -1;
	}
	close(fd);
	return rc;
}

/*
 * A session that died holding the dot-lock hands it on with the update:
 * it goes only with a consistent mailbox, or stays, as a crashed mail
 * program's does. One taken here for an update the session gave up on
 * (after an I/O error, the locks released) goes in any case: keeping it
 * would only lock everyone out of what others could already see.
 */
static int
finish_and_unlock(struct helper *h)
{
	int inherited = h->locked, rc;

	rc = finish_update(h);
	if (rc == -1) {
		log_msg(LOG_ERR, "%s: an interrupted update is left for the "
		    "next login%s", h->base, inherited ? "; its dot-lock stays" :
		    "");
	}
	if (h->locked && (rc == 0 || !inherited)) {
		dotlock_remove(h->dirfd, h->base);
	}
	return rc;
}

/* The mailbox's name, then the helper's own system call filter. */
static void
start(struct helper *h, int chan, const char *path, int dirfd)
{
	const char *slash = strrchr(path, '/');

	memset(h, 0, sizeof(*h));
	h->chan = chan;
	h->dirfd = dirfd;
	if (dirfd == -1 || slash == NULL ||
	    snprintf(h->base, sizeof(h->base), "%s", slash + 1) >=
	    (int)sizeof(h->base)) {
		_exit(1);
	}
	/* syslog(3) stamps lines with local time: the zone, read beforehand */
	tzset();
	if (sandbox_lockd() == -1) {
		log_msg(LOG_ERR, "lock helper: system call filter: %s",
		    strerror(errno));
		_exit(1);
	}
}

/*
 * A stop signal for the whole group (a superserver's or systemd's, after
 * the session) must not cut the recovery short: the helper ends when the
 * session does, and a recovery takes bounded time.
 */
static void
ignore_stop_signals(void)
{
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGINT, SIG_IGN);
}

void
lockd_serve(int chan, const char *path, int dirfd)
{
	struct helper h;
	char req;
	int sent;

	ignore_stop_signals();
	start(&h, chan, path, dirfd);
	while (recv_byte(chan, &req, &sent) == 1) {
		serve_one(&h, req, sent);
		if (sent != -1) {
			close(sent);
		}
	}
	if (h.opened) {
		_exit(finish_and_unlock(&h) == 0 ? 0 : 1);
	}
	if (h.locked) {
		dotlock_remove(h.dirfd, h.base);
	}
	_exit(0);
}

int
lockd_recover(const char *path, int dirfd)
{
	struct helper h;

	start(&h, -1, path, dirfd);
	dotlock_break_from_before_boot(h.dirfd, h.base);
	return finish_and_unlock(&h);
}

/* A request, with the descriptor out unless -1; the answer, *in its fd. */
static char
ask(int chan, char req, int out, int *in)
{
	char answer = ANS_ERROR;
	int fd;

	if (send_byte(chan, req, out) == -1 ||
	    recv_byte(chan, &answer, &fd) != 1) {
		return ANS_ERROR;
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

	if (ask(chan, REQ_SESSION, dirfd, &fd) != ANS_OK && fd != -1) {
		close(fd);
		fd = -1;
	}
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
