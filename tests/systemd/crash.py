# SPDX-License-Identifier: ISC
# Run by tests/systemd/run inside the container, as root:
#   crash.py USER PASSWORD        leaves /var/mail/USER as a power loss
#                                 during an UPDATE leaves it
#   crash.py USER PASSWORD check  exit 0 if the mailbox then holds exactly
#                                 the messages the session did not delete
# The first writes five messages, runs a session (pop3d under strace, real
# PAM) that DELEs 1 and 3 and QUITs, once to find its first pwrite64 to the
# mailbox (after the journal is published), then again on the same
# mailbox killed at that write, while a second strace kills the lock helper
# as it begins to complete the update. Its last line says what it left.
import os, re, signal, socket, subprocess, sys, time

user, password, box = sys.argv[1], sys.argv[2], "/var/mail/" + sys.argv[1]
POP3D = "/usr/local/sbin/pop3d"
DELE = (1, 3)


def message(i):
    body = "".join("line %d of message %d\n" % (j, i) for j in range(40 * i))
    return ("From rv%d@example.org  Tue Nov 25 10:0%d:00 2025\n"
            "Subject: recover %d\n\n>From a quoted line\n%s\n" % (i, i, i, body)).encode()


MESSAGES = [message(i) for i in range(1, 6)]


def write_box():
    for p in (box, box + ".pop3d", box + ".lock"):
        if os.path.exists(p):
            os.unlink(p)
    with open(box, "wb") as f:
        f.write(b"".join(MESSAGES))
    os.chown(box, *owner)
    os.chmod(box, 0o600)


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def traced(pid):
    with open("/proc/%d/status" % pid) as f:
        return any(l.startswith("TracerPid:") and l.split()[1] != "0" for l in f)


def session(strace, kill_helper):
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(strace + [POP3D], stdin=theirs, stdout=theirs,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    theirs.close()
    ours.settimeout(30)
    rf = ours.makefile("rb")

    def cmd(text):
        if text:
            ours.sendall(text.encode() + b"\r\n")
        return rf.readline()

    assert cmd(None).startswith(b"+OK"), "no greeting"
    assert cmd("USER " + user).startswith(b"+OK"), "USER refused"
    assert cmd("PASS " + password).startswith(b"+OK"), "PASS refused"
    tracer = None
    if kill_helper:
        # the lock helper, the session's only child once logged in, dies
        # at its second fstat: the first is the dot-lock's at QUIT, the
        # second begins the completion after the session's death
        kids = children(children(proc.pid)[0])
        assert len(kids) == 1, "no lock helper"
        tracer = subprocess.Popen(
            ["strace", "-qq", "-o", "/dev/null", "-p", str(kids[0]), "-e",
             "trace=newfstatat,fstat", "-e",
             "inject=newfstatat,fstat:signal=SIGKILL:when=2"])
        deadline = time.monotonic() + 10
        while not traced(kids[0]):
            assert time.monotonic() < deadline, "strace did not attach"
            time.sleep(0.01)
    for n in DELE:
        assert cmd("DELE %d" % n).startswith(b"+OK"), "DELE refused"
    reply = cmd("QUIT")
    proc.wait(timeout=30)
    if tracer:
        tracer.wait(timeout=30)
    ours.close()
    return reply


def parse(data):
    """The messages of an mbox, split as a reader splits them: at each
    "From " line at the start or after an empty line."""
    starts = [m.start() for m in re.finditer(b"(?:^|(?<=\n\n))From ", data)]
    return [data[a:b] for a, b in zip(starts, starts[1:] + [len(data)])]


kept = [m for i, m in enumerate(MESSAGES, 1) if i not in DELE]
if sys.argv[3:] == ["check"]:
    with open(box, "rb") as f:
        got = parse(f.read())
    print("%d messages, the %d kept byte-exact: %s" %
          (len(got), len(kept), got == kept))
    sys.exit(got != kept)
st = os.stat(box)
owner = (st.st_uid, st.st_gid)
write_box()
# a counting run: which pwrite64 of the session is its first to the mailbox
trace = "/tmp/update.trace"
session(["strace", "-qq", "-y", "-o", trace, "-e", "trace=pwrite64"], False)
calls = [l for l in open(trace) if l.startswith("pwrite64(")]
first = next(i + 1 for i, l in enumerate(calls)
             if re.match(r"pwrite64\(\d+<%s>" % re.escape(box), l))
write_box()
reply = session(["strace", "-qq", "-o", "/dev/null", "-e", "trace=pwrite64",
                 "-e", "inject=pwrite64:signal=SIGKILL:when=%d" % first], True)
journal = os.path.getsize(box + ".pop3d") if os.path.exists(box + ".pop3d") else 0
print("killed at pwrite64 #%d (its first to the mailbox); QUIT's reply %r; "
      "journal %d bytes; dot-lock %s" % (first, reply, journal,
                                         os.path.exists(box + ".lock")))
