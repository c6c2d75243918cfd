# SPDX-License-Identifier: ISC
"""Compares what a mail client stored with what pop3d had to send.

Usage: fetch-compare.py LABEL KIND WHERE EXPECT-DIR NAME...

KIND says how the client stored the messages, WHERE is that file or
directory; EXPECT-DIR/NAME holds the octets RETR sends for one message
(CRLF line endings), NAMEs in the order the client fetched them; "all"
stands for the numbered ones, 1, 2, ...:

  fetchmail  WHERE/1, WHERE/2, ...: one message per file, written by an MDA
             that fetchmail ran for each message (LF line endings)
  mboxrd     WHERE: getmail's Mboxrd destination
  maildir    WHERE/new: getmail's Maildir destination

A client adds trace headers; those are removed here, one by one, only
where and in the exact form that client writes them (see strip_fetchmail
and strip_getmail), and every other byte must be the message: nothing
else may be added, dropped or changed.
Prints "ok LABEL ..." or "fail LABEL ..." lines (tests/lib.sh
count_results reads them).
"""
import os
import re
import sys

label, kind, where, edir = sys.argv[1:5]
names = []
for name in sys.argv[5:]:
    if name == "all":
        names += sorted((f for f in os.listdir(edir) if f.isdigit()), key=int)
    else:
        names.append(name)
want = [open(os.path.join(edir, name), "rb").read() for name in names]
failures = []


def bad(what):
    failures.append(what)


def header_field(data, name):
    """(field, rest) when data starts with the header field NAME (with its
    continuation lines), else (None, data)."""
    m = re.match(rb"%s:[^\n]*\n(?:[ \t][^\n]*\n)*" % re.escape(name), data,
                 re.IGNORECASE)
    if m is None:
        return None, data
    return m.group(0), data[m.end():]


# fetchmail inserts one Received field right before the first line of the
# header that holds "Received:" (at the top if none does):
#   Received: from 127.0.0.1 [127.0.0.1]
#   \tby HOST with POP3 (fetchmail-6.4.37)
#   \tfor <USER@HOST> (single-drop); DATE
FETCHMAIL_RECEIVED = re.compile(
    rb"Received: from 127\.0\.0\.1 \[127\.0\.0\.1\]\n"
    rb"\tby \S+ with POP3 \(fetchmail-[0-9.]+\)\n"
    rb"\tfor <[^>\n]*> \(single-drop\); [^\n]+\n\Z")


def strip_fetchmail(got, name, orig):
    header = orig[:orig.find(b"\n\n") + 1]
    at = header.find(b"Received:")
    at = 0 if at == -1 else header.rfind(b"\n", 0, at) + 1
    field, rest = header_field(got[at:], b"Received")
    if got[:at] != orig[:at]:
        bad("message %s: the header fields before fetchmail's Received "
            "differ: %r" % (name, got[:at]))
    elif field is None or not FETCHMAIL_RECEIVED.match(field):
        bad("message %s: no fetchmail Received field at octet %d: %r"
            % (name, at, got[at:at + 200]))
    else:
        return got[:at] + rest
    return got


# getmail writes its own Return-Path first (and deletes the message's own
# Return-Path field wherever it was), then Delivered-To and Received:
#   Return-Path: <SENDER>      SENDER from the message's Return-Path, else
#                              from its Sender:, else "unknown"
#   Delivered-To: unknown      (a POP3 retriever knows no recipient)
#   Received: from 127.0.0.1 (127.0.0.1:PORT) by HOST with POP3 getmail6
#     msgid:UIDL; DATE         (folded by getmail at 78 columns)
GETMAIL_DELIVERED_TO = re.compile(rb"Delivered-To: (?:unknown|\S+@\S+)\n\Z")
GETMAIL_RECEIVED = re.compile(
    rb"Received: from 127\.0\.0\.1 \(127\.0\.0\.1:\d+\) by \S+ with POP3"
    rb" getmail6 msgid:[!-~]+(?: for <[^>\n]*>)?; "
    rb"\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d -0000\n\Z")


def strip_getmail(got, name, orig):
    rp, rest = header_field(got, b"Return-Path")
    own, orig_rest = header_field(orig, b"Return-Path")
    # The message's own Return-Path (first, as Postfix writes it) is the
    # one getmail deletes and writes anew, byte for byte the same here.
    if own is not None:
        if rp != own:
            bad("message %s: Return-Path %r, the message had %r"
                % (name, rp, own))
        orig = orig_rest
    elif rp != b"Return-Path: <unknown>\n":
        bad("message %s: Return-Path %r for a message without one"
            % (name, rp))
    dt, rest = header_field(rest, b"Delivered-To")
    if dt is None or not GETMAIL_DELIVERED_TO.match(dt):
        bad("message %s: no getmail Delivered-To after Return-Path: %r"
            % (name, rest[:200]))
    rcvd, rest = header_field(rest, b"Received")
    if rcvd is None or not GETMAIL_RECEIVED.match(
            re.sub(rb"\n[ \t]+", b" ", rcvd[:-1]) + b"\n"):
        bad("message %s: no getmail Received after Delivered-To: %r"
            % (name, (rcvd or rest)[:200]))
    return rest, orig


def first_difference(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return "%d octets vs %d, first difference at octet %d: %r vs %r" % (
        len(a), len(b), n, a[max(0, n - 20):n + 20], b[max(0, n - 20):n + 20])


def same(got, orig, name):
    """got (LF line endings) is orig (CRLF line endings)."""
    if b"\r" in got:
        bad("message %s: a CR the client did not strip" % name)
    got = got.replace(b"\n", b"\r\n")
    if got != orig:
        bad("message %s: %s" % (name, first_difference(got, orig)))


def from_lf(crlf):
    return crlf.replace(b"\r\n", b"\n")


stored = []
if kind == "fetchmail":
    files = sorted(os.listdir(where), key=lambda f: (len(f), f))
    if files != [str(i) for i in range(1, len(files) + 1)]:
        bad("unexpected files: %s" % files)
    stored = [open(os.path.join(where, f), "rb").read() for f in files]
elif kind == "mboxrd":
    data = open(where, "rb").read()
    if data and not data.startswith(b"From "):
        bad("the mbox does not start with a From_ line")
    # mboxrd: every body line that matched ^>*From  got one more ">", so a
    # line that starts "From " is always a separator.
    for part in re.split(rb"^From [^\n]*\n", data, flags=re.MULTILINE)[1:]:
        if not part.endswith(b"\n\n"):
            bad("a message not followed by an empty line: %r" % part[-40:])
        else:
            part = part[:-1]
        stored.append(re.sub(rb"^>(>*From )", rb"\1", part,
                             flags=re.MULTILINE))
elif kind == "maildir":
    new = os.path.join(where, "new")
    files = os.listdir(new)
    if os.listdir(os.path.join(where, "cur")):
        bad("files in cur/")
    # getmail names them SECS.MusecsPpidQcount...: Q is the delivery count
    def count(f):
        m = re.search(r"Q(\d+)", f)
        return (int(m.group(1)) if m else -1, f)
    stored = [open(os.path.join(new, f), "rb").read()
              for f in sorted(files, key=count)]
else:
    sys.exit("fetch-compare.py: unknown kind %s" % kind)

if len(stored) != len(want):
    bad("%d messages stored, %d expected" % (len(stored), len(want)))
for got, orig, name in zip(stored, want, names):
    if kind == "fetchmail":
        same(strip_fetchmail(got, name, from_lf(orig)), orig, name)
    else:
        rest, orig_lf = strip_getmail(got, name, from_lf(orig))
        same(rest, orig_lf.replace(b"\n", b"\r\n"), name)

if failures:
    for f in failures[:10]:
        print("fail %s: %s" % (label, f))
else:
    print("ok %s: %d messages, each byte for byte as stored, only the %s "
          "trace headers added" % (label, len(want),
                                   "fetchmail" if kind == "fetchmail"
                                   else "getmail"))
