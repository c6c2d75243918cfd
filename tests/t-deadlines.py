#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
Time limits on the client, with the real pop3d (issue 12, defects 2 and 7):

  write_timeout_stalled_reader: a client that sends RETR 1 of a 5 MB
      message (then DELE 1 and QUIT, pipelined) and never reads: with -t 3
      the session must end within a few seconds of the timeout, log one
      LOGOUT with reason=timeout, make no UPDATE, and release the maildrop
      so that the next login is not [IN-USE]. Over a socketpair, and over
      TCP on 127.0.0.1 through systemd-socket-activate (what pop3d.socket
      does) with a client SO_RCVBUF of 4096.
  write_timeout_spares_slow_reader: a client that reads the same RETR in
      pieces, pausing less than -t between them but taking longer than -t
      in all, gets the whole message: progress starts a new wait.
  prelogin_deadline_slow_bytes: one byte every 1.5 s before login (whole
      CAPA commands, answered) is cut at LOGIN_TIMEOUT (60 s) after the
      connection, not kept alive by every byte.
  proxy_deadline_slow_bytes: a PROXY header from a trusted address sent
      one byte every 1.5 s is refused at PROXY_TIMEOUT (5 s); sent whole it
      is taken.

The 60 s limit is compiled in (params.h), so that part runs at full length,
in parallel with the others: about 65 s in all. Runs as root (privilege
separation, as nobody) or as a normal user. POP3D=path overrides the binary
(default ./pop3d); KEEP_TMP=1 keeps the temporary directory. The last line
is "N passed, M failed"; the exit status is 0 only if all passed. Parts
may be named as arguments (the function names below) to run only those.
"""

import os
import select
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True     # leave no __pycache__ in the tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from integrity.harness import PASSWORD, Env  # noqa: E402
from integrity.mbox import make_msg, serialize, wire  # noqa: E402
from integrity.tally import check, summary  # noqa: E402

TIMEOUT = 3             # -t for the write tests
GRACE = 4               # seconds past a limit that a session may take to end
LOGIN_TIMEOUT = 60      # params.h
PROXY_TIMEOUT = 5       # params.h
BYTE_EVERY = 1.5        # the slow client's pace
BIG = 5 * 1024 * 1024   # the message nobody reads



class Client:
    """The client's end of a connection, reading whole lines."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def line(self, timeout=15):
        end = time.monotonic() + timeout
        while b"\r\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise TimeoutError("no line within %d s" % timeout)
            try:
                data = self.sock.recv(65536)
            except (ConnectionError, OSError):
                data = b""
            if not data:
                raise EOFError("connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, text):
        self.send(text.encode() + b"\r\n")
        return self.line()

    def login(self, user):
        greeting = self.line()
        if not greeting.startswith(b"+OK"):
            return greeting
        self.cmd("USER " + user)
        return self.cmd("PASS " + PASSWORD)


def spawn(env, sock, args, log):
    """pop3d -d with sock as fd 0 and 1, its stderr in log (a path), or in
    a pipe if log is None: the pre-login child may not write to a file
    (privsep.c)."""
    cmd = [env.pop3d, "-p", env.passwd, "-d"] + args + env.privsep
    if log is None:
        return subprocess.Popen(cmd, stdin=sock, stdout=sock,
                                stderr=subprocess.PIPE,
                                start_new_session=True, close_fds=True)
    with open(log, "ab") as err:
        return subprocess.Popen(cmd, stdin=sock, stdout=sock, stderr=err,
                                start_new_session=True, close_fds=True)


def socketpair_session(env, args, log):
    ours, theirs = socket.socketpair()
    proc = spawn(env, theirs, args, log)
    theirs.close()
    return proc, Client(ours)


def ended_within(proc, seconds):
    """Waits up to seconds for proc; True if it ended."""
    try:
        proc.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


def stop(proc, client, name):
    """Closes our end, makes sure pop3d is gone, checks it ended well (a
    sanitizer's report or a signal would not)."""
    client.sock.close()
    if not ended_within(proc, 10):
        os.killpg(proc.pid, 9)
        proc.wait()
    check(proc.returncode == 0, name + ": pop3d exited with status 0",
          "status %d" % proc.returncode)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def count_in(path, text):
    return read_file(path).decode("utf-8", "replace").count(text)


def mailbox(env, name):
    """A maildrop of a 5 MB message and a small one: path, bytes, msgs."""
    msgs = [make_msg(name + "-big", BIG), make_msg(name + "-small", 500)]
    path = os.path.join(env.mail, name)
    data = serialize(msgs)
    env.write_mailbox(path, data)
    return path, data, msgs


def stall_retr(client, user):
    """Logs in, asks for the big message, a DELE and QUIT; reads no more."""
    reply = client.login(user)
    if not reply.startswith(b"+OK"):
        raise RuntimeError("login: %r" % reply)
    client.send(b"RETR 1\r\nDELE 1\r\nQUIT\r\n")
    return time.monotonic()


def after_stall(env, name, path, data, log, new_client):
    """What must hold once a stalled session has ended."""
    check(count_in(log, "reason=timeout") == 1,
          name + ": one LOGOUT line with reason=timeout",
          "log: %r" % read_file(log)[-600:])
    check(read_file(path) == data, name + ": no UPDATE, the mailbox is "
          "unchanged")
    client, end = new_client()
    try:
        reply = client.login(env.user)
        check(reply.startswith(b"+OK"), name + ": the next login right "
              "after is served", "PASS: %r" % reply)
        client.cmd("QUIT")
    except (EOFError, TimeoutError, OSError) as e:
        check(False, name + ": the next login right after is served", str(e))
    finally:
        end(client)


def stalled_over_socketpair(env):
    name = "write_timeout_stalled_reader (socketpair)"
    path, data, _ = mailbox(env, "stall-sp")
    log = os.path.join(env.tmp, "stall-sp.log")
    args = ["-m", path, "-t%d" % TIMEOUT]
    proc, client = socketpair_session(env, args, log)
    try:
        t0 = stall_retr(client, env.user)
        ended = ended_within(proc, TIMEOUT + GRACE)
        took = time.monotonic() - t0
        if not check(ended and took >= TIMEOUT - 0.5,
                     name + ": session ends %d s after the client stops "
                     "reading (%.1f s)" % (TIMEOUT, took),
                     "ended=%s after %.1f s" % (ended, took)):
            return
    finally:
        stop(proc, client, name)

    def new_client():
        p, c = socketpair_session(env, args, log)
        return c, lambda c: stop(p, c, name + ", next login")
    after_stall(env, name, path, data, log, new_client)


def free_port():
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def socket_activate(env, args, log):
    """systemd-socket-activate --inetd --accept running pop3d -d; its port,
    or None."""
    for _ in range(3):
        port = free_port()
        with open(log, "ab") as err:
            launcher = subprocess.Popen(
                ["systemd-socket-activate", "--inetd", "--accept",
                 "-l", "127.0.0.1:%d" % port, env.pop3d, "-p", env.passwd,
                 "-d"] + args + env.privsep,
                stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                start_new_session=True)
        for _ in range(50):
            if b"Listening on" in read_file(log):
                return launcher, port
            if launcher.poll() is not None:
                break
            time.sleep(0.1)
        launcher.kill()
        launcher.wait()
    return None, None


def tcp_client(port, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    return Client(s)


def wait_for(path, text, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if text in read_file(path).decode("utf-8", "replace"):
            return True
        time.sleep(0.1)
    return False


def stalled_over_tcp(env):
    name = "write_timeout_stalled_reader (TCP, SO_RCVBUF 4096)"
    path, data, _ = mailbox(env, "stall-tcp")
    log = os.path.join(env.tmp, "stall-tcp.log")
    launcher, port = socket_activate(env, ["-m", path, "-t%d" % TIMEOUT],
                                     log)
    if not check(launcher is not None, name + ": systemd-socket-activate "
                 "listens", "log: %r" % read_file(log)[-400:]):
        return
    client = tcp_client(port, rcvbuf=4096)
    try:
        t0 = stall_retr(client, env.user)
        ended = wait_for(log, "LOGOUT", TIMEOUT + GRACE)
        took = time.monotonic() - t0
        ok = check(ended and took >= TIMEOUT - 0.5,
                   name + ": session ends %d s after the client stops "
                   "reading (%.1f s)" % (TIMEOUT, took),
                   "ended=%s after %.1f s" % (ended, took))
    finally:
        client.sock.close()
    try:
        if ok:
            after_stall(env, name, path, data, log,
                        lambda: (tcp_client(port), lambda c: c.sock.close()))
    finally:
        launcher.terminate()
        launcher.wait()


def read_piece(client, n):
    """Up to n more bytes of the reply, as fast as they come."""
    got = b""
    while len(got) < n:
        data = client.sock.recv(n - len(got))
        if not data:
            break
        got += data
    return got


def slow_reader(env):
    """-t 1; pauses of 0.3 s between reads of 512 KB: over 3 s in all."""
    name = "write_timeout_spares_slow_reader"
    path, data, msgs = mailbox(env, "slow")
    log = os.path.join(env.tmp, "slow.log")
    proc, client = socketpair_session(env, ["-m", path, "-t1"], log)
    want = b"".join(b"." + line if line.startswith(b".") else line
                    for line in wire(msgs[0].body).splitlines(True))
    want += b".\r\n"
    got = b""
    t0 = time.monotonic()
    try:
        reply = client.login(env.user)
        client.send(b"RETR 1\r\n")
        status = client.line()
        got, client.buf = client.buf, b""
        client.sock.settimeout(10)
        while len(got) < len(want):
            time.sleep(0.3)
            piece = read_piece(client, min(512 * 1024, len(want) - len(got)))
            if not piece:
                break
            got += piece
        took = time.monotonic() - t0
        check(reply.startswith(b"+OK") and status.startswith(b"+OK") and
              got == want and took > 2,
              name + ": the whole message in %.1f s with -t 1" % took,
              "login %r, RETR %r, %d of %d bytes" %
              (reply, status, len(got), len(want)))
        check(client.cmd("QUIT").startswith(b"+OK"),
              name + ": the session goes on after it")
    except (EOFError, TimeoutError, OSError) as e:
        check(False, name, "%s after %d bytes" % (e, len(got)))
    finally:
        stop(proc, client, name)


def trickle(proc, client, data, t0, seconds):
    """Sends data, cycling, a byte every BYTE_EVERY seconds, until pop3d
    ends, the connection fails or the seconds since t0 have passed.
    Whether pop3d ended by then, and when (seconds since t0)."""
    sent = 0
    while proc.poll() is None and time.monotonic() - t0 < seconds:
        try:
            client.send(data[sent % len(data):sent % len(data) + 1])
        except OSError:
            break
        sent += 1
        if ended_within(proc, BYTE_EVERY):
            break
    ended = ended_within(proc, max(0.1, t0 + seconds - time.monotonic()))
    return ended, time.monotonic() - t0


def prelogin_slow_bytes(env):
    name = "prelogin_deadline_slow_bytes"
    log = os.path.join(env.tmp, "prelogin.log")
    t0 = time.monotonic()
    proc, client = socketpair_session(env, ["-m", env.mail + "/%u"], log)
    limit = LOGIN_TIMEOUT + GRACE
    try:
        client.line()
        ended, took = trickle(proc, client, b"CAPA\r\n", t0, limit)
        check(ended and LOGIN_TIMEOUT - 1 <= took <= limit,
              name + ": a byte every %.1f s is cut %d s after the "
              "connection (%.1f s)" % (BYTE_EVERY, LOGIN_TIMEOUT, took),
              "ended=%s after %.1f s" % (ended, took))
        tail = client.sock.recv(65536) if ended else b""
        check(b"-ERR autologout: time to log in is up\r\n" in tail,
              name + ": the client is told why", "last bytes: %r" % tail[-80:])
    finally:
        stop(proc, client, name)


def proxied_session(env):
    """pop3d on a TCP connection from 127.0.0.1, which it trusts."""
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)
    ours = socket.create_connection(lsn.getsockname())
    theirs, _ = lsn.accept()
    lsn.close()
    proc = spawn(env, theirs, ["-m", env.mail + "/%u",
                               "--proxy-from=127.0.0.1"], None)
    theirs.close()
    return proc, Client(ours)


def proxy_slow_bytes(env):
    name = "proxy_deadline_slow_bytes"
    header = b"PROXY TCP4 192.0.2.55 10.0.0.1 51234 110\r\n"
    t0 = time.monotonic()
    proc, client = proxied_session(env)
    limit = PROXY_TIMEOUT + GRACE
    try:
        ended, took = trickle(proc, client, header, t0, limit)
        check(ended and PROXY_TIMEOUT - 1 <= took <= limit,
              name + ": a byte every %.1f s is refused %d s after the "
              "connection (%.1f s)" % (BYTE_EVERY, PROXY_TIMEOUT, took),
              "ended=%s after %.1f s" % (ended, took))
    finally:
        stop(proc, client, name)
    log = proc.stderr.read().decode("utf-8", "replace")
    check(log.count("no valid PROXY header") == 1, name + ": logged once",
          "log: %r" % log[-400:])
    proc, client = proxied_session(env)
    try:
        client.send(header)
        greeting = client.line()
        check(greeting.startswith(b"+OK"),
              name + ": a header sent whole is taken", repr(greeting))
        client.cmd("QUIT")
    except (EOFError, TimeoutError, OSError) as e:
        check(False, name + ": a header sent whole is taken", str(e))
    finally:
        stop(proc, client, name)


def guarded(fn, env):
    try:
        fn(env)
    except Exception as e:      # a broken part fails; the others go on
        check(False, fn.__name__, "%s: %s" % (type(e).__name__, e))


def main():
    os.chdir(os.path.dirname(HERE))
    env = Env(os.environ.get("POP3D", "./pop3d"))
    chosen = sys.argv[1:]
    try:
        slow = threading.Thread(target=guarded,
                                args=(prelogin_slow_bytes, env))
        if not chosen or prelogin_slow_bytes.__name__ in chosen:
            slow.start()
        for part in (stalled_over_socketpair, stalled_over_tcp, slow_reader,
                     proxy_slow_bytes):
            if not chosen or part.__name__ in chosen:
                guarded(part, env)
        if slow.is_alive():
            slow.join()
    finally:
        env.cleanup()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
