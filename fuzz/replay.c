/* SPDX-License-Identifier: ISC */
/*
 * Replays inputs through a fuzz target without libFuzzer, for "make
 * check": every argument is a file or a directory whose files are run
 * once each, in name order. A crash, a sanitizer report or a violated
 * invariant ends the process with a failure status and names the input.
 * Not part of pop3d.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sanitizer/common_interface_defs.h>

#include "fuzz.h"

extern const char *fuzz_current_input;

static void
name_input(void)
{
	if (fuzz_current_input != NULL) {
		fprintf(stderr, "replay: failing input: %s\n",
		    fuzz_current_input);
	}
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL, *p;
	size_t cap = 0;
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		return NULL;
	}
	*len = 0;
	do {
		if (*len == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			p = realloc(buf, cap);
			if (p == NULL) {
				abort();
			}
			buf = p;
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	return buf;
}

/* The input goes in a block of exactly its size, as libFuzzer does. */
static int
run_file(const char *path)
{
	unsigned char *buf, *exact;
	size_t len = 0;

	buf = slurp(path, &len);
	if (buf == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	exact = fuzz_dup(buf, len);
	free(buf);
	fuzz_current_input = path;
	LLVMFuzzerTestOneInput(exact, len);
	fuzz_current_input = NULL;
	free(exact);
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
run_dir(const char *dir, size_t *count)
{
	char path[PATH_MAX];
	struct dirent **names;
	struct stat st;
	int i, n, rc = 0;

	n = scandir(dir, &names, NULL, by_name);
	if (n == -1) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]->d_name) < (int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			rc |= run_file(path);
			(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat st;
	size_t count = 0;
	int i, rc = 0;

	__sanitizer_set_death_callback(name_input);
	if (LLVMFuzzerInitialize != NULL) {
		LLVMFuzzerInitialize(&argc, &argv);
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			rc |= run_dir(argv[i], &count);
		} else {
			rc |= run_file(argv[i]);
			count++;
		}
	}
	/* The last line in the form tests/run adds up. */
	printf("replay %s: %zu inputs\n%zu passed, %d failed\n", argv[0],
	    count, count, rc == 0 ? 0 : 1);
	return rc == 0 ? 0 : 1;
}
