#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""pop3d benchmark: pop3d against popa3d and Dovecot, with a physical reference.

    python3 bench/bench.py [--size=full|smoke] [--rounds=N] [--servers=LIST]

Generates deterministic mailboxes (bench/genmbox, cached in bench/data),
starts every server once on 127.0.0.1 (pop3d and popa3d under
systemd-socket-activate --inetd --accept, Dovecot with its own listener),
and runs each scenario for every server in turn, round after round, with a
fresh copy of the mailbox for every session that can change it. The
physical reference runs in the same rounds: `cat` of the same mailbox
through the same launcher and client, and a bare read+memchr scan of it.
Prints a Markdown table of the medians (and writes it, with every sample,
to bench/data/last-run.md and last-run.json).

As root the peers are installed when missing (dovecot-pop3d with apt-get;
popa3d is downloaded and unpacked under bench/data, never installed), and
throwaway system accounts (benchuser, benchuser01...) are created for the
run and removed at its end, even on failure or interrupt. As another user
only pop3d runs, serving that same user from a passwd file.
"""

import argparse
import json
import os
import platform
import pwd
import grp
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
GENMBOX = os.path.join(HERE, "genmbox")
POPBENCH = os.path.join(HERE, "popbench")
RSSWRAP = os.path.join(HERE, "rsswrap")
MARKER = "pop3d-bench throwaway account"
MAIN_USER = "benchuser"
SEED = 1939

SIZES = {
    # messages in each mailbox, sessions, concurrent users, rounds
    "full": dict(small=100, medium=10000, large=100000, conc=1000,
                 sessions=200, users=20, rounds=3, timeout=600, cap=20),
    "smoke": dict(small=20, medium=100, large=300, conc=20,
                  sessions=10, users=3, rounds=1, timeout=60, cap=5),
}

# name, mailbox, popbench mode, what is reported, unit, better
SCENARIOS = [
    ("stat", "large", "stat"),
    ("uidl", "large", "uidl"),
    ("retr", "medium", "retr"),
    ("retr-pipe", "medium", "retr-pipe"),
    ("top", "medium", "top"),
    ("dele1", "large", "dele1"),
    ("deleall", "large", "deleall"),
    ("sessions", "small", "sessions"),
    ("concurrent", "conc", "concurrent"),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Fatal(Exception):
    pass


def run(cmd, check=True, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 600)
    p = subprocess.run(cmd, **kw)
    if check and p.returncode != 0:
        raise Fatal("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                         (p.stderr or "").strip()[-500:]))
    return p


def ratio(a, b):
    if not a or not b:
        return "—"
    q = a / b
    return "%.0f" % q if q >= 100 else "%.1f" % q if q >= 10 else "%.2f" % q


def human_bytes(n):
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= div:
            return "%.*f %s" % (2 if n < 10 * div else 0, n / div, unit)
    return "%d B" % n


# --- mailboxes -------------------------------------------------------------

def genmbox_version():
    return run([GENMBOX, "--version"]).stdout.strip()


def mailbox(count):
    """The cached mailbox of count messages, generated on first use."""
    os.makedirs(DATA, exist_ok=True)
    path = os.path.join(DATA, "mbox-v%s-s%d-%d" % (genmbox_version(), SEED,
                                                    count))
    if not os.path.exists(path):
        log("generating %s (%d messages)" % (path, count))
        tmp = path + ".tmp"
        run([GENMBOX, str(count), tmp, str(SEED)], timeout=900)
        os.rename(tmp, path)
    return path


def first_message_len(path):
    """Bytes of the first message with its separator (what DELE 1 frees)."""
    with open(path, "rb") as f:
        buf = b""
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return len(buf)
            buf += chunk
            i = buf.find(b"\n\nFrom ")
            if i != -1:
                return i + 2


def header_names(block):
    """The names of the header lines of the first message in block."""
    names = []
    for line in block.split(b"\n\n", 1)[0].split(b"\n")[1:]:
        if line[:1] not in (b" ", b"\t") and b":" in line:
            names.append(line.split(b":", 1)[0].decode("ascii", "replace"))
    return names


def added_headers(result, original, offset):
    """Headers in the first message of result that the original (the
    message at offset) does not have: what a server wrote into it."""
    try:
        with open(result, "rb") as f:
            got = f.read(65536)
        with open(original, "rb") as f:
            f.seek(offset)
            want = f.read(65536)
    except OSError:
        return []
    have = header_names(want)
    return [h for h in header_names(got) if h not in have]


def fs_type(path):
    best, kind = "", "?"
    real = os.path.realpath(path)
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mnt = parts[1].replace("\\040", " ")
            if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and \
                    len(mnt) >= len(best):
                best, kind = mnt, parts[2]
    return kind


def copy_file(src, dst, uid, gid, mode):
    """A fresh, synced copy: no dirty pages left to disturb the timing."""
    for junk in (dst, dst + ".lock", dst + ".pop3d"):
        try:
            os.unlink(junk)
        except FileNotFoundError:
            pass
    fi = os.open(src, os.O_RDONLY)
    fo = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        size = os.fstat(fi).st_size
        done = 0
        while done < size:
            n = os.copy_file_range(fi, fo, size - done)
            if n == 0:
                break
            done += n
        os.fchown(fo, uid, gid)
        os.fchmod(fo, mode)
        # Mail that arrived an hour ago: popa3d sleeps up to a second
        # when the mailbox changed within the current second.
        t = time.time() - 3600
        os.utime(fo, (t, t))
        os.fsync(fo)
    finally:
        os.close(fi)
        os.close(fo)


# --- accounts (root only) --------------------------------------------------

def pw_hash(password):
    """A yescrypt hash, as Debian 12 makes them (mkpasswd from whois)."""
    if shutil.which("mkpasswd"):
        return run(["mkpasswd", "-m", "yescrypt", "--stdin"],
                   input=password + "\n").stdout.strip()
    import crypt  # noqa: E402 (Python < 3.13)
    abc = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    salt = "".join(secrets.choice(abc) for _ in range(20))
    return crypt.crypt(password, "$y$j9T$" + salt + "$")


class Accounts:
    """Throwaway system accounts, removed by cleanup() whatever happens."""

    def __init__(self):
        self.created = []
        self.dirs = []

    @staticmethod
    def leftovers():
        return [p.pw_name for p in pwd.getpwall() if p.pw_gecos == MARKER]

    def remove(self, name):
        try:
            p = pwd.getpwnam(name)
        except KeyError:
            return
        if p.pw_gecos != MARKER:
            return
        run(["userdel", name], check=False)
        try:
            grp.getgrnam(name)
            run(["groupdel", name], check=False)
        except KeyError:
            pass
        for suffix in ("", ".lock", ".pop3d"):
            try:
                os.unlink("/var/mail/" + name + suffix)
            except FileNotFoundError:
                pass

    def clean_leftovers(self):
        for name in self.leftovers():
            log("removing account %s left by an earlier run" % name)
            self.remove(name)

    def create(self, name, pwhash, home="/nonexistent"):
        try:
            pwd.getpwnam(name)
            raise Fatal("account %s exists and is not ours: not touching it"
                        % name)
        except KeyError:
            pass
        run(["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", home, "--shell", "/usr/sbin/nologin",
             "--comment", MARKER, name])
        self.created.append(name)
        if pwhash is not None:
            run(["chpasswd", "-e"], input="%s:%s\n" % (name, pwhash))

    def make_dir(self, path, mode):
        if not os.path.exists(path):
            os.makedirs(path, mode)
            os.chmod(path, mode)
            self.dirs.append(path)

    def cleanup(self):
        for name in reversed(self.created):
            self.remove(name)
        self.created = []
        for d in reversed(self.dirs):
            shutil.rmtree(d, ignore_errors=True)
        self.dirs = []


# --- servers ---------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, seconds=10):
    """Until the server at port greets with +OK."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), 1) as s:
                s.settimeout(5)
                return s.recv(100).startswith(b"+OK")
        except OSError:
            time.sleep(0.05)
    return False


class Launched:
    """A process group we started; stopped by its own id only."""

    def __init__(self, name, argv, logpath, env=None):
        self.name = name
        self.argv = argv
        self.logpath = logpath
        self.env = env
        self.proc = None

    def start(self):
        self.logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf,
                                     start_new_session=True, env=self.env)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def group_alive(self):
        self.proc.poll()        # reap the leader
        try:
            os.killpg(self.proc.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def stop(self):
        """SIGTERM to our process group, SIGKILL after 5 s."""
        if self.proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not self.group_alive():
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.time() + 5
            while time.time() < deadline and self.group_alive():
                time.sleep(0.05)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None
        self.logf.close()

    def wait_listening(self, seconds=10):
        """systemd-socket-activate says "Listening on" when it is ready."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            with open(self.logpath, "rb") as f:
                if b"Listening on" in f.read():
                    return True
            time.sleep(0.05)
        return False


class Server:
    label = "?"
    needs_root = False

    def __init__(self, bench):
        self.b = bench
        self.port = None
        self.launched = None
        self.rss_file = None

    def before_copy(self, user):
        pass

    def command(self, rss):
        raise NotImplementedError

    def start(self, rss=False):
        for attempt in range(3):
            self.port = free_port()
            argv = self.command(rss)
            self.launched = Launched(self.name, argv, os.path.join(
                self.b.work, "%s%s.log" % (self.name, "-rss" if rss else "")))
            self.launched.start()
            if self.greets:
                ready = wait_port(self.port, self.launched.proc, 10)
            else:
                ready = self.launched.wait_listening(10)
            if ready:
                return
            self.launched.stop()
        raise Fatal("%s did not start; see %s" % (self.name,
                                                  self.launched.logpath))

    def stop(self):
        if self.launched is not None:
            self.launched.stop()
            self.launched = None

    def socket_activate(self, argv):
        return ["systemd-socket-activate", "--inetd", "--accept", "-l",
                "127.0.0.1:%d" % self.port] + argv

    def wrapped(self, argv, rss):
        if not rss:
            return argv
        self.rss_file = os.path.join(self.b.work, self.name + ".rss")
        return [RSSWRAP, self.rss_file] + argv


class Pop3d(Server):
    name = "pop3d"
    label = "pop3d"
    greets = False

    def command(self, rss):
        argv = [self.b.pop3d, "-p", self.b.passwd_file, "-m",
                self.b.mail_template]
        if self.b.root:
            argv += ["--privsep-user=nobody",
                     "--privsep-dir=" + self.b.empty_dir]
        return self.socket_activate(self.wrapped(argv, rss))


class Popa3d(Server):
    name = "popa3d"
    label = "popa3d"
    greets = False
    needs_root = True

    def command(self, rss):
        return self.socket_activate(self.wrapped([self.b.popa3d], rss))


class Dovecot(Server):
    name = "dovecot"
    label = "Dovecot"
    greets = True
    needs_root = True

    def before_copy(self, user):
        # A fresh copy gets a fresh (cold) index.
        d = os.path.join(self.b.work, "dovecot", "index", user)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d, 0o700)
        pw = pwd.getpwnam(user)
        os.chown(d, pw.pw_uid, pw.pw_gid)

    def command(self, rss):
        base = os.path.join(self.b.work, "dovecot")
        conf = os.path.join(base, "dovecot%s.conf" % ("-rss" if rss else ""))
        run_dir = os.path.join(base, "run-rss" if rss else "run")
        os.makedirs(run_dir, 0o755, exist_ok=True)
        pop3_exec = ""
        if rss:
            self.rss_file = os.path.join(self.b.work, self.name + ".rss")
            pop3_exec = ("service pop3 {\n  executable = %s %s "
                         "/usr/lib/dovecot/pop3\n}\n" % (RSSWRAP,
                                                         self.rss_file))
        with open(conf, "w") as f:
            f.write(DOVECOT_CONF % dict(
                base=run_dir, log=os.path.join(base, "dovecot.log"),
                port=self.port, users=os.path.join(base, "users"),
                home=os.path.join(base, "home"),
                index=os.path.join(base, "index"),
                first_uid=self.b.min_uid, extra=pop3_exec))
        return ["dovecot", "-F", "-c", conf]


DOVECOT_CONF = """# written by bench/bench.py; Dovecot's defaults otherwise
base_dir = %(base)s
log_path = %(log)s
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = %(first_uid)d
mail_privileged_group = mail
mail_location = mbox:%(home)s/%%u/mail:INBOX=/var/mail/%%u:INDEX=%(index)s/%%u
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%%u %(users)s
}
userdb {
  driver = passwd-file
  args = username_format=%%u %(users)s
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = %(port)d
  }
  inet_listener pop3s {
    port = 0
  }
}
%(extra)s"""


class Sampler:
    """Samples VmHWM of every process in a process group from /proc."""

    def __init__(self, pgid, uid):
        self.pgid = pgid
        self.uid = uid
        self.procs = {}         # pid -> [name, max VmHWM kB, ran as uid]
        self.stop_flag = False
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def scan(self):
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    st = f.read()
                if int(st.rsplit(")", 1)[1].split()[2]) != self.pgid:
                    continue
                with open("/proc/%s/status" % pid) as f:
                    status = f.read()
            except (OSError, ValueError, IndexError):
                continue
            name, hwm, uid = "?", 0, -1
            for line in status.splitlines():
                if line.startswith("Name:"):
                    name = line.split()[1]
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
                elif line.startswith("Uid:"):
                    uid = int(line.split()[1])
            if name in ("systemd-socket-", "rsswrap"):
                continue        # the launcher and our wrapper
            p = self.procs.setdefault(pid, [name, 0, False])
            p[0] = name
            p[1] = max(p[1], hwm)
            p[2] = p[2] or uid == self.uid

    def loop(self):
        while not self.stop_flag:
            self.scan()
            time.sleep(0.002)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_flag = True
        self.thread.join()

    def owner_kb(self):
        return max([p[1] for p in self.procs.values() if p[2]], default=0)

    def all_kb(self):
        return max([p[1] for p in self.procs.values()], default=0)


class CatRef(Server):
    """The physical reference: the mailbox through the same launcher."""
    greets = False

    def __init__(self, bench, role):
        super().__init__(bench)
        self.role = role
        self.name = "cat-" + role

    def command(self, rss):
        return self.socket_activate(["/bin/cat", self.b.boxes[self.role]])


# --- the benchmark ---------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.size = SIZES[args.size]
        self.rounds = args.rounds or self.size["rounds"]
        self.root = os.geteuid() == 0
        self.pop3d = os.path.abspath(args.pop3d)
        self.accounts = Accounts()
        self.samples = {}       # (scenario, server) -> [values]
        self.extra = {}         # (scenario, server) -> [dicts]
        self.failures = {}      # (scenario, server) -> [messages]
        self.partial = {}       # (scenario, server) -> [messages done]
        self.notes = []
        self.servers = []
        self.refs = {}
        self.work = None
        self.password = secrets.token_urlsafe(12)
        self.t_start = time.time()
        self.load = [os.getloadavg()]

    # ... setup
    def mail_path(self, user):
        return self.mail_template.replace("%u", user)

    def users(self):
        return [MAIN_USER] + ["%s%02d" % (MAIN_USER, i)
                              for i in range(1, self.size["users"] + 1)]

    def ensure_peers(self, wanted):
        have = []
        if "popa3d" in wanted:
            self.popa3d = os.path.join(DATA, "popa3d", "usr", "sbin",
                                       "popa3d")
            if not os.path.exists(self.popa3d):
                dl = os.path.join(DATA, "popa3d-deb")
                os.makedirs(dl, exist_ok=True)
                os.chmod(dl, 0o755)  # apt's _apt user downloads into it
                log("downloading popa3d (apt-get download; not installed)")
                if run(["apt-get", "download", "popa3d"], cwd=dl,
                       timeout=300, check=False).returncode != 0:
                    run(["apt-get", "update", "-qq"], timeout=600)
                    run(["apt-get", "download", "popa3d"], cwd=dl,
                        timeout=300)
                debs = sorted(f for f in os.listdir(dl) if f.endswith(".deb"))
                run(["dpkg-deb", "-x", os.path.join(dl, debs[-1]),
                     os.path.join(DATA, "popa3d")])
            have.append("popa3d")
        if "dovecot" in wanted:
            if not shutil.which("dovecot") or \
                    not os.path.exists("/usr/lib/dovecot/pop3"):
                log("installing dovecot-pop3d")
                run([os.path.join(TOP, "scripts", "deps"), "dovecot-pop3d"],
                    stdout=None, stderr=None, timeout=900)
            have.append("dovecot")
        return have

    def setup(self):
        wanted = [s.strip() for s in self.args.servers.split(",") if s.strip()]
        for s in wanted:
            if s not in ("pop3d", "popa3d", "dovecot"):
                raise Fatal("unknown server %s" % s)
        if not os.access(self.pop3d, os.X_OK):
            raise Fatal("%s is not built (make pop3d)" % self.pop3d)
        missing = [pkg for tool, pkg in (("systemd-socket-activate",
                                          "systemd"), ("mkpasswd", "whois"))
                   if not shutil.which(tool)]
        if missing and self.root:
            run([os.path.join(TOP, "scripts", "deps")] + missing,
                stdout=None, stderr=None, timeout=900)
        elif "systemd" in missing:
            raise Fatal("systemd-socket-activate is missing (apt-get "
                        "install systemd)")
        if not self.root:
            dropped = [s for s in wanted if s != "pop3d"]
            if dropped:
                self.notes.append("Not root: %s skipped (they need root)."
                                  % ", ".join(dropped))
                wanted = ["pop3d"]
        wanted = ["pop3d"] + self.ensure_peers(wanted)

        self.boxes = {}
        for role in ("small", "medium", "large", "conc"):
            self.boxes[role] = mailbox(self.size[role])
        self.counts = {r: self.size[r] for r in self.boxes}
        self.first_len = first_message_len(self.boxes["large"])

        if self.root:
            self.work = tempfile.mkdtemp(prefix="pop3d-bench.",
                                         dir="/var/tmp")
            os.chmod(self.work, 0o755)
            self.mail_template = "/var/mail/%u"
        else:
            os.makedirs(DATA, exist_ok=True)
            self.work = tempfile.mkdtemp(prefix="run.", dir=DATA)
            os.mkdir(os.path.join(self.work, "mail"), 0o700)
            self.mail_template = os.path.join(self.work, "mail", "%u")
        maildir = os.path.dirname(self.mail_path("x"))
        if fs_type(maildir) in ("tmpfs", "ramfs"):
            self.notes.append("The mailboxes are on %s (%s), not on a "
                              "disk." % (fs_type(maildir), maildir))
        pwhash = pw_hash(self.password)

        if self.root:
            self.accounts.clean_leftovers()
            for name in self.users():
                self.accounts.create(name, pwhash)
            if "popa3d" in wanted:
                # popa3d runs its pre-login part as "popa3d" in
                # /var/lib/popa3d (compiled in), as its package sets up.
                try:
                    pwd.getpwnam("popa3d")
                except KeyError:
                    self.accounts.create("popa3d", None, "/var/lib/popa3d")
                self.accounts.make_dir("/var/lib/popa3d", 0o755)
            self.empty_dir = os.path.join(self.work, "empty")
            os.mkdir(self.empty_dir, 0o755)
            self.mail_gid = grp.getgrnam("mail").gr_gid
            self.mail_mode = 0o660
        else:
            self.mail_gid = os.getgid()
            self.mail_mode = 0o600
        ids = {u: self.ids(u) for u in self.users()}
        self.min_uid = min(uid for uid, gid in ids.values())

        self.passwd_file = os.path.join(self.work, "passwd")
        with open(self.passwd_file, "w") as f:
            for u, (uid, gid) in ids.items():
                f.write("%s:%s:%d:%d::%s:/usr/sbin/nologin\n" % (
                    u, pwhash, uid, gid, self.work))
        os.chmod(self.passwd_file, 0o600)

        if "dovecot" in wanted:
            base = os.path.join(self.work, "dovecot")
            os.makedirs(os.path.join(base, "index"), 0o755)
            os.makedirs(os.path.join(base, "home"), 0o755)
            os.chmod(base, 0o755)
            with open(os.path.join(base, "users"), "w") as f:
                for u, (uid, gid) in ids.items():
                    home = os.path.join(base, "home", u)
                    os.mkdir(home, 0o700)
                    os.chown(home, uid, gid)
                    f.write("%s:{CRYPT}%s:%d:%d::%s::\n" % (u, pwhash, uid,
                                                           gid, home))
            # Dovecot's auth process reads it as the dovecot user.
            os.chmod(os.path.join(base, "users"), 0o640)
            os.chown(os.path.join(base, "users"), 0,
                     grp.getgrnam("dovecot").gr_gid)

        classes = {"pop3d": Pop3d, "popa3d": Popa3d, "dovecot": Dovecot}
        self.servers = [classes[n](self) for n in wanted]
        self.refs = {"medium": CatRef(self, "medium"),
                     "large": CatRef(self, "large")}
        for s in self.servers + list(self.refs.values()):
            s.start()
        self.versions = self.get_versions()

    def ids(self, user):
        if not self.root:
            return os.getuid(), os.getgid()
        p = pwd.getpwnam(user)
        return p.pw_uid, p.pw_gid

    def get_versions(self):
        v = {}
        v["pop3d"] = run([self.pop3d, "-V"], check=False).stdout.strip()
        g = run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                check=False)
        if g.returncode == 0:
            v["pop3d"] += " (git %s)" % g.stdout.strip()
        for s in self.servers:
            if s.name == "popa3d":
                v["popa3d"] = run([self.popa3d, "-V"],
                                  check=False).stdout.strip()
                deb = run(["dpkg-deb", "-f"] + [os.path.join(
                    DATA, "popa3d-deb", f) for f in sorted(os.listdir(
                        os.path.join(DATA, "popa3d-deb")))][-1:] +
                    ["Version"], check=False).stdout.strip()
                if deb:
                    v["popa3d"] += " (Debian %s)" % deb
            if s.name == "dovecot":
                v["dovecot"] = "Dovecot " + run(["dovecot", "--version"],
                                                check=False).stdout.strip()
        return v

    # ... one measurement
    def fresh(self, server, role, users):
        for u in users:
            server.before_copy(u)
            uid, _ = self.ids(u)
            copy_file(self.boxes[role], self.mail_path(u), uid,
                      self.mail_gid, self.mail_mode)

    def client(self, server, mode, user=MAIN_USER, extra=()):
        t = self.size["timeout"]
        argv = [POPBENCH, "-P", str(server.port), "-u", user, "-t", str(t)]
        argv += list(extra) + [mode]
        env = dict(os.environ, POPBENCH_PASS=self.password)
        try:
            p = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               timeout=t + 30)
            out = p.stdout.strip().splitlines()
        except subprocess.TimeoutExpired:
            out = ['ok=0 err="no answer within %d s"' % (t + 30)]
        res = {}
        for item in (out[-1] if out else 'ok=0 err="no output"').split(" "):
            if "=" in item:
                k, v = item.split("=", 1)
                res[k] = v
        if res.get("ok") != "1":
            line = out[-1] if out else ""
            res["err"] = line.split("err=", 1)[-1].strip('"') or "failed"
        return res

    def record(self, scen, server, value, extra=None):
        self.samples.setdefault((scen, server), []).append(value)
        if extra is not None:
            self.extra.setdefault((scen, server), []).append(extra)

    def failed(self, scen, server, err):
        self.failures.setdefault((scen, server), []).append(err)
        log("  %-10s %-8s FAILED: %s" % (scen, server, err))

    def measure(self, scen, role, mode, srv):
        """One scenario on one server; returns nothing, records samples."""
        name = srv.name
        self.load.append(os.getloadavg())
        if not srv.launched.alive():
            self.failed(scen, name, "launcher died")
            return
        if scen in ("stat", "uidl"):
            self.fresh(srv, role, [MAIN_USER])
            for tag in ("1", "2"):
                r = self.client(srv, mode)
                if "err" in r:
                    self.failed(scen + tag, name, r["err"])
                    continue
                self.record(scen + tag, name, float(r["total"]), r)
                self.check_count(scen, name, int(r["count"]), role)
        elif scen in ("retr", "retr-pipe", "top"):
            self.fresh(srv, role, [MAIN_USER])
            r = self.client(srv, mode, extra=("-T", str(self.size["cap"])))
            if "err" in r:
                self.failed(scen, name, r["err"])
                return
            phase = float(r["phase"])
            if scen == "top":
                self.record(scen, name, int(r["done"]) / phase, r)
            else:
                self.record(scen, name, int(r["bytes"]) / 1e6 / phase, r)
            self.check_count(scen, name, int(r["count"]), role)
            if int(r["done"]) < int(r["count"]):
                self.partial.setdefault((scen, name), []).append(
                    int(r["done"]))
        elif scen in ("dele1", "deleall"):
            self.fresh(srv, role, [MAIN_USER])
            r = self.client(srv, mode)
            if "err" in r:
                self.failed(scen, name, r["err"])
                return
            path = self.mail_path(MAIN_USER)
            r["after"] = os.stat(path).st_size if os.path.exists(path) \
                else -1
            if r["after"] > 0:
                r["added"] = added_headers(path, self.boxes[role],
                                           self.first_len if scen == "dele1"
                                           else 0)
            self.record(scen, name, float(r["quit"]), r)
            self.record(scen + "-total", name, float(r["total"]))
        elif scen == "sessions":
            self.fresh(srv, role, [MAIN_USER])
            r = self.client(srv, mode, extra=("-n", str(self.size["sessions"])))
            if "err" in r:
                self.failed(scen, name, r["err"])
                return
            self.record(scen, name, float(r["rate"]), r)
        elif scen == "concurrent":
            users = self.users()[1:]
            self.fresh(srv, role, users)
            r = self.client(srv, mode, user=MAIN_USER,
                            extra=("-n", str(self.size["users"]), "-T",
                                   str(self.size["cap"] * 3)))
            if "err" in r:
                self.failed(scen, name, r["err"])
                return
            self.record(scen, name, float(r["total"]), r)
            want = self.counts[role] * self.size["users"]
            if int(r["count"]) != want:
                self.note_once("%s: %s listed %s messages, not %d" % (
                    scen, name, r["count"], want))
            if int(r["done"]) < want:
                self.partial.setdefault((scen, name), []).append(
                    int(r["done"]))
        log("  %-10s %-8s %s" % (scen, name, " ".join(
            "%s=%.4g" % (key, v[-1]) for (key, n), v in
            self.samples.items() if n == name and key.startswith(scen))))

    def measure_ref(self, scen, ref_role):
        """The physical reference for a scenario, in the same round."""
        ref = self.refs[ref_role]
        r = self.client(ref, "raw")
        if "err" in r:
            self.failed("cat-" + ref_role, "ref", r["err"])
        else:
            self.record("cat-" + ref_role, "ref", float(r["total"]), r)
        p = run([POPBENCH, "scan", self.boxes[ref_role]], check=False)
        res = dict(i.split("=", 1) for i in p.stdout.split() if "=" in i)
        if res.get("ok") == "1":
            self.record("scan-" + ref_role, "ref", float(res["total"]), res)
        else:
            self.failed("scan-" + ref_role, "ref", p.stdout.strip())
        log("  %-10s %-8s cat=%.4g s scan=%.4g s" % (
            scen, "ref", self.samples.get(("cat-" + ref_role, "ref"),
                                          [float("nan")])[-1],
            self.samples.get(("scan-" + ref_role, "ref"),
                             [float("nan")])[-1]))

    def measure_disk_ref(self, scen, kind):
        """What the DELE rows cannot avoid, on a fresh copy beside the
        mailboxes: two synced writes of it, or its truncation."""
        path = os.path.join(os.path.dirname(self.mail_path(MAIN_USER)),
                            ".pop3d-bench-ref")
        copy_file(self.boxes["large"], path, 0, 0, 0o600)
        p = run([POPBENCH, kind, path], check=False)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        res = dict(i.split("=", 1) for i in p.stdout.split() if "=" in i)
        if res.get("ok") == "1":
            self.record(kind + "-large", "ref", float(res["total"]), res)
            for part in ("copy", "inplace"):
                if part in res:
                    self.record(part + "-large", "ref", float(res[part]))
        else:
            self.failed(kind + "-large", "ref", p.stdout.strip())
        log("  %-10s %-8s %s" % (scen, "ref", p.stdout.strip()))

    def note_once(self, text):
        if text not in self.notes:
            self.notes.append(text)
            log("  note: " + text)

    def check_count(self, scen, name, count, role):
        if count != self.counts[role]:
            self.note_once("%s: %s reports %d messages, the mailbox has %d"
                           % (scen, name, count, self.counts[role]))

    def rounds_loop(self):
        limit = self.args.max_minutes * 60
        for rnd in range(self.rounds):
            if time.time() - self.t_start > limit:
                self.notes.append("Stopped after %d rounds: --max-minutes=%d "
                                  "reached." % (rnd, self.args.max_minutes))
                break
            log("round %d/%d" % (rnd + 1, self.rounds))
            k = rnd % len(self.servers)
            order = self.servers[k:] + self.servers[:k]
            for scen, role, mode in SCENARIOS:
                refs = {"stat": "large", "retr": "medium",
                        "dele1": "rewrite", "deleall": "truncate"}
                members = list(order)
                if scen in refs:
                    members.insert(rnd % (len(members) + 1), refs[scen])
                for m in members:
                    if m in ("rewrite", "truncate"):
                        self.measure_disk_ref(scen, m)
                    elif isinstance(m, str):
                        self.measure_ref(scen, m)
                    else:
                        self.measure(scen, role, mode, m)
            self.rounds_done = rnd + 1
        self.load.append(os.getloadavg())

    def rss_pass(self):
        """Peak RSS on the large mailbox, from separate wrapped instances."""
        log("peak RSS pass (rsswrap around each server's session)")
        for srv in self.servers:
            srv.stop()
            srv.start(rss=True)
            try:
                os.unlink(srv.rss_file)
            except FileNotFoundError:
                pass
            self.fresh(srv, "large", [MAIN_USER])
            sampler = Sampler(srv.launched.proc.pid, self.ids(MAIN_USER)[0])
            sampler.start()
            try:
                r = self.client(srv, "rss")
                time.sleep(0.2)
            finally:
                sampler.stop()
            if "err" in r:
                self.failed("rss", srv.name, r["err"])
            vals = []
            try:
                with open(srv.rss_file) as f:
                    for line in f:
                        kv = dict(i.split("=", 1) for i in line.split())
                        vals.append(int(kv["maxrss_kb"]))
            except FileNotFoundError:
                pass
            # rusage (rsswrap): pop3d and popa3d, every process of the
            # session that was waited for; Dovecot, its pop3 process. The
            # sampler adds every process of the server's process group
            # (for Dovecot also its long-lived auth, config, log...).
            every = max(vals + [sampler.all_kb()])
            owner = sampler.owner_kb()
            self.extra.setdefault(("rss", srv.name), []).append(
                {"rusage_kb": vals, "procs": sampler.procs})
            if every:
                self.record("rss-all", srv.name, every / 1024.0)
            if owner:
                self.record("rss", srv.name, owner / 1024.0)
            if not every and not owner and "err" not in r:
                self.failed("rss", srv.name, "no RSS measured")
            srv.stop()

    def check_dele(self):
        size = os.path.getsize(self.boxes["large"])
        for (scen, name), extras in self.extra.items():
            if scen == "dele1":
                want = size - self.first_len
            elif scen == "deleall":
                want = 0
            else:
                continue
            afters = sorted(set(int(e["after"]) for e in extras))
            added = sorted(set(h for e in extras for h in e.get("added", [])))
            if afters != [want]:
                self.note_once(
                    "%s: %s left a mailbox of %s bytes where removing the "
                    "deleted messages leaves %s%s." % (
                        scen, name, ", ".join("{:,}".format(a)
                                              for a in afters),
                        "{:,}".format(want),
                        "; its first message has headers the original "
                        "lacks: " + ", ".join(added) if added else ""))

    def cleanup(self):
        for s in self.servers + list(self.refs.values()):
            try:
                s.stop()
            except Exception as e:  # keep cleaning
                log("stopping %s: %s" % (s.name, e))
        if self.root:
            for u in self.users():
                for suffix in ("", ".lock", ".pop3d"):
                    p = "/var/mail/" + u + suffix
                    try:
                        if os.path.exists(p) and pwd.getpwnam(u).pw_gecos \
                                == MARKER:
                            os.unlink(p)
                    except (KeyError, OSError):
                        pass
        self.accounts.cleanup()
        if self.work and not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        elif self.work:
            log("kept %s" % self.work)

    # ... report
    def median(self, scen, name):
        v = self.samples.get((scen, name))
        return statistics.median(v) if v else None

    def report(self):
        names = [s.name for s in self.servers]
        labels = {s.name: s.label for s in self.servers}
        sz = self.size
        boxes = {r: (self.counts[r], os.path.getsize(self.boxes[r]))
                 for r in self.boxes}

        def box(role):
            n, b = boxes[role]
            return "%s msgs, %s" % ("{:,}".format(n), human_bytes(b))

        def fmt(v, unit):
            if v is None:
                return "—"
            if unit in ("MB/s", "/s", "MB"):
                return "{:,.0f}".format(v) if v >= 100 else "%.1f" % v
            return "%.3f" % v if v < 10 else "%.1f" % v

        ref_scan = self.median("scan-large", "ref")
        ref_cat_med = self.median("cat-medium", "ref")
        ref_cat_large = self.median("cat-large", "ref")
        med_bytes = boxes["medium"][1]
        warm = " (Dovecot: warm index)" if "dovecot" in names else ""
        rows = [
            ("login + STAT + QUIT, first session", "stat1", "large", "s", -1,
             "read+memchr %s s; cat %s s" % (fmt(ref_scan, "s"),
                                             fmt(ref_cat_large, "s"))),
            ("login + STAT + QUIT, next session" + warm,
             "stat2", "large", "s", -1, ""),
            ("login + UIDL + QUIT, first session", "uidl1", "large", "s", -1,
             ""),
            ("login + UIDL + QUIT, next session" + warm,
             "uidl2", "large", "s", -1, ""),
            ("RETR every message, one command at a time", "retr", "medium",
             "MB/s", 1, "cat %s MB/s" % fmt(
                 med_bytes / 1e6 / ref_cat_med if ref_cat_med else None,
                 "MB/s")),
            ("RETR every message, all pipelined in one write", "retr-pipe",
             "medium", "MB/s", 1, "cat %s MB/s" % fmt(
                 med_bytes / 1e6 / ref_cat_med if ref_cat_med else None,
                 "MB/s")),
            ("TOP n 0 for every message, one at a time", "top", "medium",
             "/s", 1, ""),
            ("DELE 1 + QUIT: QUIT until +OK (rewrite)", "dele1", "large", "s",
             -1, "a synced copy %s s + a synced rewrite in place %s s" % (
                 fmt(self.median("copy-large", "ref"), "s"),
                 fmt(self.median("inplace-large", "ref"), "s"))),
            ("DELE 1 + QUIT: whole session", "dele1-total", "large", "s", -1,
             ""),
            ("DELE all + QUIT: QUIT until +OK", "deleall", "large", "s", -1,
             "ftruncate to 0 + fsync %s s" % fmt(
                 self.median("truncate-large", "ref"), "s")),
            ("DELE all + QUIT: whole session", "deleall-total", "large", "s",
             -1, ""),
            ("%d sequential sessions (login + STAT + QUIT)" % sz["sessions"],
             "sessions", "small", "/s", 1, ""),
            ("%d concurrent users fetching everything (one RETR at a time)"
             % sz["users"], "concurrent", "conc", "s", -1, ""),
            ("peak RSS of the process that serves the mailbox (runs as the "
             "user; session of LIST, UIDL, RETR, TOP, DELE 1, QUIT)", "rss",
             "large", "MB", -1, ""),
            ("peak RSS of the largest process of the server in that session "
             "(incl. the yescrypt password check)", "rss-all", "large", "MB",
             -1, ""),
        ]
        out = []
        cmd = " ".join(["python3", "bench/bench.py"] + sys.argv[1:])
        via = os.environ.get("BENCH_VIA")
        if via:
            out.append("Command: `%s` (runs `%s`), %s." % (
                via, cmd, time.strftime("%Y-%m-%d")))
        else:
            out.append("Command: `%s`, %s." % (cmd,
                                              time.strftime("%Y-%m-%d")))
        out.append("")
        out.append(self.machine())
        out.append("")
        out.append("Versions: %s." % "; ".join(
            self.versions[n] for n in names if n in self.versions))
        out.append("")
        peers = [n for n in names if n != "pop3d"]
        head = ["scenario", "mailbox", "unit"] + [labels[n] for n in names]
        head += ["pop3d ÷ %s" % labels[p] for p in peers]
        head += ["physical reference"]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join(["---"] * 3 + ["---:"] * (
            len(names) + len(peers)) + ["---"]) + "|")
        for title, key, role, unit, better, ref in rows:
            vals = {n: self.median(key, n) for n in names}
            cells = [title, box(role), unit + (" ↑" if better > 0 else " ↓")]
            for n in names:
                base = key.replace("-total", "")
                if vals[n] is None and (key, n) in self.failures or \
                        vals[n] is None and (base, n) in self.failures:
                    cells.append("fails¹")
                elif (key, n) in self.partial:
                    cells.append(("> " if unit == "s" else "") +
                                 fmt(vals[n], unit) + "²")
                else:
                    cells.append(fmt(vals[n], unit))
            for p in peers:
                a, b = vals["pop3d"], vals[p]
                cells.append(ratio(a, b))
            cells.append(ref)
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        out.append(
            "Medians of %d interleaved round%s (in each round every scenario "
            "runs once per server, the order rotating between rounds). "
            "↓: lower is better, ↑: higher is better; the ratio is pop3d's "
            "median divided by the peer's. Every session gets a fresh, "
            "fsynced copy of the mailbox (the \"next session\" rows reuse the "
            "first session's copy); MB = 10⁶ bytes as received (CRLF, "
            "byte-stuffed). RETR and TOP rates count only the commands, not "
            "the login. Physical reference, measured in the same rounds: the "
            "mailbox file streamed by `cat` through the same launcher and "
            "client, and a bare read(256 KiB)+memchr scan of it from the page "
            "cache; for the DELE rows, on a fresh copy beside the mailboxes, "
            "the two synced writes a crash-safe move of all of it needs (a "
            "copy into a new file, then every byte again in place, each with "
            "writeback started as it goes and fdatasync()), and its "
            "truncation to 0 bytes with fsync()." % (self.rounds_done, "" if self.rounds_done == 1 else
                        "s"))
        if self.failures or self.notes or self.partial:
            out.append("")
            for (scen, name), errs in sorted(self.failures.items()):
                out.append("- ¹ %s, %s: %s (%d of %d)" % (
                    name, scen, errs[0], len(errs),
                    len(errs) + len(self.samples.get((scen, name), []))))
            for (scen, name), done in sorted(self.partial.items()):
                role = dict((s[0], s[1]) for s in SCENARIOS)[scen]
                want = self.counts[role] * (self.size["users"]
                                            if scen == "concurrent" else 1)
                cap = self.size["cap"] * (3 if scen == "concurrent" else 1)
                out.append("- ² %s, %s: stopped at the %d s cap, after %s "
                           "of %s messages; the rate is over those." % (
                               labels[name], scen, cap, "/".join(
                                   "{:,}".format(d) for d in done),
                               "{:,}".format(want)))
            for n in self.notes:
                out.append("- " + n)
        return "\n".join(out) + "\n"

    def machine(self):
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        try:
            with open("/etc/debian_version") as f:
                deb = "Debian " + f.read().strip()
        except OSError:
            deb = platform.system()
        maildir = os.path.dirname(self.mail_path("x"))
        loads = [la[0] for la in self.load]
        return ("Machine: %s, Linux %s, %d × %s, %.0f GiB RAM; mailboxes in "
                "%s (%s); 1-minute load average %.2f at the start, %.2f to "
                "%.2f during the run (the benchmark itself adds about 1)." % (
                    deb, platform.release(), os.cpu_count(), cpu,
                    mem / 2**30, maildir, fs_type(maildir), loads[0],
                    min(loads[1:] or loads), max(loads[1:] or loads)))

    def dump(self, md):
        os.makedirs(DATA, exist_ok=True)
        with open(os.path.join(DATA, "last-run.md"), "w") as f:
            f.write(md)
        with open(os.path.join(DATA, "last-run.json"), "w") as f:
            json.dump({"samples": {"%s/%s" % k: v for k, v in
                                   self.samples.items()},
                       "failures": {"%s/%s" % k: v for k, v in
                                    self.failures.items()},
                       "details": {"%s/%s" % k: v for k, v in
                                   self.extra.items()},
                       "notes": self.notes}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument("--rounds", type=int, default=0,
                    help="interleaved rounds (default: 3 full, 1 smoke)")
    ap.add_argument("--servers", default="pop3d,popa3d,dovecot")
    ap.add_argument("--pop3d", default=os.path.join(TOP, "pop3d"))
    ap.add_argument("--max-minutes", type=int, default=40,
                    help="start no new round after this (default 40)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory")
    args = ap.parse_args()

    def on_signal(sig, frame):
        raise SystemExit("interrupted by signal %d" % sig)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    b = Bench(args)
    b.rounds_done = 0
    status = 0
    try:
        b.setup()
        b.rounds_loop()
        b.rss_pass()
        b.check_dele()
        md = b.report()
        b.dump(md)
        print(md)
        if b.failures and "pop3d" in {n for _, n in b.failures}:
            status = 1
    except Fatal as e:
        log("bench: %s" % e)
        status = 1
    finally:
        b.cleanup()
    log("bench: %.0f s in all" % (time.time() - b.t_start))
    return status


if __name__ == "__main__":
    sys.exit(main())
