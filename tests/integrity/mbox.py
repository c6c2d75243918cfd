# SPDX-License-Identifier: ISC
"""
mbox as pop3d reads it (README "The mailbox", mbox.c): a message starts
after a line beginning "From " that opens the file or follows an empty
line; the empty line before the next From_ line (or the end of the file)
belongs to the separator. Text before the first From_ line is a message of
its own unless it is only empty lines. Everything here works on bytes.

And the invariant every fault must leave behind (check_invariant).
"""

import hashlib


class Msg:
    """One message: its From_ line (with line ending, b"" when there is
    none) and its stored bytes (between the From_ line and the separator)."""

    __slots__ = ("from_line", "body")

    def __init__(self, from_line, body):
        self.from_line = from_line
        self.body = body

    def raw(self):
        """The bytes the message takes in a file, separator included."""
        return self.from_line + self.body + b"\n"

    def key(self):
        return (self.from_line, self.body)

    def __eq__(self, other):
        return isinstance(other, Msg) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def with_body(self, body):
        return Msg(self.from_line, body)

    def label(self):
        """A short name for reports: the X-Id header, else a digest."""
        for line in self.body.split(b"\n", 40)[:40]:
            if line.lower().startswith(b"x-id:"):
                return line[5:].strip().decode("ascii", "replace")
            if line in (b"", b"\r"):
                break
        return "sha1:" + hashlib.sha1(self.from_line + self.body).hexdigest()[:10]

    def __repr__(self):
        return "<Msg %s %d bytes>" % (self.label(), len(self.body))


def _is_empty(line):
    return line in (b"\n", b"\r\n")


def parse(data):
    """The messages of an mbox file, exactly as pop3d delimits them."""
    msgs = []
    cur = None          # [from_line, [lines]]
    prev_empty = True
    pos = 0
    n = len(data)
    while pos < n:
        nl = data.find(b"\n", pos)
        end = n if nl == -1 else nl + 1
        line = data[pos:end]
        pos = end
        if prev_empty and line.startswith(b"From "):
            if cur is not None:
                msgs.append(_close(cur))
            cur = [line, []]
            prev_empty = False
            continue
        prev_empty = _is_empty(line)
        if cur is None:
            if prev_empty:
                continue
            cur = [b"", []]
        cur[1].append(line)
    if cur is not None:
        msgs.append(_close(cur))
    return msgs


def _close(cur):
    lines = cur[1]
    if lines and _is_empty(lines[-1]):
        lines = lines[:-1]
    return Msg(cur[0], b"".join(lines))


def wire(body):
    """What RETR sends for a stored message before byte-stuffing: every line
    ending as CRLF, a CRLF added to a last line that has none."""
    out = []
    for line in body.splitlines(keepends=True):
        if line.endswith(b"\r\n"):
            out.append(line)
        elif line.endswith(b"\n"):
            out.append(line[:-1] + b"\r\n")
        else:
            out.append(line + b"\r\n")
    return b"".join(out)


def make_msg(ident, size=0, from_addr="sender@example.org",
             date="Mon Jan  1 00:00:00 2024", extra_headers=b"", seed=0):
    """A test message with a unique X-Id header and about `size` bytes of
    body (deterministic for a given ident and seed)."""
    from_line = ("From %s %s\n" % (from_addr, date)).encode()
    head = ("From: %s\nTo: alice@example.org\nSubject: test %s\n"
            "Message-ID: <%s@integrity.test>\nX-Id: %s\n" %
            (from_addr, ident, ident, ident)).encode() + extra_headers + b"\n"
    body = [("Body of %s.\n" % ident).encode(),
            b".a line that starts with a dot\n", b"..two dots\n",
            b">From quoted as mboxo stores it\n"]
    have = sum(len(x) for x in body)
    i = 0
    while have < size:
        h = hashlib.sha256(("%s/%d/%d" % (ident, seed, i)).encode()).hexdigest()
        line = ("%s %06d %s\n" % (ident, i, h * 2)).encode()
        body.append(line)
        have += len(line)
        i += 1
    body.append(("End of %s.\n" % ident).encode())
    return Msg(from_line, head + b"".join(body))


def serialize(msgs):
    return b"".join(m.raw() for m in msgs)


def check_invariant(file_msgs, kept, deleted, appended, exact_deleted=False):
    """
    file_msgs: what the mailbox holds now. kept: messages listed and not
    deleted, in file order; appended: mail added since, in order; deleted:
    the messages deleted. The file must hold every kept and appended message
    exactly once, in that relative order, byte-exact; it may also hold some
    deleted messages, at most once each (none if exact_deleted); nothing
    else. Returns a list of problems (empty when it holds) and the number of
    deleted messages that came back.
    """
    want = list(kept) + list(appended)
    spare = {}
    for m in deleted:
        spare[m] = spare.get(m, 0) + 1
    problems = []
    i = 0
    back = 0
    for at, m in enumerate(file_msgs):
        if i < len(want) and m == want[i]:
            i += 1
        elif not exact_deleted and spare.get(m, 0) > 0:
            spare[m] -= 1
            back += 1
        elif exact_deleted and spare.get(m, 0) > 0:
            problems.append("message %d (%s) was deleted but is still there"
                            % (at + 1, m.label()))
        elif m in want[:i]:
            problems.append("message %d (%s) is a duplicate" % (at + 1, m.label()))
        elif m in want[i:]:
            j = want.index(m, i)
            for lost in want[i:j]:
                problems.append("message %s (%s) is missing or out of order"
                                % (lost.label(), "appended" if lost in
                                   appended else "kept"))
            i = j + 1
        else:
            problems.append("message %d (%s, %d bytes) is garbage or altered: %r"
                            % (at + 1, m.label(), len(m.body),
                               (m.from_line + m.body)[:120]))
    for m in want[i:]:
        problems.append("message %s (%s) is missing" %
                        (m.label(), "appended" if m in appended else "kept"))
    return problems, back
