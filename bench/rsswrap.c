/* SPDX-License-Identifier: ISC */
/*
 * rsswrap: runs a command, waits for it, and appends to FILE the largest
 * resident set size of the command and of every descendant that was
 * waited for (getrusage(RUSAGE_CHILDREN)), as "maxrss_kb=N status=S".
 *
 *	rsswrap FILE COMMAND [ARG...]
 *
 * Meant to sit between a superserver and the server it starts (or in
 * Dovecot's "executable ="): the command inherits every descriptor; this
 * process lets go of the connection on fds 0 and 1 so that the client sees
 * the server's close, not ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage ru;
	char line[128];
	pid_t pid;
	int fd, null, st = 0, n;

	if (argc < 3) {
		fprintf(stderr, "usage: rsswrap FILE COMMAND [ARG...]\n");
		return 64;
	}
	pid = fork();
	if (pid == -1) {
		return 71;
	}
	if (pid == 0) {
		execv(argv[2], argv + 2);
		_exit(127);
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
	}
	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR) {
			return 71;
		}
	}
	if (getrusage(RUSAGE_CHILDREN, &ru) == -1) {
		return 71;
	}
	n = snprintf(line, sizeof(line), "maxrss_kb=%ld status=%d pid=%ld\n",
	    ru.ru_maxrss, WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
	    WTERMSIG(st), (long)pid);
	fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd != -1) {
		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
