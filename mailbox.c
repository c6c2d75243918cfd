/* SPDX-License-Identifier: ISC */
/*
 * The maildrop: open without following links, lock briefly, index,
 * serve message bytes, apply deletions at QUIT. Runs as the user.
 *
 * Locks are held only while indexing and while updating, never for the
 * session, so that an idle POP3 client never delays a delivery.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "lockchan.h"
#include "log.h"
#include "mailbox.h"
#include "params.h"
#include "window.h"

static enum mbx_status
refuse(struct mailbox *mb, enum mbx_status st, const char *problem)
{
	mb->problem = problem;
	return st;
}

static enum mbx_status
open_failed(struct mailbox *mb, int err)
{
	mb->err = err == ENOENT ? 0 : err;
	switch (err) {
	case ENOENT:
		return MBX_OK;
	case ELOOP:
		return refuse(mb, MBX_PERM, "mailbox is a symbolic link");
	case EACCES:
		return refuse(mb, MBX_PERM, "mailbox permission denied");
	case EISDIR:
	case ENXIO:
		return refuse(mb, MBX_PERM, "mailbox is not a regular file");
	default:
		return refuse(mb, MBX_TEMP, "mailbox cannot be opened");
	}
}

/*
 * A name that cannot be looked up (O_PATH, fstatat: no access to the
 * name itself is asked): EACCES is its directory's, not searchable.
 */
static enum mbx_status
lookup_failed(struct mailbox *mb, int err)
{
	if (err != EACCES) {
		return open_failed(mb, err);
	}
	mb->err = err;
	return refuse(mb, MBX_PERM, "mailbox directory permission denied");
}

/*
 * The file must be the user's own plain mailbox and nothing else. Group
 * write is how Debian's MDAs deliver (0660 user:mail), so it is allowed
 * for the directory's group alone: any other group could edit the mail.
 */
static enum mbx_status
check_file(struct mailbox *mb, const struct stat *st, gid_t dir_gid)
{
	if (!S_ISREG(st->st_mode)) {
		return refuse(mb, MBX_PERM, "mailbox is not a regular file");
	}
	if (st->st_uid != geteuid()) {
		return refuse(mb, MBX_PERM, "mailbox is owned by another user");
	}
	if (st->st_nlink != 1) {
		return refuse(mb, MBX_PERM, "mailbox has other hard links");
	}
	if ((st->st_mode & S_IWOTH) != 0) {
		return refuse(mb, MBX_PERM, "mailbox is world-writable");
	}
	if ((st->st_mode & S_IWGRP) != 0 && st->st_gid != dir_gid) {
		return refuse(mb, MBX_PERM, "mailbox is writable by a group "
		    "other than its directory's");
	}
	if (st->st_size > MAILBOX_BYTES_MAX) {
		return refuse(mb, MBX_PERM, "mailbox is too large");
	}
	return MBX_OK;
}

/*
 * One step down the path: *fd becomes comp inside it, -1 if comp does
 * not exist (an empty maildrop).
 */
static enum mbx_status
enter(struct mailbox *mb, int *fd, const char *comp)
{
	struct stat st;
	int sub = openat(*fd, comp, MAILBOX_DIR_FLAGS);

	if (sub == -1 && errno != ENOENT) {
		return lookup_failed(mb, errno);
	}
	close(*fd);
	*fd = sub;
	if (sub == -1) {
		return MBX_OK;
	}
	if (fstat(sub, &st) == -1) {
		mb->err = errno;
		return refuse(mb, MBX_TEMP, "mailbox directory cannot be "
		    "examined");
	}
	if (S_ISLNK(st.st_mode)) {
		return refuse(mb, MBX_PERM, "mailbox path has a symbolic link");
	}
	if (!S_ISDIR(st.st_mode)) {
		return refuse(mb, MBX_PERM, "mailbox path goes through a file");
	}
	return MBX_OK;
}

/*
 * The mailbox's directory, reached from "/" one name at a time without
 * following a symbolic link: a link on the path (the spool, a home
 * directory) would let whoever can change it choose the file served.
 * *dirfd is -1 when a directory is missing; *name is where the file's
 * name starts in mb->path.
 */
static enum mbx_status
open_dir(struct mailbox *mb, int *dirfd, size_t *name)
{
	const char *p = mb->path, *slash = strrchr(mb->path, '/'), *next;
	char comp[NAME_MAX + 1];
	enum mbx_status s = MBX_OK;
	size_t len;

	if (slash == NULL || slash[1] == '\0') {
		return refuse(mb, MBX_PERM, "mailbox path names no file");
	}
	*name = (size_t)(slash - mb->path) + 1;
	*dirfd = open("/", MAILBOX_DIR_FLAGS);
	if (*dirfd == -1) {
		return open_failed(mb, errno);
	}
	for (; s == MBX_OK && *dirfd != -1 && p < slash; p = next) {
		next = memchr(p, '/', (size_t)(slash - p) + 1);
		len = (size_t)(next - p);
		if (len == 0) {
			next++;
			continue;
		}
		if (len > NAME_MAX) {
			s = refuse(mb, MBX_PERM, "mailbox path too long");
			break;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		s = enter(mb, dirfd, comp);
	}
	if (s != MBX_OK && *dirfd != -1) {
		close(*dirfd);
		*dirfd = -1;
	}
	return s;
}

/*
 * fstatat() first so that no device or FIFO is ever opened; O_NOFOLLOW
 * and the inode comparison close the race with a rename in between.
 */
static enum mbx_status
open_in_dir(struct mailbox *mb, int dirfd, const char *name)
{
	struct stat dir, before, st;
	enum mbx_status s;

	if (fstat(dirfd, &dir) == -1) {
		return refuse(mb, MBX_TEMP, "mailbox directory cannot be "
		    "examined");
	}
	if (fstatat(dirfd, name, &before, AT_SYMLINK_NOFOLLOW) == -1) {
		return lookup_failed(mb, errno);
	}
	if (S_ISLNK(before.st_mode)) {
		return open_failed(mb, ELOOP);
	}
	s = check_file(mb, &before, dir.st_gid);
	if (s != MBX_OK) {
		return s;
	}
	mb->fd = openat(dirfd, name, MAILBOX_OPEN_FLAGS);
	if (mb->fd == -1) {
		return open_failed(mb, errno);
	}
	if (fstat(mb->fd, &st) == -1) {
		return refuse(mb, MBX_TEMP, "mailbox cannot be examined");
	}
	if (st.st_dev != before.st_dev || st.st_ino != before.st_ino) {
		return refuse(mb, MBX_TEMP, "mailbox was replaced while opened");
	}
	return check_file(mb, &st, dir.st_gid);
}

enum mbx_status
mailbox_dir(const char *path, int *dirfd, const char **problem)
{
	struct mailbox mb;
	enum mbx_status s;
	size_t name, n = strlen(path);

	memset(&mb, 0, sizeof(mb));
	*dirfd = -1;
	if (n >= sizeof(mb.path)) {
		s = refuse(&mb, MBX_PERM, "mailbox path too long");
	} else {
		memcpy(mb.path, path, n + 1);
		s = open_dir(&mb, dirfd, &name);
	}
	*problem = mb.problem;
	errno = mb.err;
	return s;
}

/*
 * The directory handle stays: UPDATE checks the name still leads here. A
 * missing file is an empty maildrop, as in Dovecot and popa3d; a missing
 * directory is a spool never made or a template that cannot fit this
 * user, which only an administrator can mend: not an empty maildrop.
 */
static enum mbx_status
open_file(struct mailbox *mb)
{
	enum mbx_status s;

	s = open_dir(mb, &mb->dirfd, &mb->name);
	if (s == MBX_OK && mb->dirfd == -1) {
		mb->err = ENOENT;
		return refuse(mb, MBX_PERM, "mailbox directory does not exist");
	}
	if (s != MBX_OK) {
		return s;
	}
	return open_in_dir(mb, mb->dirfd, mb->path + mb->name);
}

/* pread() of the mailbox; -1 with errno on failure. */
static ssize_t
mailbox_read(struct mailbox *mb, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(mb->fd, (char *)buf + done, len - done,
		    off + (off_t)done);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			return -1;
		}
		if (n == 0) {
			break;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/*
 * The mailbox's size, or 0 when fstat fails (every read goes through buf
 * then, and a real error shows there).
 */
static off_t
file_size(const struct mailbox *mb)
{
	struct stat st;

	return fstat(mb->fd, &st) == -1 ? 0 : st.st_size;
}

/*
 * The bytes of the mailbox from off, *got of them: mapped in place while
 * more than a buffer is left before size (a long scan), else read into
 * buf, where a short region stays for RETR. *eof when they reach to, or
 * the end of the file. NULL on a read error.
 */
static const unsigned char *
map_or_read(struct mailbox *mb, struct window *w, off_t off, off_t to,
    off_t size, size_t *got, int *eof)
{
	const unsigned char *p;
	size_t want = READ_BUFFER;
	ssize_t n;

	if (size - off > READ_BUFFER) {
		*got = size - off > WINDOW_BYTES ? WINDOW_BYTES :
		    (size_t)(size - off);
		p = window_map(w, mb->fd, off, *got);
		if (p != NULL) {
			*eof = to != -1 && off + (off_t)*got >= to;
			return p;
		}
	}
	window_unmap(w);
	if (to != -1 && (off_t)want > to - off) {
		want = (size_t)(to - off);
	}
	n = mailbox_read(mb, mb->buf, want, off);
	if (n == -1) {
		return NULL;
	}
	*got = (size_t)n;
	*eof = (size_t)n < want || (to != -1 && off + n >= to);
	return mb->buf;
}

/*
 * Hands [from, to) of the mailbox (to == -1: up to its end) to s; *end:
 * where the bytes ended. What mbox_scan() leaves of a piece (a line not
 * yet ended) is fetched again at the front of the next.
 */
static enum mbx_status
feed(struct mailbox *mb, struct scan *s, off_t from, off_t to, off_t *end)
{
	struct window w = { NULL, 0 };
	const unsigned char *p;
	off_t off = from, size = file_size(mb);
	enum mbx_status st = MBX_OK;
	ssize_t used;
	size_t got;
	int eof = 0;

	if (to != -1 && to < size) {
		size = to;
	}
	while (!eof && st == MBX_OK) {
		p = map_or_read(mb, &w, off, to, size, &got, &eof);
		if (p == NULL) {
			st = refuse(mb, MBX_TEMP, "mailbox read error");
			break;
		}
		used = mbox_scan(s, p, got, off, eof);
		if (window_lost()) {
			st = refuse(mb, MBX_TEMP, "mailbox shrank or failed "
			    "while being read");
		} else if (used == -1 || off + used > MAILBOX_BYTES_MAX) {
			st = refuse(mb, MBX_PERM, "mailbox has too many "
			    "messages");
		} else {
			off += used;
		}
	}
	window_unmap(&w);
	*end = off;
	return st;
}

/*
 * Indexes [from, to) of the mailbox (to == -1: up to its end), which
 * starts at a message boundary, into *msgs.
 */
static enum mbx_status
scan_range(struct mailbox *mb, off_t from, off_t to, struct msg **msgs,
    size_t *count, off_t *end)
{
	struct scan *s = mbox_scan_new();
	enum mbx_status st;

	if (s == NULL) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	mbox_scan_want_uidls(s, (enum uidl_source)mb->scan_uidls);
	mb->buf_holds = 0;
	st = feed(mb, s, from, to, end);
	if (st != MBX_OK) {
		mbox_scan_free(s);
		return st;
	}
	*msgs = mbox_scan_finish(s, *end, count);
	if (mb->scan_uidls != UIDL_CONTENT) {
		mb->xuidl_pool = mbox_scan_take_pool(s);
		mb->scan_uidls = UIDL_CONTENT;
	}
	mbox_scan_free(s);
	if (*msgs == NULL && *count != 0) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	return MBX_OK;
}

static enum mbx_status
take_locks(struct mailbox *mb)
{
	switch (lock_take(&mb->lock)) {
	case LOCK_OK:
		return MBX_OK;
	case LOCK_BUSY:
		return refuse(mb, MBX_IN_USE, "mailbox is locked");
	default:
		return refuse(mb, MBX_TEMP, "mailbox cannot be locked");
	}
}

/*
 * RFC 1939 wants one session per maildrop. The lock is on the session
 * file, which no MDA ever waits for; an open file description lock dies
 * with the last descriptor, so a crashed session never leaves it behind.
 */
static enum mbx_status
take_session_lock(struct mailbox *mb, int chan)
{
	struct flock fl;

	mb->session_fd = lockd_session_file(chan, mb->dirfd);
	if (mb->session_fd == -1) {
		return refuse(mb, MBX_TEMP, errno == EPIPE ? "mailbox lock "
		    "helper ended unexpectedly" : "session file cannot be "
		    "opened");
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(mb->session_fd, F_OFD_SETLK, &fl) == -1) {
		return errno == EAGAIN || errno == EACCES ?
		    refuse(mb, MBX_IN_USE, "another POP3 session is active") :
		    refuse(mb, MBX_TEMP, "session lock failed");
	}
	return MBX_OK;
}

/* The session's index, with the UIDLs asked for (--uidl, --x-uidl). */
static enum mbx_status
scan_index(struct mailbox *mb)
{
	mb->scan_uidls = mb->uidls;
	return scan_range(mb, 0, -1, &mb->msgs, &mb->count, &mb->end);
}

/*
 * What journal.c compares before it completes an update: the index of the
 * messages before base, as the last update saw them.
 */
static uint64_t
index_digest(const struct msg *msgs, size_t count, off_t base)
{
	XXH3_state_t *h = XXH3_createState();
	uint64_t v = 0;
	size_t i;

	if (h == NULL) {
		return 0;
	}
	XXH3_64bits_reset(h);
	XXH3_64bits_update(h, &base, sizeof(base));
	for (i = 0; i < count && msgs[i].from < base; i++) {
		XXH3_64bits_update(h, &msgs[i].from, sizeof(msgs[i].from));
		XXH3_64bits_update(h, &msgs[i].start, sizeof(msgs[i].start));
		XXH3_64bits_update(h, &msgs[i].len, sizeof(msgs[i].len));
		XXH3_64bits_update(h, msgs[i].hash, sizeof(msgs[i].hash));
	}
	v = XXH3_64bits_digest(h);
	XXH3_freeState(h);
	return v;
}

static int
prefix_digest(void *ctx, off_t base, uint64_t *out)
{
	struct mailbox *mb = ctx;
	struct msg *msgs = NULL;
	size_t count = 0;
	off_t end;

	if (scan_range(mb, 0, base, &msgs, &count, &end) != MBX_OK) {
		return -1;
	}
	*out = end == base ? index_digest(msgs, count, base) : 0;
	free(msgs);
	return 0;
}

/* Under the locks: finish an interrupted update, if any. */
static enum mbx_status
recover(struct mailbox *mb)
{
	if (journal_recover(mb->fd, mb->session_fd, prefix_digest, mb,
	    mb->buf, READ_BUFFER) == -1) {
		return refuse(mb, MBX_TEMP, "an interrupted update cannot be "
		    "completed");
	}
	return MBX_OK;
}

/* Under the locks: finish an interrupted update, then index. */
static enum mbx_status
load(struct mailbox *mb)
{
	enum mbx_status s;

	s = take_locks(mb);
	if (s != MBX_OK) {
		return s;
	}
	s = recover(mb);
	if (s == MBX_OK) {
		s = scan_index(mb);
	}
	lock_release(&mb->lock);
	return s;
}

/*
 * The mailbox is opened as a session opens it; a missing one has nothing
 * to recover. The journal stays the caller's.
 */
int
mailbox_recover(int dirfd, const char *name, int jfd)
{
	struct mailbox mb;
	enum mbx_status s;

	memset(&mb, 0, sizeof(mb));
	mb.fd = -1;
	mb.buf = malloc(READ_BUFFER);
	s = mb.buf == NULL ? refuse(&mb, MBX_TEMP, "out of memory") :
	    open_in_dir(&mb, dirfd, name);
	if (s == MBX_OK && mb.fd != -1) {
		mb.session_fd = jfd;
		mb.lock.fd = mb.fd;
		mb.lock.helper = -1;
		s = take_locks(&mb);
		if (s == MBX_OK) {
			s = recover(&mb);
			lock_release(&mb.lock);
		}
		mb.session_fd = -1;
	}
	if (s != MBX_OK) {
		log_msg(LOG_ERR, "interrupted update of %s not completed: %s",
		    name, mb.problem);
	}
	mailbox_close(&mb);
	return s == MBX_OK ? 0 : -1;
}

/* The mailbox at path opened, not yet locked nor indexed. */
static enum mbx_status
start(struct mailbox *mb, const char *path, int uidls)
{
	size_t n = strlen(path);

	memset(mb, 0, sizeof(*mb));
	mb->uidls = uidls;
	mb->fd = -1;
	mb->dirfd = -1;
	mb->session_fd = -1;
	if (n >= sizeof(mb->path)) {
		return refuse(mb, MBX_PERM, "mailbox path too long");
	}
	memcpy(mb->path, path, n + 1);
	mb->buf = malloc(READ_BUFFER);
	if (mb->buf == NULL) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	return open_file(mb);
}

/*
 * A read lock (type F_RDLCK) or its release (F_UNLCK): the write lock of
 * every MDA that locks with fcntl excludes it, so what is indexed is no
 * half-delivered message of theirs.
 */
static enum mbx_status
inspect_lock(struct mailbox *mb, short type)
{
	struct flock fl;
	int i;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	for (i = 0; i < LOCK_TRIES; i++) {
		if (fcntl(mb->fd, F_OFD_SETLK, &fl) == 0) {
			return MBX_OK;
		}
		if (errno != EAGAIN && errno != EACCES) {
			return refuse(mb, MBX_TEMP, "mailbox cannot be locked");
		}
		lock_pause();
	}
	return refuse(mb, MBX_IN_USE, "mailbox is locked");
}

enum mbx_status
mailbox_inspect(struct mailbox *mb, const char *path, int uidls)
{
	enum mbx_status s;

	s = start(mb, path, uidls);
	if (s != MBX_OK || mb->fd == -1) {
		return s;
	}
	s = inspect_lock(mb, F_RDLCK);
	if (s == MBX_OK) {
		s = scan_index(mb);
		(void)inspect_lock(mb, F_UNLCK);
	}
	return s;
}

enum mbx_status
mailbox_open(struct mailbox *mb, const char *path, int chan, int uidls)
{
	enum mbx_status s;

	s = start(mb, path, uidls);
	if (s != MBX_OK || mb->fd == -1) {
		return s;
	}
	s = take_session_lock(mb, chan);
	if (s != MBX_OK) {
		return s;
	}
	mb->lock.fd = mb->fd;
	mb->lock.helper = chan;
	return load(mb);
}

static off_t
region_end(const struct msg *msgs, size_t count, size_t i, off_t end)
{
	return i + 1 < count ? msgs[i + 1].from : end;
}

static int
same_message(const struct msg *a, const struct msg *b)
{
	return a->from == b->from && a->start == b->start && a->len == b->len &&
	    memcmp(a->hash, b->hash, sizeof(a->hash)) == 0;
}

static enum mbx_status
changed(struct mailbox *mb)
{
	return refuse(mb, MBX_CHANGED, "message changed by another program");
}

/* Whether the parsed region was exactly the listed message; ends r's scan. */
static enum mbx_status
compare(struct mailbox *mb, struct retrieval *r)
{
	struct msg *now;
	size_t count = 0;
	enum mbx_status s = MBX_OK;

	now = mbox_scan_finish(r->scan, r->next, &count);
	mbox_scan_free(r->scan);
	r->scan = NULL;
	if (now == NULL && count != 0) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	if (count != 1 || r->next != r->to || !same_message(&now[0], r->m) ||
	    now[0].size != r->m->size) {
		s = changed(mb);
	}
	free(now);
	return s;
}

/*
 * Reads the next piece of the region into buf and parses it; what the
 * parser leaves of it (a line not yet ended) starts the next piece. At the
 * end of the region, or of the file, the region is compared.
 */
static enum mbx_status
read_piece(struct mailbox *mb, struct retrieval *r)
{
	size_t want = READ_BUFFER;
	ssize_t n, used;
	int eof;

	mb->buf_holds = 0;
	r->off = r->next;
	r->handed = 0;
	if (r->to - r->off < READ_BUFFER) {
		want = (size_t)(r->to - r->off);
	}
	n = mailbox_read(mb, mb->buf, want, r->off);
	if (n == -1) {
		return refuse(mb, MBX_TEMP, "mailbox read error");
	}
	eof = (size_t)n < want || r->off + n == r->to;
	used = mbox_scan(r->scan, mb->buf, (size_t)n, r->off, eof);
	if (used == -1) {
		return changed(mb);
	}
	r->next = r->off + used;
	return eof ? compare(mb, r) : MBX_OK;
}

/*
 * The first piece of a region longer than buf: does it begin the listed
 * message and hold no other? An unchanged message always does; its From_
 * line has been read whole when it ends within the piece.
 */
static int
begins_listed(const struct retrieval *r)
{
	const struct msg *now;
	size_t count;

	now = mbox_scan_found(r->scan, &count);
	return count == 1 && now[0].from == r->m->from &&
	    (r->m->start > r->next || now[0].start == r->m->start);
}

enum mbx_status
mailbox_retrieve(struct mailbox *mb, size_t i, struct retrieval *r)
{
	enum mbx_status s;

	memset(r, 0, sizeof(*r));
	r->m = &mb->msgs[i];
	r->off = r->m->from;
	r->to = region_end(mb->msgs, mb->count, i, mb->end);
	r->next = r->to;
	if (mb->buf_holds == i + 1) {
		return MBX_OK;
	}
	r->next = r->off;
	r->scan = mbox_scan_new();
	if (r->scan == NULL) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	s = read_piece(mb, r);
	if (s == MBX_OK && r->scan == NULL) {
		mb->buf_holds = i + 1;
	} else if (s == MBX_OK && !begins_listed(r)) {
		s = changed(mb);
	}
	if (s != MBX_OK) {
		mailbox_done(r);
	}
	return s;
}

/* The listed message's bytes in the piece in buf; how many. */
static size_t
served_part(const struct mailbox *mb, const struct retrieval *r,
    const unsigned char **p)
{
	off_t from = r->off > r->m->start ? r->off : r->m->start;
	off_t to = r->m->start + r->m->len;

	if (to > r->next) {
		to = r->next;
	}
	if (to <= from) {
		return 0;
	}
	*p = mb->buf + (from - r->off);
	return (size_t)(to - from);
}

enum mbx_status
mailbox_next(struct mailbox *mb, struct retrieval *r, const unsigned char **p,
    size_t *len)
{
	enum mbx_status s;

	*len = 0;
	for (;;) {
		if (!r->handed) {
			r->handed = 1;
			*len = served_part(mb, r, p);
			if (*len > 0) {
				return MBX_OK;
			}
		}
		if (r->scan == NULL) {
			return MBX_OK;
		}
		s = read_piece(mb, r);
		if (s != MBX_OK) {
			return s;
		}
	}
}

void
mailbox_done(struct retrieval *r)
{
	mbox_scan_free(r->scan);
	r->scan = NULL;
}

static int
by_identity(const void *a, const void *b)
{
	const struct msg *x = *(const struct msg *const *)a;
	const struct msg *y = *(const struct msg *const *)b;
	int c = memcmp(x->hash, y->hash, sizeof(x->hash));

	if (c != 0) {
		return c;
	}
	return (x->dup > y->dup) - (x->dup < y->dup);
}

/* Pointers to msgs[0..count), by content hash and copy number. */
static struct msg **
by_content(struct msg *msgs, size_t count)
{
	struct msg **sorted = reallocarray(NULL, count + 1, sizeof(*sorted));
	size_t i;

	if (sorted == NULL) {
		return NULL;
	}
	for (i = 0; i < count; i++) {
		sorted[i] = &msgs[i];
	}
	qsort(sorted, count, sizeof(*sorted), by_identity);
	return sorted;
}

/*
 * The copies of m's content among sorted[0..count) (copy numbers run
 * from 0): the first, and in *n how many there are.
 */
static struct msg **
copies_of(struct msg **sorted, size_t count, const struct msg *m, size_t *n)
{
	struct msg key = *m, *k = &key, **first;

	key.dup = 0;
	*n = 0;
	first = bsearch(&k, sorted, count, sizeof(*sorted), by_identity);
	if (first == NULL) {
		return NULL;
	}
	while (first + *n < sorted + count &&
	    memcmp(first[*n]->hash, m->hash, sizeof(m->hash)) == 0) {
		(*n)++;
	}
	return first;
}

/* The mailbox indexed again at UPDATE, and its messages by content. */
struct rescan {
	struct msg	 *msgs;
	size_t		  count;
	off_t		  end;
	struct msg	**sorted;
};

/*
 * The message of the rescan that is the listed message m where the
 * listing put it: same place, same region, same content. NULL if none.
 */
static struct msg *
still_at(const struct mailbox *mb, const struct rescan *now,
    const struct msg *m)
{
	size_t lo = 0, hi = now->count, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (now->msgs[mid].from < m->from) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo == now->count || !same_message(&now->msgs[lo], m) ||
	    region_end(now->msgs, now->count, lo, now->end) !=
	    region_end(mb->msgs, mb->count, (size_t)(m - mb->msgs), mb->end)) {
		return NULL;
	}
	return &now->msgs[lo];
}

/*
 * The message of the rescan that is certainly the listed message m, or
 * NULL. Content found once in the listing and once now is the same
 * message, wherever it moved. Copies (content found more than once, in
 * the listing or now) differ only in their place, and a copy number
 * shifts when another program removes an earlier copy: m is taken only
 * while every listed copy is still where it was, unchanged.
 */
static struct msg *
certain_match(const struct mailbox *mb, struct msg **listed,
    const struct rescan *now, const struct msg *m)
{
	struct msg **mine, **found;
	size_t n_mine, n_found, k;

	mine = copies_of(listed, mb->count, m, &n_mine);
	found = copies_of(now->sorted, now->count, m, &n_found);
	if (n_found == 0) {
		return NULL;
	}
	if (n_mine == 1 && n_found == 1) {
		return found[0];
	}
	for (k = 0; k < n_mine; k++) {
		if (still_at(mb, now, mine[k]) == NULL) {
			return NULL;
		}
	}
	return still_at(mb, now, m);
}

/*
 * Marks in now the messages the client deleted that can be identified
 * with certainty; the others are kept, and counted.
 */
static enum mbx_status
match_deletions(struct mailbox *mb, struct msg **listed, struct rescan *now)
{
	struct msg *hit;
	size_t i;

	now->sorted = by_content(now->msgs, now->count);
	if (now->sorted == NULL) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	for (i = 0; i < mb->count; i++) {
		if (!mb->msgs[i].deleted) {
			continue;
		}
		hit = certain_match(mb, listed, now, &mb->msgs[i]);
		if (hit != NULL) {
			hit->deleted = 1;
		} else {
			mb->unmatched++;
		}
	}
	return MBX_OK;
}

/* Adds [off, off + len) to the kept regions r[0..*k), joined to the last. */
static void
keep(struct region *r, size_t *k, off_t off, off_t len)
{
	if (*k > 0 && r[*k - 1].off + r[*k - 1].len == off) {
		r[*k - 1].len += len;
		return;
	}
	r[*k].off = off;
	r[*k].len = len;
	(*k)++;
}

/*
 * The kept regions from the first deleted message on, in file order,
 * neighbours joined: the messages of now[] (which end at end) not marked
 * deleted, then [end, size). *base is -1 when nothing is to be deleted.
 */
static int
plan(const struct msg *now, size_t count, off_t end, off_t size,
    off_t *base, struct region **out, size_t *n)
{
	struct region *r;
	size_t i = 0, k = 0;

	while (i < count && !now[i].deleted) {
		i++;
	}
	*base = i == count ? -1 : now[i].from;
	*n = 0;
	*out = NULL;
	if (i == count) {
		return 0;
	}
	r = reallocarray(NULL, count - i + 1, sizeof(*r));
	if (r == NULL) {
		return -1;
	}
	for (; i < count; i++) {
		if (!now[i].deleted) {
			keep(r, &k, now[i].from,
			    region_end(now, count, i, end) - now[i].from);
		}
	}
	if (size > end) {
		keep(r, &k, end, size - end);
	}
	*out = r;
	*n = k;
	return 0;
}

/*
 * Applies the deletions marked in msgs[], an index of the mailbox up to
 * end, which now ends at size; fresh: the index was just made of [0, end),
 * so it also gives the digest of what precedes the first deletion, which
 * is else scanned.
 */
static enum mbx_status
rewrite(struct mailbox *mb, const struct msg *msgs, size_t count, off_t end,
    off_t size, int fresh)
{
	struct region *r;
	size_t n;
	off_t base;
	uint64_t prefix = 0;
	enum journal_result rc;

	if (plan(msgs, count, end, size, &base, &r, &n) == -1) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	if (base == -1) {
		return MBX_OK;
	}
	mb->buf_holds = 0;
	if (fresh) {
		prefix = index_digest(msgs, count, base);
	} else if (n > 0 && prefix_digest(mb, base, &prefix) == -1) {
		free(r);
		return refuse(mb, MBX_TEMP, "mailbox read error");
	}
	rc = journal_rewrite(mb->fd, mb->session_fd, base, r, n, size, prefix,
	    mb->buf, READ_BUFFER);
	free(r);
	switch (rc) {
	case JOURNAL_DONE:
		return MBX_OK;
	case JOURNAL_UNWRITTEN:
		return refuse(mb, MBX_TEMP, errno == ENOSPC ?
		    "no space for the update journal, nothing deleted" :
		    "the update journal cannot be written, nothing deleted");
	case JOURNAL_TRUNCATION:
		return refuse(mb, MBX_TEMP, "the mailbox cannot be truncated; "
		    "the deleted messages may remain");
	default:
		return refuse(mb, MBX_TEMP, "mailbox write error; the next "
		    "session completes the update");
	}
}

/*
 * Whether a message may begin at off of a mailbox of size bytes: at the
 * start or the end of the file, or at a From_ line after an empty line.
 */
static enum mbx_status
boundary(struct mailbox *mb, off_t off, off_t size)
{
	unsigned char b[8];
	size_t k = off < 3 ? (size_t)off : 3;
	ssize_t want = (ssize_t)k + 5;

	if (off == 0 || off == size) {
		return MBX_OK;
	}
	if (size - off < 5) {
		return MBX_CHANGED;
	}
	if (mailbox_read(mb, b, (size_t)want, off - (off_t)k) != want) {
		return refuse(mb, MBX_TEMP, "mailbox read error");
	}
	if (memcmp(b + k, "From ", 5) != 0 || b[k - 1] != '\n') {
		return MBX_CHANGED;
	}
	if (k == 1 || b[k - 2] == '\n' ||
	    (b[k - 2] == '\r' && (k == 2 || b[k - 3] == '\n'))) {
		return MBX_OK;
	}
	return MBX_CHANGED;
}

/*
 * Whether the deleted messages first..last-1 (neighbours) are still what
 * was listed, byte for byte, where they were, between two boundaries.
 */
static enum mbx_status
run_holds(struct mailbox *mb, size_t first, size_t last, off_t size)
{
	const struct msg *m = &mb->msgs[first];
	off_t to = region_end(mb->msgs, mb->count, last - 1, mb->end);
	struct msg *now = NULL;
	size_t count = 0, k;
	off_t end;
	enum mbx_status s;

	s = boundary(mb, m->from, size);
	if (s == MBX_OK) {
		s = boundary(mb, to, size);
	}
	if (s == MBX_OK) {
		s = scan_range(mb, m->from, to, &now, &count, &end);
	}
	if (s == MBX_OK && (count != last - first || end != to)) {
		s = MBX_CHANGED;
	}
	for (k = 0; s == MBX_OK && k < count; k++) {
		if (!same_message(&now[k], &m[k])) {
			s = MBX_CHANGED;
		}
	}
	free(now);
	return s;
}

/*
 * Which listed messages must be found unchanged before deleting without
 * a second index: the deleted ones, and every other copy of their
 * content, since copies are told apart only by their place
 * (certain_match()). NULL when out of memory.
 */
static unsigned char *
must_hold(const struct mailbox *mb, struct msg **listed)
{
	unsigned char *need = calloc(mb->count + 1, 1);
	struct msg **copy;
	size_t i, k, n;

	for (i = 0; need != NULL && i < mb->count; i++) {
		if (!mb->msgs[i].deleted) {
			continue;
		}
		need[i] = 1;
		copy = copies_of(listed, mb->count, &mb->msgs[i], &n);
		for (k = 0; n > 1 && k < n; k++) {
			need[copy[k] - mb->msgs] = 1;
		}
	}
	return need;
}

/*
 * Whether the listing still holds for every byte the update removes, and
 * for the other copies of what it removes. Runs of such messages are
 * checked VERIFY_RUN at a time, so that checking never costs a second
 * index of the mailbox.
 */
static enum mbx_status
deletions_hold(struct mailbox *mb, struct msg **listed, off_t size)
{
	unsigned char *need = must_hold(mb, listed);
	size_t i = 0, j;
	enum mbx_status s = MBX_OK;

	if (need == NULL) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	while (s == MBX_OK && i < mb->count) {
		if (!need[i]) {
			i++;
			continue;
		}
		j = i + 1;
		while (j < mb->count && j - i < VERIFY_RUN && need[j]) {
			j++;
		}
		s = run_holds(mb, i, j, size);
		i = j;
	}
	free(need);
	mb->buf_holds = 0;
	return s;
}

/*
 * The common case, without indexing the mailbox again: the deleted
 * messages are where the listing put them; the bytes kept move as they
 * are, mail appended since the listing included. MBX_CHANGED if not.
 */
static enum mbx_status
update_listed(struct mailbox *mb, struct msg **listed)
{
	struct stat st;
	enum mbx_status s;

	if (fstat(mb->fd, &st) == -1) {
		return refuse(mb, MBX_TEMP, "mailbox cannot be examined");
	}
	if (st.st_size < mb->end || st.st_size > MAILBOX_BYTES_MAX) {
		return MBX_CHANGED;
	}
	s = deletions_hold(mb, listed, st.st_size);
	if (s != MBX_OK) {
		return s;
	}
	return rewrite(mb, mb->msgs, mb->count, mb->end, st.st_size, 0);
}

/*
 * Another program rewrote the mailbox: index it again and find each
 * deleted message by its content (match_deletions()).
 */
static enum mbx_status
update_rescanned(struct mailbox *mb, struct msg **listed)
{
	struct rescan now = { NULL, 0, 0, NULL };
	enum mbx_status s;

	s = scan_range(mb, 0, -1, &now.msgs, &now.count, &now.end);
	if (s == MBX_OK) {
		s = match_deletions(mb, listed, &now);
	}
	if (s == MBX_OK) {
		s = rewrite(mb, now.msgs, now.count, now.end, now.end, 1);
	}
	free(now.sorted);
	free(now.msgs);
	return s;
}

/*
 * An MUA that rewrites the mailbox as a new file renamed over it leaves
 * the session the old, unlinked inode: deleting there would remove
 * nothing from the mailbox, yet tell the client it did.
 */
static enum mbx_status
still_named(struct mailbox *mb)
{
	struct stat named, opened;
	int gone = 0;

	if (fstatat(mb->dirfd, mb->path + mb->name, &named,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT) {
			return refuse(mb, MBX_TEMP, "mailbox cannot be "
			    "examined");
		}
		gone = 1;
	}
	if (fstat(mb->fd, &opened) == -1) {
		return refuse(mb, MBX_TEMP, "mailbox cannot be examined");
	}
	if (gone || named.st_dev != opened.st_dev ||
	    named.st_ino != opened.st_ino) {
		return refuse(mb, MBX_TEMP, "mailbox was replaced by another "
		    "program during the session, nothing deleted");
	}
	return MBX_OK;
}

enum mbx_status
mailbox_update(struct mailbox *mb)
{
	struct msg **listed;
	size_t i, deleted = 0;
	enum mbx_status s;

	for (i = 0; i < mb->count; i++) {
		deleted += mb->msgs[i].deleted;
	}
	if (deleted == 0) {
		return MBX_OK;
	}
	listed = by_content(mb->msgs, mb->count);
	if (listed == NULL) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	s = take_locks(mb);
	if (s == MBX_OK) {
		s = still_named(mb);
		if (s == MBX_OK) {
			s = update_listed(mb, listed);
		}
		if (s == MBX_CHANGED) {
			s = update_rescanned(mb, listed);
		}
		lock_release(&mb->lock);
	}
	free(listed);
	return s;
}

void
mailbox_close(struct mailbox *mb)
{
	if (mb->fd != -1) {
		close(mb->fd);
		mb->fd = -1;
	}
	if (mb->session_fd != -1) {
		close(mb->session_fd);
		mb->session_fd = -1;
	}
	if (mb->dirfd != -1) {
		close(mb->dirfd);
		mb->dirfd = -1;
	}
	free(mb->msgs);
	free(mb->buf);
	free(mb->xuidl_pool);
	mb->msgs = NULL;
	mb->buf = NULL;
	mb->xuidl_pool = NULL;
}
