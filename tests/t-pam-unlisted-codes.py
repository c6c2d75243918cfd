#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
PAM return codes outside the usual few (review 1, F5): before the fix
they became an unpadded, uncounted, unlogged "-ERR [SYS/TEMP]".

As root, with real PAM: service files under test-only names in
/etc/pam.d and a real account made with useradd and chpasswd.
  - auth stack pam_exec expose_authtok (a wrong password is
    PAM_SYSTEM_ERR): each guess is "-ERR [SYS/TEMP]" after the failure
    delay, the third one ends the connection (the right password sent
    fourth is never checked), and the log has one warning per guess with
    user= and ip= that fail2ban's courier-auth filter does not match;
  - account stack pam_exec /bin/false (PAM_SYSTEM_ERR from
    pam_acct_mgmt): the right password is refused exactly like a wrong
    one: "-ERR [AUTH]", the same delay, LOGIN FAILED;
  - pam_permit for a name with no passwd entry: the same.
The users, the PAM files and the temporary directory go away whatever
happens. POP3D=path overrides the binary (default ./pop3d). Last line:
"N passed, M failed".
"""
import concurrent.futures
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POP3D = os.environ.get("POP3D", os.path.join(ROOT, "pop3d"))
PASSWORD = "correct horse 12"
TAG = "p3u%d" % (os.getpid() % 100000)
USER = TAG + "u"
SERVICES = {
    "exec": "auth required pam_exec.so quiet expose_authtok %(script)s\n"
            "account required pam_permit.so\n",
    "acct": "@include common-auth\n"
            "account required pam_exec.so quiet /bin/false\n"
            "@include common-account\n",
    "permit": "auth required pam_permit.so\naccount required pam_permit.so\n",
}
DELAY = 2.9          # AUTH_FAIL_DELAY, give or take
MAX_FAILURES = 3     # AUTH_FAILURES_MAX
# fail2ban's filter.d/courier-auth.conf failregex, prefix left out.
FAIL2BAN = re.compile(r"LOGIN FAILED, (?:(?!ip=)(?:user=[^,]*|\w+=[^,]*), )*"
                      r"ip=\[127\.0\.0\.1\]")

passed = failed = 0


def report(good, msg):
    global passed, failed
    if good:
        passed += 1
        print("ok - " + msg)
    else:
        failed += 1
        print("FAIL - " + msg)


def pam_file(kind):
    return "/etc/pam.d/pop3d-test-%s-%s" % (TAG, kind)


def set_up(tmp):
    script = os.path.join(tmp, "check")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nread -r pw\n[ \"$pw\" = \"%s\" ]\n" % PASSWORD)
    os.chmod(script, 0o755)
    for kind, text in SERVICES.items():
        with open(pam_file(kind), "w") as f:
            f.write(text % {"script": script})
    subprocess.run(["useradd", "-M", "-d", tmp, "-s", "/usr/sbin/nologin",
                    USER], check=True, capture_output=True, timeout=30)
    subprocess.run(["chpasswd"], input="%s:%s\n" % (USER, PASSWORD),
                   check=True, capture_output=True, text=True, timeout=30)
    os.chmod(tmp, 0o755)
    os.mkdir(os.path.join(tmp, "empty"), 0o755)


def clean_up(tmp):
    subprocess.run(["userdel", USER], capture_output=True, timeout=30)
    for kind in SERVICES:
        if os.path.exists(pam_file(kind)):
            os.unlink(pam_file(kind))
    shutil.rmtree(tmp, ignore_errors=True)


def session(tmp, kind, user, passwords):
    """[(seconds, reply)] of the PASS lines answered, and the log."""
    env = dict(os.environ, REMOTE_ADDR="127.0.0.1")
    me, theirs = socket.socketpair()
    me.settimeout(30)
    proc = subprocess.Popen(
        [POP3D, "-d", "-m", os.path.join(tmp, "%u"), "--privsep-user=nobody",
         "--privsep-dir=" + os.path.join(tmp, "empty"),
         "-s" + os.path.basename(pam_file(kind))],
        stdin=theirs, stdout=theirs, stderr=subprocess.PIPE, env=env)
    theirs.close()
    f = me.makefile("rb")
    f.readline()
    answers = []
    try:
        for pw in passwords:
            me.sendall(("USER %s\r\n" % user).encode())
            if not f.readline():
                break
            t0 = time.monotonic()
            me.sendall(("PASS %s\r\n" % pw).encode())
            reply = f.readline().decode().strip()
            if not reply:
                break
            answers.append((time.monotonic() - t0, reply))
        me.sendall(b"QUIT\r\n")
        f.read()
    except OSError:
        pass  # the server hung up: what the test looks at is in answers
    me.close()
    _, err = proc.communicate(timeout=30)
    return answers, err.decode(errors="replace")


def check_tempfail(answers, log):
    replies = [r for _, r in answers]
    report(len(answers) == MAX_FAILURES,
           "pam_exec auth: %d guesses answered, then hung up (%d wanted)"
           % (len(answers), MAX_FAILURES))
    report(all(r.startswith("-ERR [SYS/TEMP]") for r in replies),
           "pam_exec auth: every guess -ERR [SYS/TEMP]: %r"
           % sorted(set(replies)))
    report(all(t >= DELAY for t, _ in answers),
           "pam_exec auth: every guess delayed: %s"
           % ["%.2f" % t for t, _ in answers])
    warn = "authentication unavailable (System error), user=%s, " \
           "ip=[127.0.0.1]" % USER
    report(log.count(warn) == len(answers),
           "pam_exec auth: one warning line per guess: %s" % warn)
    report(not FAIL2BAN.search(log) and "LOGIN, user=" not in log,
           "pam_exec auth: no line for fail2ban, no login")


def check_refused_like_wrong(name, runs):
    (wrong, wlog), (right, rlog) = runs
    for label, answers, log in (("wrong", wrong, wlog),
                                ("right", right, rlog)):
        good = len(answers) == 1 and \
            answers[0][1] == "-ERR [AUTH] authentication failed" and \
            answers[0][0] >= DELAY
        report(good, "%s, %s password: %r" % (name, label, answers))
        report(bool(FAIL2BAN.search(log)) and "LOGIN, user=" not in log,
               "%s, %s password: LOGIN FAILED for fail2ban" % (name, label))


def main():
    if os.geteuid() != 0:
        print("skipped: needs root (real PAM, useradd)\n0 passed, 0 failed")
        return 0
    tmp = tempfile.mkdtemp(prefix="pop3d-pamcodes-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        set_up(tmp)
        guesses = ["wrong %d" % i for i in range(MAX_FAILURES)] + [PASSWORD]
        ghost = TAG + "nobody"
        jobs = {
            "exec": ("exec", USER, guesses),
            "acct wrong": ("acct", USER, ["not " + PASSWORD]),
            "acct right": ("acct", USER, [PASSWORD]),
            "permit wrong": ("permit", ghost, ["x"]),
            "permit right": ("permit", ghost, [PASSWORD]),
        }
        with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
            futs = {k: pool.submit(session, tmp, *v) for k, v in jobs.items()}
            res = {k: f.result() for k, f in futs.items()}
        check_tempfail(*res["exec"])
        check_refused_like_wrong("account stack says no",
                                 (res["acct wrong"], res["acct right"]))
        check_refused_like_wrong("no passwd entry after PAM success",
                                 (res["permit wrong"], res["permit right"]))
    finally:
        clean_up(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
