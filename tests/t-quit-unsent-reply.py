#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
quit_behind_unsent_retr: a QUIT pipelined behind a RETR whose reply the
client never received must not reach UPDATE (doc/guarantees.md, "What pop3d
guarantees": a message is deleted only after the client had it whole).

The defect it guards: a RETR reply that fits the output buffer (128 KiB)
was only buffered when the pipelined DELE and QUIT ran, so UPDATE deleted
a message no byte of which had left; only longer replies, whose writes
fail inside RETR, were safe. Now QUIT writes what is pending first and,
if that fails, deletes nothing and the session ends as a hang-up or a
timeout.

  reset_before_read: the client pipelines "RETR 1, DELE 1, QUIT" and its
      connection is reset (SO_LINGER 0 with unread data) before pop3d
      reads the commands (pop3d is held by SIGSTOP meanwhile).

A client that merely stops reading is not a case here: what the kernel
takes into its socket buffers has left pop3d, and POP3 has no
acknowledgement to wait for (t-deadlines.py covers replies larger than
those buffers).

With a message of 1 KB, 100 KB (both fit the buffer) and 5 MB. The mailbox must
be unchanged and the LOGOUT line must say reason=hangup or timeout and
deleted=0. Runs as root (privilege separation, as nobody) or as a normal
user; POP3D=path overrides ./pop3d. The last line is "N passed, M failed".
"""

import os
import signal
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from integrity.harness import PASSWORD  # noqa: E402
from integrity.mbox import make_msg, serialize  # noqa: E402
from integrity.tally import check, run_parts  # noqa: E402

SIZES = (1024, 100 * 1024, 5 * 1024 * 1024)


def tcp_pair():
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)
    c = socket.socket()
    c.connect(lsn.getsockname())
    s, _ = lsn.accept()
    lsn.close()
    return c, s


def readline(sock):
    buf = b""
    sock.settimeout(15)
    while not buf.endswith(b"\r\n"):
        b = sock.recv(1)
        if not b:
            raise EOFError(buf)
        buf += b
    return buf


def login(env, path, log):
    c, s = tcp_pair()
    with open(log, "ab") as err:
        p = subprocess.Popen(env.command(path, 3), stdin=s, stdout=s,
                             stderr=err, start_new_session=True,
                             close_fds=True)
    s.close()
    readline(c)
    c.sendall(b"USER alice\r\n")
    readline(c)
    c.sendall(("PASS %s\r\n" % PASSWORD).encode())
    ok = readline(c)
    if not ok.startswith(b"+OK"):
        raise RuntimeError("login failed: %r" % ok)
    return c, p


def reset_before_read(c, p):
    time.sleep(0.3)
    os.killpg(p.pid, signal.SIGSTOP)
    c.sendall(b"NOOP\r\n")          # an unread reply: close() sends RST
    time.sleep(0.2)
    c.sendall(b"RETR 1\r\nDELE 1\r\nQUIT\r\n")
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    time.sleep(0.5)
    os.killpg(p.pid, signal.SIGCONT)


def run(env, name, drive, size):
    label = "%s %d bytes" % (name, size)
    path = os.path.join(env.mail, "%s.%d" % (name, size))
    data = serialize([make_msg("m1", size), make_msg("m2", 500)])
    env.write_mailbox(path, data)
    log = os.path.join(env.logs, "%s.%d.log" % (name, size))
    c, p = login(env, path, log)
    drive(c, p)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    try:
        c.close()
    except OSError:
        pass
    after = open(path, "rb").read()
    logout = [line for line in open(log, errors="replace")
              if "LOGOUT" in line]
    check(after == data, label + ": mailbox unchanged",
          "%d -> %d bytes" % (len(data), len(after)))
    last = logout[-1] if logout else ""
    check(len(logout) == 1 and "deleted=0" in last and
          ("reason=hangup" in last or "reason=timeout" in last),
          label + ": one LOGOUT, hang-up or timeout, deleted=0",
          last.strip() or "no LOGOUT line")


def main():
    return run_parts([lambda env, size=size: run(env, "reset_before_read",
                                                 reset_before_read, size)
                      for size in SIZES])


if __name__ == "__main__":
    sys.exit(main())
