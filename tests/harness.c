/* SPDX-License-Identifier: ISC */
/*
 * The world the integration tests run in: a temporary directory with the
 * mail directory, the privsep directory, nss_wrapper's account files, the
 * passwd file (-p) and the PAM service for pam_wrapper; and the way pop3d
 * is started in it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/*
 * yescrypt hash of PASSWORD, for machines without mkpasswd (package
 * whois, which "make check" does not install).
 */
#define PASSWORD_HASH \
	"$y$j9T$lqLnZt7xXo8ajnFoXmPce/$VdGt3zBQpfkPLBnEf76mpbCQ45se28gSHvg0uyXDRe."

/* A uid no test account has: its entry may log in only when root. */
#define OTHER_ID	64990

#define ENV_MAX		20
#define WRAP_MAX	32	/* words of POP3D_WRAPPER */
#define EXEC_MAX	(WRAP_MAX + 64)	/* and pop3d's argv, up to 32 */

/* POP3D_WRAPPER, split at spaces: run in front of pop3d (tests/valgrind). */
static struct {
	char	 buf[2048];
	char	*argv[WRAP_MAX];
	size_t	 n;
} wrap;

struct world W;

/* The environment pop3d gets, built once. */
static struct {
	char	 nss_passwd[PATH_MAX + 32];
	char	 nss_group[PATH_MAX + 32];
	char	 pam_dir[PATH_MAX + 32];
	char	 asan[1024];
} E;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "integration: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* snprintf() into out (len bytes) that dies rather than truncate. */
static void __attribute__((format(printf, 3, 4)))
fit(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		die("too long: %s", out);
	}
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) == EOF) {
		die("%s: %s", path, strerror(errno));
	}
}

/* The directory tests/integration runs from. */
static void
own_dir(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n == -1) {
		die("/proc/self/exe: %s", strerror(errno));
	}
	exe[n] = '\0';
	fit(out, len, "%s", dirname(exe));
}

/*
 * Next to tests/integration, unless POP3D names it; the probe build of
 * sandbox.c is beside tests/integration.
 */
static void
find_pop3d(void)
{
	char dir[PATH_MAX];
	const char *env = getenv("POP3D");

	own_dir(dir, sizeof(dir));
	if (env != NULL) {
		fit(W.pop3d, sizeof(W.pop3d), "%s", env);
	} else {
		fit(W.pop3d, sizeof(W.pop3d), "%s/../pop3d", dir);
	}
	fit(W.probe, sizeof(W.probe), "%s/pop3d-probe", dir);
	if (access(W.pop3d, X_OK) == -1) {
		die("%s: %s (make pop3d first)", W.pop3d, strerror(errno));
	}
}

static void
find_wrapper(void)
{
	const char *env = getenv("POP3D_WRAPPER");
	char *w, *save;

	if (env == NULL) {
		return;
	}
	fit(wrap.buf, sizeof(wrap.buf), "%s", env);
	for (w = strtok_r(wrap.buf, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (wrap.n == WRAP_MAX) {
			die("POP3D_WRAPPER: more than %d words", WRAP_MAX);
		}
		wrap.argv[wrap.n++] = w;
	}
}

/* Root serves the nss_wrapper account; anyone else serves themselves. */
static void
choose_user(void)
{
	struct passwd *pw;

	W.root = geteuid() == 0;
	if (W.root) {
		snprintf(W.user, sizeof(W.user), "%s", TEST_USER);
		W.uid = TEST_ID;
		W.gid = TEST_ID;
		return;
	}
	pw = getpwuid(getuid());
	snprintf(W.user, sizeof(W.user), "%s",
	    pw != NULL ? pw->pw_name : TEST_USER);
	W.uid = getuid();
	W.gid = getgid();
}

static void
make_dirs(void)
{
	fit(W.dir, sizeof(W.dir), "/tmp/pop3d-it.XXXXXX");
	if (mkdtemp(W.dir) == NULL) {
		die("mkdtemp: %s", strerror(errno));
	}
	fit(W.maildir, sizeof(W.maildir), "%s/mail", W.dir);
	fit(W.mailbox, sizeof(W.mailbox), "%s/%s", W.maildir, W.user);
	fit(W.template, sizeof(W.template), "%s/%%u", W.maildir);
	fit(W.privsep_dir, sizeof(W.privsep_dir), "%s/empty", W.dir);
	/* The user must reach the mail directory through W.dir. */
	if (chmod(W.dir, 0711) == -1 || mkdir(W.maildir, 0700) == -1 ||
	    mkdir(W.privsep_dir, 0755) == -1) {
		die("%s: %s", W.dir, strerror(errno));
	}
	if (W.root && chown(W.maildir, W.uid, W.gid) == -1) {
		die("chown %s: %s", W.maildir, strerror(errno));
	}
}

/* nss_wrapper's passwd and group: the accounts pop3d looks up. */
static void
write_accounts(void)
{
	char path[PATH_MAX], text[4 * PATH_MAX];

	fit(path, sizeof(path), "%s/nss-passwd", W.dir);
	fit(text, sizeof(text),
	    "root:x:0:0:root:/root:/bin/sh\n"
	    "%s:x:%d:%d:pop3d pre-login:/nonexistent:/usr/sbin/nologin\n"
	    "%s:x:%u:%u:pop3d test user:%s:/bin/sh\n",
	    PRIVSEP_USER, PRIVSEP_ID, PRIVSEP_ID, W.user, (unsigned)W.uid,
	    (unsigned)W.gid, W.dir);
	write_file(path, text);
	fit(E.nss_passwd, sizeof(E.nss_passwd), "NSS_WRAPPER_PASSWD=%s",
	    path);
	fit(path, sizeof(path), "%s/nss-group", W.dir);
	fit(text, sizeof(text),
	    "root:x:0:\n%s:x:%d:\n%s:x:%u:\n%s:x:%d:%s\n",
	    PRIVSEP_USER, PRIVSEP_ID, TEST_USER, (unsigned)W.gid,
	    EXTRA_GROUP, EXTRA_GID, W.user);
	write_file(path, text);
	fit(E.nss_group, sizeof(E.nss_group), "NSS_WRAPPER_GROUP=%s",
	    path);
}

/* A fresh yescrypt hash from mkpasswd, else the one made earlier. */
static void
hash_password(char *out, size_t len)
{
	FILE *p = popen("mkpasswd -m yescrypt '" PASSWORD "' 2>/dev/null",
	    "r");
	size_t n = 0;

	if (p != NULL) {
		if (fgets(out, (int)len, p) != NULL) {
			n = strcspn(out, "\n");
			out[n] = '\0';
		}
		if (pclose(p) != 0 || strncmp(out, "$y$", 3) != 0) {
			n = 0;
		}
	}
	if (n == 0) {
		fprintf(stderr, "integration: no mkpasswd; using a stored "
		    "hash\n");
		snprintf(out, len, "%s", PASSWORD_HASH);
	}
}

/*
 * The -p file: the user; uid 0 under another name; an empty hash; and
 * an account whose uid only root may become.
 */
static void
write_passwd_file(void)
{
	char hash[256], text[4 * PATH_MAX];

	hash_password(hash, sizeof(hash));
	fit(W.passwd_file, sizeof(W.passwd_file), "%s/passwd", W.dir);
	fit(text, sizeof(text),
	    "# pop3d integration tests\n\n"
	    "%s:%s:%u:%u:pop3d test user:%s:/bin/sh\n"
	    "toor:%s:0:0:root by another name:/root:/bin/sh\n"
	    "nopass::%u:%u::%s:/bin/sh\n"
	    "other:%s:%d:%d::%s:/bin/sh\n",
	    W.user, hash, (unsigned)W.uid, (unsigned)W.gid, W.dir, hash,
	    (unsigned)W.uid, (unsigned)W.gid, W.dir, hash, OTHER_ID, OTHER_ID,
	    W.dir);
	write_file(W.passwd_file, text);
}

static void
find_pam_matrix(char *out, size_t len)
{
	glob_t g;

	if (glob("/usr/lib/*/pam_wrapper/pam_matrix.so", 0, NULL, &g) != 0 &&
	    glob("/usr/lib*/pam_wrapper/pam_matrix.so", 0, NULL, &g) != 0) {
		die("pam_matrix.so not found (package libpam-wrapper)");
	}
	fit(out, len, "%s", g.gl_pathv[0]);
	globfree(&g);
}

/* The "pop3" service for pam_wrapper, checking against pam_matrix. */
static void
write_pam_service(void)
{
	char module[PATH_MAX], passdb[PATH_MAX], dir[PATH_MAX], path[PATH_MAX];
	char text[4 * PATH_MAX];

	find_pam_matrix(module, sizeof(module));
	fit(passdb, sizeof(passdb), "%s/passdb", W.dir);
	fit(text, sizeof(text), "%s:%s:pop3\n", W.user, PAM_PASSWORD);
	write_file(passdb, text);
	fit(dir, sizeof(dir), "%s/pam.d", W.dir);
	if (mkdir(dir, 0755) == -1) {
		die("%s: %s", dir, strerror(errno));
	}
	fit(path, sizeof(path), "%s/pop3", dir);
	fit(text, sizeof(text),
	    "auth required %s passdb=%s\naccount required %s passdb=%s\n",
	    module, passdb, module, passdb);
	write_file(path, text);
	fit(E.pam_dir, sizeof(E.pam_dir), "PAM_WRAPPER_SERVICE_DIR=%s",
	    dir);
}

/*
 * ASan wants to be first in the library list; LD_PRELOAD puts the
 * wrappers there. The caller's own options come after ours.
 */
static void
sanitizer_options(void)
{
	const char *own = getenv("ASAN_OPTIONS");

	fit(E.asan, sizeof(E.asan),
	    "ASAN_OPTIONS=verify_asan_link_order=0%s%s",
	    own != NULL ? ":" : "", own != NULL ? own : "");
}

void
harness_init(void)
{
	umask(022);
	find_pop3d();
	find_wrapper();
	choose_user();
	make_dirs();
	write_accounts();
	write_passwd_file();
	write_pam_service();
	sanitizer_options();
}

static int
remove_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP) {
		rmdir(path);
	} else {
		unlink(path);
	}
	return 0;
}

static void
remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Does the file at path mention s? */
static int
file_mentions(const char *path, const char *s)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		return 0;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

/*
 * pam_wrapper copies our service file to /tmp/pam.X in every process
 * that loads it and removes the copy at exit, which a process that
 * became another user or ended with _exit() cannot do. Only copies of
 * our own service file are removed.
 */
static void
remove_pam_wrapper_copies(void)
{
	char service[PATH_MAX + 16];
	glob_t g;
	size_t i;

	if (glob("/tmp/pam.?", 0, NULL, &g) != 0) {
		return;
	}
	for (i = 0; i < g.gl_pathc; i++) {
		snprintf(service, sizeof(service), "%s/pop3", g.gl_pathv[i]);
		if (file_mentions(service, W.dir)) {
			remove_tree(g.gl_pathv[i]);
		}
	}
	globfree(&g);
}

void
harness_cleanup(void)
{
	if (getenv("POP3D_KEEP") != NULL) {
		fprintf(stderr, "integration: kept %s\n", W.dir);
		return;
	}
	remove_pam_wrapper_copies();
	remove_tree(W.dir);
}

/* A test may have made it a group spool: back to the user's own. */
void
mail_reset(void)
{
	struct dirent *e;
	DIR *d = opendir(W.maildir);

	ck_assert_msg(d != NULL, "%s: %s", W.maildir, strerror(errno));
	ck_assert_int_eq(chmod(W.maildir, 0700), 0);
	if (W.root) {
		ck_assert_int_eq(chown(W.maildir, W.uid, W.gid), 0);
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    unlinkat(dirfd(d), e->d_name, 0) == -1) {
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
		}
	}
	closedir(d);
}

TCase *
test_case(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, mail_reset, NULL);
	tcase_set_timeout(tc, TEST_TIMEOUT);
	return tc;
}

static void
add_env(char **env, size_t *n, char *s)
{
	ck_assert_uint_lt(*n, ENV_MAX - 1);
	env[(*n)++] = s;
	env[*n] = NULL;
}

/* name=value from our own environment into buf, if it is set. */
static void
pass_env(char **env, size_t *n, const char *name, char *buf, size_t len)
{
	const char *v = getenv(name);

	if (v != NULL) {
		snprintf(buf, len, "%s=%s", name, v);
		add_env(env, n, buf);
	}
}

/*
 * A small environment of our own: nothing of the caller's leaks in.
 * The wrappers dlopen() libc with RTLD_DEEPBIND, which AddressSanitizer
 * refuses (the lock helper died of it in gethostname()); pam_wrapper
 * 1.1.4 reads the UID_WRAPPER_ name, later ones the PAM_WRAPPER_ name.
 * pam_wrapper's destructor would remove its copy of the service at exit,
 * which the session's system call filter forbids: the harness removes
 * the copies (remove_pam_wrapper_copies()).
 */
static void
build_env(char **env, int flags)
{
	static char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	static char nss[] = "LD_PRELOAD=libnss_wrapper.so";
	static char both[] = "LD_PRELOAD=libpam_wrapper.so libnss_wrapper.so";
	static char nss_bind[] = "NSS_WRAPPER_DISABLE_DEEPBIND=1";
	static char pw[] = "PAM_WRAPPER=1";
	static char pam_bind[] = "PAM_WRAPPER_DISABLE_DEEPBIND=1";
	static char old_bind[] = "UID_WRAPPER_DISABLE_DEEPBIND=1";
	static char keep[] = "PAM_WRAPPER_KEEP_DIR=1";
	static char peer[] = "REMOTE_ADDR=" PEER_ADDR;
	static char ubsan[1024], lsan[1024], probe[64];
	int pam = (flags & S_PAM) != 0;
	size_t n = 0;

	add_env(env, &n, path);
	add_env(env, &n, peer);
	add_env(env, &n, pam ? both : nss);
	add_env(env, &n, E.nss_passwd);
	add_env(env, &n, E.nss_group);
	add_env(env, &n, nss_bind);
	if (pam) {
		add_env(env, &n, pw);
		add_env(env, &n, pam_bind);
		add_env(env, &n, old_bind);
		add_env(env, &n, keep);
		add_env(env, &n, E.pam_dir);
	}
	add_env(env, &n, E.asan);
	pass_env(env, &n, "UBSAN_OPTIONS", ubsan, sizeof(ubsan));
	pass_env(env, &n, "LSAN_OPTIONS", lsan, sizeof(lsan));
	if (flags & S_PROBE) {
		pass_env(env, &n, "POP3D_PROBE", probe, sizeof(probe));
	}
}

/* Execs argv, behind the wrapper if there is one; returns on failure. */
static void
exec_pop3d(char **argv, char **env)
{
	char *full[EXEC_MAX];
	size_t n = 0;

	if (wrap.n == 0) {
		execve(argv[0], argv, env);
		return;
	}
	while (n < wrap.n) {
		full[n] = wrap.argv[n];
		n++;
	}
	while (*argv != NULL && n < EXEC_MAX - 1) {
		full[n++] = *argv++;
	}
	full[n] = NULL;
	execvpe(full[0], full, env);
}

/* pop3d with in, out and err as its fds 0, 1 and 2, and nothing else. */
pid_t
spawn(char **argv, int flags, int in, int out, int err)
{
	char *env[ENV_MAX];
	pid_t pid;

	build_env(env, flags);
	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(in, 0) == -1 || dup2(out, 1) == -1 ||
		    dup2(err, 2) == -1) {
			_exit(126);
		}
		close_range(3, ~0U, 0);
		exec_pop3d(argv, env);
		_exit(127);
	}
	return pid;
}

/* Waits up to REPLY_TIMEOUT_MS; an exit status, or 128 + signal. */
int
reap(pid_t pid)
{
	long long deadline = now_ms() + REPLY_TIMEOUT_MS;
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	    now_ms() < deadline) {
		usleep(5000);
	}
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ck_abort_msg("pop3d (pid %d) did not exit", (int)pid);
	}
	ck_assert_int_eq(r, pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
}

int
open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
	    0644);

	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	return fd;
}
