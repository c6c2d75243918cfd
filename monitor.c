/* SPDX-License-Identifier: ISC */
/*
 * The monitor: root's part of the pre-login phase. It reads nothing from
 * the network; it receives credentials from the unprivileged child over
 * the channel, checks them in a short-lived worker so that PAM's state
 * and copies of the password die with it, and decides.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "monitor.h"
#include "params.h"
#include "privsep.h"

/* Waits for pid; how it ended, as waitpid() puts it. */
static int
reap(pid_t pid)
{
	int r, status = 0;

	do {
		r = waitpid(pid, &status, 0);
	} while (r == -1 && errno == EINTR);
	return status;
}

/*
 * A child killed by a signal we did not send (SIGSYS from its system call
 * filter, SIGSEGV) met a bug or an attack: that goes to the log.
 */
static void __attribute__((noreturn))
end_prelogin(pid_t child)
{
	int status;

	kill(child, SIGKILL);
	status = reap(child);
	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
		log_msg(LOG_ERR, "pre-login child killed by signal %d",
		    WTERMSIG(status));
	}
	/* Its own exit status: 71 when its privileges or filter failed. */
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : 0);
}

static int
read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * PAM modules run here: they get neither the client's connection nor the
 * channel to the pre-login child.
 */
static void
worker(int fd, int chan, const struct auth_request *r)
{
	struct worker_result out;
	const char *why = "";
	size_t n;

	if (chan != -1) {
		close(chan);
	}
	if (io_detach() == -1) {
		_exit(1);
	}
	memset(&out, 0, sizeof(out));
	out.res = auth_check(r, &out.acct, &why);
	n = strlen(why);
	if (n >= sizeof(out.why)) {
		n = sizeof(out.why) - 1;
	}
	memcpy(out.why, why, n);
	_exit(write(fd, &out, sizeof(out)) == (ssize_t)sizeof(out) ? 0 : 1);
}

enum auth_result
auth_in_worker(int chan, const struct auth_request *r,
    struct worker_result *out)
{
	int fds[2];
	pid_t pid;
	int ok;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		return AUTH_TEMPFAIL;
	}
	pid = fork();
	if (pid == -1) {
		close(fds[0]);
		close(fds[1]);
		return AUTH_TEMPFAIL;
	}
	if (pid == 0) {
		close(fds[0]);
		worker(fds[1], chan, r);
	}
	close(fds[1]);
	ok = read_full(fds[0], out, sizeof(*out)) == 0;
	close(fds[0]);
	reap(pid);
	if (!ok) {
		snprintf(out->why, sizeof(out->why), "worker died");
		return AUTH_TEMPFAIL;
	}
	return out->res;
}

/*
 * Names that could reach the mailbox path as something else: a path
 * separator, a dot-file, control bytes. UTF-8 is welcome.
 */
int
login_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[0] == '-') {
		return 0;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f || s[i] == '/') {
			return 0;
		}
	}
	return 1;
}

/*
 * fail2ban's courier-auth filter reads "LOGIN FAILED, ...=..., ip=[ADDR]"
 * with the address last; SASL logins name their mechanism before it.
 */
static const char *
method_field(enum auth_method m)
{
	static const char *const field[] = { "", ", method=PLAIN",
	    ", method=LOGIN", ", method=APOP" };

	return field[m];
}

static void
log_failure(const struct login_watch *lw, const char *name, enum auth_method m,
    const char *why)
{
	log_msg(LOG_NOTICE, "LOGIN FAILED, user=%s%s, ip=[%s]", name,
	    method_field(m), lw->peer);
	if (why != NULL && *why != '\0') {
		log_msg(LOG_DEBUG, "login failure reason for user=%s: %s",
		    name, why);
	}
}

/*
 * Not started as root, pop3d can become no one but its own user. Another
 * account is refused as a wrong password is (the same reply and delay, a
 * failure counted), so that the reply never tells whether its password
 * was right; the log says why, naming the one user served.
 */
static int
not_served(const struct login_watch *lw, const char *name, enum auth_method m,
    uid_t uid)
{
	const struct passwd *me;

	if (geteuid() == 0 || uid == geteuid()) {
		return 0;
	}
	me = getpwuid(geteuid());
	log_msg(LOG_WARNING, "not started as root: only user=%s (uid %u) can "
	    "be served, not user=%s, ip=[%s]", me != NULL ? me->pw_name : "?",
	    (unsigned int)geteuid(), name, lw->peer);
	log_failure(lw, name, m, NULL);
	return 1;
}

/*
 * Another account (a system one with PAM, a line of the -p file) is
 * refused before its password is checked, so that no PAM module counts a
 * failure (or a success) against an account this server cannot serve, and
 * the log is the same whether that password was right or wrong.
 */
static int
not_served_by_name(const struct login_watch *lw, const char *name,
    const struct priv_auth *a)
{
	const struct passwd *pw;
	uid_t uid = (uid_t)-1;

	if (geteuid() == 0) {
		return 0;
	}
	if (lw->cfg->passwd_file == NULL) {
		pw = getpwnam(a->user);
		if (pw != NULL) {
			uid = pw->pw_uid;
		}
	} else if (auth_file_uid(lw->cfg->passwd_file, a->user, &uid) == -1) {
		return 0;
	}
	return not_served(lw, name, a->method, uid);
}

static enum priv_verdict
authenticate(struct login_watch *lw, const struct priv_auth *a, struct account *acct)
{
	struct auth_request r;
	struct worker_result w;
	char name[LOG_NAME_MAX];
	enum auth_result res;

	log_escape(name, sizeof(name), (const unsigned char *)a->user,
	    a->userlen);
	if (!login_name_ok(a->user, a->userlen) || a->passlen == 0 ||
	    memchr(a->pass, '\0', a->passlen) != NULL) {
		log_failure(lw, name, a->method,
		    "malformed name or empty password");
		return PV_FAIL;
	}
	if (not_served_by_name(lw, name, a)) {
		return PV_FAIL;
	}
	memset(&r, 0, sizeof(r));
	r.service = lw->cfg->pam_service;
	r.passwd_file = lw->cfg->passwd_file;
	r.user = a->user;
	r.pass = a->pass;
	r.rhost = strcmp(lw->peer, "unknown") == 0 ? NULL : lw->peer;
	r.apop_secrets = lw->cfg->apop_secrets;
	r.apop_timestamp = lw->timestamp;
	r.apop = a->method == METHOD_APOP;
	res = auth_in_worker(lw->chan, &r, &w);
	/*
	 * Not LOGIN FAILED: fail2ban must not ban every client while the
	 * password database is down.
	 */
	if (res == AUTH_TEMPFAIL) {
		log_msg(LOG_WARNING, "authentication unavailable (%s), "
		    "user=%s, ip=[%s]", w.why, name, lw->peer);
		return PV_TEMPFAIL;
	}
	/*
	 * uid 0, and gid 0 (a mailbox in root's group is a misconfiguration),
	 * are refused as a wrong password is: the reply must not tell that
	 * the password was right.
	 */
	if (res != AUTH_OK || w.acct.uid == 0 || w.acct.gid == 0) {
		log_failure(lw, name, a->method, res != AUTH_OK ? w.why :
		    w.acct.uid == 0 ? "uid 0" : "primary group 0 refused");
		return PV_FAIL;
	}
	if (not_served(lw, name, a->method, w.acct.uid)) {
		return PV_FAIL;
	}
	*acct = w.acct;
	log_msg(LOG_INFO, "LOGIN, user=%s%s, ip=[%s]", name,
	    method_field(a->method), lw->peer);
	return PV_OK;
}

/*
 * A failed attempt is answered AUTH_FAIL_DELAY after it began, whichever
 * step refused it (an unknown name, a wrong password, PAM's account
 * step, uid 0, an APOP-only account) or could not check it: how long the
 * checks took must not tell which, nor may a broken check be a fast one.
 * PAM's own delay is switched off in the worker (auth.c).
 */
static void
pad_failure(const struct timespec *began)
{
	struct timespec until = *began;
	int rc;

	until.tv_sec += AUTH_FAIL_DELAY;
	do {
		rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until,
		    NULL);
	} while (rc == EINTR);
}

/* Seconds on a clock that no change of the wall clock moves. */
static time_t
monotonic_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec;
}

/* Waits for the next message from the child until the deadline. */
static ssize_t
next_request(int chan, time_t deadline, unsigned char *buf)
{
	struct pollfd pfd;
	time_t left;
	int n;

	pfd.fd = chan;
	pfd.events = POLLIN;
	do {
		left = deadline - monotonic_seconds();
		if (left <= 0) {
			return -1;
		}
		n = poll(&pfd, 1, (int)left * 1000);
	} while (n == -1 && errno == EINTR);
	if (n <= 0) {
		return -1;
	}
	return priv_recv(chan, buf, PRIV_MSG_MAX);
}

static void
take_handover(int chan, pid_t child, time_t deadline, unsigned char *out,
    size_t *len)
{
	unsigned char buf[PRIV_MSG_MAX];
	const unsigned char *data;
	ssize_t n;

	n = next_request(chan, deadline, buf);
	if (n <= 0) {
		end_prelogin(child);
	}
	n = priv_parse_handover(buf, (size_t)n, &data);
	if (n < 0 || (size_t)n > INPUT_BUFFER) {
		end_prelogin(child);
	}
	memcpy(out, data, (size_t)n);
	*len = (size_t)n;
	reap(child);
}

/* The client behind a trusted proxy, from the child's first message. */
static void
take_peer(struct login_watch *lw, pid_t child, time_t deadline)
{
	unsigned char buf[PRIV_MSG_MAX];
	char addr[PEER_MAX];
	ssize_t n;

	n = next_request(lw->chan, deadline, buf);
	if (n <= 0 || priv_parse_peer(buf, (size_t)n, addr,
	    sizeof(addr)) == -1) {
		end_prelogin(child);
	}
	if (addr[0] != '\0') {
		log_msg(LOG_DEBUG, "PROXY header from %s: client %s", lw->peer,
		    addr);
		memcpy(lw->peer, addr, strlen(addr) + 1);
	}
}

/*
 * The child sent APOP although the greeting offered none: no secrets
 * file to check it against. Only a compromised child does that.
 */
static int
request_allowed(const struct login_watch *lw, const struct priv_auth *a)
{
	return a->method != METHOD_APOP || lw->cfg->apop_secrets != NULL;
}

/*
 * Counts the attempts that did not log in (a temporary failure too: else
 * a check that reports a wrong password as a system error would allow
 * unlimited guesses) and turns the last one into its final verdict.
 */
static enum priv_verdict
count_failure(enum priv_verdict v, unsigned int *failures)
{
	if (v != PV_FAIL && v != PV_TEMPFAIL) {
		return v;
	}
	if (++*failures < AUTH_FAILURES_MAX) {
		return v;
	}
	return v == PV_FAIL ? PV_FAIL_LAST : PV_TEMPFAIL_LAST;
}

/*
 * After a final verdict the child answers the client and leaves; one
 * that sends anything else instead gets no further check.
 */
static void __attribute__((noreturn))
await_leaving(pid_t child, int chan, time_t deadline)
{
	unsigned char buf[PRIV_MSG_MAX];

	(void)next_request(chan, deadline, buf);
	end_prelogin(child);
}

void
monitor_run(struct login_watch *lw, pid_t child, struct account *acct,
    unsigned char *handover, size_t *len)
{
	unsigned char buf[PRIV_MSG_MAX];
	struct priv_auth a;
	struct timespec began;
	enum priv_verdict v;
	time_t deadline = monotonic_seconds() + PRELOGIN_MAX;
	unsigned int failures = 0;
	ssize_t n;

	if (lw->proxied) {
		take_peer(lw, child, deadline);
	}
	for (;;) {
		n = next_request(lw->chan, deadline, buf);
		if (n <= 0 || priv_parse_auth(buf, (size_t)n, &a) == -1 ||
		    !request_allowed(lw, &a)) {
			explicit_bzero(&a, sizeof(a));
			end_prelogin(child);
		}
		clock_gettime(CLOCK_MONOTONIC, &began);
		v = authenticate(lw, &a, acct);
		explicit_bzero(&a, sizeof(a));
		explicit_bzero(buf, sizeof(buf));
		if (v != PV_OK) {
			pad_failure(&began);
		}
		v = count_failure(v, &failures);
		if (priv_send_verdict(lw->chan, v) == -1) {
			end_prelogin(child);
		}
		if (v == PV_OK) {
			take_handover(lw->chan, child, deadline, handover, len);
			return;
		}
		if (v != PV_FAIL && v != PV_TEMPFAIL) {
			await_leaving(child, lw->chan, deadline);
		}
	}
}
