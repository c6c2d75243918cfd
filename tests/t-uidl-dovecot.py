#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
uidl_dovecot: moving from Dovecot (mbox) without re-downloads, as pop3d.8
says under --uidl: Dovecot's POP3 UIDL is, by default (pop3_uidl_format =
%08Xu%08Xv), the message's IMAP UID and the mailbox's UIDVALIDITY in hex,
which it writes itself into an mbox it has served ("X-UID: uid" in every
message, "X-IMAPbase: uidvalidity lastuid" in the first), even after a
POP3 session that only lists. Checked here with the real
/usr/lib/dovecot/pop3 (dovecot-pop3d, preauthenticated, as the mailbox
owner): its listing against those headers; then the administrator's
one-time conversion, an "X-UIDL: <that UIDL>" header right after each
From_ line, and pop3d --x-uidl lists Dovecot's UIDLs, also where a sender
had written an X-UIDL of its own. pop3d itself does not read X-UID (there
is no --uidl=dovecot). Without dovecot-pop3d (not a test dependency: bench
installs it) this part says so and skips. The last line is "N passed, M
failed".
"""

import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from integrity.harness import uidl_listing as pop3d_uidls  # noqa: E402
from integrity.tally import check, run_parts  # noqa: E402

DOVECOT_POP3 = "/usr/lib/dovecot/pop3"
F = b"From sender@example.org Mon Jan  1 00:00:00 2024\n"
MBOX = b"\n".join(F + m for m in (
    b"Subject: one\nMessage-ID: <1@x>\n\nbody one\n",
    b"Subject: two\nX-UIDL: a-sender-wrote-this\n\nbody two\n",
    b"Subject: two\nX-UIDL: a-sender-wrote-this\n\nbody two\n",  # a copy
    b"Subject: four\r\n\r\nCRLF body\r\n"))


def dovecot_uidls(env, path):
    """Dovecot's UIDL listing of the mbox at path: {n: uidl}."""
    d = os.path.dirname(path)
    conf = os.path.join(d, "dovecot.conf")
    os.makedirs(os.path.join(d, "index"), 0o700, exist_ok=True)
    os.chown(os.path.join(d, "index"), env.uid, env.gid)
    with open(conf, "w") as f:
        f.write("protocols = pop3\nssl = no\nlog_path = /dev/null\n"
                "base_dir = %s/run\nfirst_valid_uid = 1\n"
                "mail_location = mbox:%s:INBOX=%s:INDEX=%s/index\n"
                % (d, d, path, d))
    kw = {"user": env.uid, "group": env.gid, "extra_groups": []} \
        if env.root else {}
    r = subprocess.run([DOVECOT_POP3, "-c", conf], input=b"UIDL\r\nQUIT\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60, cwd=d, env={"USER": env.user,
                                               "HOME": d}, **kw)
    out = {}
    for line in r.stdout.decode("utf-8", "replace").splitlines():
        m = re.match(r"^(\d+) (\S+)$", line.strip())
        if m:
            out[int(m.group(1))] = m.group(2)
    return out, r.stdout.decode("utf-8", "replace")[-300:]


def computed(data):
    """%08x of X-UID, %08x of X-IMAPbase's UIDVALIDITY, per message."""
    validity = re.search(rb"^X-IMAPbase: (\d+) ", data, re.M)
    uids = re.findall(rb"^X-UID: (\d+)", data, re.M)
    if validity is None:
        return {}
    return {i + 1: "%08x%08x" % (int(u), int(validity.group(1)))
            for i, u in enumerate(uids)}


def with_xuidl(data, uidls):
    """The conversion: "X-UIDL: uidl" right after each From_ line."""
    parts = data.split(b"\n\nFrom ")
    out = []
    for i, p in enumerate(parts):
        head, rest = p.split(b"\n", 1)
        out.append(head + b"\nX-UIDL: " + uidls[i + 1].encode() + b"\n" +
                   rest)
    return b"\n\nFrom ".join(out)


def part(env):
    path = os.path.join(env.mail, "inbox")
    env.write_mailbox(path, MBOX)
    dove, tail = dovecot_uidls(env, path)
    check(len(dove) == 4, "Dovecot lists the 4 messages", tail)
    with open(path, "rb") as f:
        after = f.read()
    check(computed(after) == dove and len(dove) == 4,
          "Dovecot's UIDLs are %08x(X-UID) %08x(UIDVALIDITY) of the mbox "
          "it leaves", "Dovecot %r, headers %r" % (dove, computed(after)))
    rule = computed(after)
    got = pop3d_uidls(env, path, with_xuidl(after, rule) if rule else after,
                      ["--x-uidl"])
    check(got == dove and len(dove) == 4, "with X-UIDL headers added, "
          "pop3d --x-uidl lists Dovecot's UIDLs, before a sender's "
          "X-UIDL", "pop3d %r" % got)


def main():
    if not os.access(DOVECOT_POP3, os.X_OK):
        print("SKIP: %s is missing (apt-get install dovecot-pop3d)"
              % DOVECOT_POP3)
        print("0 passed, 0 failed")
        return 0
    return run_parts([part])


if __name__ == "__main__":
    sys.exit(main())
