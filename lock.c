/* SPDX-License-Identifier: ISC */
/*
 * Mailbox locking (Debian Policy 11.6, liblockfile's conventions): an
 * fcntl() write lock on the whole file, then "MAILBOX.lock" created by
 * link(2) from a unique name, which is safe on NFS. If the second lock
 * cannot be had, the first is dropped and both are tried again after a
 * random pause, so that we never block a writer while waiting.
 * lock_take() runs as the user; dotlock_*() run in the lock helper.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "lockd.h"
#include "log.h"
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
int
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

void
dotlock_remove(int dirfd, const char *base)
{
	char name[NAME_MAX + 1];

	if (name_with(name, sizeof(name), base, ".lock") == 0) {
		unlinkat(dirfd, name, 0);
	}
}

void
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

void
lock_pause(void)
{
	struct timespec ts;
	long ms = LOCK_BACKOFF_MS / 2 + random() % LOCK_BACKOFF_MS;

	ts.tv_sec = 0;
	ts.tv_nsec = ms * 1000000L;
	nanosleep(&ts, NULL);
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
	s = l->chan == -1 ? LOCK_OK : lockd_dotlock(l->chan);
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
	if (l->chan != -1) {
		lockd_dotunlock(l->chan);
	}
	fcntl_lock(l->fd, F_UNLCK);
	l->held = 0;
}
