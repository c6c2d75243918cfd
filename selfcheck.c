/* SPDX-License-Identifier: ISC */
/*
 * pop3d --check [USER]: the administrator's self-test, as dovecot -n and
 * doveadm auth test are. It runs in the administrator's one-shot process,
 * as root (as another user it checks what it can and says what it could
 * not), and reads no byte from the network: it prints the configuration
 * as a session sees it and checks the privsep account and directory, the
 * PAM service file, the credential files (trusted.c's rule) and the
 * spool. With USER it reads a password line from stdin and runs the
 * session's own authentication in the session's short-lived worker
 * (monitor.c), then a child becomes the user as a session does
 * (privsep.c): no terminal, the session's system call filter, and it
 * reads the mailbox with mailbox_inspect(), which writes nothing (no
 * session file, no dot-lock). It sends its findings to root as a fixed
 * record, which root prints; root waits for it a bounded time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "selfcheck.h"
#include "cred.h"
#include "mailbox.h"
#include "monitor.h"
#include "privsep.h"
#include "recover.h"
#include "sandbox.h"
#include "template.h"
#include "trusted.h"

/* How a line starts: a verdict, or "conf" for the configuration. */
enum mark { M_OK, M_WARN, M_FAIL, M_SKIP, M_CONF };

struct tally {
	unsigned int	 checks;
	unsigned int	 failed;
	unsigned int	 skipped;
};

/*
 * Names, homes and paths come from the account database and the file
 * system: a control byte of theirs reaches the administrator's terminal
 * as \xNN, never as a byte that could start an escape sequence.
 */
static void __attribute__((format(printf, 2, 0)))
vprint_escaped(FILE *f, const char *fmt, va_list ap)
{
	char *text = NULL;
	int len = vasprintf(&text, fmt, ap);
	unsigned char c;
	int i;

	if (len < 0) {
		(void)fputs("(out of memory)", f);
		return;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)text[i];
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\x%02x", c);
		} else {
			(void)putc(c, f);
		}
	}
	free(text);
}

static void __attribute__((format(printf, 2, 3)))
print_escaped(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_escaped(f, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
say(struct tally *t, enum mark m, const char *fmt, ...)
{
	static const char *const word[] = { "ok", "warn", "FAIL", "skip",
	    "conf" };
	va_list ap;

	t->checks += m != M_CONF;
	t->failed += m == M_FAIL;
	t->skipped += m == M_SKIP;
	printf("%-4s ", word[m]);
	va_start(ap, fmt);
	vprint_escaped(stdout, fmt, ap);
	va_end(ap);
	putchar('\n');
}

/*
 * What a client would be answered, the last line about a user: after
 * the login when logged_in, else to the password. With --no-plaintext a
 * password gets no further than USER (authz.c): that is said, and what
 * an APOP login (its secret is not checked here) would see after it.
 */
static void __attribute__((format(printf, 4, 0)))
client_line(const struct config *cfg, const char *user, int logged_in,
    const char *fmt, va_list ap)
{
	print_escaped(stdout, "a client logging in as %s would see: ", user);
	if (cfg->no_plaintext) {
		printf("-ERR [SYS/PERM] plaintext login is disabled here "
		    "(--no-plaintext: no login with a password)");
		if (!logged_in) {
			putchar('\n');
			return;
		}
		printf("; after an APOP login: ");
	}
	vprint_escaped(stdout, fmt, ap);
	putchar('\n');
}

static void __attribute__((format(printf, 3, 4)))
client_sees(const struct config *cfg, const char *user, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	client_line(cfg, user, 1, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
client_refused(const struct config *cfg, const char *user, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	client_line(cfg, user, 0, fmt, ap);
	va_end(ap);
}

/* The --uidl/--x-uidl choice, as the administrator would write it. */
static const char *
uidl_scheme_name(int uidls)
{
	switch (uidls) {
	case UIDL_X_UIDL:
		return "X-UIDL headers honoured, else from each message "
		    "(--x-uidl)";
	case UIDL_POPA3D:
		return "popa3d 1.0.3's (--uidl=popa3d)";
	default:
		return "from each message (--uidl=pop3d)";
	}
}

static void
show_config(struct tally *t, const struct config *cfg)
{
	say(t, M_CONF, "mailbox template %s", cfg->mailbox);
	if (cfg->passwd_file != NULL) {
		say(t, M_CONF, "passwords: passwd file %s", cfg->passwd_file);
	} else {
		say(t, M_CONF, "passwords: PAM service %s", cfg->pam_service);
	}
	say(t, M_CONF, "APOP: %s", cfg->apop_secrets != NULL ?
	    cfg->apop_secrets : "off (no --apop-secrets)");
	say(t, M_CONF, "USER/PASS and AUTH: %s", cfg->no_plaintext ?
	    "refused (--no-plaintext)" : "allowed");
	say(t, M_CONF, "UIDLs: %s", uidl_scheme_name(cfg->uidls));
	say(t, M_CONF, "timeout %d s idle, %d s to log in", cfg->timeout,
	    LOGIN_TIMEOUT);
	say(t, M_CONF, "PROXY header read from: %s", cfg->proxy_from != NULL ?
	    cfg->proxy_from : "nobody (no --proxy-from)");
	say(t, M_CONF, "privsep user %s, directory %s", cfg->privsep_user,
	    cfg->privsep_dir);
}

/* 1 when the directory holds no entry, 0 when it does, -1 unreadable. */
static int
dir_empty(const char *path)
{
	struct dirent *e;
	DIR *d = opendir(path);
	int empty = 1;

	if (d == NULL) {
		return -1;
	}
	while (empty && (e = readdir(d)) != NULL) {
		empty = strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0;
	}
	closedir(d);
	return empty;
}

/* The rules main() applies at start (privsep.c), and the chroot's contents. */
static void
check_privsep(struct tally *t, const struct config *cfg)
{
	struct passwd *pw;
	const char *why;

	if ((why = privsep_user_problem(cfg->privsep_user, &pw)) != NULL) {
		say(t, M_FAIL, "%s", why);
	} else {
		say(t, M_OK, "privsep user %s (uid %u)", cfg->privsep_user,
		    (unsigned int)pw->pw_uid);
	}
	if ((why = privsep_dir_problem(cfg->privsep_dir)) != NULL) {
		say(t, M_FAIL, "%s", why);
	} else if (dir_empty(cfg->privsep_dir) == 0) {
		say(t, M_WARN, "privsep directory %s is not empty: the "
		    "pre-login child, chrooted there, could read what is in it; "
		    "fix: move its entries elsewhere", cfg->privsep_dir);
	} else {
		say(t, M_OK, "privsep directory %s (root's, writable by root "
		    "only)", cfg->privsep_dir);
	}
}

/*
 * PAM reads /etc/pam.d/SERVICE, or /etc/pam.d/other when it is missing.
 * Whoever may write it decides who logs in.
 */
static void
check_pam(struct tally *t, const struct config *cfg)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (cfg->passwd_file != NULL) {
		return;
	}
	if (snprintf(path, sizeof(path), "/etc/pam.d/%s", cfg->pam_service) >=
	    (int)sizeof(path)) {
		say(t, M_FAIL, "PAM service name too long; fix: a shorter -s");
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		say(t, M_FAIL, "PAM service file %s: %s%s; fix: install -m "
		    "0644 pam.d/pop3 %s (make install does), or name an "
		    "existing service with -s", path, strerror(errno),
		    errno == ENOENT ? " (PAM would use /etc/pam.d/other)" : "",
		    path);
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		say(t, M_FAIL, "PAM service file %s is not a regular file; "
		    "fix: make it one (see pam.d/pop3)", path);
	} else if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		say(t, M_FAIL, "PAM service file %s: mode %04o owner %u: "
		    "whoever may write it decides who logs in; fix: chown root "
		    "%s && chmod 0644 %s", path,
		    (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid,
		    path, path);
	} else {
		say(t, M_OK, "PAM service file %s", path);
	}
	close(fd);
}

/*
 * The rule trusted.h gives, as main() checks it at start: refused, the
 * server exits 78. The file's fstat() in *st; -1 when it was refused.
 */
static int
check_trusted(struct tally *t, const char *option, const char *path,
    struct stat *st)
{
	const char *why;
	int fd;

	if (geteuid() != 0 && access(path, R_OK) == -1) {
		say(t, M_SKIP, "--%s=%s: not root, cannot read it", option,
		    path);
		return -1;
	}
	fd = trusted_open(path, st, &why);
	if (fd == -1) {
		say(t, M_FAIL, "--%s=%s: the server refuses to start (exit "
		    "status 78): %s", option, path, why);
		return -1;
	}
	close(fd);
	return 0;
}

/* The accounts a login can find, and the lines every login skips. */
static void
count_accounts(struct tally *t, const char *path, const struct stat *st)
{
	struct account a;
	const char *why, *line, *hash;
	char *buf = NULL;
	size_t len = 0, pos = 0, linelen, hashlen;
	unsigned int good = 0, bad = 0;

	if (auth_read_file(path, &buf, &len, &why) == -1) {
		say(t, M_FAIL, "--passwd-file=%s: %s", path, why);
		return;
	}
	while (cred_next_line(buf, len, &pos, &line, &linelen)) {
		if (passwd_parse_line(line, linelen, &a, &hash, &hashlen) == 0) {
			good++;
		} else {
			bad++;
		}
	}
	explicit_bzero(buf, len);
	free(buf);
	say(t, M_OK, "--passwd-file=%s (mode %04o): %u accounts", path,
	    (unsigned int)(st->st_mode & 07777), good);
	if (bad > 0) {
		say(t, M_WARN, "--passwd-file=%s: %u malformed lines, skipped "
		    "at every login; fix: name:hash:uid:gid:gecos:home:shell",
		    path, bad);
	}
}

static void
check_files(struct tally *t, const struct config *cfg)
{
	struct stat st;

	if (cfg->passwd_file != NULL &&
	    check_trusted(t, "passwd-file", cfg->passwd_file, &st) == 0) {
		if ((st.st_mode & S_IROTH) != 0) {
			say(t, M_WARN, "--passwd-file=%s is readable by all "
			    "users, who can then guess its passwords offline; "
			    "fix: chmod o-r %s", cfg->passwd_file,
			    cfg->passwd_file);
		}
		count_accounts(t, cfg->passwd_file, &st);
	}
	if (cfg->apop_secrets != NULL &&
	    check_trusted(t, "apop-secrets", cfg->apop_secrets, &st) == 0) {
		if ((st.st_mode & 077) != 0) {
			say(t, M_FAIL, "--apop-secrets=%s is readable by group "
			    "or others: the server refuses to start (exit status "
			    "78); fix: chmod 0600 %s", cfg->apop_secrets,
			    cfg->apop_secrets);
		} else {
			say(t, M_OK, "--apop-secrets=%s", cfg->apop_secrets);
		}
	}
	if (cfg->no_plaintext && cfg->apop_secrets == NULL) {
		say(t, M_FAIL, "--no-plaintext without --apop-secrets: no "
		    "client can log in; fix: give --apop-secrets, or drop "
		    "--no-plaintext where TLS is in front (stunnel)");
	}
}

/*
 * Whether the lock helper, as uid with the group lock_helper_gid() gives
 * it (gid: the user's), may create MAILBOX.lock and MAILBOX.pop3d in the
 * directory st; (uid_t)-1 and (gid_t)-1 stand for any user.
 */
static int
helper_may_create(const struct stat *st, uid_t uid, gid_t gid)
{
	mode_t need;

	if (st->st_uid == uid) {
		need = S_IWUSR | S_IXUSR;
	} else if (st->st_gid == lock_helper_gid(st, gid)) {
		need = S_IWGRP | S_IXGRP;
	} else {
		need = S_IWOTH | S_IXOTH;
	}
	return (st->st_mode & need) == need;
}

static const char *
group_name(gid_t gid)
{
	static char number[16];
	struct group *gr = getgrgid(gid);

	if (gr != NULL) {
		return gr->gr_name;
	}
	(void)snprintf(number, sizeof(number), "%u", (unsigned int)gid);
	return number;
}

/*
 * A spool shared by every user: root's, every user's session walks into
 * it as the user, and every user's helper writes there. Without o+x only
 * the spool's group may enter: with a USER, the walk as that user below
 * tells whether the user can.
 */
static void
spool_verdict(struct tally *t, const char *dir, const struct stat *st,
    const char *user)
{
	unsigned int mode = st->st_mode & 07777;
	const char *group = group_name(st->st_gid);

	if (st->st_uid != 0) {
		say(t, M_FAIL, "spool %s is owned by uid %u, who can replace "
		    "every mailbox in it; fix: chown root %s", dir,
		    (unsigned int)st->st_uid, dir);
	} else if ((mode & S_IWOTH) != 0 && (mode & S_ISVTX) == 0) {
		say(t, M_FAIL, "spool %s: mode %04o: every user can remove "
		    "or replace the others' mailboxes; fix: chmod 1777 %s, or "
		    "chgrp mail %s && chmod 2775 %s", dir, mode, dir, dir, dir);
	} else if ((mode & S_IXOTH) == 0) {
		say(t, user != NULL ? M_WARN : M_FAIL, "spool %s: root:%s "
		    "%04o: a user outside group %s cannot enter it, so a login "
		    "gets -ERR [SYS/PERM] mailbox directory permission "
		    "denied%s; fix: "
		    "chmod o+x %s (Debian ships /var/mail 2775)", dir, group,
		    mode, group, user != NULL ? " (the mailbox check below is "
		    "the user's own)" : "", dir);
	} else if (!helper_may_create(st, (uid_t)-1, (gid_t)-1)) {
		say(t, M_FAIL, "spool %s: root:%s %04o: the lock helper (the "
		    "user, with the spool's group when only that group may "
		    "write) cannot create MAILBOX.lock and MAILBOX.pop3d there, "
		    "so a login to an existing mailbox gets -ERR [SYS/TEMP]; "
		    "fix: chgrp mail %s && chmod 2775 %s (as Debian ships "
		    "/var/mail)", dir, group, mode, dir, dir);
	} else {
		say(t, M_OK, "spool %s (root:%s %04o): the lock helper writes "
		    "there %s", dir, group, mode, lock_helper_gid(st,
		    (gid_t)-1) == st->st_gid ? "with the spool's group" :
		    "as the user");
	}
}

/* The directory of the template, walked as a session walks it. */
static void
check_spool(struct tally *t, const struct config *cfg, const char *user)
{
	char dir[PATH_MAX], path[PATH_MAX];
	const char *problem;
	struct stat st;
	int fd;

	if (spool_of(cfg->mailbox, dir, sizeof(dir)) == -1 ||
	    mailbox_path(path, sizeof(path), cfg->mailbox, "user",
	    "/home/user") == -1) {
		say(t, M_CONF, "spool: the directory of %s depends on each "
		    "user (%%u or %%h): pop3d --check USER checks a user's",
		    cfg->mailbox);
		return;
	}
	if (mailbox_dir(path, &fd, &problem) != MBX_OK) {
		say(t, M_FAIL, "spool %s: %s; fix: name the real path in -m "
		    "(realpath %s)", dir, problem, dir);
		return;
	}
	if (fd == -1) {
		say(t, M_FAIL, "spool %s does not exist; fix: mkdir %s && chown "
		    "root:mail %s && chmod 2775 %s (as Debian ships /var/mail)",
		    dir, dir, dir, dir);
		return;
	}
	if (fstat(fd, &st) == -1) {
		say(t, M_FAIL, "spool %s: %s", dir, strerror(errno));
	} else {
		spool_verdict(t, dir, &st, user);
	}
	close(fd);
}

/*
 * While a password is typed the terminal does not echo. A signal that
 * ends or stops the process gives the terminal back its settings first,
 * then takes its own default action; back from a stop, the prompt starts
 * again. A signal the caller ignores (nohup) stays ignored.
 */
static const int prompt_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP,
    SIGTSTP, SIGTTIN, SIGTTOU };
#define PROMPT_SIGNALS	(sizeof(prompt_signals) / sizeof(prompt_signals[0]))
static struct termios prompt_saved;
static volatile sig_atomic_t prompt_resumed;

/*
 * All of prompt_signals[] are blocked while it runs: the signal sent
 * again takes its default action once the handler returns.
 */
static void
prompt_signal(int sig)
{
	int saved = errno;

	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &prompt_saved);
	(void)signal(sig, SIG_DFL);
	prompt_resumed = 1;
	(void)kill(getpid(), sig);
	errno = saved;
}

/* Quiet terminal and the handlers; old[]: the actions to restore. */
static void
prompt_quiet(const char *user, struct sigaction *old)
{
	struct termios quiet = prompt_saved;
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = prompt_signal;
	(void)sigemptyset(&sa.sa_mask);
	for (i = 0; i < PROMPT_SIGNALS; i++) {
		(void)sigaddset(&sa.sa_mask, prompt_signals[i]);
	}
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	/*
	 * Started in the background, the change itself stops the process
	 * (SIGTTOU) and fails with EINTR once it is resumed: made again,
	 * with the handlers the stop took back, until it is done.
	 */
	do {
		for (i = 0; i < PROMPT_SIGNALS; i++) {
			if (old[i].sa_handler != SIG_IGN) {
				(void)sigaction(prompt_signals[i], &sa, NULL);
			}
		}
		prompt_resumed = 0;
	} while (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == -1 &&
	    errno == EINTR);
	print_escaped(stderr, "password for %s: ", user);
}

static void
prompt_restore(const struct sigaction *old)
{
	size_t i;

	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &prompt_saved);
	for (i = 0; i < PROMPT_SIGNALS; i++) {
		(void)sigaction(prompt_signals[i], &old[i], NULL);
	}
	(void)fputc('\n', stderr);
}

/*
 * One line from stdin without its line end (LF or CRLF, as a PASS line
 * ends), not echoed on a terminal: -1 when it holds more than size - 1
 * bytes.
 */
static int
read_password(const char *user, char *buf, size_t size, size_t *len)
{
	struct sigaction old[PROMPT_SIGNALS];
	int tty = tcgetattr(STDIN_FILENO, &prompt_saved) == 0, r = 0;
	size_t n = 0, i;
	ssize_t got;
	char c;

	for (i = 0; tty && i < PROMPT_SIGNALS; i++) {
		(void)sigaction(prompt_signals[i], NULL, &old[i]);
	}
	if (tty) {
		prompt_quiet(user, old);
	}
	for (;;) {
		got = read(STDIN_FILENO, &c, 1);
		if (got == -1 && errno == EINTR) {
			if (prompt_resumed) {
				prompt_resumed = 0;
				n = 0;
				prompt_quiet(user, old);
			}
			continue;
		}
		if (got <= 0 || c == '\n') {
			break;
		}
		/* One byte more than fits: the '\r' of a CRLF. */
		if (n >= size) {
			r = -1;
			break;
		}
		buf[n++] = c;
	}
	if (tty) {
		prompt_restore(old);
	}
	if (r == 0 && n > 0 && buf[n - 1] == '\r') {
		n--;
	}
	if (r == -1 || n >= size) {
		n = 0;
		r = -1;
	}
	buf[n] = '\0';
	*len = n;
	return r;
}

/*
 * What the monitor decides of auth_check()'s answer (monitor.c): 0 when
 * the session would log in.
 */
static int
login_verdict(struct tally *t, const struct config *cfg, const char *user,
    enum auth_result res, const struct account *a, const char *why)
{
	if (res == AUTH_TEMPFAIL) {
		say(t, M_FAIL, "login of %s: the password could not be checked "
		    "(%s); fix: what the PAM or passwd-file lines above and the "
		    "log say", user, why);
		client_refused(cfg, user, "-ERR [SYS/TEMP] authentication "
		    "temporarily unavailable");
		return -1;
	}
	if (res != AUTH_OK) {
		say(t, M_FAIL, "login of %s refused: %s; fix: the right "
		    "password, or an account the account checks accept "
		    "(passwd -S %s, chage -l %s)", user, why, user, user);
	} else if (a->uid == 0 || a->gid == 0) {
		say(t, M_FAIL, "login of %s: %s 0 is refused as a wrong "
		    "password; fix: serve mail to an account of its own",
		    user, a->uid == 0 ? "uid" : "primary group");
	} else {
		say(t, M_OK, "login of %s: uid %u, group %s, home %s", user,
		    (unsigned int)a->uid, group_name(a->gid), a->home);
		return 0;
	}
	client_refused(cfg, user, "-ERR [AUTH] authentication failed");
	return -1;
}

/*
 * The password from stdin through the session's authentication, in the
 * session's worker: this process never holds the user's hash, so the
 * child that becomes the user cannot inherit it.
 */
static int
check_login(struct tally *t, const struct config *cfg, const char *user,
    struct account *a)
{
	char pass[PASS_MAX + 1];
	struct auth_request r;
	struct worker_result w;
	enum auth_result res = AUTH_FAIL;
	const char *why = "the name is not one a login can have";
	size_t len = 0, ulen = strlen(user);

	memset(&w, 0, sizeof(w));
	if (read_password(user, pass, sizeof(pass), &len) == -1 || len == 0 ||
	    memchr(pass, '\0', len) != NULL) {
		why = "the password read from standard input is empty, holds "
		    "a NUL byte or is longer than a PASS line holds";
	} else if (ulen <= USER_MAX && login_name_ok(user, ulen)) {
		memset(&r, 0, sizeof(r));
		r.service = cfg->pam_service;
		r.passwd_file = cfg->passwd_file;
		r.user = user;
		r.pass = pass;
		r.apop_secrets = cfg->apop_secrets;
		r.apop_timestamp = "";
		(void)fflush(NULL);
		res = auth_in_worker(-1, &r, &w);
		*a = w.acct;
		why = w.why;
	}
	explicit_bzero(pass, sizeof(pass));
	if (cfg->no_plaintext) {
		say(t, M_CONF, "with --no-plaintext a client's USER/PASS or "
		    "AUTH gets -ERR [SYS/PERM]; only APOP logs in");
	}
	return login_verdict(t, cfg, user, res, a, why);
}

/* The answer open_maildrop() (pop3d.c) gives for s. */
static const char *
resp_code(int s)
{
	return s == MBX_IN_USE ? "IN-USE" : s == MBX_PERM ? "SYS/PERM" :
	    "SYS/TEMP";
}

/*
 * What the user's child found, sent whole to root through a pipe: fixed
 * fields, text bounded and NUL-terminated by root, which trusts none of
 * it beyond printing it escaped.
 */
struct mailbox_report {
	int		 filter_err;	/* sandbox_session()'s errno, or 0 */
	int		 status;	/* enum mbx_status */
	int		 err;		/* its errno, or 0 */
	int		 dir_found;	/* the mailbox's directory exists */
	int		 file_found;	/* and the mailbox in it */
	uint32_t	 dir_mode, dir_uid, dir_gid;
	uint64_t	 count, octets;
	char		 problem[128];
};

/* The child's findings about the lock helper, as helper_may_create() asks. */
static void
report_dir(const struct mailbox *mb, struct mailbox_report *r)
{
	struct stat st;

	r->dir_found = mb->dirfd != -1;
	if (r->dir_found && fstat(mb->dirfd, &st) == 0) {
		r->dir_mode = st.st_mode;
		r->dir_uid = st.st_uid;
		r->dir_gid = st.st_gid;
	}
}

/*
 * The child that becomes the user: a session of its own with no terminal
 * (the user could make it type into root's shell with TIOCSTI), fd 0 and
 * 2 /dev/null, fd 1 the pipe to root, no other descriptor of root's.
 * Then, as the session: the user's credentials, the session's system call
 * filter (whose failure is a finding, as it ends every session), then the
 * mailbox opened, with the session's flags, and indexed.
 */
static void __attribute__((noreturn))
mailbox_child(const struct config *cfg, const struct account *a,
    const char *path, int out)
{
	struct mailbox_report r;
	struct mailbox mb;
	size_t i;

	if (setsid() == -1 || io_detach() == -1 ||
	    dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(STDIN_FILENO, STDERR_FILENO) == -1) {
		_exit(EX_OSERR);
	}
	(void)close_range(STDERR_FILENO + 1, ~0U, 0);
	become_user(cfg, a);
	memset(&r, 0, sizeof(r));
	if (sandbox_session() == -1) {
		r.filter_err = errno;
	} else {
		r.status = (int)mailbox_inspect(&mb, path, cfg->uidls);
		r.err = mb.err;
		if (mb.problem != NULL) {
			(void)snprintf(r.problem, sizeof(r.problem), "%s",
			    mb.problem);
		}
		r.file_found = mb.fd != -1;
		report_dir(&mb, &r);
		r.count = mb.count;
		for (i = 0; i < mb.count; i++) {
			r.octets += mb.msgs[i].size;
		}
		mailbox_close(&mb);
	}
	_exit(write(STDOUT_FILENO, &r, sizeof(r)) == (ssize_t)sizeof(r) ?
	    0 : EX_IOERR);
}

/* The child's findings, printed by root. */
static void
report_mailbox(struct tally *t, const struct config *cfg,
    const struct account *a, const char *path, struct mailbox_report *r)
{
	struct stat dir;

	r->problem[sizeof(r->problem) - 1] = '\0';
	if (r->filter_err != 0) {
		say(t, M_FAIL, "system call filter: %s: every session exits "
		    "here with status 71, before it opens the mailbox; fix: let "
		    "pop3d call seccomp(2) (a unit's SystemCallFilter=, a "
		    "container's seccomp profile)", strerror(r->filter_err));
		client_sees(cfg, a->name, "no answer to PASS: the connection "
		    "closes");
		return;
	}
	if (r->status != MBX_OK) {
		say(t, M_FAIL, "mailbox %s: %s%s%s", path, r->problem,
		    r->err != 0 ? ": " : "", r->err != 0 ? strerror(r->err) :
		    "");
		client_sees(cfg, a->name, "-ERR [%s] %s", resp_code(r->status),
		    r->problem);
		return;
	}
	memset(&dir, 0, sizeof(dir));
	dir.st_mode = r->dir_mode;
	dir.st_uid = r->dir_uid;
	dir.st_gid = r->dir_gid;
	if (!r->dir_found) {
		say(t, M_FAIL, "the directory of mailbox %s does not exist; "
		    "fix: create it as the template says", path);
	} else if (!r->file_found) {
		say(t, M_OK, "mailbox %s does not exist yet: an empty maildrop "
		    "until mail is delivered", path);
	} else if (!helper_may_create(&dir, a->uid, a->gid)) {
		say(t, M_FAIL, "the lock helper (uid %u, group %s) cannot "
		    "create files in the directory of %s; fix: let uid %u "
		    "write there, or give the directory to a group (not root's) "
		    "that alone may write it: chgrp mail DIR && chmod 2775 DIR",
		    (unsigned int)a->uid, group_name(lock_helper_gid(&dir,
		    a->gid)), path, (unsigned int)a->uid);
		client_sees(cfg, a->name, "-ERR [SYS/TEMP] session file cannot "
		    "be opened");
		return;
	} else {
		say(t, M_OK, "mailbox %s: %llu messages (%llu octets), read "
		    "as uid %u under an fcntl read lock, without the dot-lock",
		    path, (unsigned long long)r->count,
		    (unsigned long long)r->octets, (unsigned int)a->uid);
	}
	client_sees(cfg, a->name, "+OK maildrop has %llu messages (%llu "
	    "octets)", (unsigned long long)r->count,
	    (unsigned long long)r->octets);
}

/* Milliseconds from now to the deadline (CLOCK_MONOTONIC); 0 once past. */
static int
ms_until(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * The child's report from fd, by the deadline: 0 when whole, -1 when the
 * pipe closed before, -2 when the time is up.
 */
static int
await_report(int fd, struct mailbox_report *r,
    const struct timespec *deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t got = 0;
	int left;
	ssize_t n;

	while ((left = ms_until(deadline)) > 0) {
		n = poll(&pfd, 1, left);
		if (n == -1 && errno != EINTR) {
			return -1;
		}
		if (n <= 0) {
			continue;
		}
		n = read(fd, (char *)r + got, sizeof(*r) - got);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		got += (size_t)n;
		if (got == sizeof(*r)) {
			return 0;
		}
	}
	return -2;
}

/*
 * Waits for the child until the deadline, then kills it: stopped
 * (SIGSTOP, which the user may send it) or not, it never keeps root
 * waiting. How it ended, as waitpid() puts it; *killed when it was.
 */
static int
reap_by(pid_t pid, const struct timespec *deadline, int *killed)
{
	static const struct timespec pause = { 0, 20 * 1000 * 1000 };
	int status = 0;
	pid_t r;

	*killed = 0;
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r == -1 && errno != EINTR)) {
			return status;
		}
		if (ms_until(deadline) == 0) {
			break;
		}
		(void)nanosleep(&pause, NULL);
	}
	*killed = 1;
	(void)kill(pid, SIGKILL);
	do {
		r = waitpid(pid, &status, 0);
	} while (r == -1 && errno == EINTR);
	return status;
}

/*
 * The child gets as long as a client is given to log in (the session's
 * LOGIN_TIMEOUT, or -t when shorter): an index that takes longer would
 * leave the client waiting for its answer to PASS past that.
 */
static int
mailbox_deadline_s(const struct config *cfg)
{
	return cfg->timeout < LOGIN_TIMEOUT ? cfg->timeout : LOGIN_TIMEOUT;
}

/* How the child ended, when it sent no whole report. */
static void
child_failed(struct tally *t, const struct config *cfg,
    const struct account *a, int status, int killed)
{
	if (killed) {
		say(t, M_FAIL, "the check of the mailbox as uid %u timed out "
		    "after %d s (stopped, or a mailbox that takes that long to "
		    "read); fix: see why in ps and the mailbox's size",
		    (unsigned int)a->uid, mailbox_deadline_s(cfg));
	} else {
		say(t, M_FAIL, "the check of the mailbox as uid %u ended with "
		    "%s %d%s (see the log)", (unsigned int)a->uid,
		    WIFSIGNALED(status) ? "signal" : "exit status",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status), WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGSYS ? ", a system call outside the "
		    "session's filter" : "");
	}
}

static void
check_mailbox(struct tally *t, const struct config *cfg,
    const struct account *a)
{
	char path[PATH_MAX];
	struct mailbox_report r;
	struct timespec deadline;
	int fds[2], got, status, killed;
	pid_t pid;

	if (mailbox_path(path, sizeof(path), cfg->mailbox, a->name,
	    a->home) == -1) {
		say(t, M_FAIL, "mailbox of %s: the template %s gives no "
		    "absolute path that fits (home \"%s\")", a->name,
		    cfg->mailbox, a->home);
		client_sees(cfg, a->name, "-ERR [SYS/PERM] mailbox path too "
		    "long");
		return;
	}
	(void)fflush(NULL);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		say(t, M_FAIL, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == -1) {
		say(t, M_FAIL, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		mailbox_child(cfg, a, path, fds[1]);
	}
	close(fds[1]);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += mailbox_deadline_s(cfg);
	memset(&r, 0, sizeof(r));
	got = await_report(fds[0], &r, &deadline);
	close(fds[0]);
	status = reap_by(pid, &deadline, &killed);
	if (got == 0 && !killed && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0) {
		report_mailbox(t, cfg, a, path, &r);
	} else {
		child_failed(t, cfg, a, status, killed);
	}
}

static void
check_user(struct tally *t, const struct config *cfg, const char *user)
{
	struct account a;

	if (geteuid() != 0) {
		say(t, M_SKIP, "login and mailbox of %s: not root (only root "
		    "checks another user's password and becomes the user); run "
		    "pop3d --check as root", user);
		return;
	}
	memset(&a, 0, sizeof(a));
	if (check_login(t, cfg, user, &a) == 0) {
		check_mailbox(t, cfg, &a);
	}
}

int
check_run(const struct config *cfg, const char *user)
{
	struct tally t = { 0, 0, 0 };

	printf("pop3d %s --check as uid %u%s\n", POP3D_VERSION,
	    (unsigned int)geteuid(), geteuid() == 0 ? "" :
	    " (not root: what needs root is skipped)");
	show_config(&t, cfg);
	check_privsep(&t, cfg);
	check_pam(&t, cfg);
	check_files(&t, cfg);
	check_spool(&t, cfg, user);
	if (user != NULL) {
		check_user(&t, cfg, user);
	}
	printf("%u checks: %u failed, %u skipped\n", t.checks, t.failed,
	    t.skipped);
	(void)fflush(stdout);
	return t.failed > 0 ? 1 : t.skipped > 0 ? EX_NOPERM : 0;
}
