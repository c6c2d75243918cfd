/*
 * pop3d: one POP3 session (RFC 1939) on fd 0/1, then exit.
 *
 * Started as root:
 *   monitor (root) --fork--> pre-login child: chroot to an empty
 *       directory, becomes the privsep user, speaks AUTHORIZATION
 *   monitor --fork--> worker (root): PAM or the passwd file, then exits
 *   monitor, after a verdict of OK: becomes the user for good, opens the
 *       mailbox and speaks TRANSACTION.
 * Started as another user it can serve only that user; the same processes
 * run without the credential changes.
 *
 * This file owns main(), every credential change and the command tables.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "lockd.h"
#include "monitor.h"
#include "peer.h"
#include "pop3d.h"
#include "priv.h"
#include "proxy.h"

/* sysexits(3) values, so that a superserver's log says what went wrong. */
#define EXIT_USAGE	64
#define EXIT_OSERR	71
#define EXIT_CONFIG	78

#define ARGS_REST	255	/* PASS: the rest of the line, spaces and all */

struct command {
	const char	*verb;
	handler_fn	*fn;
	unsigned char	 min_args;
	unsigned char	 max_args;
};

static const struct command authorization[] = {
	{ "USER", authz_user, 1, 1 },
	{ "PASS", authz_pass, 1, ARGS_REST },
	{ "APOP", authz_apop, 2, 2 },
	{ "AUTH", authz_auth, 0, 2 },
	{ "UTF8", authz_utf8, 0, 0 },
	{ "QUIT", authz_quit, 0, 0 },
	{ "CAPA", any_capa, 0, 0 },
	{ "STAT", authz_not_yet, 0, ARGS_REST },
	{ "LIST", authz_not_yet, 0, ARGS_REST },
	{ "RETR", authz_not_yet, 0, ARGS_REST },
	{ "DELE", authz_not_yet, 0, ARGS_REST },
	{ "NOOP", authz_not_yet, 0, ARGS_REST },
	{ "RSET", authz_not_yet, 0, ARGS_REST },
	{ "TOP", authz_not_yet, 0, ARGS_REST },
	{ "UIDL", authz_not_yet, 0, ARGS_REST },
	{ NULL, NULL, 0, 0 }
};

static const struct command transaction[] = {
	{ "STAT", sess_stat, 0, 0 },
	{ "LIST", sess_list, 0, 1 },
	{ "RETR", sess_retr, 1, 1 },
	{ "DELE", sess_dele, 1, 1 },
	{ "NOOP", sess_noop, 0, 0 },
	{ "RSET", sess_rset, 0, 0 },
	{ "TOP", sess_top, 2, 2 },
	{ "UIDL", sess_uidl, 0, 1 },
	{ "QUIT", sess_quit, 0, 0 },
	{ "CAPA", any_capa, 0, 0 },
	{ "USER", sess_not_now, 0, ARGS_REST },
	{ "PASS", sess_not_now, 0, ARGS_REST },
	{ "APOP", sess_not_now, 0, ARGS_REST },
	{ "AUTH", sess_not_now, 0, ARGS_REST },
	{ "UTF8", sess_not_now, 0, ARGS_REST },
	{ NULL, NULL, 0, 0 }
};

/* How a dispatch loop ended. */
enum ending {
	END_LOGIN,
	END_QUIT,
	END_HANGUP,
	END_TIMEOUT,
	END_ERRORS,
	END_REFUSED	/* the maildrop could not be opened */
};

static enum verdict
run_line(struct pop3 *p, const struct command *table,
    const unsigned char *line, size_t len)
{
	const struct command *t;
	struct cmd c;

	switch (cmd_parse(line, len, &c)) {
	case CMD_OK:
		break;
	case CMD_BAD_BYTE:
		reply_err(&p->io, NULL, "invalid character in command");
		return V_MISUSE;
	default:
		reply_err(&p->io, NULL, "unknown command");
		return V_MISUSE;
	}
	for (t = table; t->verb != NULL; t++) {
		if (strcmp(t->verb, c.verb) == 0) {
			break;
		}
	}
	if (t->verb == NULL) {
		reply_err(&p->io, NULL, "unknown command");
		return V_MISUSE;
	}
	if (c.nargs < t->min_args || c.nargs > t->max_args) {
		reply_err(&p->io, NULL, "wrong number of arguments");
		return V_MISUSE;
	}
	return t->fn(p, &c);
}

/*
 * Reads and answers commands until the state ends. secret: the lines may
 * hold a password, wiped from the input buffer once answered.
 */
static enum ending
dispatch(struct pop3 *p, const struct command *table, int secret)
{
	unsigned char *line;
	size_t len;
	enum verdict v;

	for (;;) {
		switch (io_read_line(&p->io, &line, &len)) {
		case IO_LINE:
			v = run_line(p, table, line, len);
			if (secret) {
				explicit_bzero(line, len);
			}
			break;
		case IO_TOOLONG:
			reply_err(&p->io, NULL, "line too long");
			v = V_MISUSE;
			break;
		case IO_TIMEOUT:
			reply_err(&p->io, NULL, "autologout: idle too long");
			io_flush(&p->io);
			return END_TIMEOUT;
		default:
			return END_HANGUP;
		}
		if (v == V_MISUSE && ++p->errors >= PROTOCOL_ERRORS_MAX) {
			reply_err(&p->io, NULL, "too many errors, goodbye");
			io_flush(&p->io);
			return END_ERRORS;
		}
		if (v == V_LOGIN) {
			return END_LOGIN;
		}
		if (v == V_QUIT) {
			io_flush(&p->io);
			return END_QUIT;
		}
	}
}

/*
 * Under inetd and xinetd fd 2 is the client's connection as well: a
 * diagnostic goes to stderr only when it is not the socket of fd 0 or 1.
 */
static int
stderr_is_client(void)
{
	struct stat err, st;
	int fd;

	if (fstat(STDERR_FILENO, &err) == -1) {
		return 1;
	}
	if (!S_ISSOCK(err.st_mode)) {
		return 0;
	}
	for (fd = STDIN_FILENO; fd <= STDOUT_FILENO; fd++) {
		if (fstat(fd, &st) == 0 && st.st_dev == err.st_dev &&
		    st.st_ino == err.st_ino) {
			return 1;
		}
	}
	return 0;
}

static void __attribute__((format(printf, 1, 2)))
diag(const char *fmt, ...)
{
	va_list ap;

	if (stderr_is_client()) {
		return;
	}
	fprintf(stderr, "pop3d: ");
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static void __attribute__((noreturn))
usage(void)
{
	printf("usage: pop3d [-m|--mailbox=TEMPLATE] [-s|--pam-service=NAME] "
	    "[-p|--passwd-file=FILE]\n"
	    "             [-t|--timeout=SECONDS] [-d|--debug] "
	    "[--privsep-user=NAME] [--privsep-dir=DIR]\n"
	    "             [--no-plaintext] [--x-uidl] [--apop-secrets=FILE]\n"
	    "             [--proxy-from=ADDRESS[,ADDRESS...]]\n"
	    "             [-V|--version] [-h|--help]\n");
	exit(0);
}

static void __attribute__((noreturn))
bad_option(const char *what, const char *value)
{
	diag("invalid %s: %s", what, value);
	exit(EXIT_USAGE);
}

static int
parse_timeout(const char *s)
{
	unsigned long v;

	if (parse_number((const unsigned char *)s, strlen(s), TIMEOUT_MAX,
	    &v) == -1 || v == 0) {
		bad_option("timeout", s);
	}
	return (int)v;
}

static void
check_template(const char *tmpl)
{
	char path[PATH_MAX];

	if (mailbox_path(path, sizeof(path), tmpl, "user", "/home/user") ==
	    -1) {
		bad_option("mailbox template", tmpl);
	}
}

static void
parse_options(struct config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mailbox", required_argument, NULL, 'm' },
		{ "pam-service", required_argument, NULL, 's' },
		{ "passwd-file", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "privsep-user", required_argument, NULL, 'U' },
		{ "privsep-dir", required_argument, NULL, 'D' },
		{ "no-plaintext", no_argument, NULL, 'P' },
		{ "x-uidl", no_argument, NULL, 'X' },
		{ "apop-secrets", required_argument, NULL, 'A' },
		{ "proxy-from", required_argument, NULL, 'R' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(cfg, 0, sizeof(*cfg));
	opterr = 0;
	cfg->mailbox = "/var/mail/%u";
	cfg->pam_service = "pop3";
	cfg->timeout = TIMEOUT_DEFAULT;
	cfg->privsep_user = "pop3d";
	cfg->privsep_dir = "/var/empty";
	while ((ch = getopt_long(argc, argv, "m:s:p:t:dVh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'm':
			cfg->mailbox = optarg;
			break;
		case 's':
			cfg->pam_service = optarg;
			break;
		case 'p':
			cfg->passwd_file = optarg;
			break;
		case 't':
			cfg->timeout = parse_timeout(optarg);
			break;
		case 'd':
			cfg->debug = 1;
			break;
		case 'U':
			cfg->privsep_user = optarg;
			break;
		case 'D':
			cfg->privsep_dir = optarg;
			break;
		case 'P':
			cfg->no_plaintext = 1;
			break;
		case 'X':
			cfg->x_uidl = 1;
			break;
		case 'A':
			cfg->apop_secrets = optarg;
			break;
		case 'R':
			if (peer_list_ok(optarg) == -1) {
				bad_option("proxy address list", optarg);
			}
			cfg->proxy_from = optarg;
			break;
		case 'V':
			printf("pop3d %s\n", POP3D_VERSION);
			exit(0);
		case 'h':
			usage();
		default:
			diag("unknown option or missing value: %s (see -h)",
			    argv[optind - 1]);
			exit(EXIT_USAGE);
		}
	}
	if (optind != argc) {
		bad_option("argument", argv[optind]);
	}
	check_template(cfg->mailbox);
	if (*cfg->pam_service == '\0' || strchr(cfg->pam_service, '/')) {
		bad_option("PAM service", cfg->pam_service);
	}
}

static void __attribute__((noreturn))
fatal(const char *what)
{
	log_msg(LOG_ERR, "%s: %s", what, strerror(errno));
	exit(EXIT_OSERR);
}

/*
 * A problem found at start, before any protocol byte: said once in the
 * log and once on stderr, which a superserver puts in its journal.
 */
static void __attribute__((noreturn, format(printf, 1, 2)))
config_error(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERR, "%s", text);
	diag("%s", text);
	exit(EXIT_CONFIG);
}

/*
 * APOP secrets are plaintext-equivalent passwords: the file must be the
 * server's own (root's) and nobody else may read or change it.
 */
static void
check_apop_secrets(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		config_error("APOP secrets file %s must be a regular file of "
		    "the server's user with mode 0600 or 0400", path);
	}
}

/*
 * RFC 1939 section 7: a timestamp unique to this greeting. Clients take
 * any "<...>" in the greeting as an offer of APOP, so there is one only
 * when APOP works.
 */
static void
make_timestamp(char *out, size_t len)
{
	char host[64];
	unsigned long long r = 0;
	struct timespec ts;

	if (gethostname(host, sizeof(host)) == -1) {
		snprintf(host, sizeof(host), "localhost");
	}
	host[sizeof(host) - 1] = '\0';
	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&r, sizeof(r), 0) != sizeof(r)) {
		r = (unsigned long long)ts.tv_nsec;
	}
	snprintf(out, len, "<%ld.%llx.%lld@%s>", (long)getpid(), r,
	    (long long)ts.tv_sec, host);
}

/*
 * A passwd file names the uid the session becomes: as root, only a file
 * that only root can change is believed.
 */
static void
check_passwd_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		config_error("passwd file %s: %s", path, strerror(errno));
	}
	if (geteuid() == 0 && (st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)) {
		config_error("passwd file %s must be owned and writable only "
		    "by root", path);
	}
}

static void
verify_ids(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != uid || eu != uid || su != uid ||
	    rg != gid || eg != gid || sg != gid) {
		errno = EPERM;
		fatal("credentials did not change");
	}
	if (uid != 0 && (setuid(0) != -1 || setgid(0) != -1)) {
		errno = EPERM;
		fatal("root privileges could be regained");
	}
}

static void
set_ids(uid_t uid, gid_t gid)
{
	if (setresgid(gid, gid, gid) == -1) {
		fatal("setresgid");
	}
	if (setresuid(uid, uid, uid) == -1) {
		fatal("setresuid");
	}
	verify_ids(uid, gid);
}

/* The pre-login child: no privileges, nothing to see, nothing to keep. */
/*
 * The pre-login child parses what the client sends: it may not fork, nor
 * write to any file, whatever it is made to run.
 */
static void
limit_prelogin(void)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_NPROC, &none) == -1 ||
	    setrlimit(RLIMIT_FSIZE, &none) == -1) {
		fatal("setrlimit");
	}
}

static void
drop_to_privsep(const struct config *cfg, const struct passwd *pw)
{
	limit_prelogin();
	if (pw == NULL) {
		return;
	}
	if (chroot(cfg->privsep_dir) == -1 || chdir("/") == -1) {
		fatal("chroot");
	}
	if (setgroups(0, NULL) == -1) {
		fatal("setgroups");
	}
	set_ids(pw->pw_uid, pw->pw_gid);
}

/* Irrevocable: supplementary groups, gid, uid, then proof it holds. */
static void
become_user(const struct config *cfg, const struct account *a)
{
	if (geteuid() != 0) {
		return;
	}
	if (cfg->passwd_file != NULL ? setgroups(1, &a->gid) == -1 :
	    initgroups(a->name, a->gid) == -1) {
		fatal("setgroups");
	}
	set_ids(a->uid, a->gid);
}

/*
 * The lock helper may create files in the mailbox's directory: in a
 * group-writable spool (2775 root:mail) it gets that group, and nothing
 * else; the session itself never holds it.
 */
static gid_t
spool_group(const char *path, gid_t fallback)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		return fallback;
	}
	slash[slash == dir] = '\0';
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode) || st.st_gid == 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != S_IWGRP) {
		return fallback;
	}
	return st.st_gid;
}

static void
become_lock_helper(const struct account *a, const char *path)
{
	gid_t gid;

	if (geteuid() != 0) {
		return;
	}
	gid = spool_group(path, a->gid);
	if (setgroups(1, &gid) == -1) {
		fatal("setgroups");
	}
	set_ids(a->uid, gid);
}

/*
 * fork(), with parent and child joined by a SOCK_SEQPACKET pair: *chan
 * is the caller's end on either side.
 */
static pid_t
fork_joined(int *chan)
{
	int fds[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == -1) {
		fatal("socketpair");
	}
	pid = fork();
	if (pid == -1) {
		fatal("fork");
	}
	close(fds[pid == 0 ? 0 : 1]);
	*chan = fds[pid == 0 ? 1 : 0];
	return pid;
}

/* Forks the lock helper (lockd.c) and returns the session's end. */
static int
start_lockd(const struct account *a, const char *path)
{
	int chan;

	if (fork_joined(&chan) == 0) {
		become_lock_helper(a, path);
		if (io_detach() == -1) {
			_exit(1);
		}
		lockd_serve(chan, path);
	}
	return chan;
}

static struct passwd *
privsep_account(const struct config *cfg)
{
	struct passwd *pw;
	struct stat st;

	/* parse_options() sets both; clang's analyzer cannot tell. */
	assert(cfg->privsep_user != NULL && cfg->privsep_dir != NULL);
	if (geteuid() != 0) {
		return NULL;
	}
	pw = getpwnam(cfg->privsep_user);
	if (pw == NULL || pw->pw_uid == 0) {
		config_error("privsep user %s missing or root",
		    cfg->privsep_user);
	}
	if (stat(cfg->privsep_dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		config_error("privsep directory %s must be a directory owned "
		    "and writable only by root", cfg->privsep_dir);
	}
	return pw;
}

/*
 * A trusted proxy's header, before any byte from the client: its address
 * goes to the monitor at once, so nothing the client sends later can
 * change it. A missing or malformed header ends the connection.
 */
static void
read_proxy_header(struct pop3 *p)
{
	const unsigned char *buf;
	char addr[PEER_MAX];
	size_t n, used = 0;
	enum proxy_result r;

	p->io.timeout_ms = PROXY_TIMEOUT * 1000;
	for (;;) {
		n = io_pending(&p->io, &buf);
		r = proxy_parse(buf, n, addr, sizeof(addr), &used);
		if (r == PROXY_OK) {
			break;
		}
		if (r == PROXY_BAD || io_read_more(&p->io) != IO_LINE) {
			log_msg(LOG_NOTICE, "no valid PROXY header from %s",
			    p->peer);
			_exit(0);
		}
	}
	io_consume(&p->io, used);
	if (priv_send_peer(p->chan, addr) == -1) {
		_exit(1);
	}
}

static void __attribute__((noreturn))
prelogin_child(struct pop3 *p, const struct passwd *pw)
{
	const unsigned char *rest;
	size_t n;
	int timeout = (p->cfg->timeout < LOGIN_TIMEOUT ? p->cfg->timeout :
	    LOGIN_TIMEOUT) * 1000;

	drop_to_privsep(p->cfg, pw);
	io_init(&p->io, STDIN_FILENO, STDOUT_FILENO, timeout);
	if (p->proxied) {
		read_proxy_header(p);
		p->io.timeout_ms = timeout;
	}
	reply_ok(&p->io, "POP3 server ready%s%s",
	    p->timestamp[0] != '\0' ? " " : "", p->timestamp);
	if (dispatch(p, authorization, 1) == END_LOGIN) {
		io_flush(&p->io);
		n = io_pending(&p->io, &rest);
		priv_send_handover(p->chan, rest, n);
	}
	io_flush(&p->io);
	_exit(0);
}

static void
run_prelogin(struct pop3 *p, const struct passwd *pw, struct account *acct,
    unsigned char *handover, size_t *len)
{
	pid_t pid = fork_joined(&p->chan);

	if (pid == 0) {
		prelogin_child(p, pw);
	}
	monitor_run(p, pid, acct, handover, len);
	close(p->chan);
}

static void
log_logout(const struct pop3 *p, enum ending how)
{
	static const char *const why[] = {
		"login", "quit", "hangup", "timeout", "too many errors",
		"maildrop refused"
	};
	size_t kept = p->mbox.count - p->deleted;

	log_msg(LOG_INFO, "LOGOUT, user=%s, ip=[%s], reason=%s, retr=%u, "
	    "retr_bytes=%llu, deleted=%u, kept=%zu, sent=%llu", p->logname,
	    p->peer, why[how], p->retrieved, p->retrieved_bytes, p->deleted,
	    kept, p->io.sent);
}

static int
open_maildrop(struct pop3 *p, const char *path, int lockd)
{
	enum mbx_status s;
	unsigned long long size = 0;
	size_t i;

	if (*path == '\0') {
		s = MBX_PERM;
		p->mbox.problem = "mailbox path too long";
	} else {
		s = mailbox_open(&p->mbox, path, lockd, p->cfg->x_uidl);
	}
	if (s == MBX_OK) {
		for (i = 0; i < p->mbox.count; i++) {
			size += p->mbox.msgs[i].size;
		}
		reply_ok(&p->io, "maildrop has %zu messages (%llu octets)",
		    p->mbox.count, size);
		return 0;
	}
	log_msg(LOG_ERR, "%s: %s, user=%s", path, p->mbox.problem, p->logname);
	reply_err(&p->io, s == MBX_IN_USE ? "IN-USE" :
	    s == MBX_PERM ? "SYS/PERM" : "SYS/TEMP", "%s", p->mbox.problem);
	io_flush(&p->io);
	mailbox_close(&p->mbox);
	return -1;
}

static void
session(struct pop3 *p, const struct account *a, const char *path,
    int lockd, const unsigned char *handover, size_t len)
{
	enum ending how;

	log_escape(p->logname, sizeof(p->logname),
	    (const unsigned char *)a->name, strlen(a->name));
	io_init(&p->io, STDIN_FILENO, STDOUT_FILENO, p->cfg->timeout * 1000);
	io_preload(&p->io, handover, len);
	how = open_maildrop(p, path, lockd) == 0 ?
	    dispatch(p, transaction, 0) : END_REFUSED;
	log_logout(p, how);
	mailbox_close(&p->mbox);
}

/*
 * Passwords pass through these processes: no core file, and no ptrace by
 * another process of the same user (the kernel also resets this when the
 * credentials change).
 */
static void
no_core_dumps(void)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		fatal("no core dumps");
	}
}

/* Stray diagnostics must never reach a client through fd 2. */
static void
setup_fds(int debug)
{
	int one = 1, fd;

	setsockopt(STDOUT_FILENO, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (debug) {
		return;
	}
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd != -1 && fd != STDERR_FILENO) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

int
main(int argc, char **argv)
{
	static struct pop3 p;
	static unsigned char handover[INPUT_BUFFER];
	struct config cfg;
	struct account acct;
	struct passwd *pw;
	char path[PATH_MAX];
	size_t len = 0;
	int lockd;

	parse_options(&cfg, argc, argv);
	no_core_dumps();
	(void)signal(SIGPIPE, SIG_IGN);
	umask(077);
	log_open(cfg.debug);
	if (cfg.passwd_file != NULL) {
		check_passwd_file(cfg.passwd_file);
	}
	if (cfg.apop_secrets != NULL) {
		check_apop_secrets(cfg.apop_secrets);
		make_timestamp(p.timestamp, sizeof(p.timestamp));
	}
	pw = privsep_account(&cfg);
	setup_fds(cfg.debug);
	p.cfg = &cfg;
	p.mbox.fd = -1;
	peer_address(STDIN_FILENO, p.peer, sizeof(p.peer));
	p.proxied = cfg.proxy_from != NULL &&
	    peer_in_list(STDIN_FILENO, cfg.proxy_from);
	run_prelogin(&p, pw, &acct, handover, &len);
	if (mailbox_path(path, sizeof(path), cfg.mailbox, acct.name,
	    acct.home) == -1) {
		path[0] = '\0';
	}
	lockd = start_lockd(&acct, path);
	become_user(&cfg, &acct);
	session(&p, &acct, path, lockd, handover, len);
	close(lockd);
	explicit_bzero(handover, sizeof(handover));
	return 0;
}
