/* SPDX-License-Identifier: ISC */
/*
 * The limits pop3d sets on what a client, a file or the time may cost,
 * each with the reason for its value. A bound that belongs to one
 * format's definition stays beside its parser (the passwd(5) fields in
 * auth.c, UIDL_MAX in mbox.h, PROXY_V2_MAX in proxy.c, the journal's
 * layout in journal.c). Included where one is used; defines nothing
 * that runs.
 */
#ifndef POP3D_PARAMS_H
#define POP3D_PARAMS_H

#define POP3D_VERSION		"0.1.0"

/* RFC 2449 section 4: a command line is at most 255 octets with its CRLF. */
#define LINE_MAX_OCTETS		255

/*
 * Pipelined commands wait here; large enough for many short commands per
 * read, small enough that a client cannot make us hold much.
 */
#define INPUT_BUFFER		4096

/*
 * Replies are collected here and leave in one write whenever the client
 * has nothing more queued: a status line and its body never go out in two
 * small writes that would stall on Nagle and a delayed ACK.
 */
#define OUTPUT_BUFFER		(128 * 1024)

/* Mailbox bytes are read in pieces of this size for indexing and RETR. */
#define READ_BUFFER		(256 * 1024)

/*
 * A long scan (login, the checks at QUIT) reads the page cache through
 * mapped windows of this size instead: large enough that mapping costs
 * little per byte, small enough that the pages mapped at once add little
 * to the memory of the session.
 */
#define WINDOW_BYTES		(1024 * 1024)

/*
 * A SASL response line (RFC 5034 section 4 lifts the 255-octet limit for
 * them): room for PLAIN's two names and a password in base64.
 */
#define SASL_LINE_MAX		1024

/* Debian user names are at most 32 bytes; UTF-8 names take more room. */
#define USER_MAX		128

/* Room for a client address in text: IPv6 with scope, or a host name. */
#define PEER_MAX		256

/* The greeting's <pid.random.time@host> for APOP. */
#define TIMESTAMP_MAX		160

/* Home directories (for %h in the mailbox template), with room to spare. */
#define HOME_MAX		1024

/* What fits in a PASS line. */
#define PASS_MAX		(LINE_MAX_OCTETS - 7)

/*
 * The index costs 56 bytes a message; a million messages is 56 MB,
 * far beyond any maildrop a POP3 client could fetch in one session.
 * A mailbox of more is refused at login (SYS/PERM).
 */
#define MESSAGES_MAX		1000000

/*
 * At QUIT, neighbouring deleted messages are checked against the listing
 * this many at a time: few reads, and no second index of the mailbox.
 */
#define VERIFY_RUN		1024

/* Sizes stay far below what 63-bit offsets and decimal replies carry. */
#define MAILBOX_BYTES_MAX	((long long)1 << 40)

/* Failed logins per connection: a typo tried by three mechanisms. */
#define AUTH_FAILURES_MAX	3

/*
 * Seconds from the start of a failed login to its answer, whatever step
 * refused it. libpam would have slept up to 1.5 times pam_unix's 2 s on
 * a wrong password; the checks themselves (a yescrypt hash, PAM) must
 * take far less than this, or their length shows again.
 */
#define AUTH_FAIL_DELAY		3

/* Unknown or malformed commands before the server hangs up. */
#define PROTOCOL_ERRORS_MAX	20

/* RFC 1939 section 3: at least ten minutes of inactivity in TRANSACTION. */
#define TIMEOUT_DEFAULT		600
#define TIMEOUT_MAX		86400

/*
 * A proxy sends its PROXY header at once, or not at all: all of it must
 * be there this many seconds after the connection, however it trickles in.
 */
#define PROXY_TIMEOUT		5

/*
 * Nobody types a password for longer than this before logging in: the
 * whole pre-login phase ends this many seconds after the connection, a
 * client that sends a byte now and then included (each wait in it is
 * bounded by -t too).
 */
#define LOGIN_TIMEOUT		60

/*
 * The whole pre-login phase as the monitor bounds it, however slowly a
 * client trickles lines (the child's own bound is LOGIN_TIMEOUT).
 */
#define PRELOGIN_MAX		(5 * LOGIN_TIMEOUT)

/*
 * A passwd or secrets file: tens of thousands of accounts fit in far
 * less; a bigger file is a mistake (or an attack through a writable
 * path) and is not read.
 */
#define PASSWD_FILE_MAX		(16 * 1024 * 1024)

/*
 * Locking: how long one attempt at the fcntl and dot-lock pair may keep
 * trying before the session answers [IN-USE]; a dot-lock older than
 * DOTLOCK_STALE is left by a dead process (liblockfile uses 5 minutes).
 */
#define LOCK_TRIES		40
#define LOCK_BACKOFF_MS		100
#define DOTLOCK_STALE		300

#endif
