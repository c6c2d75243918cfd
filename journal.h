/* SPDX-License-Identifier: ISC */
/*
 * Crash-safe rewriting of a mailbox in place. The new tail of the mailbox
 * is first written to the session file beside it and synced; only then is
 * the mailbox overwritten, truncated and synced, and the journal cleared.
 * A crash (kill -9, power loss) at any instant leaves either the old
 * mailbox or a journal that journal_recover() completes, keeping mail
 * delivered after the crash. Runs as the user, under the mailbox locks.
 */
#ifndef POP3D_JOURNAL_H
#define POP3D_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct region {
	off_t		 off;
	off_t		 len;
};

/*
 * What the mailbox's [0, base) holds, as a digest of its message index:
 * recovery compares it before it writes anything, so that a journal is
 * never applied to a mailbox another program rewrote after the crash.
 * 0 on success, -1 if it cannot be computed.
 */
typedef int journal_digest_fn(void *, off_t, uint64_t *);

enum journal_result {
	JOURNAL_DONE,
	JOURNAL_UNWRITTEN,	/* the journal could not be written: the
				   mailbox is untouched (errno says why) */
	JOURNAL_PENDING,	/* the mailbox could not be rewritten: the
				   next session completes the journal */
	JOURNAL_TRUNCATION	/* nothing was kept after base, and the
				   truncation that is the whole rewrite
				   failed: the mailbox is as it was before
				   or as it should be */
};

/*
 * Makes the mailbox mfd read [0, base) followed by the regions (which lie
 * at or after base, in order), where it now ends at old_size; prefix is
 * the digest of [0, base). jfd is the empty session file; buf (len bytes)
 * is scratch space. Without regions the rewrite is a truncation, which
 * needs no journal (prefix is then not used).
 */
enum journal_result journal_rewrite(int, int, off_t, const struct region *,
	    size_t, off_t, uint64_t, unsigned char *, size_t);

/*
 * Completes a rewrite a crash interrupted, if jfd holds one; a journal
 * that no longer fits the mailbox, or whose header cannot be true (its
 * lengths beyond the journal's size or MAILBOX_BYTES_MAX), is dropped
 * before anything it names is read (deleted messages then stay).
 * 0 when done or nothing was to do; -1 with errno when it cannot be done
 * now (the journal is kept).
 */
int	journal_recover(int, int, journal_digest_fn *, void *, unsigned char *,
	    size_t);

#endif
