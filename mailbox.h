/* SPDX-License-Identifier: ISC */
/*
 * The maildrop: open without following links, lock briefly, index,
 * serve message bytes, apply deletions at QUIT. Runs as the user; never
 * changes credentials.
 */
#ifndef POP3D_MAILBOX_H
#define POP3D_MAILBOX_H

#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "journal.h"
#include "lock.h"
#include "mbox.h"

/*
 * How the session opens the mailbox: the only open(2) its system call
 * filter lets through (sandbox.c).
 */
#define MAILBOX_OPEN_FLAGS \
	(O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/* How it opens each directory on the way there (a handle, no access). */
#define MAILBOX_DIR_FLAGS	(O_PATH | O_NOFOLLOW | O_CLOEXEC)

enum mbx_status {
	MBX_OK,
	MBX_IN_USE,	/* another program holds the mailbox lock */
	MBX_TEMP,	/* an I/O error; trying later may work */
	MBX_PERM,	/* not a mailbox we may serve: type, owner, links, size */
	MBX_CHANGED	/* another program changed the listed messages */
};

struct mailbox {
	char		 path[PATH_MAX];
	int		 fd;		/* -1: no mailbox file, an empty maildrop */
	int		 dirfd;		/* its directory, a handle (O_PATH) */
	size_t		 name;		/* where its name starts in path */
	int		 session_fd;	/* the session lock and journal */
	struct lock	 lock;
	struct msg	*msgs;
	size_t		 count;
	off_t		 end;		/* where the listed messages end */
	unsigned char	*buf;		/* READ_BUFFER bytes */
	size_t		 buf_holds;	/* 1 + the message whose whole region
					   is in buf; 0: none */
	const char	*problem;	/* for the log, when not MBX_OK */
	int		 err;		/* its errno for the log, or 0 */
	size_t		 unmatched;	/* deletions that could not be applied */
	int		 uidls;		/* enum uidl_source (mbox.h) */
	int		 scan_uidls;	/* this scan collects them */
	char		*xuidl_pool;	/* X-UIDL or popa3d's, see mbox_uidl() */
};

/*
 * The directory of the mailbox at path, reached from "/" one name at a
 * time without following a symbolic link: the one rule, for every process
 * that works in that directory (the session, the lock helper). *dirfd is
 * an O_PATH handle, or -1 when a directory on the way is missing (MBX_OK)
 * or on refusal (then *problem says why, and errno the system's cause, or
 * 0 when there is none).
 */
enum mbx_status mailbox_dir(const char *, int *, const char **);

/*
 * Opens and indexes the mailbox at path for the calling user; chan leads
 * to the lock helper; uidls: an enum uidl_source (mbox.h). A second
 * session on the same mailbox gets MBX_IN_USE at once; an update a crash
 * interrupted is completed first.
 */
enum mbx_status mailbox_open(struct mailbox *, const char *, int, int);

/*
 * pop3d --check: opens the mailbox at path as mailbox_open() does, the
 * same walk, the same checks and the same flags (so an immutable file or
 * a read-only file system is refused as the session refuses it, and the
 * session's system call filter lets it through), and indexes it under an
 * fcntl read lock alone: no session file, no dot-lock, no recovery,
 * nothing written. Another session does not make
 * it MBX_IN_USE; an MDA that keeps an fcntl lock for LOCK_TRIES does.
 * An update a crash interrupted is not completed: the index is of the
 * file as it is.
 */
enum mbx_status mailbox_inspect(struct mailbox *, const char *, int);

/*
 * RETR and TOP read a message through a retrieval: its region (from its
 * From_ line to the next message's, or to the end of the listing) is read
 * once, into buf a piece at a time, parsed again as it is read and, at its
 * end, compared with the listing: place, length, size and content hash
 * (which leaves out the headers MUAs rewrite, see mbox.c). What is handed
 * out is what was parsed, from the same buffer.
 */
struct retrieval {
	struct scan	*scan;		/* NULL once the region is compared */
	const struct msg *m;
	off_t		 off;		/* the piece in buf: [off, next) */
	off_t		 next;
	off_t		 to;		/* where the region ends */
	int		 handed;	/* the piece in buf was handed out */
};

/*
 * Starts retrieving message i. A region of up to READ_BUFFER bytes is
 * read and compared whole here, and stays in buf (mb->buf_holds) for the
 * next retrieval of i; of a longer one, the first piece must begin the
 * listed message and hold no other. MBX_CHANGED or MBX_TEMP: nothing is
 * to be handed out (the client can be told); r needs no mailbox_done().
 */
enum mbx_status mailbox_retrieve(struct mailbox *, size_t, struct retrieval *);

/*
 * The next bytes of the message: *len of them at *p, valid until the next
 * call. *len == 0: the whole message was handed out and is the listed
 * one. MBX_CHANGED (the region is no longer the listed message) or
 * MBX_TEMP (a read error): what was handed out must not be taken for the
 * message, and only mailbox_done() is left to call.
 */
enum mbx_status mailbox_next(struct mailbox *, struct retrieval *,
	    const unsigned char **, size_t *);

/* Ends a retrieval that mailbox_retrieve() started, at any point. */
void	mailbox_done(struct retrieval *);

/*
 * Removes the messages marked deleted that can still be identified with
 * certainty (mb->unmatched counts the others, which are kept); mail
 * appended meanwhile stays. Only the deleted messages are read again
 * while the listing holds for them; else the mailbox is indexed again.
 * MBX_TEMP, nothing deleted, when the path no longer names the file
 * opened (another program renamed a new mailbox over it). Crash-safe:
 * see journal.h.
 */
enum mbx_status mailbox_update(struct mailbox *);

/*
 * Completes the update a session that died left half done, for a process
 * that holds the mailbox's dot-lock (the lock helper, pop3d --recover):
 * the mailbox name in the directory dirfd, checked as a session checks
 * it, under the fcntl lock too; jfd is its session file. The recovery is
 * the session's own (journal_recover()). 0 when done or nothing was to
 * do; -1 when it cannot be done now (logged; the journal is kept).
 */
int	mailbox_recover(int, const char *, int);

/* Releases everything, the session lock included; safe to call twice. */
void	mailbox_close(struct mailbox *);

#endif
