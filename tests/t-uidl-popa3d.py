#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
uidl_popa3d: pop3d --uidl=popa3d lists exactly the UIDLs that popa3d
1.0.3 lists for the same mailbox, so that clients which leave mail on the
server do not fetch it all again after a move from popa3d (pop3d.8,
--uidl). Where popa3d repeats an id (messages whose hashed header lines
are the same, or that have none), the first message keeps it and every
later one must get "ID-" and its content UIDL (RFC 1939: unique).

The real popa3d is Debian's package, downloaded with apt-get download and
unpacked under tests/data (never installed: it conflicts with Dovecot);
it runs from inetd mode on a socketpair, as root, with a throwaway system
account, its mailbox in /var/mail and PAM's "other" service. Mailboxes:
the edge cases of its parser (which headers, folding, case, duplicates,
very long lines, CRLF, a last line without LF, >From lines) and two made
by bench/genmbox. Needs root: as another user it says so and skips; as
root a popa3d that cannot be had is a failure. POP3D=path overrides
./pop3d. The last line is "N passed, M failed".
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from integrity.harness import (PASSWORD, Env, make_hash,  # noqa: E402
                               uidl_listing)
from integrity.tally import COUNT, check, summary  # noqa: E402

DATA = os.path.join(HERE, "data")
POPA3D = os.path.join(DATA, "popa3d", "usr", "sbin", "popa3d")
MARKER = "pop3d test t-uidl-popa3d"
USER = "p3d-uidl-test"
F = b"From sender@example.org Mon Jan  1 00:00:00 2024\n"
OLD = 1000000000    # popa3d sleeps a second when the mailbox is this new


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=600, **kw)


def fetch_popa3d():
    """Debian's popa3d under tests/data; None, with why, when it fails."""
    if os.access(POPA3D, os.X_OK):
        return None
    dl = os.path.join(DATA, "popa3d-deb")
    os.makedirs(dl, exist_ok=True)
    os.chmod(dl, 0o755)     # apt's _apt user downloads into it
    if run(["apt-get", "download", "popa3d"], cwd=dl).returncode != 0:
        run(["apt-get", "update", "-qq"])
        r = run(["apt-get", "download", "popa3d"], cwd=dl)
        if r.returncode != 0:
            return "apt-get download popa3d: " + r.stdout.decode()[-300:]
    debs = sorted(f for f in os.listdir(dl) if f.endswith(".deb"))
    r = run(["dpkg-deb", "-x", os.path.join(dl, debs[-1]),
             os.path.join(DATA, "popa3d")])
    if r.returncode != 0 or not os.access(POPA3D, os.X_OK):
        return "dpkg-deb -x: " + r.stdout.decode()[-300:]
    return None


class Accounts:
    """popa3d's own account and a mail user, removed at the end."""

    def __init__(self):
        self.created = []
        self.dirs = []
        for p in pwd.getpwall():
            if p.pw_gecos == MARKER:
                self.remove(p.pw_name)

    def add(self, name, home):
        try:
            pwd.getpwnam(name)
            return
        except KeyError:
            pass
        r = run(["useradd", "--system", "--user-group", "--no-create-home",
                 "--home-dir", home, "--shell", "/usr/sbin/nologin",
                 "--comment", MARKER, name])
        if r.returncode != 0:
            raise RuntimeError("useradd %s: %s" % (name, r.stdout))
        self.created.append(name)

    def setup(self):
        # popa3d's pre-login part runs as "popa3d" in /var/lib/popa3d.
        self.add("popa3d", "/var/lib/popa3d")
        if not os.path.isdir("/var/lib/popa3d"):
            os.makedirs("/var/lib/popa3d", 0o755)
            self.dirs.append("/var/lib/popa3d")
        self.add(USER, "/nonexistent")
        run(["chpasswd", "-e"], input=("%s:%s\n" % (
            USER, make_hash(PASSWORD))).encode(), check=True)

    def remove(self, name):
        run(["userdel", name])
        for suffix in ("", ".lock"):
            try:
                os.unlink("/var/mail/" + name + suffix)
            except FileNotFoundError:
                pass

    def cleanup(self):
        for name in reversed(self.created):
            self.remove(name)
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)


def popa3d_uidls(data):
    """popa3d's UIDL listing of a mailbox holding data: {n: id}."""
    path = "/var/mail/" + USER
    pw = pwd.getpwnam(USER)
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o600)
    os.utime(path, (OLD, OLD))
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([POPA3D], stdin=theirs, stdout=theirs,
                            stderr=subprocess.DEVNULL, close_fds=True)
    theirs.close()
    ours.settimeout(120)
    rf = ours.makefile("rb")
    out = {}
    try:
        replies = [rf.readline()]
        for c in ("USER " + USER, "PASS " + PASSWORD, "UIDL"):
            ours.sendall(c.encode() + b"\r\n")
            replies.append(rf.readline())
        if not all(r.startswith(b"+OK") for r in replies):
            raise RuntimeError("popa3d said %r" % replies)
        for line in iter(rf.readline, b".\r\n"):
            if not line:
                raise RuntimeError("popa3d closed the UIDL listing")
            n, v = line.rstrip(b"\r\n").split(b" ", 1)
            out[int(n)] = v.decode()
        ours.sendall(b"QUIT\r\n")
        rf.readline()
    finally:
        rf.close()
        ours.close()
        proc.wait(timeout=30)
    return out


def pop3d_uidls(env, data, extra):
    return uidl_listing(env, os.path.join(env.mail, "box"), data, extra)


def is_hex(s, n):
    return len(s) == n and all(c in "0123456789abcdef" for c in s)


def compare(env, name, data):
    """One mailbox: pop3d --uidl=popa3d against popa3d, line by line."""
    try:
        want = popa3d_uidls(data)
    except (RuntimeError, OSError) as e:
        return check(False, name, "popa3d: %s" % e)
    got = pop3d_uidls(env, data, ["--uidl=popa3d"])
    bad = []
    seen = set()
    if sorted(got) != sorted(want):
        bad.append("popa3d lists %d messages, pop3d %d" % (len(want),
                                                           len(got)))
    for n in sorted(want):
        w, g = want[n], got.get(n, "")
        if w not in seen:
            ok = g == w and is_hex(w, 16)
        else:
            # A later copy: popa3d's id, "-", the content UIDL.
            ok = g.startswith(w + "-") and is_hex(g[17:49], 32) and (
                len(g) == 49 or (g[49] == "-" and g[50:].isdigit()))
        seen.add(w)
        if not ok:
            bad.append("message %d: popa3d %s, pop3d %s" % (n, w, g))
    if len(set(got.values())) != len(got):
        bad.append("pop3d repeats a UIDL")
    return check(not bad and len(want) > 0, name + " (%d messages)" %
                 len(want), "; ".join(bad[:4]))


def mbox(*msgs):
    """Messages (bytes after the From_ line) as an MDA writes them."""
    return b"\n".join(F + m for m in msgs)


LONG = b"x" * 300000
CASES = [
    ("the headers popa3d hashes and those it does not", mbox(
        b"Return-Path: <a@b>\nDelivered-To: u@example.org\n"
        b"Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\n"
        b"Received: from c by d\nDate: Mon, 1 Jan 2024\n"
        b"Message-ID: <after@received>\nDelivered-To: v@example.org\n"
        b"Subject: hi\n\nbody\n",
        b"Date: Tue, 2 Jan 2024\nMessage-ID: <1@x>\nSubject: s\n"
        b"Received: from e\nX-Delivery-ID: 42\n\nbody\n")),
    ("no hashed header: popa3d repeats d98c1dd404b2008f", mbox(
        b"Subject: one\n\nbody one\n", b"Subject: two\n\nbody two\n",
        b"\nonly a body\n")),
    ("true copies and copies in popa3d's sense only", mbox(
        b"Message-ID: <same@x>\n\nbody\n", b"Message-ID: <same@x>\n\nbody\n",
        b"Message-ID: <same@x>\nStatus: RO\n\nbody\n",
        b"Message-ID: <same@x>\n\nother body\n",
        b"Message-ID: <same@x>\n\nbody\n")),
    ("folded headers, hashed or not", mbox(
        b"Subject: folded\n continued\nReceived: from a\n\tby b\n  with c\n"
        b"Received: from d\n\tby e\nDate: x\n\nbody\n",
        b"Message-ID:\n <folded@x>\n\t(comment)\nTo: y\n\nbody\n",
        b" leading continuation\nDate: d\n\nbody\n")),
    ("a folded header popa3d skips after one it hashes (review 8)", mbox(
        b"Received: from a\n\tby b; Mon, 1 Jan 2024\nSubject: hello\n"
        b" world\n\nbody\n",
        b"Date: Mon, 1 Jan 2024\nFrom: a user\n <u@example.org>\n\nbody\n",
        b"Delivered-To: u@example.org\nReceived: from mx\n"
        b"ARC-Seal: i=1; a=rsa-sha256; t=1704067200;\n\tcv=none\n"
        b"Received: from b\nMessage-ID: <arc@x>\n\nbody\n")),
    ("case of names, spaces before the colon", mbox(
        b"RECEIVED: upper\nmessage-id: <lower@x>\n\nb\n",
        b"received : not a Received\nDATE: upper\nReceived: real\n\nb\n",
        b"x-delivery-id: lower x\nX-DELIVERY-ID: upper X\n\nb\n",
        b"dELIVERED-tO: mixed\nDate:no space\nMessage-Id:<a@b>\n\nb\n")),
    ("headers repeated", mbox(
        b"Date: one\nDate: two\nMessage-ID: <1@x>\nMessage-ID: <2@x>\n"
        b"Delivered-To: a\nDelivered-To: b\nReceived: 1\nReceived: 2\n"
        b"Date: three\nDelivered-To: c\n\nbody\n")),
    ("very long header lines", mbox(
        b"Received: from " + LONG + b"\n\tby " + LONG + b"\nSubject: "
        + LONG + b"\nMessage-ID: <" + LONG + b"@x>\n\nbody\n",
        b"X-Long: " + LONG * 2 + b"\nDate: after a long line\n\nbody\n",
        b"Message-ID: <" + b"y" * 70000 + b">\n\nbody\n")),
    ("CRLF lines: popa3d's header ends only at a lone LF", mbox(
        b"Received: crlf\r\nDate: crlf\r\nSubject: s\r\n\r\n"
        b"Delivered-To: in the body\r\nX-Delivery-ID: body\r\n"
        b"Message-ID: <body@x>\r\n\nDelivered-To: after LF\n\nbody\n",
        b"Message-ID: <crlf@x>\r\n\r\nbody\r\n",
        b"Date: mixed\nSubject: s\r\n\r\nDelivered-To: body\n")),
    (">From lines and From lines that start nothing", mbox(
        b">From me\nDate: d\n\n>From quoted\nFrom not after blank\n",
        b"Message-ID: <m@x>\n\nbody\n>From x\n\n>From y\n")),
    ("an empty message and one without a body", mbox(
        b"", b"Date: only header\n", b"Message-ID: <e@x>\n\n")),
    ("8-bit and control bytes in hashed lines", mbox(
        b"Message-ID: <\xe9\xff\x01@x>\nDate: \x7f\x80\n\nbody\n")),
    ("a last header line without LF", mbox(
        b"Date: d\n\nbody\n", b"Date: e\nMessage-ID: <unterminated@x>")),
    ("a last body line without LF", mbox(
        b"Message-ID: <a@x>\n\nbody\n", b"Message-ID: <b@x>\n\nno LF")),
]


def genmbox_cases(tmp):
    gen = os.path.join(tmp, "genmbox")
    r = run(["cc", "-O2", "-o", gen, os.path.join(TOP, "bench",
                                                   "genmbox.c")])
    if r.returncode != 0:
        check(False, "bench/genmbox builds", r.stdout.decode()[-300:])
        return []
    out = []
    for count, seed in ((1100, 1), (300, 7)):
        path = os.path.join(tmp, "gen%d" % seed)
        run([gen, str(count), path, str(seed)], check=True)
        with open(path, "rb") as f:
            out.append(("bench/genmbox, %d messages, seed %d" % (count, seed),
                        f.read()))
    return out


def options(env):
    """--uidl=pop3d is today's default; the rest is refused (exit 64)."""
    data = CASES[0][1]
    named = pop3d_uidls(env, data, ["--uidl=pop3d"])
    check(named and named == pop3d_uidls(env, data, []),
          "--uidl=pop3d is the default")
    for argv in (["--uidl=popa3d", "--x-uidl"], ["--x-uidl", "--uidl=popa3d"],
                 ["--uidl=dovecot"], ["--uidl=imap"],
                 ["--uidl="]):
        r = run([env.pop3d] + argv)
        check(r.returncode == 64, "pop3d %s: exit 64" % " ".join(argv),
              "exit %d: %s" % (r.returncode, r.stdout.decode()[-200:]))


def main():
    if os.geteuid() != 0:
        print("SKIP: popa3d runs as root only (CI runs this as root)")
        return summary() if COUNT["failed"] else (print("0 passed, 0 failed")
                                                  or 0)
    why = fetch_popa3d()
    if why is not None:
        check(False, "Debian's popa3d is at hand", why)
        return summary()
    env = Env(os.environ.get("POP3D", "./pop3d"))
    accounts = Accounts()
    tmp = tempfile.mkdtemp(prefix="pop3d-uidl.", dir="/var/tmp")
    try:
        accounts.setup()
        for name, data in CASES + genmbox_cases(tmp):
            compare(env, name, data)
        options(env)
    finally:
        accounts.cleanup()
        env.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
