#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
rename_over: a mailbox replaced by rename during the session is not
updated through the old file (doc/guarantees.md: +OK to
QUIT means the deleted messages are gone from the mailbox).

The defect it guards: an MUA that rewrites the mailbox as mbox.new and
renames it over the mailbox left the session holding the old, unlinked
inode; DELE and QUIT then answered "+OK bye" after deleting from that
inode, and the messages stayed at the path. Now UPDATE, under the locks,
checks that the path still names the file opened; if not, nothing is
deleted and QUIT answers -ERR [SYS/TEMP], logged once.

  expunged_during_retr: during a stalled RETR 2 (a message of 400 KB)
      another program writes the mailbox without message 1 to mbox.new
      and renames it over; the client reads the rest, DELE 2, QUIT.
  unchanged_copy: the same bytes renamed over; DELE 1, QUIT.

Each: QUIT answers -ERR [SYS/TEMP] ... replaced ...; the file at the path
is what the other program wrote; one "update failed" log line; a second
session deletes the message for real (+OK, message gone). Runs as root
(privilege separation, as nobody) or as a normal user; POP3D=path
overrides ./pop3d. The last line is "N passed, M failed".
"""

import os
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from integrity import harness  # noqa: E402
from integrity.harness import Session  # noqa: E402
from integrity.mbox import Msg, parse, serialize  # noqa: E402
from integrity.tally import check, run_parts  # noqa: E402



def from_line(i):
    return b"From x%d@example.org Mon Jan  1 00:00:0%d 2024\n" % (i, i)


def messages():
    big = b"".join(b"line %07d of text\n" % i for i in range(20000))
    return [Msg(from_line(1), b"Subject: one\n\nshort\n"),
            Msg(from_line(2), b"Subject: two\n\n" + big),
            Msg(from_line(3), b"Subject: three\n\nthird\n")]


def rename_over(env, path, data):
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    if env.root:
        os.chown(tmp, env.uid, env.gid)
    os.rename(tmp, path)


def read_rest(s):
    try:
        s.multiline()
        return True
    except (EOFError, harness.ProtocolError, OSError):
        return False


def expunged_during_retr(env, s, path):
    s.send("RETR 2")
    status = s.line()
    s.rf.read(20000)
    time.sleep(0.4)
    rename_over(env, path, serialize(messages()[1:]))
    check(status.startswith(b"+OK") and read_rest(s),
          "expunged_during_retr: RETR 2 served whole from the old file")
    s.dele(2)
    return from_line(2)


def unchanged_copy(env, s, path):
    rename_over(env, path, open(path, "rb").read())
    s.dele(1)
    return from_line(1)


def run(env, name, drive):
    path = os.path.join(env.mail, name)
    env.write_mailbox(path, serialize(messages()))
    s = Session(env, path, io_timeout=30)
    s.login_ok()
    deleted = drive(env, s, path)
    renamed = open(path, "rb").read()
    q = s.quit()
    s.close()
    check(q is not None and q.startswith(b"-ERR [SYS/TEMP]") and
          b"replaced" in q, name + ": QUIT answers -ERR [SYS/TEMP]", repr(q))
    check(open(path, "rb").read() == renamed,
          name + ": the mailbox at the path is untouched")
    log = open(s.log, errors="replace").read()
    check(log.count("update failed") == 1 and "replaced" in log,
          name + ": one log line says why", s.log_tail())
    s = Session(env, path, io_timeout=30)
    s.login_ok()
    n = [m.from_line for m in parse(renamed)].index(deleted) + 1
    s.dele(n)
    q = s.quit()
    s.close()
    after = [m.from_line for m in parse(open(path, "rb").read())]
    check(q == b"+OK bye" and deleted not in after,
          name + ": the next session deletes it", "%r %r" % (q, after))


def main():
    return run_parts([
        lambda env: run(env, "expunged_during_retr", expunged_during_retr),
        lambda env: run(env, "unchanged_copy", unchanged_copy)])


if __name__ == "__main__":
    sys.exit(main())
