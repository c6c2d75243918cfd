/* SPDX-License-Identifier: ISC */
/*
 * pop3d --check [USER]: the administrator's self-test, as dovecot -n and
 * doveadm auth test are. It runs in the administrator's one-shot process,
 * as root (as another user it checks what it can and says what it could
 * not), and reads no byte from the network: it prints the configuration
 * as a session sees it and checks the privsep account and directory, the
 * PAM service file, the credential files (trusted.c's rule) and the
 * spool. With USER it reads a password line from stdin and runs the
 * session's own authentication (auth.c), then a child becomes the user
 * as a session does (privsep.c) and reads the mailbox with
 * mailbox_inspect(), which writes nothing: no session file, no dot-lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "selfcheck.h"
#include "cred.h"
#include "monitor.h"
#include "privsep.h"
#include "recover.h"
#include "template.h"
#include "trusted.h"

/* How a line starts: a verdict, or "conf" for the configuration. */
enum mark { M_OK, M_WARN, M_FAIL, M_SKIP, M_CONF };

struct tally {
	unsigned int	 checks;
	unsigned int	 failed;
	unsigned int	 skipped;
};

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
	(void)vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* What a client would be answered, the last line about a user. */
static void __attribute__((format(printf, 2, 3)))
client_sees(const char *user, const char *fmt, ...)
{
	va_list ap;

	printf("a client logging in as %s would see: ", user);
	va_start(ap, fmt);
	(void)vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
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

/* A spool shared by every user: root's, and every user's helper writes. */
static void
spool_verdict(struct tally *t, const char *dir, const struct stat *st)
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
check_spool(struct tally *t, const struct config *cfg)
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
		spool_verdict(t, dir, &st);
	}
	close(fd);
}

/* One line from stdin without its line end, not echoed on a terminal. */
static int
read_password(const char *user, char *buf, size_t size, size_t *len)
{
	struct termios old, quiet;
	int tty = tcgetattr(STDIN_FILENO, &old) == 0, r = 0;
	size_t n = 0;
	ssize_t got;
	char c;

	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fprintf(stderr, "password for %s: ", user);
	}
	for (;;) {
		got = read(STDIN_FILENO, &c, 1);
		if (got == -1 && errno == EINTR) {
			continue;
		}
		if (got <= 0 || c == '\n') {
			break;
		}
		if (n + 1 >= size) {
			r = -1;
			break;
		}
		buf[n++] = c;
	}
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n > 0 && buf[n - 1] == '\r') {
		n--;
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
login_verdict(struct tally *t, const char *user, enum auth_result res,
    const struct account *a, const char *why)
{
	if (res == AUTH_TEMPFAIL) {
		say(t, M_FAIL, "login of %s: the password could not be checked "
		    "(%s); fix: what the PAM or passwd-file lines above and the "
		    "log say", user, why);
		client_sees(user, "-ERR [SYS/TEMP] authentication temporarily "
		    "unavailable");
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
	client_sees(user, "-ERR [AUTH] authentication failed");
	return -1;
}

/* The password from stdin through the session's authentication. */
static int
check_login(struct tally *t, const struct config *cfg, const char *user,
    struct account *a)
{
	char pass[PASS_MAX + 1];
	struct auth_request r;
	enum auth_result res = AUTH_FAIL;
	const char *why = "the name is not one a login can have";
	size_t len = 0, ulen = strlen(user);

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
		res = auth_check(&r, a, &why);
	}
	explicit_bzero(pass, sizeof(pass));
	if (cfg->no_plaintext) {
		say(t, M_CONF, "with --no-plaintext a client's USER/PASS or "
		    "AUTH gets -ERR [SYS/PERM]; only APOP logs in");
	}
	return login_verdict(t, user, res, a, why);
}

/* The answer open_maildrop() (pop3d.c) gives for s. */
static const char *
resp_code(enum mbx_status s)
{
	return s == MBX_IN_USE ? "IN-USE" : s == MBX_PERM ? "SYS/PERM" :
	    "SYS/TEMP";
}

/* The mailbox as the session opens and indexes it; in the user's child. */
static void
report_mailbox(struct tally *t, const struct account *a, struct mailbox *mb,
    enum mbx_status s)
{
	unsigned long long size = 0;
	struct stat st;
	size_t i;

	if (s != MBX_OK) {
		say(t, M_FAIL, "mailbox %s: %s", mb->path, mb->problem);
		client_sees(a->name, "-ERR [%s] %s", resp_code(s), mb->problem);
		return;
	}
	if (mb->dirfd == -1) {
		say(t, M_FAIL, "the directory of mailbox %s does not exist; "
		    "fix: create it as the template says", mb->path);
	} else if (mb->fd == -1) {
		say(t, M_OK, "mailbox %s does not exist yet: an empty maildrop "
		    "until mail is delivered", mb->path);
	} else if (fstat(mb->dirfd, &st) == 0 &&
	    !helper_may_create(&st, a->uid, a->gid)) {
		say(t, M_FAIL, "the lock helper (uid %u, group %s) cannot "
		    "create files in the directory of %s; fix: let uid %u "
		    "write there, or give the directory to a group (not root's) "
		    "that alone may write it: chgrp mail DIR && chmod 2775 DIR",
		    (unsigned int)a->uid, group_name(lock_helper_gid(&st,
		    a->gid)), mb->path, (unsigned int)a->uid);
		client_sees(a->name, "-ERR [SYS/TEMP] session file cannot be "
		    "opened");
		return;
	}
	for (i = 0; i < mb->count; i++) {
		size += mb->msgs[i].size;
	}
	if (mb->fd != -1) {
		say(t, M_OK, "mailbox %s: %zu messages (%llu octets), read as "
		    "uid %u under an fcntl read lock, without the dot-lock",
		    mb->path, mb->count, size, (unsigned int)a->uid);
	}
	client_sees(a->name, "+OK maildrop has %zu messages (%llu octets)",
	    mb->count, size);
}

/*
 * The child that becomes the user: no descriptor of the root process
 * (PAM's included) comes along. It parses the mailbox with the session's
 * code (mbox.c, which the fuzz targets run) but without the session's
 * system call filter, whose one open(2) of a mailbox is for writing.
 * Its exit status: 1 when a check failed.
 */
static void __attribute__((noreturn))
mailbox_child(const struct config *cfg, const struct account *a,
    const char *path)
{
	struct tally t = { 0, 0, 0 };
	struct mailbox mb;
	enum mbx_status s;

	(void)close_range(STDERR_FILENO + 1, ~0U, 0);
	become_user(cfg, a);
	s = mailbox_inspect(&mb, path, cfg->uidls);
	report_mailbox(&t, a, &mb, s);
	mailbox_close(&mb);
	fflush(stdout);
	_exit(t.failed > 0 ? 1 : 0);
}

static void
check_mailbox(struct tally *t, const struct config *cfg,
    const struct account *a)
{
	char path[PATH_MAX];
	int status = 0;
	pid_t pid;

	if (mailbox_path(path, sizeof(path), cfg->mailbox, a->name,
	    a->home) == -1) {
		say(t, M_FAIL, "mailbox of %s: the template %s gives no "
		    "absolute path that fits (home \"%s\")", a->name,
		    cfg->mailbox, a->home);
		client_sees(a->name, "-ERR [SYS/PERM] mailbox path too long");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == -1) {
		say(t, M_FAIL, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		mailbox_child(cfg, a, path);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			break;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
		say(t, M_FAIL, "the check of the mailbox as uid %u ended with "
		    "%s %d (see the log)", (unsigned int)a->uid,
		    WIFSIGNALED(status) ? "signal" : "exit status",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
	} else {
		t->checks++;
		t->failed += (unsigned int)WEXITSTATUS(status);
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
	check_spool(&t, cfg);
	if (user != NULL) {
		check_user(&t, cfg, user);
	}
	printf("%u checks: %u failed, %u skipped\n", t.checks, t.failed,
	    t.skipped);
	fflush(stdout);
	return t.failed > 0 ? 1 : t.skipped > 0 ? EX_NOPERM : 0;
}
