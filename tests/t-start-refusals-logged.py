#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
Every refusal to start reaches syslog as well as stderr, and says what is
wrong and how to set it right (issue 13, part 3): an option refused (exit
64: a timeout out of range, a mailbox template that cannot work, a proxy
list, an unknown option or a missing value, a stray argument) and a
configuration refused (exit 78: the privsep account). Before, a refused
option was only on stderr, which systemd or a superserver may not keep.

pop3d runs for real with a private /dev/log: in a mount namespace of its
own (unshare -m), a directory holding this test's datagram socket "log"
and a /dev/null is mounted over /dev. Needs root (as in CI); as a normal
user every check is skipped and said so. Each refusal must be one line at
facility mail, priority err, with the same text on stderr, and nothing on
stdout. Run from the repository root; POP3D=path overrides ./pop3d. The
last line is "N passed, M failed"; the exit status is 0 only if all
passed.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from integrity.tally import check, summary  # noqa: E402

POP3D = os.path.abspath(os.environ.get("POP3D", "./pop3d"))
LOG_MAIL_ERR = 2 * 8 + 3
LIMIT = 20

# (options, exit status, what stderr and the log line must both hold)
CASES = [
    (["-t", "0"], 64, ["invalid timeout: 0", "from 1 to 86400"]),
    (["-t", "86401"], 64, ["invalid timeout: 86401", "from 1 to 86400"]),
    (["-m", "mail/%u"], 64, ["invalid mailbox template: mail/%u",
                             "must begin with / or %h"]),
    (["-m", "/var/mail/%x"], 64, ["unknown % escape", "%u (the user name)",
                                  "%h (the home directory)"]),
    (["-m", "/var/mail/%"], 64, ["lone %", "write %%"]),
    (["-m", "/var/mail/"], 64, ["must name the mailbox file"]),
    (["-m", "/" + "a" * 5000 + "/%u"], 64, ["too long"]),
    (["--proxy-from=10.0.0.0/8"], 64,
     ["invalid proxy address list: 10.0.0.0/8",
      "IPv4 or IPv6 addresses separated by commas"]),
    (["--no-such-option"], 64, ["unknown option: --no-such-option"]),
    (["-dq"], 64, ["unknown option: -q"]),
    (["--timeout"], 64, ["option --timeout needs a value"]),
    (["stray"], 64, ["invalid argument: stray", "options only"]),
    # The option named is the one that is wrong, and why (review 6, F4).
    (["--debug", "-xd"], 64, ["unknown option: -x (see pop3d -h)"]),
    (["--recover", "-Cd"], 64, ["unknown option: -C (see pop3d -h)"]),
    (["--check", "-Kx"], 64, ["unknown option: -K (see pop3d -h)"]),
    (["--debug=1"], 64, ["option --debug takes no value"]),
    (["--p=x"], 64, ["ambiguous option: --p (see pop3d -h)"]),
    (["--" + "b" * 5000], 64,
     ["unknown option: --" + "b" * 128 + "... (see pop3d -h)"]),
    (["--check", "a", "b"], 64, ["invalid argument: b",
                                 "--check takes one USER"]),
    # Control bytes in a value reach neither log nor stderr (F7).
    (["-t", "1\n<11>forged\x1b[2J"], 64,
     ["invalid timeout: 1?<11>forged?[2J"]),
    # %h is the home; %hmail would be a sibling of it (F8).
    (["-m", "%hmail"], 64, ["invalid mailbox template: %hmail",
                            "%h/mail"]),
    (["-m", "%h.mbox"], 64, ["invalid mailbox template: %h.mbox"]),
    # %h alone is the home directory, no mailbox file.
    (["-m", "%h"], 64, ["invalid mailbox template: %h", "%h/mbox"]),
    (["-s", "../x"], 64, ["invalid PAM service: ../x", "/etc/pam.d"]),
    (["--privsep-user=p3d-no-such-user"], 78,
     ["privsep user p3d-no-such-user does not exist", "adduser --system"]),
]

def run_with_log(dev, sock, args):
    """pop3d args with dev mounted over /dev: (status, stdout, stderr,
    the syslog datagrams)."""
    script = ('mount --make-rprivate / && mount --bind /dev/null "$1/null" '
              '&& mount --bind "$1" /dev && shift && exec "$@"')
    p = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", dev,
                        POP3D] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=LIMIT)
    got = []
    while True:
        try:
            got.append(sock.recv(65536).decode(errors="replace"))
        except BlockingIOError:
            break
    return p.returncode, p.stdout, p.stderr.decode(errors="replace"), got


def main():
    if os.geteuid() != 0:
        print("# skipped - every check (a private /dev/log needs root)")
        print("0 passed, 0 failed")
        return 0
    tmp = tempfile.mkdtemp(prefix="pop3d-refusals-")
    dev = os.path.join(tmp, "dev")
    os.mkdir(dev)
    open(os.path.join(dev, "null"), "w").close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(os.path.join(dev, "log"))
    sock.setblocking(False)
    try:
        for args, status, texts in CASES:
            name = "pop3d %s" % " ".join(a[:40] for a in args).encode("unicode_escape").decode()
            rc, out, err, logged = run_with_log(dev, sock, args)
            detail = "exit %s\nstderr: %s\nlog: %r" % (rc, err, logged)
            check(rc == status and out == b"",
                  "%s: exit %d, nothing on stdout" % (name, status), detail)
            check(all(t in err for t in texts),
                  "%s: stderr says what is wrong and how to fix it" % name,
                  detail)
            check(err.count("\n") == 1 and err.endswith("\n") and
                  not any(c < " " or c == "\x7f" for c in err[:-1]),
                  "%s: stderr is one line, no control bytes" % name, detail)
            lines = [m for m in logged
                     if m.startswith("<%d>" % LOG_MAIL_ERR) and
                     "pop3d[" in m and all(t in m for t in texts)]
            check(len(lines) == 1 and len(logged) == 1,
                  "%s: one line at mail.err in syslog, the same text" % name,
                  detail)
    finally:
        sock.close()
        shutil.rmtree(tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
