#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
Every failed login takes the same time, and APOP runs the account checks
a password login runs (issue 12, defects 3, 4 and 8).

As root, with real PAM: a service file under a test-only name in
/etc/pam.d (@include common-auth and common-account) and real accounts
made with useradd and chpasswd. Each attempt is one pop3d over a
socketpair; the time is from the credential line to the reply. The
median of each refused case must be within 10 % of the median of a wrong
password on the same server:
  - PAM: the right password of an expired account (usermod -e 1), an
    unknown name (defect 3);
  - PAM with --apop-secrets: USER/PASS of an account listed there
    (defect 8); APOP with the right digest for an expired and for a
    locked (usermod -L) account, and a wrong digest (defect 4); APOP of
    an account whose shadow field is useradd's "!" (no password ever
    set, review 1) logs in;
  - --passwd-file: the right password of a uid 0 line (defect 3), APOP
    with the right digest for a line whose hash is locked (defect 4).
Every refusal must be "-ERR [AUTH]" and logged as LOGIN FAILED; APOP of
a valid account still logs in. The users, the PAM file and the
temporary directory go away whatever happens.
POP3D=path overrides the binary (default ./pop3d). Last line:
"N passed, M failed".
"""
import concurrent.futures
import hashlib
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POP3D = os.environ.get("POP3D", os.path.join(ROOT, "pop3d"))
ATTEMPTS = 5
TOLERANCE = 0.10
PASSWORD = "correct horse 12"
SECRET = "apop secret 12"
TAG = "p3t%d" % (os.getpid() % 100000)
SERVICE = "pop3d-test-" + TAG
PAM_FILE = "/etc/pam.d/" + SERVICE
USERS = {k: TAG + k for k in ("v", "e", "l", "w", "n")}

passed = failed = 0


def ok(msg):
    global passed
    passed += 1
    print("ok - " + msg)


def fail(msg):
    global failed
    failed += 1
    print("FAIL - " + msg)


def run(*argv, stdin=None):
    subprocess.run(argv, input=stdin, check=True, capture_output=True,
                   text=True, timeout=30)


def set_up(tmp):
    with open(PAM_FILE, "w") as f:
        f.write("@include common-auth\n@include common-account\n")
    for k, name in USERS.items():
        run("useradd", "-M", "-d", tmp, "-s", "/usr/sbin/nologin", name)
        if k != "n":    # "n" keeps useradd's "!": no password ever set
            run("chpasswd", stdin="%s:%s\n" % (name, PASSWORD))
    run("usermod", "-e", "1", USERS["e"])
    run("usermod", "-L", USERS["l"])
    os.chmod(tmp, 0o755)
    os.mkdir(os.path.join(tmp, "empty"), 0o755)
    os.mkdir(os.path.join(tmp, "mail"), 0o755)
    for name in USERS.values():
        d = os.path.join(tmp, "mail", name)
        os.mkdir(d, 0o700)
        open(os.path.join(d, "mbox"), "w").close()
        pw = pwd.getpwnam(name)
        for p in (d, os.path.join(d, "mbox")):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    secrets = os.path.join(tmp, "secrets")
    with open(secrets, "w") as f:
        for k in ("v", "e", "l", "n"):
            f.write("%s:%s\n" % (USERS[k], SECRET))
        f.write("fileroot:%s\nfilelocked:%s\n" % (SECRET, SECRET))
    os.chmod(secrets, 0o600)
    uid, gid = pwd.getpwnam(USERS["v"])[2:4]
    h = crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_SHA512))
    passwd = os.path.join(tmp, "passwd")
    with open(passwd, "w") as f:
        for name, hh, u in (("fileuser", h, uid), ("fileroot", h, 0),
                            ("filelocked", "!" + h, uid)):
            f.write("%s:%s:%d:%d::%s:/bin/sh\n" % (name, hh, u, gid, tmp))
    os.chmod(passwd, 0o600)


def clean_up(tmp):
    for name in USERS.values():
        subprocess.run(["userdel", name], capture_output=True, timeout=30)
    if os.path.exists(PAM_FILE):
        os.unlink(PAM_FILE)
    shutil.rmtree(tmp, ignore_errors=True)


def server_args(tmp, kind):
    args = [POP3D, "-d", "-m", os.path.join(tmp, "mail", "%u", "mbox"),
            "--privsep-user=nobody",
            "--privsep-dir=" + os.path.join(tmp, "empty")]
    if kind == "file":
        args.append("-p" + os.path.join(tmp, "passwd"))
    else:
        args.append("-s" + SERVICE)
    if kind in ("apop", "file"):
        args.append("--apop-secrets=" + os.path.join(tmp, "secrets"))
    return args


def attempt(tmp, kind, method, user, cred):
    """(seconds, reply, log) of one login through one pop3d."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("REMOTE_HOST", "TCPREMOTEIP")}
    env["REMOTE_ADDR"] = "127.0.0.1"
    me, theirs = socket.socketpair()
    me.settimeout(30)
    proc = subprocess.Popen(server_args(tmp, kind), stdin=theirs,
                            stdout=theirs, stderr=subprocess.PIPE, env=env)
    theirs.close()
    f = me.makefile("rb")
    greeting = f.readline().decode()
    if method == "APOP":
        stamp = re.search(r"<[^>]*>", greeting).group(0)
        digest = hashlib.md5((stamp + cred).encode()).hexdigest()
        line = "APOP %s %s" % (user, digest)
    else:
        me.sendall(("USER %s\r\n" % user).encode())
        f.readline()
        line = "PASS " + cred
    t0 = time.monotonic()
    me.sendall(line.encode() + b"\r\n")
    reply = f.readline().decode().strip()
    took = time.monotonic() - t0
    try:
        me.sendall(b"QUIT\r\n")
        f.read()
    except ConnectionResetError:
        pass  # after the reply: what this test measures is already in
    me.close()
    _, err = proc.communicate(timeout=30)
    return took, reply, err.decode(errors="replace")


# kind, case, method, user, credential, refused
CASES = [
    ("pam", "wrong password", "USER", USERS["w"], "not " + PASSWORD, True),
    ("pam", "expired, right password", "USER", USERS["e"], PASSWORD, True),
    ("pam", "unknown user", "USER", TAG + "x", PASSWORD, True),
    ("apop", "wrong password", "USER", USERS["w"], "not " + PASSWORD, True),
    ("apop", "APOP-only account, USER/PASS", "USER", USERS["v"], PASSWORD,
     True),
    ("apop", "APOP expired, right digest", "APOP", USERS["e"], SECRET, True),
    ("apop", "APOP locked, right digest", "APOP", USERS["l"], SECRET, True),
    ("apop", "APOP wrong digest", "APOP", USERS["v"], "not " + SECRET, True),
    ("apop", "APOP valid account", "APOP", USERS["v"], SECRET, False),
    ("apop", "APOP-only account, no password ever set (!)", "APOP",
     USERS["n"], SECRET, False),
    ("file", "wrong password", "USER", "fileuser", "not " + PASSWORD, True),
    ("file", "uid 0, right password", "USER", "fileroot", PASSWORD, True),
    ("file", "APOP locked hash, right digest", "APOP", "filelocked", SECRET,
     True),
]


def check(results):
    medians, base = {}, {}
    for (kind, case, method, user, _, refused), runs in results.items():
        replies = sorted({r for _, r, _ in runs})
        if not refused:
            good = all(r.startswith("+OK") for r in replies)
            (ok if good else fail)("%s: %s logs in: %r" % (kind, case,
                                                          replies))
            if not good:
                print(runs[0][2])
            continue
        good = len(replies) == 1 and replies[0].startswith("-ERR [AUTH]")
        (ok if good else fail)("%s: %s refused: %r" % (kind, case, replies))
        tag = ", method=APOP" if method == "APOP" else ""
        want = "LOGIN FAILED, user=%s%s, ip=[127.0.0.1]" % (user, tag)
        good = all(want in log for _, _, log in runs)
        (ok if good else fail)("%s: %s logged: %s" % (kind, case, want))
        median = statistics.median(t for t, _, _ in runs)
        if case == "wrong password":
            base[kind] = median
        else:
            medians[(kind, case)] = median
    for (kind, case), median in medians.items():
        off = (median - base[kind]) / base[kind]
        msg = "%s: %s median %.2f s, wrong password %.2f s (%+.0f %%)" % (
            kind, case, median, base[kind], 100 * off)
        (ok if abs(off) <= TOLERANCE else fail)(msg)


def main():
    if os.geteuid() != 0:
        print("skipped: needs root (real PAM, useradd)")
        print("0 passed, 0 failed")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    tmp = tempfile.mkdtemp(prefix="pop3d-timing-")
    try:
        set_up(tmp)
        # A login that succeeds holds its maildrop until QUIT, so those
        # run one after another; two at once would get [IN-USE].
        jobs = [c for c in CASES if c[5] for _ in range(ATTEMPTS)]
        results = {c: [] for c in CASES}
        for c in CASES:
            if not c[5]:
                results[c] = [attempt(tmp, c[0], c[2], c[3], c[4])
                              for _ in range(ATTEMPTS)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futs = {pool.submit(attempt, tmp, c[0], c[2], c[3], c[4]): c
                    for c in jobs}
            for fut in concurrent.futures.as_completed(futs):
                try:
                    results[futs[fut]].append(fut.result())
                except OSError as e:
                    results[futs[fut]].append((0.0, repr(e), ""))
        check(results)
    except Exception as e:  # noqa: BLE001 -- any setup error is a failure
        fail("%s: %s" % (type(e).__name__, e))
    finally:
        clean_up(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
