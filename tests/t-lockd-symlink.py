#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
lockd_symlink: the lock helper works only in the directory the session's
own walk reached, which no symbolic link leads to (pop3d.8, -m; mailbox.h,
mailbox_dir()).

The defect it guards (adversarial review 2, F4): with a template under the
home directory (-m %h/Mail/inbox) the lock helper's group and directory
were found by following links, before and apart from the session's walk,
which refuses them. A user who flipped ~/Mail between a symbolic link to a
group-writable spool and a real directory (renameat2 RENAME_EXCHANGE)
while logging in had, after a few logins, the helper run with the spool's
group in the spool and create inbox.pop3d there (user-owned), while the
session served ~/Mail's mailbox without its dot-lock.

  flipping_home_link: a spool 2775 root:<a group the user is not in>,
      ~/Mail flipped by the user as fast as it can during up to LOGINS
      logins. Each login is served (+OK, the session file in the real
      directory) or refused with -ERR; nothing ever appears in the spool.
  real_directory: without the flipping, ~/Mail a real directory: served,
      the session file beside the mailbox, the spool untouched.

Runs as root only (another uid flips; a spool group): as a normal user it
says so and passes nothing. POP3D=path overrides ./pop3d. The last line
is "N passed, M failed".
"""

import ctypes
import grp
import os
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from integrity.harness import PASSWORD, Env, make_hash  # noqa: E402
from integrity.mbox import make_msg, serialize  # noqa: E402
from integrity.tally import check, summary  # noqa: E402

LOGINS = 60
LIMIT = 15              # seconds for any reply or exit
AT_FDCWD = -100
RENAME_EXCHANGE = 2
SYS_RENAMEAT2 = 316     # x86_64


def spool_gid(taken):
    """A group no one has, not the user's."""
    gid = taken - 1
    while True:
        try:
            grp.getgrgid(gid)
        except KeyError:
            return gid
        gid -= 1


class Home:
    """tmp/home (the user's), ~/Mail.d with the mailbox, ~/Mail a link."""

    def __init__(self, env):
        self.env = env
        self.home = env.mkdir("home")
        self.real = os.path.join(self.home, "Mail.d")
        self.link = os.path.join(self.home, "Mail")
        self.spool = os.path.join(env.tmp, "spool")
        os.mkdir(self.spool)
        os.chown(self.spool, 0, spool_gid(env.gid))
        os.chmod(self.spool, 0o2775)
        os.mkdir(self.real, 0o700)
        os.chown(self.real, env.uid, env.gid)
        env.write_mailbox(os.path.join(self.real, "inbox"),
                          serialize([make_msg("m1", 100)]))
        with open(env.passwd, "w") as f:
            f.write("%s:%s:%d:%d:A:%s:/bin/false\n" % (
                env.user, make_hash(PASSWORD), env.uid, env.gid, self.home))
        os.chmod(env.passwd, 0o600)
        self.log = os.path.join(env.tmp, "log")

    def login(self):
        """The first reply to PASS, or what went wrong."""
        c, s = socket.socketpair()
        cmd = [self.env.pop3d, "-p", self.env.passwd, "-d", "-t5",
               "-m", "%h/Mail/inbox"] + self.env.privsep
        with open(self.log, "ab") as err:
            p = subprocess.Popen(cmd, stdin=s, stdout=s, stderr=err,
                                 start_new_session=True)
        s.close()
        rf = c.makefile("rb")
        c.settimeout(LIMIT)
        reply = b""
        try:
            rf.readline()
            c.sendall(b"USER %s\r\n" % self.env.user.encode())
            rf.readline()
            c.sendall(b"PASS %s\r\n" % PASSWORD.encode())
            reply = rf.readline()
            if reply.startswith(b"+OK"):
                c.sendall(b"QUIT\r\n")
                rf.readline()
        except OSError as e:
            reply += repr(e).encode()
        rf.close()
        c.close()
        try:
            p.wait(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        return reply

    def directory(self):
        """Whichever of the two names is the real directory now."""
        return self.link if not os.path.islink(self.link) else self.real


def flipper(home):
    libc = ctypes.CDLL(None, use_errno=True)
    os.setgroups([])
    os.setgid(home.env.gid)
    os.setuid(home.env.uid)
    end = time.monotonic() + LOGINS * LIMIT
    while time.monotonic() < end:
        libc.syscall(SYS_RENAMEAT2, AT_FDCWD, home.link.encode(),
                     AT_FDCWD, home.real.encode(), RENAME_EXCHANGE)
    os._exit(0)


def flipping_home_link(env):
    home = Home(env)
    os.symlink(home.spool, home.link)
    os.lchown(home.link, env.uid, env.gid)
    pid = os.fork()
    if pid == 0:
        flipper(home)
    replies = []
    try:
        for _ in range(LOGINS):
            replies.append(home.login())
            if os.listdir(home.spool):
                break
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    planted = os.listdir(home.spool)
    served = sum(r.startswith(b"+OK") for r in replies)
    odd = [r for r in replies if not r.startswith((b"+OK", b"-ERR"))]
    print("# %d logins, %d served" % (len(replies), served))
    check(not planted, "flipping_home_link: nothing made in the spool "
          "(found %s after %d logins)" % (planted, len(replies)))
    check(not odd, "flipping_home_link: every login served or refused "
          "(%s)" % odd[:3])
    check(served == 0 or os.path.exists(
        os.path.join(home.directory(), "inbox.pop3d")),
        "flipping_home_link: the session file beside the mailbox served")
    for p in planted:
        os.unlink(os.path.join(home.spool, p))


def real_directory(env):
    home = Home(env)
    os.rename(home.real, home.link)
    reply = home.login()
    check(reply.startswith(b"+OK"), "real_directory: served (%r)" % reply)
    check(os.path.exists(os.path.join(home.link, "inbox.pop3d")),
          "real_directory: the session file beside the mailbox")
    check(not os.listdir(home.spool), "real_directory: the spool untouched")


def main():
    if os.geteuid() != 0:
        print("# skipped: needs root (another uid, a spool group)")
        print("0 passed, 0 failed")
        return 0
    for part in (real_directory, flipping_home_link):
        env = Env(os.environ.get("POP3D", "./pop3d"))
        try:
            part(env)
        finally:
            env.cleanup()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
