#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
retr_foreign_rewrite: RETR and TOP never send bytes other than the listed
message followed by the final "." (doc/guarantees.md).

The defect it guards: a message longer than a read buffer (256 KiB) was
checked once, then read again in pieces to be sent. A client that reads
slowly keeps the session inside RETR; another program that takes both
Debian locks (fcntl on the whole file, MAILBOX.lock made by link()) and
expunges a message in place (pwrite the rest at 0, ftruncate, fsync, as
an MUA does) then made pop3d send the rest of the "message" from the
moved bytes (the next message's From_ line and headers at its end),
ended by "."; DELE of it and QUIT then deleted the intact original.

Each case drives the real pop3d over a socketpair (tests/integrity):
a client that reads some 50 KB of the reply and stops; the foreign
writer (locked_rewrite: fcntl lock on the whole file, MAILBOX.lock by
dotlockfile, which makes it by link(), the rewrite in place, fsync,
unlock); then the rest of the reply. After a change the reply must end
without "." (the connection closes, without UPDATE, nothing deleted, one
log line); unchanged or before the status line, it must be the listed
bytes with "." or "-ERR [SYS/TEMP]".

Run from the repository root: python3 tests/t-retr-rewrite.py (as root,
as in CI, or as a normal user). POP3D=path overrides ./pop3d. The last
line is "N passed, M failed".
"""

import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from integrity import harness  # noqa: E402
from integrity.harness import Session, locked_rewrite  # noqa: E402
from integrity.mbox import Msg, parse, serialize, wire  # noqa: E402
from integrity.tally import check, summary  # noqa: E402

READ_FIRST = 50 * 1024      # what the slow client reads before it stalls
STALL = 0.5                 # seconds for pop3d to fill the socket and block


def messages():
    """msg1 of about 80 bytes, msg2 of 3.3 MB of numbered lines, msg3."""
    m1 = Msg(b"From a@example.org Mon Jan  1 00:00:00 2024\n",
             b"Subject: one\nStatus: O\n\nshort\n")
    lines = b"".join(b"msg2 line %07d of numbered text\n" % i
                     for i in range(100000))
    m2 = Msg(b"From b@example.org Mon Jan  1 00:00:01 2024\n",
             b"Subject: two\nStatus: O\n\n" + lines)
    m3 = Msg(b"From c@example.org Mon Jan  1 00:00:02 2024\n",
             b"Subject: three\n\nthird message\n")
    return [m1, m2, m3]


def expunge_first(data):
    return serialize(parse(data)[1:])


def same_size_edit(data):
    """One digit of msg2's last line changed: same size, other content."""
    ms = parse(data)
    at = ms[1].body.rindex(b"line ") + 5
    b = bytearray(ms[1].body)
    b[at] = ord("9") if b[at] != ord("9") else ord("8")
    ms[1] = ms[1].with_body(bytes(b))
    return serialize(ms)


def truncate(data):
    return data[:1000]


def flip_status(data):
    """Status: O becomes Status: R in msg2, in place, as an MUA marks it
    read: same size, and the UIDL hash leaves the header out."""
    ms = parse(data)
    ms[1] = ms[1].with_body(ms[1].body.replace(b"Status: O\n",
                                               b"Status: R\n", 1))
    return serialize(ms)


def reply_rest(s):
    """The rest of a multi-line reply: (lines, True if "." ended it)."""
    out = []
    while True:
        try:
            line = s.line()
        except (EOFError, harness.ProtocolError, OSError):
            return b"".join(out), False
        if line == b".":
            return b"".join(out), True
        out.append((line[1:] if line.startswith(b".") else line) + b"\r\n")


def log_lines(s, text):
    s.close()
    with open(s.log, "rb") as f:
        return [ln for ln in f.read().decode("utf-8", "replace").splitlines()
                if text in ln]


def stalled(env, path, command, edit):
    """command (RETR 2 or TOP 2 n): reads READ_FIRST bytes of the reply,
    stalls, lets edit() rewrite the mailbox, reads the rest; if it ended
    with ".", DELE 2 and QUIT as a client would. Returns (status line,
    body, ended by ".", QUIT's reply, session)."""
    s = Session(env, path, io_timeout=30)
    s.login_ok()
    s.send(command)
    status = s.line()
    head = s.rf.read(READ_FIRST) if status.startswith(b"+OK") else b""
    time.sleep(STALL)
    locked_rewrite(env, path, edit)
    rest, dot = reply_rest(s)
    first = head.split(b"\r\n")
    body = b"".join((ln[1:] if ln.startswith(b".") else ln) + b"\r\n"
                    for ln in first[:-1])
    body += first[-1] + rest
    quit_reply = None
    if dot:
        try:
            s.dele(2)
            quit_reply = s.quit()
        except (EOFError, harness.ProtocolError, OSError):
            pass
    return status, body, dot, quit_reply, s


def case_changed(env, name, command, edit):
    """A change during the reply: no ".", nothing deleted, one log line."""
    msgs = messages()
    path = os.path.join(env.mail, name)
    env.write_mailbox(path, serialize(msgs))
    status, body, dot, quit_reply, s = stalled(env, path, command, edit)
    after = edit(serialize(msgs))
    with open(path, "rb") as f:
        now = f.read()
    listed = wire(msgs[1].body)
    check(status.startswith(b"+OK"), "%s: %s starts" % (name, command),
          repr(status))
    check(not dot, "%s: the reply ends without \".\" (sent %d bytes, "
          "the listed message is %d)" % (name, len(body), len(listed)),
          "quit: %r; body %s the listed message" %
          (quit_reply, "is" if body == listed else "is NOT"))
    check(now == after, "%s: the mailbox is what the other program left, "
          "msg2 kept" % name, "%d messages, %d bytes (want %d, %d)" % (
              len(parse(now)), len(now), len(parse(after)), len(after)))
    lines = log_lines(s, "not served whole")
    check(len(lines) == 1 and "user=" + env.user in lines[0],
          "%s: one log line with user=" % name, repr(lines))


def case_unchanged(env):
    """Nothing changes: RETR 2 stalled and TOP 2 5 serve the listed
    bytes and "."; a same-size Status flip during RETR keeps it whole."""
    msgs = messages()
    path = os.path.join(env.mail, "unchanged")
    env.write_mailbox(path, serialize(msgs))
    status, body, dot, quit_reply, s = stalled(env, path, "RETR 2",
                                               lambda d: d)
    check(dot and body == wire(msgs[1].body) and quit_reply == b"+OK bye",
          "unchanged: stalled RETR 2 serves msg2 whole, DELE 2 works",
          "dot %s, %d bytes, quit %r" % (dot, len(body), quit_reply))
    s.close()
    with open(path, "rb") as f:
        check(parse(f.read()) == [msgs[0], msgs[2]],
              "unchanged: DELE 2 removed msg2 only")
    env.write_mailbox(path, serialize(msgs))
    s = Session(env, path, io_timeout=30)
    s.login_ok()
    r = s.cmd("TOP 2 5")
    top, dot = reply_rest(s)
    want = wire(msgs[1].body).split(b"\r\n\r\n", 1)
    want = want[0] + b"\r\n\r\n" + b"".join(
        ln + b"\r\n" for ln in want[1].split(b"\r\n")[:5])
    check(r.startswith(b"+OK") and dot and top == want,
          "unchanged: TOP 2 5 serves the header and 5 lines", repr(top[:80]))
    s.quit()
    s.close()
    env.write_mailbox(path, serialize(msgs))
    status, body, dot, quit_reply, s = stalled(env, path, "RETR 2",
                                               flip_status)
    s.close()
    check(dot and body == wire(msgs[1].body),
          "Status flipped in place during RETR 2: the listed bytes, whole",
          "dot %s, %d bytes" % (dot, len(body)))


def case_before(env):
    """Changes before the command: -ERR [SYS/TEMP], the session goes on."""
    msgs = messages()
    path = os.path.join(env.mail, "before")
    env.write_mailbox(path, serialize(msgs))
    s = Session(env, path, io_timeout=30)
    s.login_ok()
    locked_rewrite(env, path, expunge_first)
    r2 = s.cmd("RETR 2")
    r3 = s.cmd("TOP 3 0")
    q = s.quit()
    s.close()
    check(r2.startswith(b"-ERR [SYS/TEMP] ") and
          r3.startswith(b"-ERR [SYS/TEMP] ") and q == b"+OK bye",
          "msg1 expunged before RETR 2, TOP 3 0: -ERR [SYS/TEMP] each",
          "%r %r %r" % (r2, r3, q))
    env.write_mailbox(path, serialize(msgs))
    s = Session(env, path, io_timeout=30)
    s.login_ok()
    locked_rewrite(env, path, same_size_edit)
    r = s.cmd("TOP 2 3")
    got, dot = ([], False) if not r.startswith(b"+OK") else reply_rest(s)
    s.close()
    check(r.startswith(b"-ERR [SYS/TEMP] ") or (r.startswith(b"+OK") and
                                                not dot),
          "msg2 changed at its end before TOP 2 3: -ERR, or no \".\"",
          "%r, ended by \".\": %s" % (r, dot))


def main():
    os.chdir(os.path.dirname(HERE))
    pop3d = os.environ.get("POP3D", "./pop3d")
    deps = subprocess.run(["scripts/deps", "liblockfile-bin", "whois"])
    if deps.returncode != 0 or not os.access(pop3d, os.X_OK):
        check(False, "dotlockfile, mkpasswd and %s are there" % pop3d)
        return summary()
    env = harness.Env(pop3d)
    try:
        case_changed(env, "expunge", "RETR 2", expunge_first)
        case_changed(env, "same-size", "RETR 2", same_size_edit)
        case_changed(env, "top-expunge", "TOP 2 200000", expunge_first)
        case_changed(env, "truncation", "RETR 2", truncate)
        case_unchanged(env)
        case_before(env)
    finally:
        env.cleanup()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
