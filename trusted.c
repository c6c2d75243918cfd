/* SPDX-License-Identifier: ISC */
/*
 * The rule for files the server trusts with credentials (trusted.h), as
 * sshd applies it to its own files. Runs at start in main() and at every
 * open in the monitor's auth worker: as root, or as the one user pop3d
 * was started as. A file is only as safe as the directories above it:
 * whoever may rename entries in one of them may put another file in its
 * place after the check, so each is opened through the descriptor of the
 * one before it and checked on its own descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trusted.h"

/* A path, a uid or two and a hint: what one refusal says. */
#define REASON_MAX	(PATH_MAX + 192)

static char reason[REASON_MAX];

static int __attribute__((format(printf, 2, 3)))
refuse(const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* Truncation only shortens a log text. */
	(void)vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	*why = reason;
	return -1;
}

/* Who may own the file and the directories: root, or the server's user. */
static int
owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

static const char *
owners(void)
{
	static char text[48];

	if (geteuid() == 0) {
		return "root";
	}
	(void)snprintf(text, sizeof(text), "root or uid %u",
	    (unsigned int)geteuid());
	return text;
}

/*
 * The directory fd, which is (path, len): another user could rename or
 * replace the entries of a directory they own or may write. In a sticky
 * one (/tmp) they cannot touch entries they do not own, and the next name
 * on the path must be owned by root or the server's user anyway.
 */
static int
dir_ok(int fd, const char *path, size_t len, const char **why)
{
	struct stat st;
	int n = (int)len;

	if (fstat(fd, &st) == -1) {
		return refuse(why, "%.*s: %s", n, path, strerror(errno));
	}
	if (S_ISLNK(st.st_mode)) {
		return refuse(why, "%.*s is a symbolic link: name the real "
		    "path (realpath %.*s)", n, path, n, path);
	}
	if (!S_ISDIR(st.st_mode)) {
		return refuse(why, "%.*s is not a directory", n, path);
	}
	if (!owner_ok(&st)) {
		return refuse(why, "directory %.*s is owned by uid %u, not by "
		    "%s: another user could replace the file", n, path,
		    (unsigned int)st.st_uid, owners());
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (st.st_mode & S_ISVTX) == 0) {
		return refuse(why, "directory %.*s is writable by group or "
		    "others: chmod go-w %.*s", n, path, n, path);
	}
	return 0;
}

/* The file fd, which is path; its fstat() in *st. */
static int
file_ok(int fd, const char *path, struct stat *st, const char **why)
{
	if (fstat(fd, st) == -1) {
		return refuse(why, "%s: %s", path, strerror(errno));
	}
	if (!S_ISREG(st->st_mode)) {
		return refuse(why, "%s is not a regular file", path);
	}
	if (!owner_ok(st)) {
		return refuse(why, "%s is owned by uid %u, not by %s", path,
		    (unsigned int)st->st_uid, owners());
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		return refuse(why, "%s is writable by group or others: "
		    "chmod go-w %s", path, path);
	}
	return 0;
}

/*
 * The directory name in dir, which is path up to len: its descriptor
 * (O_PATH: nothing is read), or -1. O_NOFOLLOW makes a symbolic link
 * open as itself, so that dir_ok() sees and names it.
 */
static int
open_dir(int dir, const char *name, const char *path, size_t len,
    const char **why)
{
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd == -1) {
		return refuse(why, "%.*s: %s", (int)len, path, strerror(errno));
	}
	if (dir_ok(fd, path, len, why) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The file name in dir. O_NONBLOCK keeps a FIFO from blocking the open
 * (file_ok() then refuses it); O_NOFOLLOW refuses a link with ELOOP.
 */
static int
open_file(int dir, const char *name, const char *path, struct stat *st,
    const char **why)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY);

	if (fd == -1 && errno == ELOOP) {
		return refuse(why, "%s is a symbolic link: name the file "
		    "itself", path);
	}
	if (fd == -1) {
		return refuse(why, "%s: %s", path, strerror(errno));
	}
	if (file_ok(fd, path, st, why) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The name that starts at or after *at in (path, len), copied into name
 * (NAME_MAX + 1 bytes), *at moved past it: 1; 0 at the end of the path;
 * -1 when it is too long.
 */
static int
next_name(const char *path, size_t len, size_t *at, char *name)
{
	size_t start = *at, end;

	while (start < len && path[start] == '/') {
		start++;
	}
	end = start;
	while (end < len && path[end] != '/') {
		end++;
	}
	if (end == start) {
		return 0;
	}
	if (end - start > NAME_MAX) {
		return -1;
	}
	memcpy(name, path + start, end - start);
	name[end - start] = '\0';
	*at = end;
	return 1;
}

int
trusted_open(const char *path, struct stat *st, const char **why)
{
	char name[NAME_MAX + 1];
	size_t len = strnlen(path, PATH_MAX), at = 0;
	int dir, next, more;

	if (len == 0 || len == PATH_MAX || path[0] != '/') {
		return refuse(why, "%s is not an absolute path", path);
	}
	if ((dir = open_dir(AT_FDCWD, "/", "/", 1, why)) == -1) {
		return -1;
	}
	more = next_name(path, len, &at, name);
	while (more == 1 && at < len) {
		next = open_dir(dir, name, path, at, why);
		close(dir);
		if (next == -1) {
			return -1;
		}
		dir = next;
		more = next_name(path, len, &at, name);
	}
	if (more != 1) {
		close(dir);
		return refuse(why, "%s: %s", path, more == 0 ?
		    "names a directory, not a file" : strerror(ENAMETOOLONG));
	}
	next = open_file(dir, name, path, st, why);
	close(dir);
	return next;
}
