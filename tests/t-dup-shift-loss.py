#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
dup_shift_loss: UPDATE never deletes a copy of a message that the client
did not delete (doc/guarantees.md).

The defect it guards: after another program had changed the mailbox,
UPDATE found each deleted message again by its content hash and copy
number; the copy number is a rank, which shifts down when another
program removes an earlier copy. A client that deleted message 1 of two
copies while an MUA expunged message 1 too got "+OK bye" and an empty
mailbox: the copy nobody deleted was gone. Copies need not be
byte-identical: the hash leaves out the headers MUAs rewrite (Status:)
and a last line without LF. Now a copy is deleted only while every
listed copy of its content is still where the listing put it,
unchanged; else it is kept, and QUIT says how many were left alone.

Each case: a mailbox, the client's DELE, what other programs do during
the session (an MUA's in-place rewrite or an MDA's append, both under the
Debian locks), then QUIT; the QUIT reply and the mailbox afterwards are
compared with what must be. Runs as root (privilege separation, as
nobody) or as a normal user; POP3D=path overrides ./pop3d. The last line
is "N passed, M failed".
"""

import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from integrity.harness import Session, locked_append, locked_rewrite  # noqa: E402
from integrity.mbox import Msg, make_msg, parse, serialize  # noqa: E402
from integrity.tally import check, run_parts  # noqa: E402

BYE = b"+OK bye"
LEFT_ONE = (b"+OK bye; 1 deleted messages were not found unchanged and "
            b"were left alone")

F = b"From same@example.org Mon Jan  1 00:00:00 2024\n"
COPY = Msg(F, b"Subject: s\nStatus: O\n\nbody x\n")
COPY_RO = Msg(F, b"Subject: s\nStatus: RO\n\nbody x\n")
OTHER = make_msg("other", 200)
BIG = make_msg("big", 4000)
OTHER_RO = Msg(OTHER.from_line, OTHER.body.replace(b"\n\n",
               b"\nStatus: RO\n\n", 1))
OTHER_O = Msg(OTHER.from_line, OTHER.body.replace(b"\n\n",
              b"\nStatus: O\n\n", 1))


def expunge_first(d):
    """An MUA's expunge of message 1: the rest as it was."""
    return d[d.index(b"\n\nFrom ") + 2:]


def rewrite(f):
    return lambda env, path: locked_rewrite(env, path, f)


def append(msg):
    return lambda env, path: locked_append(env, path, msg.raw())


# name, mailbox, messages the client deletes, what others do, the reply
# to QUIT, the mailbox afterwards.
CASES = [
    ("true copies, both expunge message 1",
     serialize([COPY, COPY]), [1], [rewrite(expunge_first)],
     LEFT_ONE, serialize([COPY])),
    ("copies differing in Status:, both expunge message 1",
     serialize([COPY, COPY_RO]), [1], [rewrite(expunge_first)],
     LEFT_ONE, serialize([COPY_RO])),
    ("copies differing in the last LF, both expunge message 1",
     COPY.raw() + F + b"Subject: s\nStatus: O\n\nbody x", [1],
     [rewrite(expunge_first)],
     LEFT_ONE, F + b"Subject: s\nStatus: O\n\nbody x"),
    ("both expunge message 1, then a longer message is delivered",
     serialize([COPY, COPY]), [1], [rewrite(expunge_first), append(BIG)],
     LEFT_ONE, serialize([COPY, BIG])),
    ("client deletes copy 2, an MUA expunges copy 1: kept, not guessed",
     serialize([COPY, COPY]), [2], [rewrite(expunge_first)],
     LEFT_ONE, serialize([COPY])),
    ("a copy delivered during the session, prefix unchanged",
     serialize([COPY]), [1], [append(COPY)],
     BYE, serialize([COPY])),
    ("copies, a third delivered during the session",
     serialize([COPY, COPY]), [1], [append(COPY)],
     BYE, serialize([COPY, COPY])),
    ("copies in place, another message shrinks: indexed again",
     serialize([COPY, COPY, OTHER_RO]), [1],
     [rewrite(lambda d: d.replace(b"Status: RO\n", b"Status: O\n"))],
     BYE, serialize([COPY, OTHER_O])),
    ("a unique message among moved copies is found by content",
     serialize([COPY, COPY, OTHER]), [3], [rewrite(expunge_first)],
     BYE, serialize([COPY])),
]


def run(env, n, case):
    name, data, dele, others, want_quit, want_after = case
    path = os.path.join(env.mail, "m%d" % n)
    env.write_mailbox(path, data)
    s = Session(env, path)
    s.login_ok()
    for i in dele:
        s.dele(i)
    for other in others:
        other(env, path)
    q = s.quit()
    s.close()
    after = open(path, "rb").read()
    check(q == want_quit and after == want_after, name,
          "QUIT %r, mailbox of %d bytes, %d messages (want %d, %d)" %
          (q, len(after), len(parse(after)), len(want_after),
           len(parse(want_after))))


def main():
    return run_parts([lambda env, n=n, case=case: run(env, n, case)
                      for n, case in enumerate(CASES)])


if __name__ == "__main__":
    sys.exit(main())
