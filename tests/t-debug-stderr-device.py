#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
debug_stderr_device: with -d and stderr on a character device (/dev/null,
a terminal), a session logs in, serves and quits.

The defect it guards: the debug copy of a log line goes to stderr through
stdio, which asks with ioctl(TCGETS) whether stderr is a terminal; the
session's system call filter did not allow that ioctl, so the session
died of SIGSYS at its first log line after the filter was in place. The
filter now answers it with ENOTTY. Builds with SANITIZE=1 allow the ioctl
for the sanitizers and so never showed it.

Runs as root (privilege separation, as nobody) or as a normal user;
POP3D=path overrides ./pop3d. The last line is "N passed, M failed".
"""

import os
import socket
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from integrity.harness import PASSWORD  # noqa: E402
from integrity.mbox import Msg, serialize  # noqa: E402
from integrity.tally import check, run_parts  # noqa: E402

LIMIT = 30


def session_with_stderr(env, mailbox, stderr):
    """USER, PASS, STAT, QUIT with -d; (replies, exit status)."""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(env.command(mailbox) + ["-d"], stdin=theirs,
                            stdout=theirs, stderr=stderr, close_fds=True)
    theirs.close()
    ours.settimeout(LIMIT)
    ours.sendall(("USER %s\r\nPASS %s\r\nSTAT\r\nQUIT\r\n" %
                  (env.user, PASSWORD)).encode())
    replies = b""
    try:
        while True:
            data = ours.recv(65536)
            if not data:
                break
            replies += data
    except OSError:
        pass
    ours.close()
    return replies.decode(errors="replace"), proc.wait(timeout=LIMIT)


def stderr_on_dev_null(env):
    mailbox = os.path.join(env.mail, env.user)
    env.write_mailbox(mailbox, serialize([
        Msg(b"From a@example.org Mon Jan  1 00:00:00 2024\n",
            b"Subject: one\n\nbody\n")]))
    with open("/dev/null", "wb") as null:
        replies, status = session_with_stderr(env, mailbox, null)
    lines = replies.splitlines()
    check(status == 0, "-d, stderr /dev/null: the session exits 0",
          "exit status %d (-31 is SIGSYS)\n%s" % (status, replies))
    check(len(lines) == 5 and lines[3].startswith("+OK 1 ") and
          lines[4].startswith("+OK"),
          "-d, stderr /dev/null: STAT and QUIT answered", replies)


if __name__ == "__main__":
    sys.exit(run_parts([stderr_on_dev_null]))
