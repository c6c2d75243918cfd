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

Review 5's findings, each a case: the child that becomes the user has no
terminal (a session of its own, /dev/null as fd 0 and 2), runs under the
session's system call filter and holds neither the user's hash nor the
password; a filter the kernel refuses (seccomp(2) forbidden, as under a
unit whose SystemCallFilter= lacks it) is a FAIL with its errno; a child
the user stops (SIGSTOP) is killed at the deadline and said; --check with
--recover is refused (64); a spool users cannot enter (2770) is a FAIL; an
immutable mailbox gets the session's -ERR; SIGINT or SIGTERM at the
password prompt leave the terminal echoing; a PASS-sized password ending
in CRLF logs in as a session does; control bytes of a home reach the
terminal escaped; with --no-plaintext the last line says a password
cannot log in.

POP3D=path overrides ./pop3d. Last line: "N passed, M failed".
"""
import ctypes
import errno
import fcntl
import os
import platform
import pty
import pwd
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests"))
from integrity.harness import unused_id  # noqa: E402
from integrity.tally import check, summary  # noqa: E402

POP3D = os.path.abspath(os.environ.get("POP3D", os.path.join(ROOT, "pop3d")))
LIMIT = 30
PASSWORD = "check me 13"
TAG = "p3c%d" % (os.getpid() % 100000)
SERVICE = "pop3d-test-" + TAG
PAM_FILE = "/etc/pam.d/" + SERVICE
PAM_USERS = {"v": TAG + "v", "e": TAG + "e"}
LONG_PASSWORD = "x" * 248          # PASS_MAX: "PASS " + 248 + CRLF = 255
ESC_HOME = "/home/e\x1b[2Jrin"    # a home that would clear the screen
MBOX = (b"From a@example.org Mon Jan  1 00:00:00 2024\n"
        b"Subject: one\n\nfirst body\n\n"
        b"From b@example.org Mon Jan  1 00:00:01 2024\n"
        b"Subject: two\n\nsecond body\n>From quoted\n")

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
        accounts = (("alice", PASSWORD, self.tmp),
                    ("bob", PASSWORD, self.tmp),
                    ("dave", LONG_PASSWORD, self.tmp),
                    ("erin", PASSWORD, ESC_HOME))
        with open(self.passwd, "w") as f:
            for i, (name, pw, home) in enumerate(accounts):
                h = crypt.crypt(pw, crypt.mksalt(crypt.METHOD_SHA512))
                f.write("%s:%s:%d:%d::%s:/bin/sh\n" % (name, h, self.uid - i,
                                                      self.uid - i, home))
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


def run_check(argv, password=None, prefix=(), preexec_fn=None):
    p = subprocess.run(list(prefix) + [POP3D, "--check"] + argv,
                       input=(password + "\n").encode() if password
                       is not None else b"", capture_output=True,
                       timeout=LIMIT, preexec_fn=preexec_fn)
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
    try:
        me.sendall(b"QUIT\r\n")
        f.read()
    except OSError:
        pass                            # the session ended after its -ERR
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


def memory_of(pid, cap=256 << 20):
    """The writable private memory of pid (heap, stack, data), bounded."""
    got = b""
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            if not f[1].startswith("rw") or len(got) >= cap:
                continue
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            try:
                mem.seek(lo)
                got += mem.read(min(hi - lo, cap - len(got)))
            except OSError:
                pass
    return got


def secrets_in_child(args, user, box):
    """F1: the child that becomes the user holds no hash, no password."""
    with open("/etc/shadow") as f:
        hashes = [l.split(":")[1] for l in f if l.startswith(user + ":")]
    proc = subprocess.Popen([POP3D, "--check"] + args + [user],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    mem = None
    with open(box, "r+b") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)   # keeps the child at its lock
        proc.stdin.write((PASSWORD + "\n").encode())
        proc.stdin.close()
        proc.stdin = None
        found = user_child(proc.pid, pwd.getpwnam(user).pw_uid)
        if found:
            mem = memory_of(found[0])
    finish(proc)
    check(mem is not None and len(hashes) == 1 and len(hashes[0]) > 20 and
          hashes[0].encode() not in mem and PASSWORD.encode() not in mem,
          "PAM: the user's child holds neither the user's hash nor the "
          "password (%s bytes read)" % (len(mem) if mem else None))


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
    secrets_in_child(args, v, box)
    rc, out, err = run_check(args + [PAM_USERS["e"]], PASSWORD)
    check(rc == 1 and "FAIL login of %s refused" % PAM_USERS["e"] in out,
          "PAM: an expired account is refused by the account checks "
          "(rc=%d)" % rc, out + err)
    rc, out, err = run_check(w.args(**{"-p": None, "-s": SERVICE + "x"}),
                             None)
    check(rc == 1 and "FAIL PAM service file %sx: No such file" % PAM_FILE
          in out and "fix: install -m 0644 pam.d/pop3" in out,
          "PAM: a missing service file is found (rc=%d)" % rc, out + err)


def user_child(parent, uid, timeout=LIMIT):
    """The child of parent that runs as uid: (pid, /proc stat fields after
    the name, /proc status text), or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for d in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
                with open("/proc/%s/status" % d) as f:
                    status = f.read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            uids = [l.split() for l in status.splitlines()
                    if l.startswith("Uid:")]
            if int(fields[1]) == parent and uids and uids[0][1] == str(uid):
                return int(d), fields, status
        time.sleep(0.01)
    return None


def start_on_tty(argv):
    """pop3d --check with a new terminal as its controlling terminal, fd 0
    and 2; stdout a pipe. Returns the process, the master and slave fds."""
    master, slave = pty.openpty()

    def controlling_tty():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([POP3D, "--check"] + argv, stdin=slave,
                            stdout=subprocess.PIPE, stderr=slave,
                            preexec_fn=controlling_tty)
    return proc, master, slave


def wait_prompt(master):
    seen = b""
    deadline = time.monotonic() + LIMIT
    while b"password for" not in seen and time.monotonic() < deadline:
        if select.select([master], [], [], 0.2)[0]:
            seen += os.read(master, 1024)
    return b"password for" in seen


def finish(proc, *fds):
    """Output of proc, which must end within LIMIT; killed if not."""
    try:
        out = proc.communicate(timeout=LIMIT)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        out = proc.communicate()[0]
    for fd in fds:
        os.close(fd)
    return proc.returncode, out.decode(errors="replace")


def user_child_confined(w):
    """F1: no terminal, the session's filter, no descriptor of root's."""
    proc, master, slave = start_on_tty(w.args() + ["alice"])
    found = None
    with open(w.box, "r+b") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)   # keeps the child at its lock
        if wait_prompt(master):
            os.write(master, (PASSWORD + "\n").encode())
            found = user_child(proc.pid, w.uid)
        if found:
            pid, fields, status = found
            fds = {}
            for fd in (0, 1, 2):
                try:
                    fds[fd] = os.readlink("/proc/%d/fd/%d" % (pid, fd))
                except OSError as e:
                    fds[fd] = str(e)
    rc, out = finish(proc, master, slave)
    if not check(found is not None, "the user's child is found"):
        return
    check(fields[4] == "0" and fields[3] == str(pid),
          "the user's child has no controlling terminal, a session of its "
          "own (session %s, tty_nr %s)" % (fields[3], fields[4]))
    check(fds[0] == "/dev/null" and fds[2] == "/dev/null" and
          fds[1].startswith("pipe:"),
          "the user's child: fd 0 and 2 /dev/null, fd 1 a pipe: %r" % fds)
    check("Seccomp:\t2" in status, "the user's child runs under a system "
          "call filter: %r" % [l for l in status.splitlines()
                                if l.startswith("Seccomp")])
    check(rc == 0 and sees(out, "alice") ==
          "+OK maildrop has 2 messages (71 octets)",
          "... and indexes the mailbox under it (rc=%d)" % rc, out)


def refuse_seccomp():
    """As under a unit whose SystemCallFilter= lacks seccomp(2): EPERM."""
    libc = ctypes.CDLL(None, use_errno=True)

    class Insn(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                    ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort),
                    ("filter", ctypes.POINTER(Insn))]

    ld_arch, ld_nr, jeq, ret = (0x20, 4), (0x20, 0), 0x15, 0x06
    insns = [Insn(ld_arch[0], 0, 0, ld_arch[1]),
             Insn(jeq, 0, 3, 0xc000003e),           # AUDIT_ARCH_X86_64
             Insn(ld_nr[0], 0, 0, ld_nr[1]),
             Insn(jeq, 0, 1, 317),                  # __NR_seccomp
             Insn(ret, 0, 0, 0x00050000 | errno.EPERM),
             Insn(ret, 0, 0, 0x7fff0000)]           # SECCOMP_RET_ALLOW
    prog = Prog(len(insns), (Insn * len(insns))(*insns))
    if libc.prctl(38, 1, 0, 0, 0) != 0 or \
            libc.prctl(22, 2, ctypes.byref(prog), 0, 0) != 0:
        os._exit(99)


def filter_refused(w):
    """F1: issue 13's failure, seen by --check."""
    if platform.machine() != "x86_64":
        print("skip - seccomp(2) refused: the filter here is for x86_64")
        return
    rc, out, err = run_check(w.args() + ["alice"], PASSWORD,
                             preexec_fn=refuse_seccomp)
    check(rc == 1 and "FAIL system call filter: Operation not permitted"
          in out and sees(out, "alice") == "no answer to PASS: the "
          "connection closes",
          "seccomp(2) refused: FAIL with the errno, exit 1 (rc=%d)" % rc,
          out + err)


def stopped_child(w):
    """F5: the user stops the child; root kills it at the deadline."""
    proc = subprocess.Popen([POP3D, "--check"] + w.args(**{"-t": "3"}) +
                            ["alice"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with open(w.box, "r+b") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)
        proc.stdin.write((PASSWORD + "\n").encode())
        proc.stdin.close()
        proc.stdin = None
        found = user_child(proc.pid, w.uid)
        if found:
            os.kill(found[0], signal.SIGSTOP)
    try:
        out = proc.communicate(timeout=15)[0].decode(errors="replace")
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        out, rc = "(root still waiting after 15 s)", -1
        proc.kill()
    leftover = False
    if found:
        try:
            os.kill(found[0], signal.SIGKILL)  # it holds the output pipes
            leftover = True
        except ProcessLookupError:
            pass
    proc.communicate()
    check(found is not None and rc == 1 and "timed out after 3 s" in out
          and not leftover,
          "a stopped child is killed at the deadline: FAIL, exit 1 "
          "(rc=%d)" % rc, out)


def check_with_recover(w):
    """F2: the two modes exclude each other."""
    spool = ["-m", os.path.join(w.mail, "%u")]
    for argv in (["--check", "--recover"] + spool,
                 ["--recover", "--check"] + spool + ["alice"]):
        p = subprocess.run([POP3D] + argv, capture_output=True,
                           timeout=LIMIT, stdin=subprocess.DEVNULL)
        err = p.stderr.decode(errors="replace")
        check(p.returncode == 64 and "exclude each other" in err,
              "%s: refused, exit 64 (rc=%d)" % (" ".join(argv[:2]),
                                                p.returncode), err)


def spool_not_enterable(w):
    """F3: 2770 root:mail, a user outside group mail cannot enter."""
    os.chmod(w.mail, 0o2770)
    try:
        rc, out, err = run_check(w.args(), None)
        check(rc == 1 and "FAIL spool %s: root:mail 2770" % w.mail in out
              and "fix: chmod o+x %s" % w.mail in out,
              "spool 2770: FAIL with chmod o+x, exit 1 (rc=%d)" % rc, out)
        rc, out, err = run_check(w.args() + ["alice"], PASSWORD)
        real = session_reply(w.args(), "alice", PASSWORD)
        check(rc == 1 and "warn spool %s" % w.mail in out and
              sees(out, "alice") == real and "permission denied" in real,
              "spool 2770, alice: the walk as alice is refused as the "
              "session is: %r (rc=%d)" % (real, rc), out)
    finally:
        os.chmod(w.mail, 0o2775)


def immutable_mailbox(w):
    """F4: the session opens the mailbox for writing: chattr +i."""
    if subprocess.run(["chattr", "+i", w.box],
                      capture_output=True).returncode != 0:
        print("skip - immutable mailbox: chattr +i unsupported here")
        return
    try:
        rc, out, err = run_check(w.args() + ["alice"], PASSWORD)
        real = session_reply(w.args(), "alice", PASSWORD)
    finally:
        subprocess.run(["chattr", "-i", w.box], capture_output=True)
    check(rc == 1 and sees(out, "alice") == real and real.startswith("-ERR"),
          "immutable mailbox: what the session answers, %r (rc=%d)"
          % (real, rc), out)


def prompt_signals(w):
    """F6: a signal at the password prompt leaves the terminal echoing."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc, master, slave = start_on_tty(w.args() + ["alice"])
        prompted = wait_prompt(master)
        if prompted:
            os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            proc.kill()
        echo = termios.tcgetattr(slave)[3] & termios.ECHO
        finish(proc, master, slave)
        check(prompted and proc.returncode == -sig and echo != 0,
              "%s at the password prompt: ends, the terminal echoes again "
              "(rc=%d, echo=%s)" % (signal.Signals(sig).name,
                                    proc.returncode, bool(echo)))


def nits(w):
    rc, out, err = run_check(w.args() + ["dave"], LONG_PASSWORD + "\r")
    real = session_reply(w.args(), "dave", LONG_PASSWORD)
    check(rc == 0 and sees(out, "dave") == real,
          "a 248-byte password ending in CRLF logs in, as PASS does: %r "
          "(rc=%d)" % (real, rc), out)
    rc, out, err = run_check(w.args() + ["dave"], LONG_PASSWORD + "x\r")
    check(rc == 1 and "longer than a PASS line holds" in out,
          "a 249-byte one is refused (rc=%d)" % rc, out)
    rc, out, err = run_check(w.args() + ["erin"], PASSWORD)
    check("\x1b" not in out + err and "e\\x1b[2Jrin" in out,
          "a home's control bytes reach the terminal escaped", out)
    secrets = os.path.join(w.tmp, "secrets")
    with open(secrets, "w") as f:
        f.write("alice:apop secret\n")
    os.chmod(secrets, 0o600)
    rc, out, err = run_check(w.args(**{"--apop-secrets": secrets}) +
                             ["--no-plaintext", "alice"], PASSWORD)
    check((sees(out, "alice") or "").startswith(
          "-ERR [SYS/PERM] plaintext login is disabled here"),
          "--no-plaintext: the last line says a password cannot log in: "
          "%r" % sees(out, "alice"), out)


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
        user_child_confined(w)
        filter_refused(w)
        stopped_child(w)
        check_with_recover(w)
        spool_not_enterable(w)
        immutable_mailbox(w)
        prompt_signals(w)
        nits(w)
        pam(w)
    except Exception as e:  # noqa: BLE001 -- any setup error is a failure
        check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        clean_up(w)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
