/* SPDX-License-Identifier: ISC */
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
 * This file owns main(), the options and the checks of the configuration;
 * the states themselves are pop3d.c's, the credential changes privsep.c's.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
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
#include <fcntl.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "selfcheck.h"
#include "monitor.h"
#include "peer.h"
#include "pop3d.h"
#include "privsep.h"
#include "recover.h"
#include "sandbox.h"
#include "template.h"
#include "trusted.h"

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

/*
 * What the checks at start find, before any protocol byte: said once in
 * the log and once on stderr, which a superserver puts in its journal.
 */
static void __attribute__((format(printf, 2, 0)))
config_say(int prio, const char *fmt, va_list ap)
{
	char text[512];

	(void)vsnprintf(text, sizeof(text), fmt, ap);
	log_mask_controls(text);
	log_msg(prio, "%s", text);
	diag("%s", text);
}

static void __attribute__((noreturn))
usage(void)
{
	printf("usage: pop3d [-m|--mailbox=TEMPLATE] [-s|--pam-service=NAME] "
	    "[-p|--passwd-file=FILE]\n"
	    "             [-t|--timeout=SECONDS] [-d|--debug] "
	    "[--privsep-user=NAME] [--privsep-dir=DIR]\n"
	    "             [--no-plaintext] [--x-uidl] [--apop-secrets=FILE]\n"
	    "             [--proxy-from=ADDRESS[,ADDRESS...]] "
	    "[--uidl=pop3d|popa3d]\n"
	    "             [-V|--version] [-h|--help]\n"
	    "       pop3d --recover [-m|--mailbox=TEMPLATE] [-d|--debug]\n"
	    "       pop3d --check [the options of a session] [USER]\n");
	exit(0);
}

/*
 * A refusal to start before the configuration is read (an option, 64; a
 * system call, 71): what is wrong and how to set it right.
 */
static void __attribute__((noreturn, format(printf, 2, 3)))
refuse_start(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_say(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(status);
}

/* The value is cut short, so that the fix always fits in the line. */
static void __attribute__((noreturn))
bad_option(const char *what, const char *value, const char *fix)
{
	refuse_start(EX_USAGE, "invalid %s: %.128s%s: %s", what, value,
	    strlen(value) > 128 ? "..." : "", fix);
}

static int
parse_timeout(const char *s)
{
	char fix[48];
	unsigned long v;

	if (parse_number((const unsigned char *)s, strlen(s), TIMEOUT_MAX,
	    &v) == -1 || v == 0) {
		snprintf(fix, sizeof(fix), "give whole seconds from 1 to %d",
		    TIMEOUT_MAX);
		bad_option("timeout", s, fix);
	}
	return (int)v;
}

/*
 * --uidl=pop3d (the content hash, the default) or popa3d; --x-uidl goes
 * with pop3d only.
 */
static int
uidl_source(const char *scheme, int x_uidl)
{
	if (scheme == NULL || strcmp(scheme, "pop3d") == 0) {
		return x_uidl ? UIDL_X_UIDL : UIDL_CONTENT;
	}
	if (strcmp(scheme, "popa3d") != 0) {
		bad_option("UIDL scheme", scheme, "give pop3d or popa3d");
	}
	if (x_uidl) {
		bad_option("UIDL scheme with --x-uidl", scheme, "--x-uidl "
		    "goes with --uidl=pop3d only: drop one of the two");
	}
	return UIDL_POPA3D;
}

/* pop3d --recover: a one-shot run at boot instead of a session. */
static int recover_mode;

/* pop3d --check [USER]: the administrator's self-test (selfcheck.h). */
static int check_mode;
static const char *check_user;

static void
check_template(const char *tmpl)
{
	const char *why = template_problem(tmpl);

	if (why != NULL) {
		bad_option("mailbox template", tmpl, why);
	}
}

/* The long options; an error names one as written, up to its '='. */
/*
 * Options without a short form: values no short option letter has, so
 * that an unknown letter is never taken for one of them.
 */
enum {
	OPT_PRIVSEP_USER = 256,
	OPT_PRIVSEP_DIR,
	OPT_NO_PLAINTEXT,
	OPT_X_UIDL,
	OPT_UIDL,
	OPT_APOP_SECRETS,
	OPT_PROXY_FROM,
	OPT_RECOVER,
	OPT_CHECK
};

static const struct option longopts[] = {
	{ "mailbox", required_argument, NULL, 'm' },
	{ "pam-service", required_argument, NULL, 's' },
	{ "passwd-file", required_argument, NULL, 'p' },
	{ "timeout", required_argument, NULL, 't' },
	{ "debug", no_argument, NULL, 'd' },
	{ "privsep-user", required_argument, NULL, OPT_PRIVSEP_USER },
	{ "privsep-dir", required_argument, NULL, OPT_PRIVSEP_DIR },
	{ "no-plaintext", no_argument, NULL, OPT_NO_PLAINTEXT },
	{ "x-uidl", no_argument, NULL, OPT_X_UIDL },
	{ "uidl", required_argument, NULL, OPT_UIDL },
	{ "apop-secrets", required_argument, NULL, OPT_APOP_SECRETS },
	{ "proxy-from", required_argument, NULL, OPT_PROXY_FROM },
	{ "recover", no_argument, NULL, OPT_RECOVER },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/*
 * The long option name (len bytes, whole or abbreviated) picks: NULL if
 * none or several (*several then 1).
 */
static const struct option *
long_option(const char *name, size_t len, int *several)
{
	const struct option *found = NULL;
	int i;

	*several = 0;
	for (i = 0; longopts[i].name != NULL; i++) {
		if (strncmp(longopts[i].name, name, len) != 0) {
			continue;
		}
		if (longopts[i].name[len] == '\0') {
			*several = 0;
			return &longopts[i];
		}
		*several |= found != NULL;
		found = &longopts[i];
	}
	return *several ? NULL : found;
}

/* The option as written, cut short like bad_option's values. */
static void __attribute__((noreturn))
refuse_option(const char *before, const char *opt, size_t len,
    const char *after)
{
	refuse_start(EX_USAGE, "%s%.*s%s%s (see pop3d -h)", before,
	    (int)(len > 130 ? 130 : len), opt, len > 130 ? "..." : "", after);
}

/*
 * getopt_long() (opterr 0) returns ':' for a missing value, '?' for the
 * rest, with optopt 0 for an unknown or ambiguous long option and the
 * option's value for a long one given a value it does not take; either
 * way argv[optind - 1] is that long option. A bad short option is shown
 * alone: argv[optind - 1] may be the element before its unfinished
 * cluster, as "--debug" in "--debug -xd".
 */
static void __attribute__((noreturn))
unknown_option(int ch, char **argv)
{
	const char *elem = argv[optind - 1];
	const char shown[3] = { '-', (char)optopt, '\0' };
	const struct option *o = NULL;
	size_t len = 0;
	int several = 0;

	if (strncmp(elem, "--", 2) == 0) {
		len = strcspn(elem + 2, "=");
		o = long_option(elem + 2, len, &several);
		len += 2;
	}
	if (len == 0 || (optopt != 0 && (o == NULL || o->val != optopt))) {
		refuse_option(ch == ':' ? "option " : "unknown option: ", shown,
		    2, ch == ':' ? " needs a value" : "");
	}
	if (ch == ':') {
		refuse_option("option ", elem, len, " needs a value");
	}
	if (optopt != 0) {
		refuse_option("option ", elem, len, " takes no value");
	}
	refuse_option(several ? "ambiguous option: " : "unknown option: ",
	    elem, len, "");
}

static void
parse_options(struct config *cfg, int argc, char **argv)
{
	const char *uidl = NULL;
	int ch, x_uidl = 0;

	memset(cfg, 0, sizeof(*cfg));
	opterr = 0;
	cfg->mailbox = "/var/mail/%u";
	cfg->pam_service = "pop3";
	cfg->timeout = TIMEOUT_DEFAULT;
	cfg->privsep_user = "pop3d";
	cfg->privsep_dir = "/var/empty";
	while ((ch = getopt_long(argc, argv, ":m:s:p:t:dVh", longopts,
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
		case OPT_PRIVSEP_USER:
			cfg->privsep_user = optarg;
			break;
		case OPT_PRIVSEP_DIR:
			cfg->privsep_dir = optarg;
			break;
		case OPT_NO_PLAINTEXT:
			cfg->no_plaintext = 1;
			break;
		case OPT_X_UIDL:
			x_uidl = 1;
			break;
		case OPT_UIDL:
			uidl = optarg;
			break;
		case OPT_APOP_SECRETS:
			cfg->apop_secrets = optarg;
			break;
		case OPT_PROXY_FROM:
			if (peer_list_ok(optarg) == -1) {
				bad_option("proxy address list", optarg,
				    "give IPv4 or IPv6 addresses separated by "
				    "commas, no spaces or networks, as "
				    "127.0.0.1,::1");
			}
			cfg->proxy_from = optarg;
			break;
		case OPT_RECOVER:
			recover_mode = 1;
			break;
		case OPT_CHECK:
			check_mode = 1;
			break;
		case 'V':
			printf("pop3d %s\n", POP3D_VERSION);
			exit(0);
		case 'h':
			usage();
		default:
			unknown_option(ch, argv);
		}
	}
	if (check_mode && recover_mode) {
		refuse_start(EX_USAGE, "--check and --recover exclude each "
		    "other: --check writes nothing, --recover completes "
		    "updates (see pop3d -h)");
	}
	if (check_mode && optind < argc) {
		check_user = argv[optind++];
	}
	if (optind != argc) {
		bad_option("argument", argv[optind], check_mode ? "--check "
		    "takes one USER (see pop3d -h)" : "pop3d takes options "
		    "only (see pop3d -h)");
	}
	check_template(cfg->mailbox);
	cfg->uidls = uidl_source(uidl, x_uidl);
	if (*cfg->pam_service == '\0' || strchr(cfg->pam_service, '/')) {
		bad_option("PAM service", cfg->pam_service, "give the name of "
		    "a file in /etc/pam.d, without a /");
	}
}

static void __attribute__((noreturn, format(printf, 1, 2)))
config_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_say(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(EX_CONFIG);
}

static void __attribute__((format(printf, 1, 2)))
config_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_say(LOG_WARNING, fmt, ap);
	va_end(ap);
}

/*
 * The rule the auth worker applies at every open (trusted.h), applied
 * once more here so that a mistake stops the server at start, not at
 * each login. The descriptor is closed; its fstat() is in *st.
 */
static void
check_trusted(const char *option, const char *path, struct stat *st)
{
	const char *why;
	int fd = trusted_open(path, st, &why);

	if (fd == -1) {
		config_error("--%s=%s refused: %s", option, path, why);
	}
	close(fd);
}

/*
 * APOP secrets are plaintext-equivalent passwords: beyond the rule,
 * nobody else may read them.
 */
static void
check_apop_secrets(const char *path)
{
	struct stat st;

	check_trusted("apop-secrets", path, &st);
	if ((st.st_mode & 077) != 0) {
		config_error("--apop-secrets=%s refused: the secrets are "
		    "readable by group or others: chmod 0600 %s", path, path);
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
 * A passwd file names the uid the session becomes. Its hashes can be
 * attacked offline: readable by all is allowed, but said.
 */
static void
check_passwd_file(const char *path)
{
	struct stat st;

	check_trusted("passwd-file", path, &st);
	if ((st.st_mode & S_IROTH) != 0) {
		config_warning("--passwd-file=%s is readable by all users, who "
		    "can then guess its passwords offline: chmod o-r %s", path,
		    path);
	}
}

static struct passwd *
privsep_account(const struct config *cfg)
{
	struct passwd *pw;
	const char *why;

	/* parse_options() sets both; clang's analyzer cannot tell. */
	assert(cfg->privsep_user != NULL && cfg->privsep_dir != NULL);
	if (geteuid() != 0) {
		return NULL;
	}
	if ((why = privsep_user_problem(cfg->privsep_user, &pw)) != NULL ||
	    (why = privsep_dir_problem(cfg->privsep_dir)) != NULL) {
		config_error("%s", why);
	}
	return pw;
}

static void __attribute__((noreturn))
prelogin_child(struct pop3 *p, const struct passwd *pw)
{
	int timeout = (p->cfg->timeout < LOGIN_TIMEOUT ? p->cfg->timeout :
	    LOGIN_TIMEOUT) * 1000;

	drop_to_privsep(p->cfg, pw);
	if (sandbox_prelogin() == -1) {
		log_fatal("system call filter");
	}
	io_init(&p->io, STDIN_FILENO, STDOUT_FILENO, timeout);
	pop3_authorization(p);
	_exit(0);
}

static void
run_prelogin(struct pop3 *p, const struct passwd *pw, struct account *acct,
    unsigned char *handover, size_t *len)
{
	struct login_watch lw;
	pid_t pid = fork_joined(&p->chan);

	if (pid == 0) {
		prelogin_child(p, pw);
	}
	lw.cfg = p->cfg;
	lw.peer = p->peer;
	lw.timestamp = p->timestamp;
	lw.chan = p->chan;
	lw.proxied = p->proxied;
	monitor_run(&lw, pid, acct, handover, len);
	close(p->chan);
}

static void
session(struct pop3 *p, const struct account *a, const char *path,
    int lockd, const unsigned char *handover, size_t len)
{
	log_escape(p->logname, sizeof(p->logname),
	    (const unsigned char *)a->name, strlen(a->name));
	io_init(&p->io, STDIN_FILENO, STDOUT_FILENO, p->cfg->timeout * 1000);
	io_preload(&p->io, handover, len);
	pop3_transaction(p, path, lockd);
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
		refuse_start(EX_OSERR, "no core dumps: %s", strerror(errno));
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

	/* Opened again below with -d: a refused option is logged too. */
	log_open(0);
	parse_options(&cfg, argc, argv);
	no_core_dumps();
	(void)signal(SIGPIPE, SIG_IGN);
	umask(077);
	log_open(cfg.debug);
	if (recover_mode) {
		return recover_spool(cfg.mailbox);
	}
	if (check_mode) {
		return check_run(&cfg, check_user);
	}
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
	if (sandbox_session() == -1) {
		log_fatal("system call filter");
	}
	session(&p, &acct, path, lockd, handover, len);
	close(lockd);
	explicit_bzero(handover, sizeof(handover));
	return 0;
}
