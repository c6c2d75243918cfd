/*
 * The maildrop: open without following links, lock briefly, index,
 * serve message bytes, apply deletions at QUIT. Runs as the user.
 *
 * Locks are held only while indexing and while updating, never for the
 * session, so that an idle POP3 client never delays a delivery.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mailbox.h"
#include "params.h"

static int
append(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	if (n >= outlen - *o) {
		return -1;
	}
	memcpy(out + *o, s, n);
	*o += n;
	return 0;
}

int
mailbox_path(char *out, size_t outlen, const char *tmpl, const char *user,
    const char *home)
{
	size_t o = 0;
	const char *p, *s;
	int r;

	if (outlen == 0) {
		return -1;
	}
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%') {
			r = append(out, outlen, &o, p, 1);
		} else if (*++p == 'u' || *p == 'h') {
			s = *p == 'u' ? user : home;
			r = append(out, outlen, &o, s, strlen(s));
		} else if (*p == '%') {
			r = append(out, outlen, &o, "%", 1);
		} else {
			return -1;
		}
		if (r == -1) {
			return -1;
		}
	}
	out[o] = '\0';
	return out[0] == '/' ? 0 : -1;
}

static enum mbx_status
refuse(struct mailbox *mb, enum mbx_status st, const char *problem)
{
	mb->problem = problem;
	return st;
}

static enum mbx_status
open_failed(struct mailbox *mb, int err)
{
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

/* The file must be the user's own plain mailbox and nothing else. */
static enum mbx_status
check_file(struct mailbox *mb, const struct stat *st)
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
	if (st->st_size > MAILBOX_BYTES_MAX) {
		return refuse(mb, MBX_PERM, "mailbox is too large");
	}
	return MBX_OK;
}

/*
 * lstat() first so that no device or FIFO is ever opened; O_NOFOLLOW and
 * the inode comparison close the race with a rename in between.
 */
static enum mbx_status
open_file(struct mailbox *mb)
{
	struct stat before, st;
	enum mbx_status s;

	if (lstat(mb->path, &before) == -1) {
		return open_failed(mb, errno);
	}
	if (S_ISLNK(before.st_mode)) {
		return open_failed(mb, ELOOP);
	}
	s = check_file(mb, &before);
	if (s != MBX_OK) {
		return s;
	}
	mb->fd = open(mb->path,
	    O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (mb->fd == -1) {
		return open_failed(mb, errno);
	}
	if (fstat(mb->fd, &st) == -1) {
		return refuse(mb, MBX_TEMP, "mailbox cannot be examined");
	}
	if (st.st_dev != before.st_dev || st.st_ino != before.st_ino) {
		return refuse(mb, MBX_TEMP, "mailbox was replaced while opened");
	}
	return check_file(mb, &st);
}

ssize_t
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

/* Indexes [0, EOF) into *msgs; the caller holds the lock. */
static enum mbx_status
scan_file(struct mailbox *mb, struct msg **msgs, size_t *count, off_t *end)
{
	struct scan *s = mbox_scan_new();
	size_t have = 0, got;
	ssize_t n, used;
	off_t off = 0;
	int eof = 0;

	if (s == NULL) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	while (!eof) {
		n = mailbox_read(mb, mb->buf + have, READ_BUFFER - have,
		    off + (off_t)have);
		if (n == -1) {
			mbox_scan_free(s);
			return refuse(mb, MBX_TEMP, "mailbox read error");
		}
		got = have + (size_t)n;
		eof = got < READ_BUFFER;
		used = mbox_scan(s, mb->buf, got, off, eof);
		if (used == -1 || off + used > MAILBOX_BYTES_MAX) {
			mbox_scan_free(s);
			return refuse(mb, MBX_PERM, "mailbox has too many messages");
		}
		memmove(mb->buf, mb->buf + used, got - (size_t)used);
		have = got - (size_t)used;
		off += used;
	}
	*end = off;
	*msgs = mbox_scan_finish(s, off, count);
	mbox_scan_free(s);
	if (*msgs == NULL && *count != 0) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	return MBX_OK;
}

static enum mbx_status
locked(struct mailbox *mb)
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

enum mbx_status
mailbox_open(struct mailbox *mb, const char *path)
{
	enum mbx_status s;
	size_t n = strlen(path);

	memset(mb, 0, sizeof(*mb));
	mb->fd = -1;
	if (n >= sizeof(mb->path)) {
		return refuse(mb, MBX_PERM, "mailbox path too long");
	}
	memcpy(mb->path, path, n + 1);
	mb->buf = malloc(READ_BUFFER);
	if (mb->buf == NULL) {
		return refuse(mb, MBX_TEMP, "out of memory");
	}
	s = open_file(mb);
	if (s != MBX_OK || mb->fd == -1) {
		return s;
	}
	mb->lock.fd = mb->fd;
	mb->lock.path = mb->path;
	s = locked(mb);
	if (s != MBX_OK) {
		return s;
	}
	s = scan_file(mb, &mb->msgs, &mb->count, &mb->end);
	lock_release(&mb->lock);
	return s;
}

static int
same_index(const struct msg *a, const struct msg *b, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (a[i].from != b[i].from || a[i].len != b[i].len ||
		    memcmp(a[i].hash, b[i].hash, sizeof(a[i].hash)) != 0) {
			return 0;
		}
	}
	return 1;
}

/*
 * Another program may have rewritten the mailbox since we indexed it:
 * deletions are applied only to exactly the messages that were listed.
 */
static enum mbx_status
verify_unchanged(struct mailbox *mb)
{
	struct msg *now = NULL;
	size_t count = 0;
	off_t end;
	enum mbx_status s;

	s = scan_file(mb, &now, &count, &end);
	if (s != MBX_OK) {
		return s;
	}
	if (end < mb->end || count < mb->count ||
	    !same_index(now, mb->msgs, mb->count) ||
	    (count > mb->count && now[mb->count].from != mb->end)) {
		s = refuse(mb, MBX_CHANGED, "mailbox changed during the session");
	}
	free(now);
	return s;
}

/* Moves [src, src + len) down to dst; dst <= src, so forward is safe. */
static int
move_down(struct mailbox *mb, off_t dst, off_t src, off_t len)
{
	ssize_t n, w;
	size_t chunk;

	while (len > 0) {
		chunk = len > READ_BUFFER ? READ_BUFFER : (size_t)len;
		n = mailbox_read(mb, mb->buf, chunk, src);
		if (n != (ssize_t)chunk) {
			return -1;
		}
		w = pwrite(mb->fd, mb->buf, chunk, dst);
		if (w != (ssize_t)chunk) {
			return -1;
		}
		dst += (off_t)chunk;
		src += (off_t)chunk;
		len -= (off_t)chunk;
	}
	return 0;
}

static off_t
region_end(const struct mailbox *mb, size_t i)
{
	return i + 1 < mb->count ? mb->msgs[i + 1].from : mb->end;
}

static enum mbx_status
compact(struct mailbox *mb)
{
	struct stat st;
	size_t i = 0;
	off_t dst;

	while (i < mb->count && !mb->msgs[i].deleted) {
		i++;
	}
	dst = mb->msgs[i].from;
	for (; i < mb->count; i++) {
		if (mb->msgs[i].deleted) {
			continue;
		}
		if (move_down(mb, dst, mb->msgs[i].from,
		    region_end(mb, i) - mb->msgs[i].from) == -1) {
			return refuse(mb, MBX_TEMP, "mailbox write error");
		}
		dst += region_end(mb, i) - mb->msgs[i].from;
	}
	if (fstat(mb->fd, &st) == -1 ||
	    move_down(mb, dst, mb->end, st.st_size - mb->end) == -1 ||
	    ftruncate(mb->fd, dst + (st.st_size - mb->end)) == -1 ||
	    fsync(mb->fd) == -1) {
		return refuse(mb, MBX_TEMP, "mailbox write error");
	}
	return MBX_OK;
}

enum mbx_status
mailbox_update(struct mailbox *mb)
{
	enum mbx_status s;
	size_t i, deleted = 0;

	for (i = 0; i < mb->count; i++) {
		deleted += mb->msgs[i].deleted;
	}
	if (deleted == 0) {
		return MBX_OK;
	}
	s = locked(mb);
	if (s != MBX_OK) {
		return s;
	}
	s = verify_unchanged(mb);
	if (s == MBX_OK) {
		s = compact(mb);
	}
	lock_release(&mb->lock);
	return s;
}

void
mailbox_close(struct mailbox *mb)
{
	if (mb->fd != -1) {
		close(mb->fd);
		mb->fd = -1;
	}
	free(mb->msgs);
	free(mb->buf);
	mb->msgs = NULL;
	mb->buf = NULL;
}
