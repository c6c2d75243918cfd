#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
Data-integrity tests of pop3d's mailbox handling (doc/design.md "The mailbox",
journal.h). The promise under test: a kill -9 at any instant, ENOSPC or EIO
during UPDATE leaves a mailbox whose next session serves every message that
was not deleted, byte-exact, plus all mail appended meanwhile; at worst some
deleted messages come back (byte-exact); nothing else.

Parts:
  1. a checker: the mbox is parsed exactly by pop3d's rule and compared
     with what must be there; the next session's LIST and RETRs too;
  2. kill -9 injected by strace at every pwrite64/ftruncate/fsync/fdatasync
     of UPDATE, small and ~3 MB mailboxes, six deletion patterns, mail
     appended during the session and after the crash; kill -9, EIO and
     ENOSPC during the recovery that follows; mail identical to the deleted
     tail delivered after a crash; an MUA rewriting the mailbox between a
     crash and the next session; kill -9 of the whole process group at
     random times during UPDATE of a ~50 MB mailbox;
  3. ENOSPC and EIO injected the same way; as root, a really full tmpfs;
  4. procmail (and a second MDA) delivering while sessions RETR and DELE;
     [IN-USE] while a session is open, none right after QUIT;
  5. another program rewriting the mailbox during a session;
  6. UIDL stability.

strace (man strace, "-e inject"): with :signal= only, the signal is
delivered on entering the syscall, so kill -9 at call N leaves the state
after call N-1; when=N counts "per syscall and per tracee", and every
traced call of UPDATE comes from the session process (checked below), so
the forked helpers do not shift the count.

Run from the repository root: python3 tests/t-integrity.py (as root, as in
CI, or as a normal user; root-only parts say they were not run). POP3D=path
overrides the binary (default ./pop3d); KEEP_TMP=1 keeps the temporary
directory and the pop3d logs. The last line is "N passed, M failed"; the
exit status is 0 only if all passed. Deterministic: fixed random seeds.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True     # leave no __pycache__ in the tree
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from integrity import harness  # noqa: E402
from integrity.harness import Session, locked_append, locked_rewrite  # noqa: E402
from integrity.mbox import (check_invariant, make_msg, parse,  # noqa: E402
                            serialize, wire)

SYSCALLS = ("pwrite64", "ftruncate", "fsync", "fdatasync")
BIG_SPREAD = 15             # injection points per syscall on big mailboxes
CONCURRENCY_SECONDS = 45    # the procmail + sessions loop
TIME_LIMIT = 420            # parts not started by then fail (normally ~2 min)
T0 = time.monotonic()


# --------------------------------------------------------------- results

class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.stats = {
            "kill points": 0, "error points": 0, "recovery points": 0,
            "patterns": set(), "deliveries": 0,
            "concurrent sessions": 0, "retr checked": 0, "retr wrong": 0,
            "lost": 0, "altered": 0, "came back": 0, "cases": 0,
            "raw checks": 0, "raw lost": 0, "raw garbled": 0,
            "raw duplicated": 0,
        }

    def ok(self, name, quiet=False):
        self.passed += 1
        if not quiet:
            print("ok - " + name, flush=True)

    def fail(self, name, detail=""):
        self.failed += 1
        print("FAIL - " + name + ("\n    " + detail.replace("\n", "\n    ")
                                  if detail else ""), flush=True)

    def check(self, cond, name, detail="", quiet=False):
        if cond:
            self.ok(name, quiet)
        else:
            self.fail(name, detail)
        return cond

    def problems(self, problems, name, quiet=True):
        """One test: passes when the list of problems is empty."""
        for p in problems:
            if p.startswith("raw file"):
                continue        # counted apart, see raw_file()
            if "missing" in p:
                self.stats["lost"] += 1
            elif "altered" in p:
                self.stats["altered"] += 1
        return self.check(not problems, name, "\n".join(problems[:12]), quiet)

    def note(self, text):
        print("  " + text, flush=True)


R = Results()


def section(title):
    print("\n## %s  [%.0f s]" % (title, time.monotonic() - T0), flush=True)


# --------------------------------------------------------------- mailboxes

def small_msgs(tag):
    """Five messages with the edges a parser can get wrong."""
    msgs = [make_msg("%s-0" % tag, 300),
            make_msg("%s-1" % tag, 900),
            make_msg("%s-2" % tag, 200),
            make_msg("%s-3" % tag, 1500),
            make_msg("%s-4" % tag, 600)]
    # CRLF line endings, a NUL byte, a long line, an empty body line
    m = msgs[1]
    msgs[1] = m.with_body(m.body.replace(b"\n", b"\r\n"))
    m = msgs[2]
    msgs[2] = m.with_body(m.body + b"a NUL \x00 byte\n\nafter an empty line\n")
    m = msgs[3]
    msgs[3] = m.with_body(m.body + b"L" * 20000 + b"\n")
    return msgs


def big_msgs(tag):
    """About 3 MB: one 2.6 MB message among small ones."""
    return [make_msg("%s-0" % tag, 1000),
            make_msg("%s-1" % tag, 2600 * 1024),
            make_msg("%s-2" % tag, 1000),
            make_msg("%s-3" % tag, 300 * 1024),
            make_msg("%s-4" % tag, 1000)]


PATTERNS = {
    "first": [0],
    "last": [4],
    "alternate": [0, 2, 4],
    "all but one": [0, 1, 3, 4],
    "all": [0, 1, 2, 3, 4],
    "middle": [2],
}


class Case:
    """A mailbox, the messages a session deletes (0-based), mail appended
    during the session (before QUIT) and after it (before recovery); edit:
    another program's rewrite of the mailbox after the DELEs (one that
    keeps every message identifiable, so that QUIT re-indexes and matches
    instead of taking the listing's word)."""

    def __init__(self, name, msgs, dele, during=(), after=(), edit=None):
        self.name = name
        self.msgs = list(msgs)
        self.dele = sorted(dele)
        self.during = list(during)
        self.after = list(after)
        self.edit = edit
        self.current = parse(edit(serialize(msgs))) if edit else self.msgs
        self.kept = [m for i, m in enumerate(self.current)
                     if i not in self.dele]
        self.deleted = [self.current[i] for i in self.dele]

    def original(self):
        return serialize(self.msgs)


class Paths:
    """A fresh mailbox path for every case."""
    counter = 0

    def __init__(self, env):
        self.env = env

    def path(self, stem="box"):
        Paths.counter += 1
        return os.path.join(self.env.mail, "%s%04d" % (stem, Paths.counter))


def remove_mailbox(path):
    if os.environ.get("KEEP_TMP"):
        return
    for suffix in ("", ".pop3d", ".lock"):
        try:
            os.unlink(path + suffix)
        except OSError:
            pass


def read(path):
    with open(path, "rb") as f:
        return f.read()


def size_of(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


# --------------------------------------------------------------- sessions

def run_update(env, case, path, prefix=(), logged_in=None):
    """Writes the case's mailbox, then one session: login, DELE, appends,
    QUIT; logged_in(session) is called after the login. Returns (QUIT's
    reply or None, exit status, session, problem)."""
    env.write_mailbox(path, case.original())
    s = Session(env, path, prefix)
    reply, problem = None, None
    try:
        r = s.login()
        want = b"+OK maildrop has %d messages" % len(case.msgs)
        if not r.startswith(want):
            problem = "login: %r" % r
        else:
            if logged_in:
                logged_in(s)
            for i in case.dele:
                s.dele(i + 1)
            if case.edit:
                locked_rewrite(env, path, case.edit)
            for m in case.during:
                locked_append(env, path, m.raw())
            reply = s.quit()
    except (EOFError, harness.ProtocolError, OSError) as e:
        problem = "session: %s" % e
    rc = s.close()
    return reply, rc, s, problem


def raw_file(path, kept, deleted, appended, exact=False):
    """The mailbox file as any mbox reader sees it, before any further
    login: whole messages, each kept and appended one exactly once, byte-
    exact, deleted ones at most once. Counted apart (issue 14's numbers)."""
    return raw_file_bytes(read(path), kept, deleted, appended, exact)


def raw_file_bytes(data, kept, deleted, appended, exact=False):
    R.stats["raw checks"] += 1
    fm = parse(data)
    problems = []
    if serialize(fm) != data:
        problems.append("raw file: not a sequence of whole messages")
    p, _ = check_invariant(fm, kept, deleted, appended, exact)
    for x in p:
        if "missing" in x:
            R.stats["raw lost"] += 1
        elif "duplicate" in x:
            R.stats["raw duplicated"] += 1
        elif "garbage" in x:
            R.stats["raw garbled"] += 1
    return problems + ["raw file before the next login: " + x for x in p]


def recovered(env, path, kept, deleted, appended, exact=False):
    """The next session: logs in (which completes an interrupted update),
    lists and RETRs everything, QUITs without deleting. Then the file and
    every RETR must satisfy the invariant. Returns a list of problems."""
    problems = []
    s = Session(env, path)
    retrs, sizes = [], {}
    try:
        r = s.login()
        if not r.startswith(b"+OK"):
            problems.append("recovery session refused: %r (log: %s)" %
                            (r, s.log_tail()))
        else:
            sizes = s.listing()
            for n in sorted(sizes):
                retrs.append(s.retr(n))
            q = s.quit()
            if q != b"+OK bye":
                problems.append("recovery session QUIT: %r" % q)
    except (EOFError, harness.ProtocolError, OSError) as e:
        problems.append("recovery session: %s (log: %s)" % (e, s.log_tail()))
    s.close()
    if problems:
        return problems
    data = read(path)
    fm = parse(data)
    if serialize(fm) != data:
        problems.append("the file is not a sequence of whole messages "
                        "each followed by one empty line")
    p, back = check_invariant(fm, kept, deleted, appended, exact)
    problems += p
    R.stats["came back"] += back
    if len(sizes) != len(fm):
        problems.append("the session lists %d messages, the file holds %d" %
                        (len(sizes), len(fm)))
    for i, (status, got) in enumerate(retrs):
        R.stats["retr checked"] += 1
        if i >= len(fm):
            break
        w = wire(fm[i].body)
        if got != w:
            R.stats["retr wrong"] += 1
            problems.append("RETR %d (%s) %s" % (
                i + 1, fm[i].label(), "refused: %r" % status if got is None
                else "differs from the stored message"))
        elif sizes.get(i + 1) != len(w):
            problems.append("LIST %d says %s octets, RETR sent %d" %
                            (i + 1, sizes.get(i + 1), len(w)))
    if os.path.exists(path + ".lock"):
        problems.append("%s.lock left behind" % os.path.basename(path))
    if size_of(path + ".pop3d") != 0:
        problems.append("session file not empty after a clean session "
                        "(%d bytes)" % size_of(path + ".pop3d"))
    return problems


def count_run(env, case, paths):
    """A fault-free run under strace that records UPDATE's syscalls."""
    path = paths.path("count")
    out = os.path.join(env.tmp, "trace.%d" % Paths.counter)
    reply, rc, s, problem = run_update(
        env, case, path, harness.strace_prefix(output=out))
    trace = harness.Trace(out)
    os.unlink(out)
    bad = []
    if problem or reply is None or not reply.startswith(b"+OK"):
        bad.append("fault-free run: QUIT %r, %s (log: %s)" %
                   (reply, problem, s.log_tail()))
    if len(trace.pids) > 1:
        bad.append("UPDATE's syscalls came from %d processes" %
                   len(trace.pids))
    if not bad:
        for m in case.after:
            locked_append(env, path, m.raw())
        bad = recovered(env, path, case.kept + case.during, [], case.after,
                        exact=True)
    remove_mailbox(path)
    return trace, bad


def spread(count, k=None):
    if k is None or count <= k:
        return list(range(1, count + 1))
    return sorted({round(1 + i * (count - 1) / (k - 1)) for i in range(k)})


def inject_faults(env, paths, case, title, faults, k=None):
    """For every (syscall, fault) and N = 1 .. past the last call of that
    syscall in UPDATE (k evenly spread N when given): inject the fault at
    the N-th call, append the case's mail, and check the next session."""
    R.stats["patterns"].add(case.name.split(" +")[0])
    trace, bad = count_run(env, case, paths)
    if not R.problems(bad, "%s: fault-free run" % title, quiet=False):
        return
    counts = trace.counts()
    summary = []
    for name, how in faults:
        tried = 0
        for n in spread(counts[name], k) + [counts[name] + 1]:
            where = trace.index(name, n)
            fault_case(env, paths, case, trace, name, how, n, where,
                       "%s: %s at %s #%d" % (title, how.split("=")[1], name,
                                             n))
            tried += where is not None
        R.stats["kill points" if how.startswith("signal") else
                "error points"] += tried
        summary.append("%s%s %d%s" % (
            "" if how.startswith("signal") else how.split("=")[1] + " ",
            name, tried, "" if tried == counts[name] else
            " of %d" % counts[name]))
    R.note("%s: %s injection points" % (title, ", ".join(summary)))


def expected_state(trace, where, killed):
    """What the journal design (journal.c) promises after a fault at call
    `where`: "untouched" before the header is published (a kill on entering
    the header's pwrite, an error up to the fdatasync after it: publish()
    then undoes the journal), "applied" after it (recovery completes the
    rewrite), or "either" when the trace shows no header write (then only
    the invariant of the promise is checked)."""
    if trace.slot is None:
        return "either"
    last_undone = trace.slot if killed else trace.slot + 1
    return "untouched" if where <= last_undone else "applied"


def fault_case(env, paths, case, trace, name, how, n, where, title):
    path = paths.path()
    R.stats["cases"] += 1
    killed = how.startswith("signal")
    reply, rc, s, problem = run_update(env, case, path, harness.strace_prefix(
        "%s:%s:when=%d" % (name, how, n)))
    problems = [problem] if problem else []
    if where is None:
        # past the last call: the session must simply complete
        if reply != b"+OK bye" or rc != 0:
            problems.append("no fault was due, but QUIT %r, exit %s (log: "
                            "%s)" % (reply, rc, s.log_tail()))
        state = "applied"
    else:
        title += " [%s]" % trace.describe(where)
        state = expected_state(trace, where, killed)
        if killed and (rc != -signal.SIGKILL or reply is not None):
            problems.append("expected a kill: QUIT %r, exit %s" % (reply, rc))
        if not killed and trace.clears_journal(where):
            if reply != b"+OK bye":
                problems.append("QUIT replied %r, expected +OK bye: the "
                                "update was complete" % reply)
        elif not killed and (reply is None or
                             not reply.startswith(b"-ERR [SYS/TEMP] ")):
            problems.append("QUIT replied %r, expected -ERR [SYS/TEMP]" %
                            reply)
        if not killed and rc != 0:
            problems.append("exit status %s" % rc)
        problems += after_fault(env, path, case, state)
        if state == "untouched":
            if read(path) != serialize(case.current + case.during +
                                       case.after):
                problems.append("mailbox changed although the journal "
                                "header was not written")
            if not killed and size_of(path + ".pop3d") != 0:
                problems.append("session file not emptied after the failed "
                                "journal write (%d bytes)" %
                                size_of(path + ".pop3d"))
    if where is None:
        for m in case.after:
            locked_append(env, path, m.raw())
    if state == "applied":
        problems += recovered(env, path, case.kept + case.during,
                              case.deleted, case.after, exact=True)
    elif state == "untouched":
        problems += recovered(env, path, case.current + case.during, [],
                              case.after, exact=True)
    else:
        problems += recovered(env, path, case.kept + case.during,
                              case.deleted, case.after)
    remove_mailbox(path)
    return R.problems(problems, title)


def after_fault(env, path, case, state):
    """The session is dead, or gone after an I/O error; its lock helper
    completes the update and then removes the dot-lock. An MDA (fcntl +
    dot-lock, as Debian's) delivers the case's mail as soon as it can, or,
    without mail, the file is read as soon as the dot-lock is gone: either
    way it must be consistent."""
    if case.after:
        for m in case.after:
            locked_append(env, path, m.raw())
    elif not harness.wait_gone(path + ".lock"):
        return ["MAILBOX.lock left behind by the lock helper"]
    if state == "untouched":
        return raw_file(path, case.current + case.during, [], case.after,
                        exact=True)
    return raw_file(path, case.kept + case.during, case.deleted, case.after,
                    exact=state == "applied")


KILLS = [(name, "signal=SIGKILL") for name in SYSCALLS]
ERRORS = [("pwrite64", "error=ENOSPC"), ("pwrite64", "error=EIO"),
          ("fdatasync", "error=EIO"), ("fsync", "error=EIO"),
          ("ftruncate", "error=EIO")]


# --------------------------------------------------------------- parts

def part_checker():
    section("the checker itself")
    ms = small_msgs("chk")
    data = serialize(ms)
    R.check(parse(data) == ms, "parse(serialize(messages)) gives them back")
    tricky = (b"\n\nbefore any From_\n\nFrom a@b Mon Jan  1 00:00:00 2024\n"
              b"x\n\n\nFrom b@c Mon Jan  1 00:00:00 2024\nFrom inside\n\n"
              b"From c@d Mon Jan  1 00:00:00 2024\n")
    got = [(m.from_line[:6], m.body) for m in parse(tricky)]
    R.check(got == [(b"", b"before any From_\n"), (b"From a", b"x\n\n"),
                    (b"From b", b"From inside\n"), (b"From c", b"")],
            "parse follows pop3d's From_ rule", repr(got))
    p, _ = check_invariant(ms[1:], ms, [], [])
    R.check(p and "missing" in p[0], "the invariant catches a lost message")
    p, _ = check_invariant(ms + ms[:1], ms, [], [])
    R.check(p and "duplicate" in p[0], "the invariant catches a duplicate")
    bad = ms[:2] + [ms[2].with_body(ms[2].body[:-1] + b"!")] + ms[3:]
    p, _ = check_invariant(bad, ms, [], [])
    R.check(p and "altered" in p[0], "the invariant catches an altered byte")
    p, back = check_invariant(ms, ms[:2] + ms[3:], [ms[2]], [])
    R.check(not p and back == 1, "the invariant allows a deleted message "
            "to come back")


def part_kill_small(env, paths):
    section("kill -9 during UPDATE: small mailbox (5 messages), every point")
    for pname, dele in PATTERNS.items():
        case = Case(pname, small_msgs("k" + pname[:3]), dele)
        inject_faults(env, paths, case, "small, delete %s" % pname, KILLS)
    for pname, dele in PATTERNS.items():
        tag = "ka" + pname[:3]
        case = Case(pname + " +during+after", small_msgs(tag), dele,
                    during=[make_msg(tag + "-during", 700)],
                    after=[make_msg(tag + "-after", 500)])
        inject_faults(env, paths, case, "small, delete %s, mail appended "
                      "during the session and after the crash" % pname, KILLS)
    for pname in ("first", "last"):
        tag = "kd" + pname[:3]
        case = Case(pname + " +during", small_msgs(tag), PATTERNS[pname],
                    during=[make_msg(tag + "-d1", 100),
                            make_msg(tag + "-d2", 4000)])
        inject_faults(env, paths, case, "small, delete %s, two messages "
                      "appended during the session" % pname, KILLS)
        case = Case(pname + " +after", small_msgs(tag), PATTERNS[pname],
                    after=[make_msg(tag + "-a1", 100)])
        inject_faults(env, paths, case, "small, delete %s, mail appended "
                      "after the crash" % pname, KILLS)
    for pname in ("first", "alternate", "all"):
        tag = "ke" + pname[:3]
        case = Case(pname + " +edited+during", small_msgs(tag),
                    PATTERNS[pname], during=[make_msg(tag + "-d", 300)],
                    edit=edit_status)
        inject_faults(env, paths, case, "small, delete %s, Status: added "
                      "to every message during the session (QUIT indexes "
                      "again)" % pname, KILLS)


def part_kill_big(env, paths):
    section("kill -9 during UPDATE: ~3 MB mailbox with a 2.6 MB message "
            "(pwrite in 256 KiB pieces), %d points per syscall" % BIG_SPREAD)
    for pname, dele in (("first", [0]), ("alternate", [0, 2, 4]),
                        ("middle", [1])):
        tag = "kb" + pname[:3]
        case = Case(pname + " +during+after", big_msgs(tag), dele,
                    during=[make_msg(tag + "-during", 50 * 1024)],
                    after=[make_msg(tag + "-after", 600 * 1024)])
        inject_faults(env, paths, case, "big, delete %s%s, mail appended "
                      "during and after" % (pname, " (the 2.6 MB one)"
                                            if pname == "middle" else ""),
                      KILLS, k=BIG_SPREAD)


def part_errors(env, paths):
    section("ENOSPC and EIO during UPDATE (strace error injection)")
    for pname in ("first", "alternate", "last"):
        tag = "e" + pname[:3]
        case = Case(pname + " +during+after", small_msgs(tag),
                    PATTERNS[pname], during=[make_msg(tag + "-during", 300)],
                    after=[make_msg(tag + "-after", 300)])
        inject_faults(env, paths, case, "small, delete %s" % pname, ERRORS)
    case = Case("first +during+after", big_msgs("ebig"), [0],
                during=[make_msg("ebig-during", 1000)],
                after=[make_msg("ebig-after", 1000)])
    inject_faults(env, paths, case, "big, delete first", ERRORS,
                  k=BIG_SPREAD)


def crash_state(env, paths, case, name, n, path=None):
    """A mailbox left by a session killed at the n-th call of name with its
    lock helper (a crash of the machine: nobody completed the update, the
    dot-lock made before the reboot is still there), plus the case's mail
    appended after the crash. Root only (see kill_helper_at_recovery)."""
    path = path or paths.path()
    tracers = []
    reply, rc, s, problem = run_update(env, case, path, harness.strace_prefix(
        "%s:signal=SIGKILL:when=%d" % (name, n)),
        logged_in=lambda s: tracers.append(s.kill_helper_at_recovery()))
    helper_killed = False
    for t in tracers:
        if t is not None:
            t.wait(timeout=30)
            helper_killed = os.path.exists(path + ".lock")
    if helper_killed:
        harness.age_before_boot(path + ".lock")
    for m in case.after:
        locked_append(env, path, m.raw())
    return path, rc == -signal.SIGKILL and helper_killed


def part_recovery_faults(env, paths):
    section("faults during recovery (the next session completing a "
            "journal)")
    if not env.root:
        R.note("not run: it kills the lock helper too, which needs root")
        return
    # killed at the first pwrite to the mailbox: the journal is published,
    # the mailbox untouched; mail arrives, so recovery must adopt it
    tag = "rc"
    case = Case("alternate +during+after", small_msgs(tag), [0, 2, 4],
                during=[make_msg(tag + "-during", 300)],
                after=[make_msg(tag + "-after", 2000)])
    trace, bad = count_run(env, case, paths)
    if not R.problems(bad, "recovery: fault-free run", quiet=False):
        return
    first_mbox = trace.first_mailbox_write()
    later = make_msg(tag + "-second-crash", 900)
    for state_name, state_n in (("pwrite64", first_mbox), ("fsync", 1)):
        # the recovery session's own syscalls, counted once
        path, killed = crash_state(env, paths, case, state_name, state_n)
        out = os.path.join(env.tmp, "rtrace")
        s = Session(env, path, harness.strace_prefix(output=out))
        try:
            s.login_ok()
            s.quit()
        except (EOFError, harness.ProtocolError, OSError) as e:
            R.fail("recovery counting run", str(e))
        s.close()
        rt = harness.Trace(out)
        os.unlink(out)
        remove_mailbox(path)
        what = "state: killed at %s #%d" % (state_name, state_n)
        if not R.check(killed and rt.calls, "recovery: %s, the next session "
                       "recovers (%d syscalls)" % (what, len(rt.calls)),
                       "killed=%s, calls=%d" % (killed, len(rt.calls))):
            continue
        counts = rt.counts()
        tried = 0
        for name in SYSCALLS:
            for n in range(1, counts[name] + 1):
                for how in ("signal=SIGKILL", "error=EIO") + (
                        ("error=ENOSPC",) if name == "pwrite64" else ()):
                    tried += 1
                    R.stats["recovery points"] += 1
                    R.stats["cases"] += 1
                    path, _ = crash_state(env, paths, case, state_name,
                                          state_n)
                    s = Session(env, path, harness.strace_prefix(
                        "%s:%s:when=%d" % (name, how, n)))
                    problems = []
                    try:
                        r = s.login()
                        if how.startswith("error") and \
                                not rt.clears_journal(rt.index(name, n)) and \
                                not r.startswith(b"-ERR [SYS/TEMP]"):
                            problems.append("login after %s: %r" % (how, r))
                        if r.startswith(b"+OK"):
                            s.quit()
                    except (EOFError, harness.ProtocolError, OSError):
                        pass
                    rc = s.close()
                    if how.startswith("signal") and rc != -signal.SIGKILL:
                        problems.append("not killed (exit %s)" % rc)
                    locked_append(env, path, later.raw())
                    problems += recovered(env, path, case.kept + case.during,
                                          case.deleted, case.after + [later],
                                          exact=True)
                    remove_mailbox(path)
                    R.problems(problems, "recovery (%s): %s at %s #%d [%s]" %
                               (what, how, name, n, rt.describe(
                                   rt.index(name, n))))
        R.note("recovery from %s: %d injection points (kill, EIO, ENOSPC)"
               % (what, tried))


def part_identical_redelivery(env, paths):
    section("mail identical to the deleted tail, delivered after a crash")
    if not env.root:
        R.note("not run: it kills the lock helper too, which needs root")
        return
    # journal_recover() tells whether the mailbox was already truncated
    # by hashing [base + length, old_size): if those bytes still hash to
    # stale_hash, it assumes the truncation did not happen and truncates
    # again. A crash after ftruncate(mailbox) and before the journal is
    # cleared, then a delivery whose first bytes repeat the cut-off tail
    # exactly (a duplicate delivery within the same second), makes the new
    # mail look like the stale tail, and recovery cuts it off.
    # Deleting the last message is a mere truncation, without a journal;
    # with a copy of it delivered during the session, the journal moves
    # that copy to where the deleted one was, and the stale tail is the
    # copy's old place: the same bytes as the redelivery.
    for name, n, journaled in (("fsync", 1, False), ("fsync", 1, True),
                               ("ftruncate", 2, True)):
        for extra in (False, True):
            msgs = small_msgs("rd%s%d%d%d" % (name[:2], n, extra, journaled))
            case = Case("last", msgs, [4],
                        during=[msgs[4]] if journaled else [])
            again = [msgs[4]] + ([make_msg("rd-more-%s%d" % (name, n), 400)]
                                 if extra else [])
            case.after = again
            path, killed = crash_state(env, paths, case, name, n)
            problems = [] if killed else ["the session was not killed"]
            problems += recovered(env, path, case.kept + case.during,
                                  case.deleted, case.after, exact=True)
            remove_mailbox(path)
            R.stats["cases"] += 1
            R.problems(problems, "killed at %s #%d (after the mailbox was "
                       "truncated%s), then the deleted last message is "
                       "delivered again%s: it must be kept" %
                       (name, n, ", a copy of it moved there by the journal"
                        if journaled else "", " followed by another"
                        if extra else ""), quiet=False)


def part_editor_after_crash(env, paths):
    section("another program rewrites the mailbox between a crash and the "
            "next session")
    # The crash left a published journal and a mailbox not yet touched:
    # to every other program it is an ordinary mailbox. An MUA that marks
    # messages read (or deletes one) under the locks rewrites it in place.
    # The next session must not write stale journal data over that.
    msgs = [make_msg("ea-%d" % i, 400 + 150 * i) for i in range(5)]
    case = Case("first", msgs, [0])
    trace, bad = count_run(env, paths=paths, case=case)
    if not R.problems(bad, "editor after crash: fault-free run"):
        return
    first_mbox = trace.first_mailbox_write()
    mua_after_helper(env, paths, case, first_mbox)
    if not env.root:
        R.note("not run after a crash of session and helper: killing the "
               "helper needs root")
        return
    edits = [("adds Status: RO to every message", edit_status),
             ("deletes message 3", lambda d: serialize(parse(d)[:2] +
                                                     parse(d)[3:]))]
    for what, edit in edits:
        path, killed = crash_state(env, paths, case, "pwrite64", first_mbox)
        problems = [] if killed else ["the session was not killed"]
        if read(path) != case.original():
            problems.append("the crash changed the mailbox")
        locked_rewrite(env, path, edit)
        edited = parse(read(path))
        s = Session(env, path)
        try:
            r = s.login()
            if r.startswith(b"+OK"):
                s.quit()
        except (EOFError, harness.ProtocolError, OSError) as e:
            problems.append(str(e))
        s.close()
        data = read(path)
        fm = parse(data)
        known = {}
        for m in msgs + edited:
            known.setdefault(strip_volatile(m), set()).add(m)
        seen = {}
        for at, m in enumerate(fm):
            k = strip_volatile(m)
            if k not in known or m not in known[k]:
                problems.append("message %d (%s, %d bytes) is garbage or "
                                "altered" % (at + 1, m.label(), len(m.body)))
                continue
            seen[k] = seen.get(k, 0) + 1
            if seen[k] > 1:
                problems.append("message %d (%s) is a duplicate" %
                                (at + 1, m.label()))
        for m in edited:
            if m.label() != "ea-0" and strip_volatile(m) not in seen:
                problems.append("message %s is missing" % m.label())
        if not problems:
            problems += recovered(env, path, fm, [], [], exact=True)
        remove_mailbox(path)
        R.stats["cases"] += 1
        R.problems(problems, "killed after the journal was published, then "
                   "an MUA %s; the next session must leave no garbage" % what,
                   quiet=False)


def mua_after_helper(env, paths, case, n):
    """Only the session is killed, after the journal was published: an MUA
    that deletes message 3 as soon as the locks let it must find the
    update completed (a consistent file, message 1 gone) and no journal
    left for the next session to drop."""
    path = paths.path()
    reply, rc, s, problem = run_update(env, case, path, harness.strace_prefix(
        "pwrite64:signal=SIGKILL:when=%d" % n))
    seen = []

    def mua(data):
        seen.append(data)
        return serialize(parse(data)[:2] + parse(data)[3:])

    locked_rewrite(env, path, mua)
    problems = [problem] if problem else []
    if rc != -signal.SIGKILL:
        problems.append("the session was not killed (exit %s)" % rc)
    problems += raw_file_bytes(seen[0], case.kept, [], [], exact=True)
    if size_of(path + ".pop3d") != 0:
        problems.append("a journal is left for the next session to drop")
    left = case.kept[:2] + case.kept[3:]
    if not problems:
        problems += recovered(env, path, left, [], [], exact=True)
    remove_mailbox(path)
    R.stats["cases"] += 1
    R.problems(problems, "killed after the journal was published; an MUA "
               "deletes message 3 as soon as the dot-lock goes: it finds "
               "the update done, nothing is dropped", quiet=False)


def part_group_kill(env, paths):
    section("kill -9 of the whole process group at random times during "
            "UPDATE of a ~50 MB mailbox")
    rng = random.Random(4242)
    msgs = [make_msg("pg-%02d" % i, 2500 * 1024 if i % 2 == 0 else 3000,
                     seed=i) for i in range(40)]
    during = [make_msg("pg-during", 2000)]
    after = [make_msg("pg-after", 2000)]
    # how long UPDATE takes here when everything moves
    path = paths.path("pg")
    env.write_mailbox(path, serialize(msgs))
    s = Session(env, path)
    s.login_ok()
    s.dele(1)
    t = time.monotonic()
    q = s.quit()
    took = time.monotonic() - t
    s.close()
    remove_mailbox(path)
    R.check(q == b"+OK bye", "50 MB UPDATE without faults", repr(q))
    R.note("UPDATE of %d MB took %.3f s" % (len(serialize(msgs)) >> 20, took))
    midway = stale = 0
    iterations = 8
    for it in range(iterations):
        dele = set(rng.sample(range(1, len(msgs)), rng.randint(1, 3)))
        if it % 2 == 0:
            dele.add(0)
        c = Case("random", msgs, dele, during, after)
        delay = rng.uniform(0, took * 1.2)
        path = paths.path("pg")
        env.write_mailbox(path, c.original())
        s = Session(env, path)
        problems = []
        try:
            s.login_ok()
            for i in c.dele:
                s.dele(i + 1)
            for m in c.during:
                locked_append(env, path, m.raw())
            s.send("QUIT")
            time.sleep(delay)
            s.kill_group()
            try:
                done = s.line() == b"+OK bye"
            except (EOFError, harness.ProtocolError, OSError):
                done = False
        except (EOFError, harness.ProtocolError, OSError) as e:
            problems.append(str(e))
            done = False
        s.close()
        midway += not done
        stale_lock = os.path.exists(path + ".lock")
        if stale_lock:
            # The lock helper died too, so nobody removes the dot-lock, as
            # after a power loss: pop3d --recover at boot breaks a dot-lock
            # made before the boot and completes the update.
            stale += 1
            harness.age_before_boot(path + ".lock")
            problems += recover_tool(env, path, c.kept + c.during, c.deleted)
        else:
            problems += raw_file(path, c.kept + c.during, c.deleted, [])
        for m in c.after:
            locked_append(env, path, m.raw())
        problems += recovered(env, path, c.kept + c.during, c.deleted,
                              c.after)
        remove_mailbox(path)
        R.stats["cases"] += 1
        R.stats["kill points"] += 1
        R.problems(problems, "process group killed %.3f s after QUIT (%s), "
                   "deleting %s" % (delay, "UPDATE done" if done else
                                    "before QUIT's reply",
                                    [i + 1 for i in c.dele]), quiet=False)
    R.note("%d of %d kills landed before QUIT's reply; %d left a stale "
           "MAILBOX.lock (the lock helper was killed too)" %
           (midway, iterations, stale))


def recover_tool(env, path, kept, deleted, exact=False):
    """pop3d --recover, twice (the second finds nothing to do); then the
    raw file must be consistent, without dot-lock or journal."""
    if not env.root:
        return []
    problems = []
    for i in range(2):
        rc, out = harness.recover_run(env)
        if rc != 0 or (i == 1 and " 0 interrupted updates" not in out):
            problems.append("pop3d --recover (run %d): exit %d: %s" %
                            (i + 1, rc, out.strip()[-300:]))
    if os.path.exists(path + ".lock"):
        problems.append("MAILBOX.lock left by pop3d --recover")
    if size_of(path + ".pop3d") > 0:
        problems.append("journal left by pop3d --recover")
    return problems + raw_file(path, kept, deleted, [], exact)


def part_recover(env, paths):
    section("pop3d --recover after the session and its lock helper died "
            "(a power loss)")
    if not env.root:
        R.note("not run: killing the lock helper at a chosen point needs "
               "root")
        return
    msgs = [make_msg("rv-%d" % i, 400 + 150 * i) for i in range(5)]
    case = Case("alternate", msgs, [0, 2])
    trace, bad = count_run(env, case, paths)
    if not R.problems(bad, "recover: fault-free run"):
        return
    for name in SYSCALLS:
        for n in spread(trace.count(name), 3):
            where = trace.index(name, n)
            state = expected_state(trace, where, True)
            path, killed = crash_state(env, paths, case, name, n)
            problems = [] if killed else ["session and helper not killed"]
            kept = case.current if state == "untouched" else case.kept
            dele = [] if state == "untouched" else case.deleted
            problems += recover_tool(env, path, kept, dele,
                                     exact=state != "either")
            problems += recovered(env, path, kept, dele, [],
                                  exact=state != "either")
            remove_mailbox(path)
            R.stats["cases"] += 1
            R.stats["kill points"] += 1
            R.problems(problems, "session and helper killed at %s #%d [%s], "
                       "then pop3d --recover, then a login" %
                       (name, n, trace.describe(where)), quiet=False)
    # a journal that no longer fits: the mailbox rewritten by a program
    # that broke the stale dot-lock; --recover must drop it, not apply it
    path, killed = crash_state(env, paths, case, "pwrite64",
                               trace.first_mailbox_write())
    locked_rewrite(env, path, edit_remove2)
    edited = parse(read(path))
    problems = recover_tool(env, path, edited, [], exact=True)
    problems += recovered(env, path, edited, [], [], exact=True)
    remove_mailbox(path)
    R.problems(problems, "a journal that no longer fits: pop3d --recover "
               "drops it and leaves the file as the other program wrote it",
               quiet=False)
    tmpl = os.path.join(env.tmp, "%u", "mbox")
    r = subprocess.run([env.pop3d, "--recover", "-m", tmpl],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    R.check(r.returncode == 78, "pop3d --recover refuses a template whose "
            "directory depends on the user (exit 78)", repr(r))


def part_full_disk(env, paths):
    section("a really full file system (tmpfs)")
    if not env.root:
        R.note("not run: mounting a tmpfs needs root (the strace-based "
               "ENOSPC tests above did run)")
        return
    mnt = os.path.join(env.tmp, "full")
    os.mkdir(mnt, 0o755)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755",
                        "tmpfs", mnt], stderr=subprocess.PIPE)
    if r.returncode != 0:
        R.fail("mount a 2 MB tmpfs", r.stderr.decode(errors="replace"))
        return
    try:
        full_disk_tests(env, paths, mnt)
    finally:
        subprocess.run(["umount", mnt])
        try:
            os.rmdir(mnt)
        except OSError:
            pass


def fill(mnt, leave):
    """Fills the file system until about `leave` bytes are free."""
    filler = os.path.join(mnt, "filler")
    st = os.statvfs(mnt)
    free = st.f_bavail * st.f_frsize
    with open(filler, "ab") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def free_bytes(mnt):
    st = os.statvfs(mnt)
    return st.f_bavail * st.f_frsize


def full_disk_tests(env, paths, mnt):
    os.chown(mnt, env.uid, env.gid)
    msgs = [make_msg("fd-%d" % i, 100 * 1024) for i in range(6)]
    case = Case("first", msgs, [0])
    path = os.path.join(mnt, "box")
    env.write_mailbox(path, case.original())
    filler = fill(mnt, 64 * 1024)
    R.note("tmpfs: mailbox %d KB, %d KB free" % (len(case.original()) >> 10,
                                                 free_bytes(mnt) >> 10))
    s = Session(env, path)
    problems = []
    try:
        s.login_ok()
        s.dele(1)
        q = s.quit()
        if q is None or not q.startswith(b"-ERR [SYS/TEMP] "):
            problems.append("QUIT replied %r, expected -ERR [SYS/TEMP]" % q)
    except (EOFError, harness.ProtocolError, OSError) as e:
        problems.append(str(e))
    s.close()
    if read(path) != case.original():
        problems.append("mailbox changed")
    if size_of(path + ".pop3d") != 0:
        problems.append("session file holds %d bytes" % size_of(path + ".pop3d"))
    if os.path.exists(path + ".lock"):
        problems.append("MAILBOX.lock left behind")
    problems += recovered(env, path, msgs, [], [], exact=True)
    R.problems(problems, "full disk: the journal cannot be written; QUIT "
               "says -ERR [SYS/TEMP], mailbox unchanged, session file empty",
               quiet=False)

    # with room again, the same deletion works
    os.unlink(filler)
    s = Session(env, path)
    try:
        s.login_ok()
        s.dele(1)
        q = s.quit()
    except (EOFError, harness.ProtocolError, OSError) as e:
        q = str(e)
    s.close()
    problems = [] if q == b"+OK bye" else ["QUIT %r" % q]
    problems += recovered(env, path, msgs[1:], [], [], exact=True)
    R.problems(problems, "full disk: after space is freed the deletion "
               "succeeds", quiet=False)

    # a crash after the journal was published; then mail arrives and the
    # disk is full, so recovery cannot adopt the new mail into the journal
    msgs = [make_msg("fe-%d" % i, 100 * 1024) for i in range(5)]
    case = Case("first", msgs, [0], after=[make_msg("fe-after", 200 * 1024)])
    trace, bad = count_run(env, case, paths)    # elsewhere: same syscalls
    if not R.problems(bad, "full disk during recovery: fault-free run"):
        return
    path, killed = crash_state(env, paths, case, "pwrite64",
                               trace.first_mailbox_write(), path)
    problems = [] if killed else ["session and helper not killed"]
    crashed = read(path)
    filler = fill(mnt, 64 * 1024)
    s = Session(env, path)
    try:
        r = s.login()
        if not r.startswith(b"-ERR [SYS/TEMP] "):
            problems.append("recovery on a full disk: login %r, expected "
                            "-ERR [SYS/TEMP]" % r)
        if r.startswith(b"+OK"):
            s.quit()
    except (EOFError, harness.ProtocolError, OSError) as e:
        problems.append(str(e))
    s.close()
    if read(path) != crashed:
        problems.append("the failed recovery changed the mailbox")
    os.unlink(filler)
    problems += recovered(env, path, case.kept, case.deleted, case.after,
                          exact=True)
    R.problems(problems, "full disk during recovery: the session refuses "
               "with [SYS/TEMP], changes nothing, and completes once there "
               "is room", quiet=False)


# --------------------------------------------------------------- concurrency

def procmail_rc(env, path):
    rc = os.path.join(env.mkdir("procmail%d" % Paths.counter), "rc")
    with open(rc, "w") as f:
        f.write("SHELL=/bin/sh\nLOCKSLEEP=1\nDEFAULT=%s\n:0:\n%s\n" %
                (path, path))
    if env.root:
        os.chown(rc, env.uid, env.gid)
    return rc


def deliver(env, rc, msg):
    p = subprocess.run(["procmail", "-m", rc], input=msg.raw()[:-1],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={"PATH": "/usr/bin:/bin",
                            "HOME": os.path.dirname(rc)},
                       **env.as_owner())
    return p.returncode == 0


def ident(msg_bytes):
    for line in msg_bytes.split(b"\n", 30)[:30]:
        if line.lower().startswith(b"x-id:"):
            return line[5:].strip().decode()
    return None


def number(i):
    return int(i.split("-")[1])


def part_concurrency(env, paths):
    section("procmail (and a second MDA) delivering while sessions RETR, "
            "DELE and QUIT")
    rng = random.Random(7)
    path = paths.path("conc")
    env.write_mailbox(path, b"")
    rc = procmail_rc(env, path)
    # what procmail stores is the message as given (no body From_ lines)
    first = make_msg("c-000000", 300)
    if not deliver(env, rc, first) or read(path) != first.raw():
        R.fail("procmail stores a message byte for byte",
               repr(read(path)[:300]))
        return
    delivered = {"c-000000": first}
    orders = {"c": ["c-000000"], "d": []}
    stop = threading.Event()
    failures = []

    def deliverer(prefix, seed):
        drng = random.Random(seed)
        i = 1
        while not stop.is_set():
            m = make_msg("%s-%06d" % (prefix, i),
                         drng.choice((200, 800, 3000, 40000)), seed=i)
            # known before delivery: a session may see it at once
            delivered[ident(m.body)] = m
            try:
                if prefix == "c":
                    ok = deliver(env, rc, m)
                else:
                    locked_append(env, path, m.raw(), drng)
                    ok = True
            except (OSError, RuntimeError) as e:
                ok = False
                failures.append("%s: %s" % (ident(m.body), e))
            if ok:
                orders[prefix].append(ident(m.body))
            else:
                failures.append("delivery of %s failed" % ident(m.body))
            i += 1
            # procmail sleeps LOCKSLEEP (1 s) whenever it finds the
            # dot-lock; the other MDA must not starve everyone else
            time.sleep(drng.uniform(0, 0.02) if prefix == "c" else
                       drng.uniform(0.02, 0.1))

    threads = [threading.Thread(target=deliverer, args=("c", 8)),
               threading.Thread(target=deliverer, args=("d", 9))]
    for th in threads:
        th.start()
    known = {}                  # UIDL -> X-Id
    deleted = set()
    wrong = []
    quits = {"+OK": 0, "-ERR": 0}
    sessions = 0
    deadline = time.monotonic() + CONCURRENCY_SECONDS
    try:
        while time.monotonic() < deadline and sessions < 3000:
            sessions += 1
            s = Session(env, path)
            try:
                r = s.login()
                if not r.startswith(b"+OK"):
                    wrong.append("login: %r" % r)
                    s.close()
                    continue
                uidl = s.listing("UIDL")
                ids = {}
                for n, u in uidl.items():
                    if u not in known:
                        t = s.cmd("TOP %d 0" % n)
                        if not t.startswith(b"+OK"):
                            wrong.append("TOP %d: %r" % (n, t))
                            continue
                        known[u] = ident(s.multiline().replace(b"\r\n", b"\n"))
                    if known[u] is None or known[u] not in delivered:
                        wrong.append("message %d is none of the deliveries"
                                     % n)
                        continue
                    ids[n] = known[u]
                for n in rng.sample(sorted(ids), min(3, len(ids))):
                    st, got = s.retr(n)
                    R.stats["retr checked"] += 1
                    if got is None or got != wire(delivered[ids[n]].body):
                        R.stats["retr wrong"] += 1
                        wrong.append("RETR %d (%s): %r" % (n, ids[n], st))
                dele = [n for n, i in ids.items() if number(i) % 2 == 0]
                for n in dele:
                    s.dele(n)
                q = s.quit()
                if q is not None and q.startswith(b"+OK"):
                    quits["+OK"] += 1
                    deleted.update(ids[n] for n in dele)
                else:
                    quits["-ERR"] += 1
                    if q is None or not q.startswith(b"-ERR [IN-USE]"):
                        wrong.append("QUIT: %r" % q)
            except (EOFError, harness.ProtocolError, OSError) as e:
                wrong.append("session: %s (%s)" % (e, s.log_tail()))
            s.close()
            time.sleep(rng.uniform(0, 0.02))
    finally:
        stop.set()
        for th in threads:
            th.join()
    # a last session deletes what is left to delete
    s = Session(env, path)
    s.login_ok()
    for n, u in s.listing("UIDL").items():
        if u not in known:
            s.cmd("TOP %d 0" % n)
            known[u] = ident(s.multiline().replace(b"\r\n", b"\n"))
        if known[u] and number(known[u]) % 2 == 0:
            s.dele(n)
            deleted.add(known[u])
    q = s.quit()
    s.close()
    R.check(q == b"+OK bye", "concurrency: the final session deletes the "
            "remaining even ids", repr(q))
    ndeliv = len(orders["c"]) + len(orders["d"])
    R.stats["deliveries"] += ndeliv
    R.stats["concurrent sessions"] += sessions
    R.note("%d deliveries (%d by procmail, %d by fcntl + dotlockfile), %d "
           "sessions (QUIT +OK %d, -ERR %d), %d messages deleted" % (
               ndeliv, len(orders["c"]), len(orders["d"]), sessions,
               quits["+OK"], quits["-ERR"], len(deleted)))
    R.check(not failures, "concurrency: every delivery succeeded",
            "; ".join(failures[:5]))
    R.check(not wrong, "concurrency: every RETR served the delivered bytes, "
            "every session worked", "\n".join(wrong[:10]))
    # Each MDA's messages in its order; the two interleave in any way.
    fm = parse(read(path))
    problems = []
    for prefix, order in orders.items():
        mine = [m for m in fm if (ident(m.body) or "").startswith(prefix)]
        kept = [delivered[i] for i in order if number(i) % 2]
        gone = [delivered[i] for i in order if number(i) % 2 == 0]
        problems += check_invariant(mine, kept, gone, [], True)[0]
    strangers = [m for m in fm if not (ident(m.body) or "x").startswith(
        ("c-", "d-"))]
    problems += ["message %s is none of the deliveries" % m.label()
                 for m in strangers]
    problems += recovered(env, path, fm, [], [], exact=True)
    R.problems(problems, "concurrency: every odd delivery is there once, "
               "byte-exact and in order; no even one", quiet=False)


def part_in_use(env, paths):
    section("one session at a time: [IN-USE], and free again right after "
            "QUIT")
    msgs = small_msgs("iu")
    path = paths.path("inuse")
    env.write_mailbox(path, serialize(msgs))
    slow = []
    refused_ok = 0
    reconnect_ok = 0
    rounds = 20
    extra = []
    for i in range(rounds):
        a = Session(env, path)
        a.login_ok()
        t = time.monotonic()
        b = Session(env, path)
        try:
            rb = b.login()
        except (EOFError, harness.ProtocolError, OSError) as e:
            rb = str(e).encode()
        took = time.monotonic() - t
        b.close()
        if rb.startswith(b"-ERR [IN-USE]") and took < 1.0:
            refused_ok += 1
        else:
            slow.append("round %d: %r after %.2f s" % (i, rb, took))
        if i % 2 == 0:
            a.dele(1)
            m = make_msg("iu-new-%d" % i, 100)
            extra.append(m)
            locked_append(env, path, m.raw())
        q = a.quit()
        c = Session(env, path)
        try:
            rc = c.login()
            if rc.startswith(b"+OK"):
                c.quit()
        except (EOFError, harness.ProtocolError, OSError) as e:
            rc = str(e).encode()
        a.close()
        c.close()
        if q == b"+OK bye" and rc.startswith(b"+OK"):
            reconnect_ok += 1
        else:
            slow.append("round %d: QUIT %r, then login %r" % (i, q, rc))
    R.check(refused_ok == rounds, "a second session gets -ERR [IN-USE] "
            "within a second (%d rounds)" % rounds, "\n".join(slow[:5]))
    R.check(reconnect_ok == rounds, "a new session right after QUIT's +OK "
            "is accepted (%d rounds, half of them with an UPDATE)" % rounds,
            "\n".join(slow[:5]))


# --------------------------------------------------------------- editors

def edit_remove2(data):
    ms = parse(data)
    return serialize(ms[:1] + ms[2:])


def edit_byte3(data):
    ms = parse(data)
    b = bytearray(ms[2].body)
    pos = b.index(b"Body of") + 1       # 'B' -> 'b'... keep the size
    b[pos] = ord("O") if b[pos] != ord("O") else ord("Q")
    ms[2] = ms[2].with_body(bytes(b))
    return serialize(ms)


def edit_reorder(data):
    ms = parse(data)
    return serialize([ms[1], ms[0], ms[2], ms[4], ms[3]])


def split_head(body):
    """(header lines with their line endings, the rest from the empty line
    on); LF and CRLF messages alike."""
    pos = 0
    while True:
        nl = body.find(b"\n", pos)
        if nl == -1:
            return body, b""
        if body[pos:nl] in (b"", b"\r"):
            return body[:pos], body[pos:]
        pos = nl + 1


def add_header(m, line, drop=()):
    """m with header `line` added at the end of its header, after removing
    the headers named in drop (lower case, with the colon)."""
    head, rest = split_head(m.body)
    nl = b"\r\n" if head.endswith(b"\r\n") else b"\n"
    kept = [ln for ln in head.splitlines(keepends=True)
            if not ln.lower().startswith(tuple(drop))]
    return m.with_body(b"".join(kept) + line + nl + rest)


def add_status(m, value=b"RO"):
    return add_header(m, b"Status: " + value, drop=(b"status:",))


def edit_status(data):
    return serialize([add_status(m) for m in parse(data)])


def part_foreign(env, paths):
    section("another program rewrites the mailbox during a session")
    cases = [
        # name, edit, RETRs (number, must be refused?), DELEs
        ("(a) message 2 removed", edit_remove2, [(2, True), (3, None)],
         [2, 4]),
        ("(b) one byte of message 3's body changed, same size", edit_byte3,
         [(3, True), (1, None), (4, None)], [1, 3]),
        ("(c) messages reordered", edit_reorder, [(1, None), (2, None),
                                                  (3, None), (5, None)],
         [1, 4]),
        ("(d) Status: RO added to every message, as mutt does", edit_status,
         [(1, None), (2, None), (5, None)], [2, 5]),
    ]
    for name, edit, retrs, dele in cases:
        msgs = small_msgs("fc")
        path = paths.path("foreign")
        env.write_mailbox(path, serialize(msgs))
        problems = []
        s = Session(env, path)
        try:
            s.login_ok()
            sizes = s.listing()
            locked_rewrite(env, path, edit)
            edited = parse(read(path))
            served = refused = 0
            for n, must_refuse in retrs:
                st, got = s.retr(n)
                R.stats["retr checked"] += 1
                if got is None:
                    if not st.startswith(b"-ERR [SYS/TEMP] "):
                        problems.append("RETR %d refused with %r, expected "
                                        "-ERR [SYS/TEMP]" % (n, st))
                elif got != wire(msgs[n - 1].body):
                    R.stats["retr wrong"] += 1
                    problems.append("RETR %d served bytes other than the "
                                    "listed message's" % n)
                elif must_refuse:
                    problems.append("RETR %d of a changed message succeeded"
                                    % n)
                else:
                    served += 1
                if got is None and not must_refuse:
                    refused += 1
                if got is not None and len(got) != sizes[n]:
                    problems.append("RETR %d sent %d octets, LIST said %d" %
                                    (n, len(got), sizes[n]))
            for n in dele:
                s.dele(n)
            q = s.quit()
        except (EOFError, harness.ProtocolError, OSError) as e:
            problems.append("session: %s (%s)" % (e, s.log_tail()))
            q = None
            edited = parse(read(path))
        s.close()
        # deleted: those whose content (minus the headers MUAs rewrite) is
        # still in the file; the rest of the edited file stays
        gone, unmatched = [], 0
        for n in dele:
            orig = msgs[n - 1]
            hit = [m for m in edited if strip_volatile(m) ==
                   strip_volatile(orig)]
            if hit:
                gone.append(hit[0])
            else:
                unmatched += 1
        kept = [m for m in edited if m not in gone]
        want = b"+OK bye" if not unmatched else (
            b"+OK bye; %d deleted messages were not found unchanged and "
            b"were left alone" % unmatched)
        if q != want:
            problems.append("QUIT replied %r, expected %r" % (q, want))
        problems += recovered(env, path, kept, gone, [], exact=True)
        R.stats["cases"] += 1
        R.problems(problems, "foreign change %s: RETR never serves other "
                   "bytes; DELE %s removes exactly what is identifiable" %
                   (name, dele), quiet=False)
        if served or refused:
            R.note("%s: %d RETRs of unchanged messages served, %d refused" %
                   (name, served, refused))


VOLATILE = (b"status:", b"x-status:", b"x-keywords:", b"x-uid:", b"x-imap:",
            b"x-imapbase:", b"content-length:", b"lines:")


def strip_volatile(m):
    """What the UIDL hashes: From_ line, headers minus the ones MUAs
    rewrite, body (doc/design.md "UIDL"); continuation lines ignored here."""
    head, rest = split_head(m.body)
    keep = [ln for ln in head.splitlines(keepends=True)
            if not ln.lower().startswith(VOLATILE)]
    return (m.from_line, b"".join(keep), rest)


# --------------------------------------------------------------- UIDL

def uidls(env, path, dele=()):
    s = Session(env, path)
    s.login_ok()
    u = s.listing("UIDL")
    for n in dele:
        s.dele(n)
    q = s.quit()
    s.close()
    if q != b"+OK bye":
        raise harness.ProtocolError("QUIT %r" % q)
    return u


def part_uidl(env, paths):
    section("UIDL stability")
    msgs = small_msgs("ui")
    path = paths.path("uidl")
    env.write_mailbox(path, serialize(msgs))
    u1 = uidls(env, path)
    u2 = uidls(env, path)
    R.check(u1 == u2 and len(set(u1.values())) == 5,
            "UIDLs are the same in two sessions, and distinct", repr((u1, u2)))
    uidls(env, path, dele=[2, 4])
    u3 = uidls(env, path)
    R.check(list(u3.values()) == [u1[1], u1[3], u1[5]],
            "UIDLs stay after other messages are deleted", repr(u3))
    new = make_msg("ui-new", 500)
    locked_append(env, path, new.raw())
    u4 = uidls(env, path)
    R.check(list(u4.values())[:3] == [u1[1], u1[3], u1[5]] and
            u4[4] not in u1.values(),
            "UIDLs stay after new mail is appended; the new one is new",
            repr(u4))
    # an MUA adds, then changes, its bookkeeping headers
    def add_headers(data):
        out = []
        for i, m in enumerate(parse(data)):
            for h in (b"Status: RO", b"X-Status: A",
                      b"X-Keywords: $label%d" % i, b"X-UID: %d" % (i + 1)):
                m = add_header(m, h)
            if i == 0:
                m = add_header(m, b"X-IMAPbase: 1700000000 0000000009")
                m = add_header(m, b"Content-Length: %d" %
                               len(split_head(m.body)[1]))
                m = add_header(m, b"Lines: 3")
            out.append(m)
        return serialize(out)

    def change_headers(data):
        return (data.replace(b"Status: RO", b"Status: O")
                .replace(b"X-Status: A", b"X-Status: AF")
                .replace(b"X-Keywords: $label", b"X-Keywords: Junk $label")
                .replace(b"X-UID: ", b"X-UID: 10"))

    locked_rewrite(env, path, add_headers)
    u5 = uidls(env, path)
    R.check(u5 == u4, "UIDLs stay when an editor adds Status, X-Status, "
            "X-Keywords, X-UID (and X-IMAPbase, Content-Length, Lines)",
            repr((u4, u5)))
    locked_rewrite(env, path, change_headers)
    u6 = uidls(env, path)
    R.check(u6 == u4, "UIDLs stay when an editor changes those headers",
            repr((u4, u6)))
    # identical deliveries
    twin = make_msg("ui-twin", 300)
    for _ in range(3):
        locked_append(env, path, twin.raw())
    u7 = uidls(env, path)
    u8 = uidls(env, path)
    tw = [u7[n] for n in (5, 6, 7)]
    R.check(len(set(u7.values())) == len(u7) and u7 == u8 and
            tw[1] == tw[0] + "-2" and tw[2] == tw[0] + "-3",
            "identical deliveries get distinct UIDLs, stable across sessions",
            repr(u7))


# --------------------------------------------------------------- main

def prerequisites():
    os.chdir(REPO)
    r = subprocess.run(["scripts/deps", "strace", "procmail",
                        "liblockfile-bin", "whois"])
    missing = [c for c in ("strace", "procmail", "dotlockfile", "mkpasswd")
               if not any(os.access(os.path.join(d, c), os.X_OK)
                          for d in os.environ.get("PATH", "").split(":"))]
    if r.returncode != 0 or missing:
        R.fail("prerequisites: missing %s" % (", ".join(missing) or
                                              "Debian packages"))
        return None
    pop3d = os.environ.get("POP3D", "./pop3d")
    if "POP3D" not in os.environ:
        b = subprocess.run(["make", "-s", "pop3d"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if b.returncode != 0:
            print(b.stdout.decode(errors="replace"))
            if not os.access(pop3d, os.X_OK):
                R.fail("prerequisites: make pop3d failed")
                return None
            R.note("make pop3d failed; testing the existing ./pop3d")
    if not os.access(pop3d, os.X_OK):
        R.fail("prerequisites: %s is not built" % pop3d)
        return None
    return pop3d


def main():
    # so that the finally blocks unmount the tmpfs and remove the files
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(1))
    print("pop3d data-integrity tests (%s)" %
          ("as root" if os.geteuid() == 0 else "as uid %d" % os.getuid()))
    pop3d = prerequisites()
    env = None
    if pop3d:
        env = harness.Env(pop3d)
        paths = Paths(env)
        if os.environ.get("KEEP_TMP"):
            print("temporary directory: %s" % env.tmp)
        parts = [("checker", part_checker),
                 ("kill_small", lambda: part_kill_small(env, paths)),
                 ("kill_big", lambda: part_kill_big(env, paths)),
                 ("errors", lambda: part_errors(env, paths)),
                 ("recovery", lambda: part_recovery_faults(env, paths)),
                 ("redelivery", lambda: part_identical_redelivery(env, paths)),
                 ("editor_crash", lambda: part_editor_after_crash(env,
                                                                  paths)),
                 ("group_kill", lambda: part_group_kill(env, paths)),
                 ("recover", lambda: part_recover(env, paths)),
                 ("full_disk", lambda: part_full_disk(env, paths)),
                 ("concurrency", lambda: part_concurrency(env, paths)),
                 ("in_use", lambda: part_in_use(env, paths)),
                 ("foreign", lambda: part_foreign(env, paths)),
                 ("uidl", lambda: part_uidl(env, paths))]
        # INTEGRITY_PARTS=name,name runs only those (for debugging)
        only = os.environ.get("INTEGRITY_PARTS")
        if only:
            parts = [p for p in parts if p[0] in only.split(",")]
        try:
            for name, part in parts:
                if time.monotonic() - T0 > TIME_LIMIT:
                    R.fail("time limit of %d s exceeded: part %s not run" %
                           (TIME_LIMIT, name))
                    continue
                try:
                    part()
                except Exception as e:      # a broken part must not hide others
                    traceback.print_exc()
                    R.fail("part crashed: %s: %s" % (type(e).__name__, e))
        finally:
            env.cleanup()
    st = R.stats
    print("\n## summary")
    print("  injection points tried: %d kill -9, %d ENOSPC/EIO, %d during "
          "recovery; %d fault cases in all" % (
              st["kill points"], st["error points"], st["recovery points"],
              st["cases"]))
    print("  deletion patterns: %s" % ", ".join(sorted(st["patterns"])))
    print("  deliveries during sessions (procmail and fcntl+dotlockfile): %d; "
          "concurrent sessions: %d; "
          "pop3d sessions in all: %d" % (st["deliveries"],
                                         st["concurrent sessions"],
                                         env.nsession if env else 0))
    print("  RETRs compared: %d, wrong: %d" % (st["retr checked"],
                                               st["retr wrong"]))
    print("  messages lost: %d, altered or garbage: %d (must be 0); deleted "
          "messages that came back after a fault: %d" % (
              st["lost"], st["altered"], st["came back"]))
    print("  raw file before the next login (%d checks): lost %d, garbled "
          "%d, duplicated %d (must be 0)" % (
              st["raw checks"], st["raw lost"], st["raw garbled"],
              st["raw duplicated"]))
    print("  time: %.0f s" % (time.monotonic() - T0))
    print("%d passed, %d failed" % (R.passed, R.failed))
    return 0 if R.failed == 0 and R.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
