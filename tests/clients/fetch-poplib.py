# SPDX-License-Identifier: ISC
"""Python's poplib and APOP against pop3d, for tests/t-fetch-clients.sh.

Usage: fetch-poplib.py PORT APOP-PORT TMP PASSWORD SECRET
PORT is pop3d without --apop-secrets, APOP-PORT with it (carol: APOP only,
secret SECRET; dave: USER/PASS with PASSWORD). TMP holds what
tests/clients/fetch-maildrop.py wrote. Prints "ok ..."/"fail ..." lines.
"""
import os
import poplib
import re
import sys

port, apop_port, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
password, secret = sys.argv[4], sys.argv[5]
sizes = [int(l.split()[1]) for l in open(os.path.join(tmp, "sizes"))]
n = len(sizes)
expect = [open(os.path.join(tmp, "expect", str(i)), "rb").read()
          for i in range(1, n + 1)]
# RFC 1939 section 7: <...> with a host part, as a client finds it
TIMESTAMP = re.compile(rb"<[^<>\s]+@[^<>\s]+>")


def check(cond, what):
    print(("ok " if cond else "fail ") + "poplib: " + what, flush=True)
    return cond


def connect(p):
    return poplib.POP3("127.0.0.1", p, timeout=15)


def refused(how):
    """The -ERR line of a login that must fail (how(POP3) logs in)."""
    p = connect(apop_port)
    try:
        how(p)
    except poplib.error_proto as e:
        return e.args[0] if isinstance(e.args[0], bytes) else str(e).encode()
    finally:
        p.close()
    return b"(accepted)"


# --- without --apop-secrets: no timestamp, no APOP
p = connect(port)
w = p.getwelcome()
check(w.startswith(b"+OK") and b"<" not in w and not p.timestamp.search(w),
      "the greeting without --apop-secrets has no <...>: %r" % w)
try:
    r = p._shortcmd("APOP dave " + "0" * 32)
    check(False, "APOP without --apop-secrets accepted: %r" % r)
except poplib.error_proto as e:
    check(True, "APOP without --apop-secrets is -ERR: %r" % e.args[0])
p.quit()

# --- with --apop-secrets
p = connect(apop_port)
w = p.getwelcome()
check(w.startswith(b"+OK") and TIMESTAMP.search(w) is not None,
      "the greeting with --apop-secrets has a timestamp: %r" % w)
w2 = connect(apop_port)
check(TIMESTAMP.search(w2.getwelcome()).group(0) !=
      TIMESTAMP.search(w).group(0),
      "each greeting has its own timestamp")
w2.close()
try:
    r = p.apop("carol", secret)
    check(r.startswith(b"+OK"), "apop() as carol: %r" % r)
    check(p.stat() == (n, sum(sizes)), "STAT after apop(): %r" % (p.stat(),))
    good = True
    for i in range(1, n + 1):
        lines = p.retr(i)[1]
        if b"\r\n".join(lines) + b"\r\n" != expect[i - 1]:
            good = check(False, "RETR %d after apop() differs" % i)
    check(good, "RETR of all %d messages after apop(), as stored" % n)
    check(p.quit().startswith(b"+OK"), "QUIT after apop()")
except poplib.error_proto as e:
    check(False, "apop() as carol: %r" % e)

r = refused(lambda p: (p.user("carol"), p.pass_(password)))
check(r.startswith(b"-ERR [AUTH]"),
      "USER/PASS for carol, an APOP-only account, with her password: %r" % r)
r = refused(lambda p: p.apop("carol", "wrong secret"))
check(r.startswith(b"-ERR [AUTH]"), "apop() with a wrong secret: %r" % r)
try:
    p = connect(apop_port)
    p.user("dave")
    check(p.pass_(password).startswith(b"+OK"),
          "USER/PASS still works there for dave, who has no APOP secret")
    p.quit()
except poplib.error_proto as e:
    check(False, "USER/PASS for dave on the --apop-secrets server: %r" % e)
