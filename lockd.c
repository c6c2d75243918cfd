/*
 * The lock helper (see lockd.h). Runs as the user, with the spool's group
 * when the spool needs it and nothing else; it reads one-byte requests
 * from the session and acts only on the one mailbox it was started for.
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

static int
send_answer(int chan, char answer, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh;
	struct cmsghdr *cm;
	struct iovec iov;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = &answer;
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

static void
serve_one(struct helper *h, char req)
{
	int fd;

	switch (req) {
	case REQ_SESSION:
		fd = open_session_file(h);
		send_answer(h->chan, fd == -1 ? ANS_ERROR : ANS_OK, fd);
		if (fd != -1) {
			h->opened = 1;
			close(fd);
		}
		break;
	case REQ_LOCK:
		send_answer(h->chan, h->locked ? ANS_ERROR : take_dotlock(h),
		    -1);
		break;
	case REQ_UNLOCK:
		if (h->locked) {
			dotlock_remove(h->dirfd, h->base);
			h->locked = 0;
		}
		send_answer(h->chan, ANS_OK, -1);
		break;
	default:
		send_answer(h->chan, ANS_ERROR, -1);
		break;
	}
}

static int
open_directory(struct helper *h, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	size_t n;

	if (slash == NULL || slash[1] == '\0' ||
	    strlen(slash + 1) >= sizeof(h->base)) {
		return -1;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	snprintf(h->base, sizeof(h->base), "%s", slash + 1);
	h->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return h->dirfd == -1 ? -1 : 0;
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

/* The mailbox's directory, then the helper's own system call filter. */
static void
start(struct helper *h, int chan, const char *path)
{
	memset(h, 0, sizeof(*h));
	h->chan = chan;
	if (open_directory(h, path) == -1) {
		log_msg(LOG_ERR, "lock helper: cannot open the directory of %s",
		    path);
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
lockd_serve(int chan, const char *path)
{
	struct helper h;
	char req;
	ssize_t n;

	ignore_stop_signals();
	start(&h, chan, path);
	for (;;) {
		n = recv(chan, &req, 1, 0);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n != 1) {
			break;
		}
		serve_one(&h, req);
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
lockd_recover(const char *path)
{
	struct helper h;

	start(&h, -1, path);
	dotlock_break_from_before_boot(h.dirfd, h.base);
	return finish_and_unlock(&h);
}

static int
ask(int chan, char req, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))], answer = ANS_ERROR;
	struct msghdr mh;
	struct cmsghdr *cm;
	struct iovec iov;
	ssize_t n;

	if (send(chan, &req, 1, MSG_NOSIGNAL) != 1) {
		return ANS_ERROR;
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = &answer;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	do {
		n = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n != 1) {
		return ANS_ERROR;
	}
	cm = CMSG_FIRSTHDR(&mh);
	if (fd != NULL && cm != NULL && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int))) {
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	}
	return answer;
}

int
lockd_session_file(int chan)
{
	int fd = -1;

	if (ask(chan, REQ_SESSION, &fd) != ANS_OK && fd != -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

enum lock_status
lockd_dotlock(int chan)
{
	switch (ask(chan, REQ_LOCK, NULL)) {
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
	ask(chan, REQ_UNLOCK, NULL);
}
