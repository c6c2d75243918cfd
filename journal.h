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
#include <sys/types.h>

struct region {
	off_t		 off;
	off_t		 len;
};

/*
 * Makes the mailbox mfd read [0, base) followed by the regions (which lie
 * at or after base, in order), where it now ends at old_size. jfd is the
 * empty session file; buf (len bytes) is scratch space. 0 on success; -1
 * with errno if the journal could not be written (the mailbox is then
 * untouched) or if the mailbox could not be rewritten (the journal then
 * finishes the job at the next session).
 */
int	journal_rewrite(int, int, off_t, const struct region *, size_t, off_t,
	    unsigned char *, size_t);

/*
 * Completes a rewrite a crash interrupted, if jfd holds one. 0 when there
 * was nothing to do or it is done; -1 with errno when it cannot be done
 * now (the journal is kept).
 */
int	journal_recover(int, int, unsigned char *, size_t);

#endif
