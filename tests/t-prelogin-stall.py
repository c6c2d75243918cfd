#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
A write that fails before login ends the connection (review 2, F2).

A client sends, in one write, enough CAPA commands to fill its own
receive buffer and the server's send buffer, then USER, PASS, DELE 1 and
QUIT, and never reads. With -t 3 the pre-login child's write times out;
before the fix the credentials still went to the monitor, the login
succeeded and the session ran the pipelined DELE 1 and QUIT (an UPDATE
after replies the client never got). Now pop3d must end within a few
seconds of the timeout, log no LOGIN and leave the mailbox as it was.
Over TCP on 127.0.0.1 (a small SO_RCVBUF), and with the USER/PASS sent
as AUTH PLAIN too. Runs as root (privilege separation, as nobody) or as a
normal user. POP3D=path overrides the binary (default ./pop3d). The last
line is "N passed, M failed".
"""

import base64
import os
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True     # leave no __pycache__ in the tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from integrity.harness import PASSWORD, Env  # noqa: E402
from integrity.mbox import make_msg, serialize  # noqa: E402

TIMEOUT = 3     # -t
GRACE = 5       # seconds past it that pop3d may take to end
FILL = 4000     # bytes of the one write: a few CAPA replies fill the buffers

RESULTS = []


def check(cond, name):
    RESULTS.append(bool(cond))
    print(("ok - " if cond else "FAIL - ") + name)


def tcp_pair():
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    c.connect(lsn.getsockname())
    s, _ = lsn.accept()
    lsn.close()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    return c, s


def stall(env, name, login):
    path = os.path.join(env.mail, name)
    data = serialize([make_msg("m1", 2000), make_msg("m2", 500)])
    env.write_mailbox(path, data)
    log = os.path.join(env.tmp, name + ".log")
    c, s = tcp_pair()
    with open(log, "wb") as err:
        p = subprocess.Popen(env.command(path, TIMEOUT), stdin=s, stdout=s,
                             stderr=err, start_new_session=True)
    s.close()
    tail = login + b"DELE 1\r\nQUIT\r\n"
    t0 = time.monotonic()
    c.sendall(b"CAPA\r\n" * ((FILL - len(tail)) // 6) + tail)
    try:
        p.wait(timeout=TIMEOUT + GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        p.wait()
    took = time.monotonic() - t0
    c.close()
    text = open(log, errors="replace").read()
    check(took <= TIMEOUT + GRACE,
          "%s: pop3d ended %.1f s after the stall began" % (name, took))
    check("LOGIN, user=" not in text and "LOGOUT" not in text,
          "%s: no login, no session" % name)
    check(open(path, "rb").read() == data, "%s: mailbox unchanged" % name)


def main():
    env = Env(os.environ.get("POP3D", os.path.join(os.path.dirname(HERE),
                                                   "pop3d")))
    try:
        stall(env, "userpass", ("USER alice\r\nPASS %s\r\n" %
                                PASSWORD).encode())
        plain = base64.b64encode(b"\0alice\0" + PASSWORD.encode())
        stall(env, "plain", b"AUTH PLAIN " + plain + b"\r\n")
    finally:
        env.cleanup()
    failed = RESULTS.count(False)
    print("%d passed, %d failed" % (len(RESULTS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
