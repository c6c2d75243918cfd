#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
recover_hostile: pop3d --recover over a spool whose session files users
write (review 3). The defects it guards:

  left_alone_counts_failed (F4): a journal beside a mailbox of another
      owner (usermod -u chowns the mailbox, not MAILBOX.pop3d) was left
      alone with a warning, counted nowhere, and --recover exited 0
      saying "0 interrupted updates". Now: found and failed, exit 1.
  names_escaped_in_log (F5): in a 1777 spool a user named a mailbox and
      its session file with a newline and a forged log line; --recover
      logged the name raw, forging a line. Now every byte outside a safe
      set is written \\xNN.
  failed_child_logged (F1): a recovery child that failed (killed by a
      signal or exit status not 0) was not reported; now one LOG_ERR
      line names the mailbox and how the child ended.

Runs as root only (--recover must); POP3D=path overrides ./pop3d. The
last line is "N passed, M failed".
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from integrity.harness import Env  # noqa: E402

passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok: " + what)
    else:
        failed += 1
        print("FAILED: %s\n%s" % (what, detail))


def spool(env, name, mode):
    d = os.path.join(env.tmp, name)
    os.mkdir(d)
    os.chmod(d, mode)
    return d


def put(path, data, uid, gid, mode=0o600):
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def recover(env, d):
    r = subprocess.run([env.pop3d, "--recover", "-d", "-m",
                        os.path.join(d, "%u")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace")


MBOX = b"From a@b Thu Jan  1 00:00:00 2026\n\nx\n"


def left_alone_counts_failed(env):
    d = spool(env, "f4", 0o755)
    box = os.path.join(d, "alice")
    put(box, MBOX, env.uid - 1, env.gid)
    put(box + ".pop3d", b"junk", env.uid, env.gid)
    rc, out = recover(env, d)
    check(rc == 1 and "1 interrupted updates, 0 completed; 1 mailboxes "
          "failed" in out and "%s.pop3d left alone" % box in out,
          "left_alone_counts_failed: exit 1, counted found and failed",
          "exit %d: %s" % (rc, out))
    check(os.path.getsize(box + ".pop3d") == 4,
          "left_alone_counts_failed: the journal is left as it was")


def names_escaped_in_log(env):
    d = spool(env, "f5", 0o1777)
    name = "x\npop3d[1]: LOGIN, user=root, ip=[10.6.6.6]"
    put(os.path.join(d, name), MBOX, env.uid, env.gid)
    put(os.path.join(d, name + ".pop3d"), b"junk", env.uid, env.gid)
    rc, out = recover(env, d)
    forged = [line for line in out.splitlines()
              if line.startswith("pop3d[1]")]
    check(rc == 0 and not forged and "x\\x0apop3d" in out,
          "names_escaped_in_log: no forged line, the name escaped",
          "exit %d: %s" % (rc, out))


def child_names_not_raw_in_log(env):
    """The recovery child's own lines (lock.c, lockd.c): review 4, F2."""
    d = spool(env, "f5b", 0o1777)
    name = "y\npop3d[1]: LOGIN FAILED, user=z, ip=[10.7.7.7]"
    put(os.path.join(d, name), MBOX, env.uid, env.gid)
    put(os.path.join(d, name + ".pop3d"), b"", env.uid, env.gid)
    lock = os.path.join(d, name + ".lock")
    put(lock, b"1\n", env.uid, env.gid)
    os.utime(lock, (946684800, 946684800))
    rc, out = recover(env, d)
    forged = [line for line in out.splitlines()
              if line.startswith("pop3d[1]")]
    check(not forged and not os.path.exists(lock),
          "child_names_not_raw_in_log: the stale lock goes, no forged line",
          "exit %d: %s" % (rc, out))


def failed_child_logged(env):
    d = spool(env, "f1", 0o755)
    box = os.path.join(d, "alice")
    put(box, MBOX, env.uid, env.gid, mode=0o000)
    put(box + ".pop3d", b"junk", env.uid, env.gid)
    rc, out = recover(env, d)
    check(rc == 1 and "the recovery of %s ended with exit status 1" % box
          in out, "failed_child_logged: the child's exit status logged",
          "exit %d: %s" % (rc, out))


def main():
    if os.geteuid() != 0:
        print("not run: pop3d --recover needs root")
        print("0 passed, 0 failed")
        return 0
    env = Env(os.environ.get("POP3D", os.path.join(os.path.dirname(HERE),
                                                   "pop3d")))
    try:
        left_alone_counts_failed(env)
        names_escaped_in_log(env)
        child_names_not_raw_in_log(env)
        failed_child_logged(env)
    finally:
        env.cleanup()
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
