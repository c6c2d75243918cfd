# SPDX-License-Identifier: ISC
"""
Running pop3d for the integrity tests: the accounts and directories it
needs (as root or as a normal user), one POP3 session over a socketpair,
optionally under strace with a fault injected, and the ways other programs
touch a mailbox (an MDA append under the Debian locks, procmail).
"""

import fcntl
import grp
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PASSWORD = "correct horse"
STRACE_SET = "pwrite64,ftruncate,fsync,fdatasync"


def unused_id():
    """The highest id at or below 64999 that no user or group has."""
    i = 64999
    while True:
        try:
            pwd.getpwuid(i)
        except KeyError:
            try:
                grp.getgrgid(i)
            except KeyError:
                return i
        i -= 1


def make_hash(password):
    out = subprocess.run(["mkpasswd", "-m", "yescrypt", "--stdin"],
                         input=password.encode() + b"\n",
                         stdout=subprocess.PIPE, check=True).stdout
    return out.decode().strip()


class Env:
    """Temporary directories, the passwd file and the identities to use."""

    def __init__(self, pop3d):
        self.pop3d = os.path.abspath(pop3d)
        self.root = os.geteuid() == 0
        self.tmp = tempfile.mkdtemp(prefix="pop3d-integrity.", dir="/tmp")
        os.chmod(self.tmp, 0o755)
        if self.root:
            self.uid = unused_id()
            self.gid = self.uid
        else:
            self.uid = os.getuid()
            self.gid = os.getgid()
        self.user = "alice"
        self.passwd = os.path.join(self.tmp, "passwd")
        with open(self.passwd, "w") as f:
            f.write("%s:%s:%d:%d:Alice:/nonexistent:/bin/false\n" %
                    (self.user, make_hash(PASSWORD), self.uid, self.gid))
        os.chmod(self.passwd, 0o644)
        self.privsep = []
        if self.root:
            empty = os.path.join(self.tmp, "empty")
            os.mkdir(empty, 0o755)
            os.chmod(empty, 0o755)
            self.privsep = ["--privsep-user=nobody", "--privsep-dir=" + empty]
        self.mail = self.mkdir("mail")
        self.logs = os.path.join(self.tmp, "logs")
        os.mkdir(self.logs, 0o755)
        self.nsession = 0
        self.extra = []     # more pop3d options, such as --uidl=popa3d

    def mkdir(self, name):
        """A directory the mailbox owner can write in."""
        d = os.path.join(self.tmp, name)
        os.mkdir(d, 0o755)
        if self.root:
            os.chown(d, self.uid, self.gid)
        return d

    def as_owner(self):
        """subprocess arguments that run a program as the mailbox owner."""
        if self.root:
            return {"user": self.uid, "group": self.gid, "extra_groups": []}
        return {}

    def write_mailbox(self, path, data):
        for suffix in (".lock", ".pop3d"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
        os.chmod(path, 0o600)
        if self.root:
            os.chown(path, self.uid, self.gid)

    def command(self, mailbox, timeout=None):
        cmd = [self.pop3d, "-p", self.passwd, "-m", mailbox, "-d"]
        if timeout:
            cmd.append("-t%d" % timeout)
        return cmd + self.privsep + self.extra

    def cleanup(self):
        if not os.environ.get("KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)


class ProtocolError(Exception):
    pass


def strace_prefix(inject=None, output="/dev/null"):
    # No --seccomp-bpf: with it strace 6.1 injected nothing into pop3d
    # (the tests below notice: every injection point must kill or fail).
    # An injected error replaces the call by syscall -1, which the
    # session's system call filter (sandbox.c) sees and does not allow:
    # getpid, which it allows and which has no effect, stands in instead;
    # the session gets the injected error all the same.
    # Only a counting run follows the forks (to check that every call of
    # UPDATE is the session's): an injected kill must not also hit the
    # lock helper, which completes the update once the session is gone.
    follow = ["-f"] if output != "/dev/null" else []
    cmd = ["strace"] + follow + ["-qq", "-o", output, "-e",
                                 "trace=" + STRACE_SET]
    if inject:
        if ":error=" in inject:
            inject += ":syscall=getpid"
        cmd += ["-e", "inject=" + inject]
    return cmd


class Session:
    """One pop3d process serving one POP3 session over a socketpair."""

    def __init__(self, env, mailbox, prefix=(), io_timeout=60):
        self.env = env
        env.nsession += 1
        self.log = os.path.join(env.logs, "s%05d.log" % env.nsession)
        ours, theirs = socket.socketpair()
        child_env = dict(os.environ)
        # LeakSanitizer cannot stop the world under strace; leaks are for
        # other tests to find.
        asan = child_env.get("ASAN_OPTIONS", "")
        child_env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "detect_leaks=0"
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                list(prefix) + env.command(mailbox), stdin=theirs,
                stdout=theirs, stderr=err, start_new_session=True,
                close_fds=True, env=child_env)
        theirs.close()
        self.sock = ours
        self.sock.settimeout(io_timeout)
        self.rf = ours.makefile("rb")
        self.greeting = None
        self.closed = False

    # --- protocol
    def line(self):
        try:
            line = self.rf.readline()
        except (ConnectionError, OSError):
            line = b""
        if not line:
            raise EOFError("connection closed")
        if not line.endswith(b"\r\n"):
            raise ProtocolError("line without CRLF: %r" % line)
        return line[:-2]

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def cmd(self, text):
        self.send(text)
        return self.line()

    def multiline(self):
        """The lines of a multi-line reply, unstuffed, with CRLF."""
        out = []
        while True:
            line = self.line()
            if line == b".":
                return b"".join(out)
            if line.startswith(b"."):
                line = line[1:]
            out.append(line + b"\r\n")

    def login(self):
        """The reply to PASS (the maildrop's status line or an error)."""
        self.greeting = self.line()
        if not self.greeting.startswith(b"+OK"):
            raise ProtocolError("greeting: %r" % self.greeting)
        r = self.cmd("USER " + self.env.user)
        if not r.startswith(b"+OK"):
            raise ProtocolError("USER: %r" % r)
        return self.cmd("PASS " + PASSWORD)

    def login_ok(self):
        r = self.login()
        if not r.startswith(b"+OK"):
            raise ProtocolError("PASS: %r" % r)
        return r

    def listing(self, verb="LIST"):
        r = self.cmd(verb)
        if not r.startswith(b"+OK"):
            raise ProtocolError("%s: %r" % (verb, r))
        out = {}
        for line in self.multiline().splitlines():
            n, v = line.split(b" ", 1)
            out[int(n)] = v.decode() if verb == "UIDL" else int(v)
        return out

    def retr(self, n):
        """(status line, bytes) where bytes is None after -ERR."""
        r = self.cmd("RETR %d" % n)
        if not r.startswith(b"+OK"):
            return r, None
        return r, self.multiline()

    def dele(self, n):
        r = self.cmd("DELE %d" % n)
        if not r.startswith(b"+OK"):
            raise ProtocolError("DELE %d: %r" % (n, r))
        return r

    def quit(self):
        """QUIT's reply, or None when the connection ends without one."""
        try:
            return self.cmd("QUIT")
        except EOFError:
            return None

    def close(self, timeout=60):
        """Ends the session; pop3d's exit status (negative: a signal)."""
        if not self.closed:
            self.closed = True
            try:
                self.rf.close()
                self.sock.close()
            except OSError:
                pass
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            return self.proc.wait(timeout=10)

    def session_pid(self):
        """pop3d's own process (strace's child when run under strace)."""
        if os.path.basename(self.env.pop3d) == comm(self.proc.pid):
            return self.proc.pid
        kids = children(self.proc.pid)
        return kids[0] if kids else None

    def helper_pid(self):
        """The lock helper: the session's child once it is logged in."""
        pid = self.session_pid()
        kids = children(pid) if pid else []
        return kids[0] if len(kids) == 1 else None

    def kill_helper_at_recovery(self):
        """Makes the lock helper die (kill -9) at its second fstat from
        now: the first is dprintf's as it makes the dot-lock at QUIT, the
        second begins its work after the session's death. That leaves what
        a crash of the whole machine leaves. Needs root (the helper is not
        dumpable). Returns the strace process, or None."""
        pid = self.helper_pid()
        if pid is None or os.geteuid() != 0:
            return None
        tracer = subprocess.Popen(
            ["strace", "-qq", "-o", "/dev/null", "-p", str(pid), "-e",
             "trace=newfstatat,fstat", "-e",
             "inject=newfstatat,fstat:signal=SIGKILL:when=2"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if tracer_of(pid) not in (None, 0):
                return tracer
            time.sleep(0.01)
        tracer.kill()
        tracer.wait()
        return None

    def kill_group(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def log_tail(self, n=6):
        try:
            with open(self.log, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return " | ".join(lines[-n:])


def uidl_listing(env, path, data, extra):
    """pop3d's UIDL listing ({n: uidl}) of the mailbox at path, holding
    data, with the options extra; {} when the session fails."""
    env.write_mailbox(path, data)
    env.extra = extra
    s = Session(env, path)
    try:
        s.login_ok()
        out = s.listing("UIDL")
        s.quit()
    except (EOFError, ProtocolError, OSError) as e:
        print("    pop3d %s: %s | %s" % (" ".join(extra), e, s.log_tail()))
        out = {}
    s.close()
    env.extra = []
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def tracer_of(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def wait_gone(path, timeout=30):
    """Waits until path does not exist (a dot-lock removed); whether it
    went."""
    deadline = time.monotonic() + timeout
    while os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def boot_time():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return int(line.split()[1])
    return 0


def age_before_boot(path):
    """Makes a dot-lock look as if a crash before this boot left it (and
    older than the 5 minutes after which MDAs break it)."""
    old = min(boot_time() - 60, time.time() - 600)
    os.utime(path, (old, old))


def recover_run(env):
    """pop3d --recover over the test spool: (exit status, output)."""
    r = subprocess.run([env.pop3d, "--recover", "-d", "-m",
                        os.path.join(env.mail, "%u")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return r.returncode, r.stdout.decode(errors="replace")


def locked_append(env, path, data, rng=random):
    """Appends like a Debian MDA: fcntl write lock first, then the dot-lock
    (dotlockfile, run as the mailbox owner); if the dot-lock is busy the
    fcntl lock is dropped and both are retried after a random pause."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        deadline = time.monotonic() + 30
        while True:
            if time.monotonic() > deadline:
                raise RuntimeError("could not lock %s" % path)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                time.sleep(rng.uniform(0.005, 0.03))
                continue
            r = subprocess.run(["dotlockfile", "-l", "-r", "0", "-q",
                                path + ".lock"], **env.as_owner())
            if r.returncode == 0:
                break
            fcntl.lockf(fd, fcntl.LOCK_UN)
            time.sleep(rng.uniform(0.005, 0.03))
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            subprocess.run(["dotlockfile", "-u", path + ".lock"],
                           **env.as_owner())
            fcntl.lockf(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def locked_rewrite(env, path, transform, rng=random):
    """An "editor": under the same locks, rewrites the mailbox in place
    (same inode, as mutt does) with transform(old bytes)."""
    fd = os.open(path, os.O_RDWR)
    try:
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                time.sleep(rng.uniform(0.005, 0.03))
                continue
            r = subprocess.run(["dotlockfile", "-l", "-r", "0", "-q",
                                path + ".lock"], **env.as_owner())
            if r.returncode == 0:
                break
            fcntl.lockf(fd, fcntl.LOCK_UN)
            time.sleep(rng.uniform(0.005, 0.03))
        try:
            old = b""
            while True:
                chunk = os.pread(fd, 1 << 20, len(old))
                if not chunk:
                    break
                old += chunk
            new = transform(old)
            os.pwrite(fd, new, 0)
            os.ftruncate(fd, len(new))
            os.fsync(fd)
        finally:
            subprocess.run(["dotlockfile", "-u", path + ".lock"],
                           **env.as_owner())
            fcntl.lockf(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class Trace:
    """The traced syscalls of one UPDATE (strace -f -o FILE), in order.
    Only the process that made them counts; strace counts when= per
    syscall and per tracee, so the N-th call of a name here is what
    when=N hits."""

    LINE = re.compile(r"^(\d+) +(pwrite64|ftruncate|fsync|fdatasync)\((\d+)")
    PWRITE = re.compile(r", (\d+), (\d+)(?:\) +=| <unfinished)")
    TRUNC = re.compile(r"^\d+ +ftruncate\(\d+, (\d+)")

    def __init__(self, path):
        self.calls = []         # (name, fd, length or size, offset)
        self.pids = set()
        with open(path, errors="replace") as f:
            for line in f:
                m = self.LINE.match(line)
                if not m:
                    continue
                self.pids.add(m.group(1))
                name, fd = m.group(2), int(m.group(3))
                a = b = None
                if name == "pwrite64":
                    mm = self.PWRITE.search(line)
                    if mm:
                        a, b = int(mm.group(1)), int(mm.group(2))
                elif name == "ftruncate":
                    mm = self.TRUNC.match(line)
                    if mm:
                        a = int(mm.group(1))
                self.calls.append((name, fd, a, b))
        # the journal: the file whose header slot (512 bytes at 0 or 512)
        # is written; an update that is a mere truncation has none
        self.jfd = None
        for name, fd, a, b in self.calls:
            if name == "pwrite64" and a == 512 and b in (0, 512):
                self.jfd = fd
                break
        # the header slot write: publish() makes the journal count
        self.slot = None
        for i, (name, fd, a, b) in enumerate(self.calls):
            if name == "pwrite64" and fd == self.jfd and b is not None and \
                    b < 1024:
                self.slot = i
                break

    def count(self, name):
        return sum(1 for c in self.calls if c[0] == name)

    def counts(self):
        return {n: self.count(n) for n in STRACE_SET.split(",")}

    def index(self, name, nth):
        """Position in the sequence of the nth (1-based) call of name."""
        k = 0
        for i, c in enumerate(self.calls):
            if c[0] == name:
                k += 1
                if k == nth:
                    return i
        return None

    def first_mailbox_write(self):
        """N such that the N-th pwrite64 is the first one to the mailbox
        (the journal is published by then, the mailbox not yet touched)."""
        n = 0
        for name, fd, _, _ in self.calls:
            if name == "pwrite64":
                n += 1
                if fd != self.jfd:
                    return n
        return None

    def clears_journal(self, i):
        """Whether call i empties the journal after the mailbox was
        truncated: an error there leaves a complete update (journal.c's
        finish() only logs it) and a journal the next session discards."""
        name, fd, a, _ = self.calls[i]
        if fd != self.jfd or not (name == "fsync" or
                                  (name == "ftruncate" and a == 0)):
            return False
        return any(c[0] == "ftruncate" and c[1] != self.jfd
                   for c in self.calls[:i])

    def describe(self, i):
        name, fd, a, b = self.calls[i]
        what = "journal" if fd == self.jfd else "mailbox"
        if name == "pwrite64":
            return "%s(%s, %s bytes at %s)" % (name, what, a, b)
        if name == "ftruncate":
            return "%s(%s, %s)" % (name, what, a)
        return "%s(%s)" % (name, what)
