/* SPDX-License-Identifier: ISC */
/*
 * Large reads of the mailbox through bounded mmap() windows.
 *
 * Touching a mapped page past the end of a file raises SIGBUS, and the
 * locks only bind the programs that take them: an editor that ignores
 * them could truncate the mailbox while the session reads it. The
 * handler puts zero pages over the rest of the window, notes the loss
 * and returns, so the access is retried and reads zeros; the caller
 * checks window_lost() after reading and throws away what it read. A
 * SIGBUS anywhere else is not ours: it kills the process as before.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "window.h"

/* The live window, as the handler sees it. */
static unsigned char *volatile live_map;
static volatile size_t live_len;
static volatile sig_atomic_t lost;
static size_t page_size;

/* The fault was not in the window: let it kill the process. */
static void
default_action(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(sig, &sa, NULL);
}

static void
on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	uintptr_t base = (uintptr_t)live_map, at = (uintptr_t)si->si_addr;
	uintptr_t page;
	int saved = errno;

	(void)ctx;
	if (base == 0 || at < base || at - base >= live_len) {
		default_action(sig);
		return;
	}
	page = at & ~(uintptr_t)(page_size - 1);
	if (mmap((void *)page, base + live_len - page, PROT_READ,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
		default_action(sig);
	}
	lost = 1;
	errno = saved;
}

static int
catch_sigbus(void)
{
	struct sigaction sa;
	long n;

	if (page_size != 0) {
		return 0;
	}
	n = sysconf(_SC_PAGESIZE);
	if (n <= 0) {
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) == -1) {
		return -1;
	}
	page_size = (size_t)n;
	return 0;
}

const unsigned char *
window_map(struct window *w, int fd, off_t off, size_t len)
{
	size_t skip;
	void *p;

	window_unmap(w);
	if (catch_sigbus() == -1) {
		return NULL;
	}
	skip = (size_t)off & (page_size - 1);
	p = mmap(NULL, skip + len, PROT_READ, MAP_PRIVATE, fd,
	    off - (off_t)skip);
	if (p == MAP_FAILED) {
		return NULL;
	}
	w->map = p;
	w->len = skip + len;
	lost = 0;
	live_len = w->len;
	live_map = w->map;
	return w->map + skip;
}

void
window_unmap(struct window *w)
{
	if (w->map == NULL) {
		return;
	}
	live_map = NULL;
	live_len = 0;
	lost = 0;
	(void)munmap(w->map, w->len);
	w->map = NULL;
	w->len = 0;
}

int
window_lost(void)
{
	return live_map != NULL && lost;
}
