/*
 * Mailbox locking (Debian Policy 11.6, liblockfile's conventions): an
 * fcntl() write lock on the whole file, then "MAILBOX.lock" created by
 * link(2) from a unique name, which is safe on NFS. If the second lock
 * cannot be had, the first is dropped and both are tried again after a
 * random pause, so that we never block a writer while waiting.
 * Runs as the user.
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
lock_name(char *out, size_t len, const char *path, const char *suffix)
{
	int n = snprintf(out, len, "%s%s", path, suffix);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A lock older than DOTLOCK_STALE was left by a process that died. */
static void
remove_if_stale(const char *name)
{
	struct stat st;

	if (lstat(name, &st) == 0 && S_ISREG(st.st_mode) &&
	    time(NULL) - st.st_mtime > DOTLOCK_STALE) {
		log_msg(LOG_NOTICE, "removing stale lock %s", name);
		unlink(name);
	}
}

/* link(2) reports success unreliably on NFS: the link count decides. */
static int
dotlock_create(const char *path)
{
	char name[PATH_MAX], tmp[PATH_MAX + 32];
	struct stat st;
	int fd, ok;

	if (lock_name(name, sizeof(name), path, ".lock") == -1 ||
	    lock_name(tmp, sizeof(tmp), name, "XXXXXX") == -1) {
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1) {
		return -1;
	}
	dprintf(fd, "%ld\n", (long)getpid());
	close(fd);
	ok = link(tmp, name) == 0 ||
	    (stat(tmp, &st) == 0 && st.st_nlink == 2);
	unlink(tmp);
	if (!ok) {
		remove_if_stale(name);
		errno = EEXIST;
		return -1;
	}
	return 0;
}

static void
pause_randomly(void)
{
	struct timespec ts;
	long ms = LOCK_BACKOFF_MS / 2 + random() % LOCK_BACKOFF_MS;

	ts.tv_sec = 0;
	ts.tv_nsec = ms * 1000000L;
	nanosleep(&ts, NULL);
}

static int
is_busy(int err)
{
	return err == EAGAIN || err == EACCES || err == EEXIST;
}

/*
 * One attempt at both locks. A spool we may not create files in (the
 * usual 2775 root:mail /var/mail when not set up for us) leaves the fcntl
 * lock alone, which MDAs on Debian also take.
 */
static int
try_both(struct lock *l)
{
	if (fcntl_lock(l->fd, F_WRLCK) == -1) {
		return -1;
	}
	if (l->no_dotlock || dotlock_create(l->path) == 0) {
		l->dotlocked = !l->no_dotlock;
		return 0;
	}
	if (errno == EACCES || errno == EPERM || errno == EROFS) {
		log_msg(LOG_WARNING, "cannot dot-lock %s: %s; using fcntl only",
		    l->path, strerror(errno));
		l->no_dotlock = 1;
		return 0;
	}
	fcntl_lock(l->fd, F_UNLCK);
	return -1;
}

enum lock_status
lock_take(struct lock *l)
{
	int i;

	for (i = 0; i < LOCK_TRIES; i++) {
		if (try_both(l) == 0) {
			return LOCK_OK;
		}
		if (!is_busy(errno)) {
			return LOCK_ERROR;
		}
		pause_randomly();
	}
	return LOCK_BUSY;
}

void
lock_release(struct lock *l)
{
	char name[PATH_MAX];

	if (l->dotlocked && lock_name(name, sizeof(name), l->path,
	    ".lock") == 0) {
		unlink(name);
	}
	l->dotlocked = 0;
	fcntl_lock(l->fd, F_UNLCK);
}
