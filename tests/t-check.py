#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
pop3d --check [USER], the administrator's self-test (issue 13, part 4).

As root (as in CI): a healthy setup in a temporary directory (a privsep
directory, a --passwd-file, a root:mail 2775 spool with a mailbox of two
known messages) passes with exit status 0, and what --check says a client
would see is what a real session on a socketpair answers to PASS; while
an MDA holds its fcntl lock the mailbox is not indexed ([IN-USE]). Each
broken thing is found, with its fix, and a nonzero exit status: a missing
privsep user, a group-writable privsep directory, a missing spool, a spool
the lock helper cannot write, a world-writable passwd file, a wrong
password. A user without a mailbox is an empty maildrop and passes. The
password never appears in the output; the mailbox is the same byte for
byte afterwards, and no MAILBOX.lock or MAILBOX.pop3d is left in the spool.
With real PAM (useradd, chpasswd, a service file under a test-only name
in /etc/pam.d, as tests/t-auth-timing.py does): the right password passes,
an expired account is refused by the account checks, a missing service
file is found. As a normal user (setpriv to nobody) what needs root is
skipped and said, exit status 77.

POP3D=path overrides ./pop3d. Last line: "N passed, M failed".
"""
import fcntl
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POP3D = os.path.abspath(os.environ.get("POP3D", os.path.join(ROOT, "pop3d")))
LIMIT = 30
PASSWORD = "check me 13"
TAG = "p3c%d" % (os.getpid() % 100000)
SERVICE = "pop3d-test-" + TAG
PAM_FILE = "/etc/pam.d/" + SERVICE
PAM_USERS = {"v": TAG + "v", "e": TAG + "e"}
MBOX = (b"From a@example.org Mon Jan  1 00:00:00 2024\n"
        b"Subject: one\n\nfirst body\n\n"
        b"From b@example.org Mon Jan  1 00:00:01 2024\n"
        b"Subject: two\n\nsecond body\n>From quoted\n")

passed = failed = 0


def check(cond, name, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + name, flush=True)
    else:
        failed += 1
        print("FAIL - " + name, flush=True)
        for line in detail.splitlines():
            print("    " + line, flush=True)
    return cond


def unused_id():
    for i in range(64999, 60000, -1):
        try:
            pwd.getpwuid(i)
        except KeyError:
            return i
    raise RuntimeError("no unused uid")


class World:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="pop3d-check.")
        os.chmod(self.tmp, 0o755)
        self.uid = unused_id()
        self.mail = os.path.join(self.tmp, "mail")
        self.empty = os.path.join(self.tmp, "empty")
        self.passwd = os.path.join(self.tmp, "passwd")
        os.mkdir(self.empty, 0o755)
        os.mkdir(self.mail)
        os.chown(self.mail, 0, 8)           # root:mail, as Debian ships
        os.chmod(self.mail, 0o2775)
        h = crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_SHA512))
        with open(self.passwd, "w") as f:
            for name, uid in (("alice", self.uid), ("bob", self.uid - 1)):
                f.write("%s:%s:%d:%d::%s:/bin/sh\n" % (name, h, uid, uid,
                                                      self.tmp))
        os.chmod(self.passwd, 0o600)
        self.box = os.path.join(self.mail, "alice")
        with open(self.box, "wb") as f:
            f.write(MBOX)
        os.chown(self.box, self.uid, 8)
        os.chmod(self.box, 0o600)

    def args(self, **over):
        a = {"-m": os.path.join(self.mail, "%u"), "-p": self.passwd,
             "--privsep-user": "nobody", "--privsep-dir": self.empty}
        a.update(over)
        out = []
        for k, v in a.items():
            if v is not None:
                out.append(k + ("=" if k.startswith("--") else "") + v)
        return out


def run_check(argv, password=None, prefix=()):
    p = subprocess.run(list(prefix) + [POP3D, "--check"] + argv,
                       input=(password + "\n").encode() if password
                       is not None else b"", capture_output=True,
                       timeout=LIMIT)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


def session_reply(argv, user, password):
    """What a real session answers to PASS, over a socketpair."""
    me, theirs = socket.socketpair()
    me.settimeout(LIMIT)
    env = dict(os.environ, REMOTE_ADDR="127.0.0.1")
    proc = subprocess.Popen([POP3D] + argv, stdin=theirs, stdout=theirs,
                            stderr=subprocess.DEVNULL, env=env)
    theirs.close()
    f = me.makefile("rb")
    f.readline()
    me.sendall(("USER %s\r\nPASS %s\r\n" % (user, password)).encode())
    f.readline()
    reply = f.readline().decode().strip()
    me.sendall(b"QUIT\r\n")
    f.read()
    me.close()
    proc.wait(timeout=LIMIT)
    return reply


def sees(out, user):
    key = "a client logging in as %s would see: " % user
    for line in out.splitlines():
        if line.startswith(key):
            return line[len(key):]
    return None


def healthy(w):
    before = sorted(os.listdir(w.mail))
    rc, out, err = run_check(w.args(), None)
    check(rc == 0 and "FAIL" not in out,
          "healthy setup, no user: exit 0, no FAIL (rc=%d)" % rc, out + err)
    rc, out, err = run_check(w.args() + ["alice"], PASSWORD)
    check(rc == 0, "healthy setup, alice: exit 0 (rc=%d)" % rc, out + err)
    check("ok   login of alice: uid %d" % w.uid in out,
          "alice's login is checked", out)
    check(sees(out, "alice") == "+OK maildrop has 2 messages (71 octets)",
          "alice: 2 messages, STAT's octets: %r" % sees(out, "alice"), out)
    check(PASSWORD not in out + err, "the password is never printed")
    with open(w.box, "rb") as f:
        check(f.read() == MBOX, "the mailbox is unchanged byte for byte")
    check(sorted(os.listdir(w.mail)) == before,
          "no dot-lock or session file left: %s" % os.listdir(w.mail))
    real = session_reply(w.args(), "alice", PASSWORD)
    check(real == sees(out, "alice"),
          "a real session answers what --check said: %r" % real)
    with open(w.box, "r+b") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)   # an MDA delivering, fcntl-locked
        rc, out, err = run_check(w.args() + ["alice"], PASSWORD)
    check(rc == 1 and sees(out, "alice") ==
          "-ERR [IN-USE] mailbox is locked",
          "a delivery's fcntl lock keeps the index out: [IN-USE] (rc=%d)"
          % rc, out + err)
    rc, out, err = run_check(w.args() + ["bob"], PASSWORD)
    check(rc == 0 and sees(out, "bob") ==
          "+OK maildrop has 0 messages (0 octets)",
          "bob, no mailbox: an empty maildrop, exit 0 (rc=%d)" % rc,
          out + err)


def broken(w):
    def expect(name, argv, password, fragments):
        rc, out, err = run_check(argv, password)
        fail_lines = [l for l in out.splitlines() if l.startswith("FAIL")]
        good = rc == 1 and fail_lines and all(
            any(f in l for l in fail_lines) for f in fragments)
        check(good, "%s: FAIL with its fix, exit 1 (rc=%d)" % (name, rc),
              out + err)
        check(password is None or password not in out + err,
              "%s: the password is never printed" % name)
        return out

    expect("missing privsep user", w.args(**{"--privsep-user": TAG}),
           None, ["privsep user %s does not exist; fix: adduser" % TAG])
    os.chmod(w.empty, 0o775)
    expect("group-writable privsep directory", w.args(), None,
           ["privsep directory %s: mode 0775 owner 0" % w.empty,
            "fix: chown root %s && chmod go-w" % w.empty])
    os.chmod(w.empty, 0o755)
    gone = os.path.join(w.tmp, "nospool")
    expect("missing spool", w.args(**{"-m": gone + "/%u"}), None,
           ["spool %s does not exist; fix: mkdir %s" % (gone, gone)])
    os.chmod(w.mail, 0o755)
    os.chown(w.mail, 0, 0)
    out = expect("spool the lock helper cannot write", w.args() +
                 ["alice"], PASSWORD,
                 ["cannot create MAILBOX.lock and MAILBOX.pop3d",
                  "fix: chgrp mail %s && chmod 2775" % w.mail,
                  "the lock helper (uid %d, group" % w.uid])
    check(sees(out, "alice") == "-ERR [SYS/TEMP] session file cannot be "
          "opened", "... which a client sees as [SYS/TEMP]: %r"
          % sees(out, "alice"), out)
    os.chown(w.mail, 0, 8)
    os.chmod(w.mail, 0o2775)
    os.chmod(w.passwd, 0o606)
    expect("world-writable passwd file", w.args(), None,
           ["--passwd-file=%s: the server refuses to start" % w.passwd,
            "writable by group or others: chmod go-w"])
    os.chmod(w.passwd, 0o600)
    out = expect("wrong password", w.args() + ["alice"], "not " + PASSWORD,
                 ["login of alice refused: wrong password"])
    check(sees(out, "alice") == "-ERR [AUTH] authentication failed",
          "wrong password: a client sees -ERR [AUTH]", out)
    rc, _, err = run_check(w.args() + ["alice", "bob"], None)
    check(rc == 64, "two users: a bad option, exit 64 (rc=%d)" % rc, err)
    p = subprocess.run([POP3D] + w.args() + ["alice"], capture_output=True,
                       timeout=LIMIT, stdin=subprocess.DEVNULL)
    check(p.returncode == 64, "a session still takes no argument (rc=%d)"
          % p.returncode)


def not_root(w):
    prefix = ("setpriv", "--reuid=nobody", "--regid=nogroup",
              "--clear-groups")
    rc, out, err = run_check(w.args() + ["alice"], PASSWORD, prefix)
    check(rc == 77 and "skip --passwd-file=%s: not root" % w.passwd in out
          and "skip login and mailbox of alice: not root" in out
          and PASSWORD not in out + err,
          "as nobody: what needs root is skipped and said, exit 77 "
          "(rc=%d)" % rc, out + err)


def pam(w):
    with open(PAM_FILE, "w") as f:
        f.write("@include common-auth\n@include common-account\n")
    for name in PAM_USERS.values():
        subprocess.run(["useradd", "-M", "-d", w.tmp, "-s",
                        "/usr/sbin/nologin", name], check=True,
                       capture_output=True, timeout=LIMIT)
        subprocess.run(["chpasswd"], input="%s:%s\n" % (name, PASSWORD),
                       text=True, check=True, capture_output=True,
                       timeout=LIMIT)
    subprocess.run(["usermod", "-e", "1", PAM_USERS["e"]], check=True,
                   capture_output=True, timeout=LIMIT)
    v = PAM_USERS["v"]
    box = os.path.join(w.mail, v)
    with open(box, "wb") as f:
        f.write(MBOX)
    pw = pwd.getpwnam(v)
    os.chown(box, pw.pw_uid, 8)
    os.chmod(box, 0o600)
    args = w.args(**{"-p": None, "-s": SERVICE})
    rc, out, err = run_check(args + [v], PASSWORD)
    check(rc == 0 and "ok   PAM service file %s" % PAM_FILE in out and
          sees(out, v) == "+OK maildrop has 2 messages (71 octets)",
          "PAM: the right password passes, exit 0 (rc=%d)" % rc, out + err)
    check(session_reply(args, v, PASSWORD) == sees(out, v),
          "PAM: a real session answers what --check said")
    rc, out, err = run_check(args + [PAM_USERS["e"]], PASSWORD)
    check(rc == 1 and "FAIL login of %s refused" % PAM_USERS["e"] in out,
          "PAM: an expired account is refused by the account checks "
          "(rc=%d)" % rc, out + err)
    rc, out, err = run_check(w.args(**{"-p": None, "-s": SERVICE + "x"}),
                             None)
    check(rc == 1 and "FAIL PAM service file %sx: No such file" % PAM_FILE
          in out and "fix: install -m 0644 pam.d/pop3" in out,
          "PAM: a missing service file is found (rc=%d)" % rc, out + err)


def clean_up(w):
    for name in PAM_USERS.values():
        subprocess.run(["userdel", name], capture_output=True, timeout=LIMIT)
    if os.path.exists(PAM_FILE):
        os.unlink(PAM_FILE)
    if w is not None:
        shutil.rmtree(w.tmp, ignore_errors=True)


def main():
    if os.geteuid() != 0:
        print("skipped: needs root (other uids, real PAM, useradd)")
        print("0 passed, 0 failed")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    w = None
    try:
        w = World()
        healthy(w)
        broken(w)
        not_root(w)
        pam(w)
    except Exception as e:  # noqa: BLE001 -- any setup error is a failure
        check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        clean_up(w)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
