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
 * once per mailbox (lockd_recover()). Besides the session, these are the
 * only processes that run the maildrop code (mailbox.c), as the user.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lockchan.h"
#include "lockd.h"
#include "log.h"
#include "mailbox.h"
#include "params.h"
#include "sandbox.h"

struct helper {
	int		 chan;
	int		 dirfd;
	char		 base[NAME_MAX + 1];
	int		 locked;
	int		 no_dotlock;
	int		 opened;	/* the session asked for its file */
};

static int
name_with(char *out, size_t len, const char *base, const char *suffix)
{
	int n = snprintf(out, len, "%s%s", base, suffix);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A lock older than DOTLOCK_STALE was left by a process that died. */
static void
remove_if_stale(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && time(NULL) - st.st_mtime > DOTLOCK_STALE) {
		log_msg(LOG_NOTICE, "removing stale lock %s", name);
		unlinkat(dirfd, name, 0);
	}
}

/* link(2) reports success unreliably on NFS: the link count decides. */
static int
dotlock_create(int dirfd, const char *base)
{
	char name[NAME_MAX + 1], tmp[NAME_MAX + 1], host[64];
	struct stat st;
	int fd, ok;

	if (gethostname(host, sizeof(host)) == -1) {
		snprintf(host, sizeof(host), "localhost");
	}
	host[sizeof(host) - 1] = '\0';
	if (name_with(name, sizeof(name), base, ".lock") == -1 ||
	    snprintf(tmp, sizeof(tmp), "%s.lk%ld.%.32s", base, (long)getpid(),
	    host) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = openat(dirfd, tmp, DOTLOCK_TMP_FLAGS, 0644);
	if (fd == -1) {
		return -1;
	}
	dprintf(fd, "%ld\n", (long)getpid());
	close(fd);
	ok = linkat(dirfd, tmp, dirfd, name, 0) == 0 ||
	    (fstatat(dirfd, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_nlink == 2);
	unlinkat(dirfd, tmp, 0);
	if (!ok) {
		remove_if_stale(dirfd, name);
		errno = EEXIST;
		return -1;
	}
	return 0;
}

static void
dotlock_remove(int dirfd, const char *base)
{
	char name[NAME_MAX + 1];

	if (name_with(name, sizeof(name), base, ".lock") == 0) {
		unlinkat(dirfd, name, 0);
	}
}

/*
 * For pop3d --recover: a dot-lock made before the system started was left
 * by a process that no longer runs here, however young it is; removed.
 */
static void
dotlock_break_from_before_boot(int dirfd, const char *base)
{
	char name[NAME_MAX + 1];
	struct timespec up;
	struct stat st;

	if (name_with(name, sizeof(name), base, ".lock") == -1 ||
	    clock_gettime(CLOCK_BOOTTIME, &up) == -1) {
		return;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && st.st_mtime < time(NULL) - up.tv_sec) {
		log_msg(LOG_NOTICE, "removing %s, made before the system "
		    "started", name);
		unlinkat(dirfd, name, 0);
	}
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
		lockchan_send(h->chan, fd == -1 ? ANS_ERROR : ANS_OK, fd);
		if (fd != -1) {
			h->opened = 1;
			close(fd);
		}
		break;
	case REQ_LOCK:
		lockchan_send(h->chan, h->locked || !h->opened ? ANS_ERROR :
		    take_dotlock(h), -1);
		break;
	case REQ_UNLOCK:
		if (h->locked) {
			dotlock_remove(h->dirfd, h->base);
			h->locked = 0;
		}
		lockchan_send(h->chan, ANS_OK, -1);
		break;
	default:
		lockchan_send(h->chan, ANS_ERROR, -1);
		break;
	}
}

int
lockd_directory(const char *path)
{
	const char *problem;
	int dirfd, err;

	/*
	 * What is on the path (a missing directory, a file, a link, a
	 * directory the user cannot search) the session's own walk meets
	 * too, and logs, once. Only a failure of the system (MBX_TEMP: an
	 * I/O error, no descriptor left) is said here, with its cause: the
	 * session's walk may well get through and could not tell it.
	 */
	if (mailbox_dir(path, &dirfd, &problem) == MBX_TEMP) {
		err = errno;
		log_msg(LOG_ERR, "lock helper: %s: %s%s%s", path, problem,
		    err != 0 ? ", error=" : "", err != 0 ? strerror(err) : "");
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
	while (lockchan_recv(chan, &req, &sent) == 1) {
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
