/* SPDX-License-Identifier: ISC */
/*
 * Integration tests of pop3d: the real ./pop3d driven like a client over a
 * socketpair, with real mbox files in a temporary directory and real
 * authentication (a passwd file of yescrypt hashes, or PAM through
 * pam_wrapper and pam_matrix). Run as root, the server changes credentials
 * for real: nss_wrapper supplies its accounts, so nothing in /etc is
 * touched. Run as anyone else, it serves that user only.
 *
 * The harness: one world (directory, accounts, files) built by
 * harness_init(), sessions that read like transcripts, and helpers for
 * mailbox files and message bytes.
 */
#ifndef POP3D_TESTS_HARNESS_H
#define POP3D_TESTS_HARNESS_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include <check.h>

#include "show.h"

/* Accounts of the world (nss_wrapper's files). */
#define TEST_USER	"pop3duser"	/* the served user when root */
#define TEST_ID		64999		/* its uid and gid when root */
#define PRIVSEP_USER	"pop3dtest"	/* the pre-login account */
#define PRIVSEP_ID	64998
#define EXTRA_GROUP	"pop3dextra"	/* a supplementary group of TEST_USER */
#define EXTRA_GID	64997

/* PASS takes the rest of the line: the password has spaces in it. */
#define PASSWORD	"correct horse battery"
#define PAM_PASSWORD	"pam-matrix-secret"

/* Where the client "is": pop3d reads REMOTE_ADDR from a socketpair. */
#define PEER_ADDR	"192.0.2.7"

/* No reply of a working server takes longer (the lock retries ~6 s). */
#define REPLY_TIMEOUT_MS	15000

/* Per test, in seconds; CK_TIMEOUT_MULTIPLIER scales it. */
#define TEST_TIMEOUT	40

/*
 * The tag of test cases that cannot pass with pop3d under a wrapper such
 * as valgrind: an upper bound on time, a census of /proc/PID/fd (which
 * would count valgrind's own descriptors). tests/valgrind leaves them out
 * (CK_EXCLUDE_TAGS); make check runs them.
 */
#define TAG_UNWRAPPED	"unwrapped"

struct world {
	int	 root;			/* run as root: privsep for real */
	char	 dir[64];		/* everything lives below here */
	char	 maildir[PATH_MAX];
	char	 mailbox[PATH_MAX];	/* the user's mailbox */
	char	 privsep_dir[PATH_MAX];
	char	 template[PATH_MAX];	/* -m */
	char	 passwd_file[PATH_MAX];	/* -p */
	char	 pop3d[PATH_MAX];
	char	 probe[PATH_MAX];	/* tests/pop3d-probe (sandbox.c) */
	char	 user[64];		/* the served user */
	uid_t	 uid;
	gid_t	 gid;
};

extern struct world W;

/*
 * Builds the world (in main, before the suites); exits on failure. The
 * environment may name the binary (POP3D=path) and a command to run it
 * under (POP3D_WRAPPER="valgrind --opt ...", words split at spaces and
 * put in front of pop3d's argv; see tests/valgrind).
 */
void	harness_init(void);

/* Removes it, and the runtime copies pam_wrapper left behind. */
void	harness_cleanup(void);

/* Checked fixture: an empty mail directory for every test. */
void	mail_reset(void);

/* A test case with the fixture and the timeout every case needs. */
TCase	*test_case(const char *);

/* A growing byte string, NUL-terminated once anything was added. */
struct text {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

#define TEXT_INIT	{ NULL, 0, 0 }

/* --- sessions --------------------------------------------------------- */

enum session_flags {
	S_PAM = 1,		/* PAM (pam_matrix) instead of -p passwd file */
	S_PROBE = 2		/* W.probe instead of W.pop3d; POP3D_PROBE goes */
};				/* through */

struct session;

/*
 * Starts pop3d -d on a socketpair with the world's options and then the
 * extra arguments (NULL-terminated); its stderr goes to a log file.
 */
struct session *session_start(int, ...) __attribute__((sentinel));

/* session_start(flags, NULL), greeting read, logged in as W.user. */
struct session *logged_in(int);

pid_t	session_pid(const struct session *);

/* The one child process of pid (fails unless there is exactly one). */
pid_t	only_child(pid_t);

/* Raw bytes to the server, in one write. */
void	send_raw(struct session *, const void *, size_t);

/* A command line: the format, then CRLF, in one write. */
void	send_line(struct session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The next reply line without its CRLF (which must be there), valid until
 * the next read; NULL when the server closed the connection. Its length,
 * NUL bytes included, in *len when len is not NULL. Fails on a timeout.
 */
char	*read_line(struct session *, size_t *);

/* The next line is exactly want / starts with prefix; it is returned. */
char	*expect_line(struct session *, const char *);
char	*expect_prefix(struct session *, const char *);

/* Sends cmd, and the reply must be exactly / start with the second. */
void	chat(struct session *, const char *, const char *);
char	*chat_prefix(struct session *, const char *, const char *);

/* The server closes the connection without another byte. */
void	expect_eof(struct session *);

/* The greeting: +OK, and no APOP timestamp. */
void	greet(struct session *);

/* USER and PASS of W.user; returns the reply to PASS. */
char	*login(struct session *);

/*
 * The body of a multi-line reply (its status line already read): every
 * line with its CRLF, byte-stuffing undone, up to the final ".". Must be
 * freed.
 */
char	*read_multiline(struct session *, size_t *);

/* Sends cmd, expects a +OK status line, returns the body as above. */
char	*fetch(struct session *, const char *, size_t *);

/* Sends cmd; the body of the +OK reply must be exactly want. */
void	expect_body(struct session *, const char *, const void *, size_t);

/* One line of a LIST or UIDL listing: "n value". */
struct entry {
	unsigned long	 n;
	char		 value[72];
};

/* Sends cmd (LIST or UIDL), reads up to max entries; their count. */
size_t	listing(struct session *, const char *, struct entry *, size_t);

/* Closes the client's end and waits for pop3d; its exit status. */
int	session_wait(struct session *);
void	session_free(struct session *);

/* session_wait() must give 0; then session_free(). */
void	session_end(struct session *);

/* QUIT answered "+OK bye", the connection closed, session_end(). */
void	quit(struct session *);

/* The log (pop3d's stderr) holds s / does not hold s. */
int	log_has(const struct session *, const char *);
void	expect_log(const struct session *, const char *);
void	expect_no_log(const struct session *, const char *);

/*
 * Runs pop3d with these arguments (NULL-terminated) and no client: its
 * exit status; what it wrote to stdout goes to *out.
 */
int	run_pop3d(const char *const *, struct text *);

/* argv[0] with the given fds 0, 1, 2; session flags as above. */
pid_t	spawn(char **, int, int, int, int);

/* Waits for pop3d (a deadline, then SIGKILL): exit status or 128 + sig. */
int	reap(pid_t);

/* A log file for pop3d's stderr, truncated. */
int	open_log(const char *);

/* --- mailboxes and messages --------------------------------------------- */

/* The From_ line every composed message gets. */
#define FROM_LINE	"From sender@example.org Thu Jan  1 00:00:00 2026"

void	text_add(struct text *, const void *, size_t);
void	text_adds(struct text *, const char *);
void	text_free(struct text *);

/*
 * An mbox of n stored messages: each gets FROM_LINE, eol, the message and
 * eol (the blank separator line).
 */
void	mbox_compose(struct text *, const char *const *, size_t, const char *);

/* What RETR must send for a stored message: LF -> CRLF, last line ended. */
void	wire_form(struct text *, const char *, size_t);

/* Its size in octets: what LIST must say. */
unsigned long long wire_size(const char *);

/* Three small messages with LF line ends. */
#define SAMPLE_COUNT	3
extern const char *const sample[SAMPLE_COUNT];

/* The reply to PASS for a mailbox of these messages. */
const char *maildrop_reply(const char *const *, size_t);

/* The mailbox file, written or appended as the user would own it. */
void	mailbox_write(const void *, size_t);
void	mailbox_append(const void *, size_t);
void	mailbox_put(const char *const *, size_t, const char *);
char	*mailbox_read(size_t *);

/* The mailbox file holds exactly these bytes / these messages. */
void	expect_mailbox(const void *, size_t);
void	expect_mailbox_msgs(const char *const *, size_t, const char *);

/* Fails with both shown (escaped) when the bytes differ. */
void	expect_bytes(const char *, const void *, size_t, const void *,
	    size_t);

/* Milliseconds on a monotonic clock. */
long long now_ms(void);

/* A whole file (NUL-terminated too); fails the test if unreadable. */
char	*slurp(const char *, size_t *);

/* A file to stderr, for failures that need the server's log. */
void	dump_file(const char *);


/* --- the suites ------------------------------------------------------- */

Suite	*cli_suite(void);
Suite	*authorization_suite(void);
Suite	*sasl_login_suite(void);
Suite	*transaction_suite(void);
Suite	*maildrop_suite(void);
Suite	*uidl_suite(void);
Suite	*privilege_suite(void);
Suite	*sandbox_suite(void);

#endif
