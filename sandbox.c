/* SPDX-License-Identifier: ISC */
/*
 * System call filters (see sandbox.h). Installed in the pre-login child
 * (the privsep user) before it reads a byte from the client, and in the
 * session (the user) before it reads a byte of the mailbox.
 *
 * The lists were taken from strace -f of real sessions (every command,
 * UPDATE with its journal, recovery after a crash, lock retries, timeouts,
 * syslog, logins that fail), not guessed, on amd64; a call that is not on
 * them kills the whole process (SIGSYS), and the kernel logs its number.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/seccomp.h>
#include <seccomp.h>

#include "log.h"
#include "mailbox.h"
#include "sandbox.h"

#ifndef POP3D_NO_SANDBOX

/* A system call, allowed always or when up to two arguments match. */
struct rule {
	int			 nr;
	uint32_t		 action;
	unsigned int		 nargs;	/* 0 to 2 */
	struct scmp_arg_cmp	 arg[2];
};

/* int arguments: only their 32 bits count. */
#define INT_EQ(i, v)	{ i, SCMP_CMP_MASKED_EQ, 0xffffffff, v }

#define ANY(call) \
	{ SCMP_SYS(call), SCMP_ACT_ALLOW, 0, { INT_EQ(0, 0) } }
#define ARG_IS(call, i, v) \
	{ SCMP_SYS(call), SCMP_ACT_ALLOW, 1, { INT_EQ(i, v) } }
#define ARG_HAS(call, i, bits) \
	{ SCMP_SYS(call), SCMP_ACT_ALLOW, 1, \
	    { { i, SCMP_CMP_MASKED_EQ, bits, bits } } }
#define ARG_LACKS(call, i, bits) \
	{ SCMP_SYS(call), SCMP_ACT_ALLOW, 1, \
	    { { i, SCMP_CMP_MASKED_EQ, bits, 0 } } }
/* Not allowed, but answered with an error rather than SIGSYS. */
#define FAILS(call, err) \
	{ SCMP_SYS(call), SCMP_ACT_ERRNO(err), 0, { INT_EQ(0, 0) } }

/*
 * syslog(3)'s socket when it reconnects to /dev/log (after a syslogd
 * restart, or every line while there is no syslogd): AF_UNIX of the type
 * /dev/log had when log.c opened it, SOCK_DGRAM unless syslogd listens on
 * a stream socket.
 */
#define SYSLOG_SOCKET(action, type) \
	{ SCMP_SYS(socket), action, 2, \
	    { INT_EQ(0, AF_UNIX), INT_EQ(1, (type) | SOCK_CLOEXEC) } }

/* Every filtered process: its descriptors, memory, syslog, the end. */
static const struct rule common_rules[] = {
	ANY(read),
	ANY(write),
	ANY(writev),		/* glibc's fatal messages (fortify) */
	ANY(poll),		/* timeouts */
	ANY(close),
	ANY(lseek),		/* -d: syslog's copy to stderr */
	ANY(newfstatat),
#ifndef SANDBOX_SANITIZED
	/*
	 * -d: stdio asks whether stderr is a terminal before its first
	 * write there; it is told no (the sanitizers' rules allow it).
	 */
	{ SCMP_SYS(ioctl), SCMP_ACT_ERRNO(ENOTTY), 1, { INT_EQ(1, TCGETS) } },
#endif

	/* Memory; nothing becomes executable. */
	ANY(brk),
	ARG_LACKS(mmap, 2, PROT_EXEC),
	ARG_LACKS(mprotect, 2, PROT_EXEC),
	ANY(munmap),
	ANY(mremap),
	ANY(madvise),

	/*
	 * syslog(3) on the socket log.c opened before chroot; LOG_PID asks
	 * for the pid every time. No stream socket, which could reach any
	 * listener of the abstract namespace (chroot does not hide it): a
	 * log line is lost, in the rare setup where /dev/log is one, rather
	 * than the process.
	 */
	SYSLOG_SOCKET(SCMP_ACT_ERRNO(EACCES), SOCK_STREAM),
	ANY(sendto),		/* also io.c: send() to a client socket */
	ANY(getpid),
	ANY(clock_gettime),	/* where the vDSO falls back to the kernel */

	/*
	 * A signal, a stop and continue, the end; abort() (a failed
	 * fortify or stack check) still dies of SIGABRT, and restores
	 * SIGABRT's default action first if it must (its tgkill(2) is
	 * allowed by add_self_abort()).
	 */
	ANY(rt_sigreturn),
	ANY(restart_syscall),
	ANY(rt_sigprocmask),
	ANY(exit),
	ANY(exit_group),
	ANY(gettid),
	ANY(rt_sigaction),
};

/* The session: TRANSACTION and UPDATE. */
static const struct rule session_rules[] = {
	/*
	 * The directories down to the mailbox as O_PATH handles, then
	 * the mailbox alone (no O_CREAT).
	 */
	ARG_IS(openat, 2, MAILBOX_DIR_FLAGS),
	ARG_IS(openat, 2, MAILBOX_OPEN_FLAGS),
	ANY(pread64),
	ANY(pwrite64),
	ANY(geteuid),		/* the mailbox must be the user's */

	/* syslog(3) reaches /dev/log again after a syslogd restart. */
	SYSLOG_SOCKET(SCMP_ACT_ALLOW, SOCK_DGRAM),
	ANY(connect),

	/* Locks: fcntl on the mailbox, OFD on the session file. */
	ARG_IS(fcntl, 1, F_GETLK),
	ARG_IS(fcntl, 1, F_SETLK),
	ARG_IS(fcntl, 1, F_SETLKW),
	ARG_IS(fcntl, 1, F_OFD_GETLK),
	ARG_IS(fcntl, 1, F_OFD_SETLK),
	ARG_IS(fcntl, 1, F_OFD_SETLKW),
	ANY(clock_nanosleep),	/* the pause between two lock attempts */
	/* The lock helper answers a byte, and sends the session file. */
	ANY(recvmsg),
	ANY(sendmsg),		/* asks, with the directory reached */

	/* UPDATE and its journal; signals are held meanwhile. */
	ANY(ftruncate),
	ANY(fsync),
	ANY(fdatasync),
	ANY(getrandom),		/* the journal's end marker */
	ANY(sync_file_range),	/* journal.c: writeback of what it copies */
	/*
	 * Not made today, but natural to a faster update path and no more
	 * powerful than what is allowed: allowed so that such a change
	 * does not turn into SIGSYS in production.
	 */
	ANY(fallocate),
	ANY(copy_file_range),
	ANY(fadvise64),
	ANY(preadv),
	ANY(pwritev),
	ANY(sysinfo),		/* glibc's qsort() sizes its buffer by RAM */
};

/*
 * The pre-login child, chrooted: the client, and its channel to the
 * monitor (credentials out, a verdict back). /dev/log is out of its
 * reach: syslog(3) may not make a socket to try again.
 */
static const struct rule prelogin_rules[] = {
	ANY(sendmsg),
	ANY(recvfrom),
	SYSLOG_SOCKET(SCMP_ACT_ERRNO(EACCES), SOCK_DGRAM),
};

/*
 * The lock helper: requests from the session, the dot-lock (a unique
 * file linked to MAILBOX.lock, hostname and pid in it), the session file,
 * and once the session is gone the mailbox's recovery (as the session's
 * UPDATE, without getrandom: no new journal is begun).
 */
static const struct rule lockd_rules[] = {
	ANY(recvmsg),
	ANY(sendmsg),
	ARG_IS(openat, 2, DOTLOCK_TMP_FLAGS),
	ARG_IS(openat, 2, LOCKD_SESSION_FLAGS),
	ARG_IS(openat, 2, MAILBOX_OPEN_FLAGS),
	ANY(linkat),
	ANY(unlinkat),
	ANY(uname),
	ANY(geteuid),
	ANY(pread64),
	ANY(pwrite64),
	ANY(ftruncate),
	ANY(fsync),
	ANY(fdatasync),
	ANY(sync_file_range),
	ARG_IS(fcntl, 1, F_SETLK),
	ANY(clock_nanosleep),
	ANY(sysinfo),

	/* syslog(3) reaches /dev/log again after a syslogd restart. */
	SYSLOG_SOCKET(SCMP_ACT_ALLOW, SOCK_DGRAM),
	ANY(connect),
};

#ifdef SANDBOX_SANITIZED
/*
 * make SANITIZE=1 only, found the same way. LeakSanitizer's check at
 * exit: a task made by clone(CLONE_VM) ptraces the session to stop it and
 * lists /proc/self/task; a call it misses would hang the session.
 * Reports read /proc/self/maps, the binary and its path for symbols.
 * fork() and execve() stay forbidden.
 */
static const struct rule sanitizer_rules[] = {
	ANY(prctl),
	ARG_HAS(clone, 0, CLONE_VM),
	ANY(ptrace),
	ANY(wait4),
	ANY(sched_yield),
	ANY(getppid),
	ANY(sigaltstack),
	ANY(futex),
	ARG_IS(open, 1, O_RDONLY),
	ARG_IS(open, 1, O_RDONLY | O_DIRECTORY),
	ARG_IS(openat, 2, O_RDONLY | O_CLOEXEC),
	ARG_IS(fcntl, 1, F_SETFD),
	ARG_IS(ioctl, 1, TCGETS),	/* isatty(2): colours or not */
	ANY(getdents),
	ANY(readlink),
	/* Its external symbolizer cannot run: it learns so at once. */
	FAILS(pipe, EPERM),
	FAILS(pipe2, EPERM),
};
#endif

#define NRULES(t)	(sizeof(t) / sizeof((t)[0]))

static int
add_rules(scmp_filter_ctx ctx, const struct rule *r, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = seccomp_rule_add_array(ctx, r[i].action, r[i].nr,
		    r[i].nargs, r[i].arg);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/*
 * abort() signals this process, and no other: every pre-login child is
 * the same privsep user, and may not end another connection's login. The
 * process has one thread, whose id is the pid.
 */
static int
add_self_abort(scmp_filter_ctx ctx)
{
	uint32_t self = (uint32_t)getpid();

	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 3,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffff, self),
	    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff, self),
	    SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffff, SIGABRT));
}

#ifdef POP3D_SANDBOX_PROBE
/*
 * Test builds only (tests/pop3d-probe, never pop3d): right after its
 * filter is in place, the process named by POP3D_PROBE="stage:call"
 * (stage "prelogin" or "session") makes that forbidden call. Surviving
 * it is an exit status of 70.
 */
static void
probe(const char *stage)
{
	static char sh[] = "/bin/sh";
	static char *const argv[] = { sh, NULL };
	static char *const envp[] = { NULL };
	const char *what = getenv("POP3D_PROBE");
	size_t n = strlen(stage);

	if (what == NULL || strncmp(what, stage, n) != 0 || what[n] != ':') {
		return;
	}
	what += n + 1;
	if (strcmp(what, "execve") == 0) {
		execve(sh, argv, envp);
	} else if (strcmp(what, "socket") == 0) {
		socket(AF_INET, SOCK_STREAM, 0);
	} else if (strcmp(what, "open-read") == 0) {
		open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	} else if (strcmp(what, "open-write") == 0) {
		open("/etc/passwd", O_WRONLY | O_APPEND | O_CLOEXEC);
	} else if (strcmp(what, "mmap-exec") == 0) {
		mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else if (strcmp(what, "fork") == 0) {
		fork();
	} else if (strcmp(what, "abort") == 0) {
		abort();	/* allowed: it must die of SIGABRT */
	} else if (strcmp(what, "tgkill-other-process") == 0) {
		/* Above PID_MAX_LIMIT: no process to hurt if it got through. */
		syscall(SYS_tgkill, 1 << 22, 1 << 22, SIGABRT);
	} else if (strcmp(what, "unix-stream-socket") == 0 &&
	    socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) == -1) {
		/* syslog(3)'s form only fails; any other form kills. */
		socket(AF_UNIX, SOCK_STREAM, 0);
	}
	_exit(70);
}
#endif

/*
 * Why seccomp_init() gave no context: libseccomp asks the kernel through
 * seccomp(2) whether it can kill a process, and without that answer it
 * refuses SCMP_ACT_KILL_PROCESS. Asked again here, the kernel's errno is
 * the cause: EPERM when a filter around pop3d forbids seccomp(2) (systemd's
 * SystemCallFilter= without it), ENOSYS or EOPNOTSUPP from a kernel
 * without the feature; only if the kernel agrees was memory short.
 */
static int
seccomp_init_errno(void)
{
	uint32_t action = SECCOMP_RET_KILL_PROCESS;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == -1) {
		return errno;
	}
	return ENOMEM;
}

/*
 * no_new_privs, then common_rules and own[n] for good; stage names the
 * process for the probe build.
 */
static int
install(const char *stage, const struct rule *own, size_t n)
{
	scmp_filter_ctx ctx;
	int rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		return -1;
	}
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL) {
		errno = seccomp_init_errno();
		return -1;
	}
	/* 32-bit (int 0x80) and x32 calls are not ours either. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	if (rc == 0) {
		rc = add_rules(ctx, common_rules, NRULES(common_rules));
	}
	if (rc == 0) {
		rc = add_self_abort(ctx);
	}
	if (rc == 0) {
		rc = add_rules(ctx, own, n);
	}
#ifdef SANDBOX_SANITIZED
	if (rc == 0) {
		rc = add_rules(ctx, sanitizer_rules, NRULES(sanitizer_rules));
	}
#endif
	if (rc == 0) {
		rc = seccomp_load(ctx);
	}
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
#ifdef POP3D_SANDBOX_PROBE
	probe(stage);
#else
	(void)stage;
#endif
	return 0;
}

int
sandbox_session(void)
{
	return install("session", session_rules, NRULES(session_rules));
}

int
sandbox_prelogin(void)
{
	return install("prelogin", prelogin_rules, NRULES(prelogin_rules));
}

int
sandbox_lockd(void)
{
	return install("lockd", lockd_rules, NRULES(lockd_rules));
}

#else

int
sandbox_session(void)
{
	log_msg(LOG_DEBUG, "no system call filter: built with SANDBOX=0");
	return 0;
}

int
sandbox_prelogin(void)
{
	return 0;
}

int
sandbox_lockd(void)
{
	return 0;
}

#endif
