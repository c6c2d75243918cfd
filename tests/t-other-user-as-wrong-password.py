#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
Started as a normal user, pop3d serves only that user (pop3d.8). Another
account used to be answered "-ERR [SYS/PERM]" when its password was right
and "-ERR [AUTH]" when it was wrong: an oracle for that account's password
(issue 13, part 3). Now another account is refused exactly as a wrong
password is, whatever its password: the same reply, at least the same
delay (AUTH_FAIL_DELAY, 3 s), counted as a failure (the third one ends
the connection), the connection kept for another try; and the log says
why once, naming the server's user. The name's uid is looked up before
any password is checked (no PAM module sees it; with a passwd file the
log of a wrong password is that of a right one).

As root (as in CI): pop3d runs as nobody over a socketpair, -d (its log
on stderr), with a passwd file of two accounts with the same password,
nobody's own and another uid's; then with PAM for root's name. As a
normal user every check is skipped and said so. Run from the repository
root; POP3D=path overrides ./pop3d. The last line is "N passed, M
failed"; the exit status is 0 only if all passed.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from integrity.tally import check, summary  # noqa: E402

POP3D = os.path.abspath(os.environ.get("POP3D", "./pop3d"))
NOBODY = 65534
OTHER = 4242
PASSWORD = "same password 13"
DELAY = 3.0             # AUTH_FAIL_DELAY
REFUSED = "-ERR [AUTH] authentication failed"
WHY = "not started as root: only user=nobody (uid 65534) can be served"

def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def session(args, logins):
    """One pop3d as nobody; logins: [(user, password)], sent one after
    the other. [(reply, seconds)], and the log."""
    me, theirs = socket.socketpair()
    me.settimeout(30)
    env = {k: v for k, v in os.environ.items()
           if k not in ("REMOTE_HOST", "TCPREMOTEIP")}
    env["REMOTE_ADDR"] = "192.0.2.13"
    proc = subprocess.Popen([POP3D, "-d"] + args, stdin=theirs,
                            stdout=theirs, stderr=subprocess.PIPE, env=env,
                            preexec_fn=as_nobody)
    theirs.close()
    f = me.makefile("rb")
    f.readline()
    got = []
    for user, pw in logins:
        me.sendall(("USER %s\r\n" % user).encode())
        f.readline()
        t0 = time.monotonic()
        me.sendall(("PASS %s\r\n" % pw).encode())
        reply = f.readline().decode().strip()
        got.append((reply, time.monotonic() - t0))
        if not reply.startswith("-ERR [AUTH] authentication failed") or \
                reply.endswith("goodbye"):
            break
    try:
        me.sendall(b"QUIT\r\n")
        f.read()
    except OSError:
        pass
    me.close()
    _, err = proc.communicate(timeout=30)
    return got, err.decode(errors="replace")


def set_up(tmp):
    os.chmod(tmp, 0o755)
    mail = os.path.join(tmp, "mail")
    os.mkdir(mail, 0o700)
    os.chown(mail, NOBODY, NOBODY)
    h = crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_SHA512))
    passwd = os.path.join(tmp, "passwd")
    with open(passwd, "w") as f:
        f.write("mine:%s:%d:%d::%s:/bin/sh\n" % (h, NOBODY, NOBODY, tmp))
        f.write("theirs:%s:%d:%d::%s:/bin/sh\n" % (h, OTHER, OTHER, tmp))
    os.chmod(passwd, 0o600)
    os.chown(passwd, NOBODY, NOBODY)
    return ["-m", os.path.join(mail, "%u"), "-p", passwd]


def main():
    if os.geteuid() != 0:
        print("# skipped - every check (pop3d must run as another uid)")
        print("0 passed, 0 failed")
        return 0
    tmp = tempfile.mkdtemp(prefix="pop3d-other-user-")
    try:
        args = set_up(tmp)
        right, log_r = session(args, [("theirs", PASSWORD)])
        wrong, log_w = session(args, [("theirs", "not " + PASSWORD)])
        detail = "right: %r\nwrong: %r\nlog (right):\n%s" % (right, wrong,
                                                             log_r)
        check(right[0][0] == wrong[0][0] == REFUSED,
              "another account: the right password gets the reply a wrong "
              "one gets (%s)" % REFUSED, detail)
        check(right[0][1] >= DELAY - 0.1 and
              abs(right[0][1] - wrong[0][1]) < 0.5,
              "another account: the right password takes as long as a "
              "wrong one (%.2f s, %.2f s)" % (right[0][1], wrong[0][1]),
              detail)
        check(log_r.count(WHY + ", not user=theirs, ip=[192.0.2.13]") == 1
              and "LOGIN FAILED, user=theirs, ip=[192.0.2.13]" in log_r,
              "the log says once why, naming the server's user, and "
              "LOGIN FAILED", log_r)
        check(log_w.count(WHY + ", not user=theirs, ip=[192.0.2.13]") == 1
              and "wrong password" not in log_w,
              "passwd file: the log of a wrong password is the log of the "
              "right one (the uid is looked up before the password)", log_w)
        unknown, log_u = session(args, [("nosuchname", PASSWORD)])
        check(unknown[0][0] == REFUSED and
              WHY + ", not user=nosuchname," in log_u,
              "passwd file: an unknown name is refused as another account",
              log_u)
        then, log = session(args, [("theirs", PASSWORD), ("mine", PASSWORD)])
        check(len(then) == 2 and then[1][0].startswith("+OK"),
              "the connection stays for another try, and the server's own "
              "user logs in", "%r\n%s" % (then, log))
        three, log = session(args, [("theirs", PASSWORD)] * 3)
        check([r for r, _ in three] == [REFUSED, REFUSED,
                                        REFUSED + ", goodbye"],
              "each is counted as a failure: the third ends the connection",
              "%r\n%s" % (three, log))
        pam, log = session(["-m", args[1], "-s", "pop3d-no-such-service"],
                           [("root", PASSWORD)])
        check(pam and pam[0][0] == REFUSED and
              WHY + ", not user=root," in log and
              "authentication unavailable" not in log,
              "PAM: another system account is refused before PAM runs, "
              "as a wrong password", "%r\n%s" % (pam, log))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
