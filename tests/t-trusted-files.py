#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
The files pop3d trusts with credentials, --passwd-file and --apop-secrets
(trusted.h, pop3d.8): the same rule at start and at every open. Each check
is named after the defect it guards (adversarial review, issue 12, part 5):
a file swapped by the owner of its directory after the check at start, a
symbolic link that passed the start check, a file or directory others may
write, a world-readable file of hashes that deserves a warning.

pop3d runs for real: one session on a socketpair, its stderr (-d: every
log line) in a file. As root (as in CI) with privilege separation, a test
uid that owns the maildrop, and directories handed to nobody; as a normal
user only the checks that need no other uid run (the others say so).

Run from the repository root: python3 tests/t-trusted-files.py. POP3D=path
overrides ./pop3d; KEEP_TMP=1 keeps the temporary directory. The last line
is "N passed, M failed"; the exit status is 0 only if all passed.
"""

import hashlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile

POP3D = os.path.abspath(os.environ.get("POP3D", "./pop3d"))
ROOT = os.geteuid() == 0
NOBODY = 65534
EX_CONFIG = 78
LIMIT = 20              # seconds for any one reply or exit
GOOD = "victim's own password"
CHOSEN = "attacker's choice"
SECRET = "victim's apop secret"
CHOSEN_SECRET = "attacker's apop secret"

passed = 0
failed = 0


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


def skip(name, why):
    print("# skipped - %s (%s)" % (name, why), flush=True)


def pw_hash(password):
    """A yescrypt hash through tests/lib.sh's pw_hash."""
    out = subprocess.run(["sh", "-c", '. tests/lib.sh && pw_hash "$1"',
                          "sh", password], check=True, capture_output=True,
                         text=True, timeout=LIMIT)
    return out.stdout.strip()


def unused_id():
    for i in range(64999, 60000, -1):
        try:
            pwd.getpwuid(i)
        except KeyError:
            return i
    raise RuntimeError("no unused uid")


class World:
    """tmp/mail/victim, tmp/empty (privsep), the hashes, the uid."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="pop3d-trusted.")
        os.chmod(self.tmp, 0o711)
        self.uid = unused_id() if ROOT else os.getuid()
        self.gid = self.uid if ROOT else os.getgid()
        self.user = "victim" if ROOT else pwd.getpwuid(self.uid).pw_name
        self.good = pw_hash(GOOD)
        self.chosen = pw_hash(CHOSEN)
        mail = os.path.join(self.tmp, "mail")
        os.mkdir(mail, 0o700)
        box = os.path.join(mail, self.user)
        with open(box, "w"):
            pass
        os.chmod(box, 0o600)
        if ROOT:
            os.chown(mail, self.uid, self.gid)
            os.chown(box, self.uid, self.gid)
            os.mkdir(os.path.join(self.tmp, "empty"), 0o755)
        self.serial = 0

    def line(self, hash_):
        return "%s:%s:%d:%d::%s:/bin/sh\n" % (self.user, hash_, self.uid,
                                             self.gid, self.tmp)

    def dir(self, mode=0o755):
        """A fresh directory of the server's user, mode as given."""
        self.serial += 1
        d = os.path.join(self.tmp, "d%d" % self.serial)
        os.mkdir(d)
        os.chmod(d, mode)
        return d

    def file(self, path, text, mode=0o600):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def passwd(self, mode=0o600, hash_=None):
        """A passwd file of the victim (GOOD) in a fresh directory."""
        return self.file(os.path.join(self.dir(), "passwd"),
                         self.line(hash_ or self.good), mode)

    def argv(self, *opts):
        a = [POP3D, "-d", "-m", os.path.join(self.tmp, "mail", "%u")]
        if ROOT:
            a += ["--privsep-user=nobody",
                  "--privsep-dir=" + os.path.join(self.tmp, "empty")]
        return a + list(opts)

    def remove(self):
        if os.environ.get("KEEP_TMP"):
            print("# kept " + self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Session:
    """pop3d on one end of a socketpair; its stderr in a file."""

    def __init__(self, w, *opts):
        w.serial += 1
        self.log = os.path.join(w.tmp, "log.%d" % w.serial)
        ours, theirs = socket.socketpair()
        ours.settimeout(LIMIT)
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(w.argv(*opts), stdin=theirs,
                                         stdout=theirs, stderr=err,
                                         close_fds=True)
        theirs.close()
        self.sock = ours
        self.buf = b""

    def line(self):
        """The next reply line, or "" once the server closed."""
        while b"\r\n" not in self.buf:
            try:
                data = self.sock.recv(4096)
            except (ConnectionResetError, socket.timeout):
                data = b""
            if not data:
                return ""
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def chat(self, cmd):
        self.sock.sendall(cmd.encode() + b"\r\n")
        return self.line()

    def end(self):
        """Closes the client's side; pop3d's exit status."""
        self.sock.close()
        try:
            return self.proc.wait(LIMIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def stderr(self):
        with open(self.log) as f:
            return f.read()


def as_nobody(*cmd):
    """cmd as nobody, without groups: what a normal user can do."""
    subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                    "--clear-groups", "--"] + list(cmd), check=True,
                   timeout=LIMIT)


def refused_at_start(w, name, opts, want):
    """pop3d exits 78 before a greeting and its stderr matches want."""
    s = Session(w, *opts)
    greeting = s.line()
    status = s.end()
    err = s.stderr()
    check(status == EX_CONFIG and greeting == "" and re.search(want, err),
          name, "exit status %s (want %d), greeting %r, stderr:\n%s"
          % (status, EX_CONFIG, greeting, err))


def login(w, s, password):
    s.chat("USER " + w.user)
    return s.chat("PASS " + password)


def apop_digest(greeting, secret):
    stamp = re.search(r"<[^>]*>", greeting)
    if stamp is None:
        return "0" * 32
    return hashlib.md5((stamp.group(0) + secret).encode()).hexdigest()


# --------------------------------------------------------------- the checks

def passwd_file_swapped_after_start(w):
    """
    The review's scenario, with the state it needs reached after start: a
    root-owned 0600 file whose directory a user gets; after the greeting
    that user renames in a file naming the victim with a hash they chose.
    """
    name = "passwd_file_swapped_after_start"
    if not ROOT:
        return skip(name, "needs root")
    d = w.dir()
    path = w.file(os.path.join(d, "passwd"), w.line(w.good))
    s = Session(w, "-p", path)
    greeting = s.line()
    os.chown(d, NOBODY, NOBODY)
    forged = os.path.join(d, "forged")
    as_nobody("sh", "-c", 'umask 077 && printf "%s" "$1" >"$2" && '
              'mv -f "$2" "$3"', "sh", w.line(w.chosen), forged, path)
    reply = login(w, s, CHOSEN)
    s.chat("QUIT")
    s.end()
    err = s.stderr()
    why = "directory %s is owned by uid %d" % (d, NOBODY)
    check(greeting.startswith("+OK") and reply.startswith("-ERR [SYS/TEMP]")
          and err.count(why) == 1, name,
          "greeting %r; PASS with the attacker's hash: %r (want -ERR "
          "[SYS/TEMP]); want %r logged once; stderr:\n%s"
          % (greeting, reply, why, err))


def apop_secrets_swapped_after_start(w):
    """The same for --apop-secrets: the attacker's secret must not work."""
    name = "apop_secrets_swapped_after_start"
    if not ROOT:
        return skip(name, "needs root")
    d = w.dir()
    secrets = w.file(os.path.join(d, "secrets"),
                     "%s:%s\n" % (w.user, SECRET))
    s = Session(w, "-p", w.passwd(), "--apop-secrets=" + secrets)
    greeting = s.line()
    os.chown(d, NOBODY, NOBODY)
    forged = os.path.join(d, "forged")
    as_nobody("sh", "-c", 'umask 077 && printf "%s" "$1" >"$2" && '
              'mv -f "$2" "$3"', "sh", "%s:%s\n" % (w.user, CHOSEN_SECRET),
              forged, secrets)
    reply = s.chat("APOP %s %s" % (w.user,
                                   apop_digest(greeting, CHOSEN_SECRET)))
    s.chat("QUIT")
    s.end()
    check(reply.startswith("-ERR [SYS/TEMP]"), name,
          "greeting %r; APOP with the attacker's secret: %r (want -ERR "
          "[SYS/TEMP]); stderr:\n%s" % (greeting, reply, s.stderr()))


def passwd_file_in_user_dir_refused_at_start(w):
    """The review's layout as it is at start: refused then."""
    name = "passwd_file_in_user_dir_refused_at_start"
    if not ROOT:
        return skip(name, "needs root")
    path = w.passwd()
    os.chown(os.path.dirname(path), NOBODY, NOBODY)
    refused_at_start(w, name, ["-p", path],
                     r"--passwd-file=\S+ refused: directory \S+ is owned by "
                     r"uid %d, not by root" % NOBODY)


def passwd_file_symlink_refused(w):
    name = "passwd_file_symlink_refused"
    target = w.passwd()
    link = os.path.join(w.dir(), "passwd")
    os.symlink(target, link)
    refused_at_start(w, name, ["-p", link],
                     r"--passwd-file=\S+ refused: \S+ is a symbolic link")


def apop_secrets_symlink_refused(w):
    name = "apop_secrets_symlink_refused"
    target = w.file(os.path.join(w.dir(), "secrets"),
                    "%s:%s\n" % (w.user, SECRET))
    link = os.path.join(w.dir(), "secrets")
    os.symlink(target, link)
    refused_at_start(w, name, ["-p", w.passwd(), "--apop-secrets=" + link],
                     r"--apop-secrets=\S+ refused: \S+ is a symbolic link")


def passwd_file_dir_symlink_refused(w):
    name = "passwd_file_dir_symlink_refused"
    real = os.path.dirname(w.passwd())
    link = os.path.join(w.dir(), "link")
    os.symlink(real, link)
    refused_at_start(w, name, ["-p", os.path.join(link, "passwd")],
                     r"refused: \S+/link is a symbolic link: name the real "
                     r"path")


def passwd_file_group_writable_refused(w):
    name = "passwd_file_group_writable_refused"
    refused_at_start(w, name, ["-p", w.passwd(mode=0o620)],
                     r"refused: \S+ is writable by group or others: "
                     r"chmod go-w")


def passwd_file_writable_dir_refused(w):
    for mode in (0o775, 0o757):
        d = w.dir(mode)
        path = w.file(os.path.join(d, "passwd"), w.line(w.good))
        refused_at_start(w, "passwd_file_writable_dir_refused (%o)" % mode,
                         ["-p", path],
                         r"refused: directory \S+ is writable by group or "
                         r"others: chmod go-w")


def passwd_file_relative_refused(w):
    refused_at_start(w, "passwd_file_relative_refused",
                     ["-p", "relative/passwd"],
                     r"refused: relative/passwd is not an absolute path")


def passwd_file_world_readable_warned(w):
    """Allowed, but said at start; logins go on."""
    name = "passwd_file_world_readable_warned"
    s = Session(w, "-p", w.passwd(mode=0o644))
    greeting = s.line()
    reply = login(w, s, GOOD)
    s.chat("QUIT")
    s.end()
    err = s.stderr()
    check(greeting.startswith("+OK") and reply.startswith("+OK") and
          re.search(r"--passwd-file=\S+ is readable by all users.*"
                    r"chmod o-r", err), name,
          "greeting %r, PASS %r, stderr:\n%s" % (greeting, reply, err))


def passwd_file_under_sticky_dir_accepted(w):
    """
    A sticky directory writable by all (like /tmp) above a file of the
    server's user: nobody else can rename or remove that file.
    """
    name = "passwd_file_under_sticky_dir_accepted"
    d = w.dir(0o1777)
    path = w.file(os.path.join(d, "passwd"), w.line(w.good))
    s = Session(w, "-p", path)
    s.line()
    reply = login(w, s, GOOD)
    s.chat("QUIT")
    s.end()
    check(reply.startswith("+OK"), name,
          "PASS %r, stderr:\n%s" % (reply, s.stderr()))


CHECKS = [
    passwd_file_swapped_after_start,
    apop_secrets_swapped_after_start,
    passwd_file_in_user_dir_refused_at_start,
    passwd_file_symlink_refused,
    apop_secrets_symlink_refused,
    passwd_file_dir_symlink_refused,
    passwd_file_group_writable_refused,
    passwd_file_writable_dir_refused,
    passwd_file_relative_refused,
    passwd_file_world_readable_warned,
    passwd_file_under_sticky_dir_accepted,
]


def main():
    os.chdir(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if not os.access(POP3D, os.X_OK):
        check(False, "prerequisite: %s is built (make pop3d)" % POP3D)
    elif ROOT and shutil.which("setpriv") is None:
        check(False, "prerequisite: setpriv (util-linux) is installed")
    else:
        w = World()
        try:
            for c in CHECKS:
                c(w)
        finally:
            w.remove()
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
