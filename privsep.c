/* SPDX-License-Identifier: ISC */
/*
 * Every credential change of pop3d: the pre-login child's drop into an
 * empty chroot as the privsep user, the session's irrevocable change to
 * the user (proved by a failing setuid(0)), the lock helper's start and
 * pop3d --recover's child for each mailbox; and io_detach(), which takes
 * fd 0 and 1 (the client) from the helpers: the lock helper and the
 * monitor's PAM worker. Run by root in the process about to change (the
 * pre-login child, the monitor as it becomes the session, the lock
 * helper, a --recover child); as another user than root they change
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lockd.h"
#include "log.h"
#include "privsep.h"

static void
verify_ids(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != uid || eu != uid || su != uid ||
	    rg != gid || eg != gid || sg != gid) {
		errno = EPERM;
		log_fatal("credentials did not change");
	}
	/*
	 * setgid() to its own gid succeeds without privilege: the probe is
	 * a gid the process does not have.
	 */
	if (uid != 0 && (setuid(0) != -1 || setgid(gid == 0 ? 1 : 0) != -1)) {
		errno = EPERM;
		log_fatal("root privileges could be regained");
	}
}

static void
set_ids(uid_t uid, gid_t gid)
{
	if (setresgid(gid, gid, gid) == -1) {
		log_fatal("setresgid");
	}
	if (setresuid(uid, uid, uid) == -1) {
		log_fatal("setresuid");
	}
	verify_ids(uid, gid);
}

/*
 * The pre-login child parses what the client sends: it may not fork, nor
 * write to any file, whatever it is made to run. A write to a file fails
 * (EFBIG) rather than kill it: with -d and stderr a file, a log line's
 * copy there is lost, the line itself still goes to syslog.
 */
static void
limit_prelogin(void)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_NPROC, &none) == -1 ||
	    setrlimit(RLIMIT_FSIZE, &none) == -1) {
		log_fatal("setrlimit");
	}
	(void)signal(SIGXFSZ, SIG_IGN);
}

void
drop_to_privsep(const struct config *cfg, const struct passwd *pw)
{
	limit_prelogin();
	if (pw == NULL) {
		return;
	}
	if (chroot(cfg->privsep_dir) == -1 || chdir("/") == -1) {
		log_fatal("chroot");
	}
	if (setgroups(0, NULL) == -1) {
		log_fatal("setgroups");
	}
	set_ids(pw->pw_uid, pw->pw_gid);
}

/* Irrevocable: supplementary groups, gid, uid, then proof it holds. */
void
become_user(const struct config *cfg, const struct account *a)
{
	if (geteuid() != 0) {
		return;
	}
	if (cfg->passwd_file != NULL ? setgroups(1, &a->gid) == -1 :
	    initgroups(a->name, a->gid) == -1) {
		log_fatal("setgroups");
	}
	set_ids(a->uid, a->gid);
}

gid_t
lock_helper_gid(const struct stat *dir, gid_t gid)
{
	if (dir->st_gid != 0 &&
	    (dir->st_mode & (S_IWGRP | S_IWOTH)) == S_IWGRP) {
		return dir->st_gid;
	}
	return gid;
}

/*
 * The lock helper may create files in the mailbox's directory: in a
 * group-writable spool (2775 root:mail) it gets that group, and nothing
 * else; the session itself never holds it. The group is read from the
 * handle the helper then works in (lockd_directory(): the session's walk,
 * no symbolic link anywhere), so no link or rename can make it another
 * directory's. Root walks, before the drop: a handle grants no access,
 * and the helper serves only a session whose own walk, as the user,
 * reached the same directory (lockd.c).
 */
static int
become_lock_helper(const struct account *a, const char *path)
{
	int dirfd = lockd_directory(path);
	struct stat st;
	gid_t gid = a->gid;

	if (dirfd == -1) {
		_exit(1);
	}
	if (geteuid() != 0) {
		return dirfd;
	}
	if (fstat(dirfd, &st) == 0) {
		gid = lock_helper_gid(&st, a->gid);
	}
	if (setgroups(1, &gid) == -1) {
		log_fatal("setgroups");
	}
	set_ids(a->uid, gid);
	return dirfd;
}

pid_t
fork_joined(int *chan)
{
	int fds[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == -1) {
		log_fatal("socketpair");
	}
	pid = fork();
	if (pid == -1) {
		log_fatal("fork");
	}
	close(fds[pid == 0 ? 0 : 1]);
	*chan = fds[pid == 0 ? 1 : 0];
	return pid;
}

int
io_detach(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null == -1 || dup2(null, STDIN_FILENO) == -1 ||
	    dup2(null, STDOUT_FILENO) == -1) {
		return -1;
	}
	if (null > STDERR_FILENO) {
		close(null);
	}
	return 0;
}

int
start_lockd(const struct account *a, const char *path)
{
	int chan, dirfd;

	if (fork_joined(&chan) == 0) {
		dirfd = become_lock_helper(a, path);
		if (io_detach() == -1) {
			_exit(1);
		}
		lockd_serve(chan, path, dirfd);
	}
	return chan;
}

int
recover_as_owner(const struct account *a, const char *path)
{
	char shown[4 * NAME_MAX + 1];
	const char *base;
	pid_t pid;
	int status;

	pid = fork();
	if (pid == -1) {
		return -1;
	}
	if (pid == 0) {
		_exit(lockd_recover(path, become_lock_helper(a, path)) == 0 ?
		    0 : 1);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		return 0;
	}
	/* the spool's own path as is, the name in it (a user's) escaped */
	base = strrchr(path, '/');
	base = base == NULL ? path : base + 1;
	log_escape(shown, sizeof(shown), (const unsigned char *)base,
	    strlen(base));
	log_msg(LOG_ERR, "recover: the recovery of %.*s%s %s %d",
	    (int)(base - path), path, shown, WIFSIGNALED(status) ?
	    "was killed by signal" : "ended with exit status",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return -1;
}

/* A problem text: what is wrong and how to fix it. */
static char problem[PATH_MAX + 256];

const char *
privsep_user_problem(const char *name, struct passwd **pw)
{
	*pw = getpwnam(name);
	if (*pw == NULL) {
		(void)snprintf(problem, sizeof(problem), "privsep user %s does "
		    "not exist; fix: adduser --system --group --no-create-home "
		    "--home /nonexistent %s, or name another with "
		    "--privsep-user", name, name);
		return problem;
	}
	if ((*pw)->pw_uid == 0) {
		(void)snprintf(problem, sizeof(problem), "privsep user %s has "
		    "uid 0, so the pre-login child would keep root; fix: name "
		    "an account of its own with --privsep-user", name);
		return problem;
	}
	return NULL;
}

/*
 * Whoever may write in the chroot could give the pre-login child files
 * to find there (or replace the directory's entries under it).
 */
const char *
privsep_dir_problem(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == -1) {
		(void)snprintf(problem, sizeof(problem), "privsep directory "
		    "%s: %s; fix: mkdir -m 0755 %s", dir, strerror(errno), dir);
		return problem;
	}
	if (!S_ISDIR(st.st_mode)) {
		(void)snprintf(problem, sizeof(problem), "privsep directory "
		    "%s is not a directory; fix: name an empty directory with "
		    "--privsep-dir", dir);
		return problem;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		(void)snprintf(problem, sizeof(problem), "privsep directory "
		    "%s: mode %04o owner %u: it must be owned by root and "
		    "writable by root only; fix: chown root %s && chmod go-w %s",
		    dir, (unsigned int)(st.st_mode & 07777),
		    (unsigned int)st.st_uid, dir, dir);
		return problem;
	}
	return NULL;
}
