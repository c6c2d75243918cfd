/* SPDX-License-Identifier: ISC */
/*
 * pop3d --recover: at boot, before mail is delivered, completes the
 * updates that a power loss (or a lock helper that died with its session)
 * left in the session files of the spool. Root only reads the spool's
 * directory and the owners of its files; each mailbox is recovered by a
 * child that is its owner with the spool's group (privsep.c), with the
 * lock helper's code (lockd.c) and thus the login's recovery.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "privsep.h"
#include "recover.h"

#define SUFFIX	".pop3d"

struct tally {
	unsigned int	 found;		/* journals with an update in flight */
	unsigned int	 done;		/* of those, completed or dropped */
	unsigned int	 failed;	/* children that could not finish */
};

enum entry_kind { NOTHING, LEFT_ALONE, WORK };

/*
 * Work for a child: a journal in the session file, or a dot-lock beside
 * it (a crash between two updates leaves one: removed when made before
 * the boot). Mailbox and session file must be plain files of one owner;
 * else the entry is left alone.
 */
static enum entry_kind
needs_child(int dirfd, const char *name, const char *journal,
    struct stat *mst, int *inflight)
{
	char lock[NAME_MAX + 1];
	struct stat jst, lst;

	if (fstatat(dirfd, journal, &jst, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(jst.st_mode)) {
		return NOTHING;
	}
	*inflight = jst.st_size > 0;
	if (!*inflight && (snprintf(lock, sizeof(lock), "%s.lock", name) >=
	    (int)sizeof(lock) || fstatat(dirfd, lock, &lst,
	    AT_SYMLINK_NOFOLLOW) == -1)) {
		return NOTHING;
	}
	if (fstatat(dirfd, name, mst, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(mst->st_mode) || mst->st_uid != jst.st_uid ||
	    mst->st_uid == 0) {
		return LEFT_ALONE;
	}
	return WORK;
}

/*
 * The owner's uid, and the gid a session of theirs would have; without a
 * passwd entry (a --passwd-file account), the mailbox's group.
 */
static void
owner_of(const struct stat *st, struct account *a)
{
	struct passwd *pw = getpwuid(st->st_uid);

	memset(a, 0, sizeof(*a));
	a->uid = st->st_uid;
	a->gid = pw != NULL ? pw->pw_gid : st->st_gid;
}

static void
recover_entry(int dirfd, const char *dir, const char *entry,
    struct tally *t)
{
	char name[NAME_MAX + 1], path[PATH_MAX], shown[4 * NAME_MAX + 1];
	size_t len = strlen(entry), slen = strlen(SUFFIX);
	enum entry_kind kind;
	struct account a;
	struct stat st;
	int inflight;

	if (len <= slen || strcmp(entry + len - slen, SUFFIX) != 0) {
		return;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(len - slen), entry);
	kind = needs_child(dirfd, name, entry, &st, &inflight);
	if (kind == NOTHING) {
		return;
	}
	/* the spool may be 1777: a name can hold any byte but '/' */
	log_escape(shown, sizeof(shown), (const unsigned char *)name,
	    strlen(name));
	t->found += (unsigned int)inflight;
	if (kind == LEFT_ALONE) {
		log_msg(inflight ? LOG_ERR : LOG_WARNING, "recover: %s/%s%s "
		    "left alone: no plain mailbox of the same owner (not root) "
		    "beside it", dir, shown, SUFFIX);
		t->failed += (unsigned int)inflight;
		return;
	}
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path)) {
		t->failed++;
		return;
	}
	owner_of(&st, &a);
	log_msg(LOG_NOTICE, "recover: %s/%s (uid %lu)%s", dir, shown,
	    (unsigned long)a.uid, inflight ? ", an interrupted update" : "");
	if (recover_as_owner(&a, path) == -1) {
		t->failed++;
	} else {
		t->done += (unsigned int)inflight;
	}
}

int
spool_of(const char *tmpl, char *dir, size_t len)
{
	const char *slash = strrchr(tmpl, '/');
	size_t n;

	if (slash == NULL) {
		return -1;
	}
	n = slash == tmpl ? 1 : (size_t)(slash - tmpl);
	if (n >= len || memchr(tmpl, '%', n) != NULL) {
		return -1;
	}
	memcpy(dir, tmpl, n);
	dir[n] = '\0';
	return 0;
}

static void
scan(DIR *d, const char *dir, struct tally *t)
{
	struct dirent *e;

	while ((e = readdir(d)) != NULL) {
		recover_entry(dirfd(d), dir, e->d_name, t);
	}
}

int
recover_spool(const char *tmpl)
{
	struct tally t = { 0, 0, 0 };
	char dir[PATH_MAX];
	DIR *d;

	if (geteuid() != 0) {
		fprintf(stderr, "pop3d: --recover must run as root\n");
		return EX_NOPERM;
	}
	if (spool_of(tmpl, dir, sizeof(dir)) == -1) {
		fprintf(stderr, "pop3d: --recover: the mailbox template %s has "
		    "no fixed directory to scan; mailboxes in home directories "
		    "are recovered by their lock helper or at the next login\n",
		    tmpl);
		return EX_CONFIG;
	}
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT) {
			printf("pop3d: --recover: no spool %s, nothing to do\n",
			    dir);
			return 0;
		}
		log_msg(LOG_ERR, "recover: cannot read %s: %s", dir,
		    strerror(errno));
		return EX_OSERR;
	}
	scan(d, dir, &t);
	closedir(d);
	log_msg(t.failed > 0 ? LOG_ERR : LOG_INFO, "recover: %s: %u "
	    "interrupted updates, %u completed; %u mailboxes failed", dir,
	    t.found, t.done, t.failed);
	printf("pop3d: --recover: %s: %u interrupted updates, %u completed; "
	    "%u mailboxes failed\n", dir, t.found, t.done, t.failed);
	return t.failed > 0 ? 1 : 0;
}
