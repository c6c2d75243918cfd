# SPDX-License-Identifier: ISC
"""The maildrop of tests/t-fetch-clients.sh and what clients must get.

Usage: fetch-maildrop.py DIR. Writes into DIR:
  mbox          the mbox as Debian's MDAs write it (mboxo: From_ line, the
                message, one empty line), every edge the test wants
  expect/N      the octets RETR N must send before the final "." line:
                the stored message, every LF as CRLF
  sizes         "N SIZE" per message, as LIST must give them
  new.mbox      one more message as an MDA appends it; expect/new its RETR
  after-dele-K  the mbox once message K is deleted (K = DELE_K below)
"""
import base64
import os
import sys

DELE_K = 2
out = sys.argv[1]
os.makedirs(os.path.join(out, "expect"), exist_ok=True)


def head(n, subject, extra=b"", return_path=True):
    # A Postfix local delivery: Return-Path first, then its Delivered-To.
    rp = b"Return-Path: <sender%d@example.org>\n" % n if return_path else b""
    return (rp +
            b"Delivered-To: alice@example.net\n"
            b"Received: from mx.example.org (mx.example.org [192.0.2.25])\n"
            b"\tby mail.example.net (Postfix) with ESMTPS id 4Q%dX\n"
            b"\tfor <alice@example.net>; Mon, 24 Nov 2025 09:%02d:00 +0100\n"
            b"From: Sender %d <sender%d@example.org>\n"
            b"To: alice@example.net\n"
            b"Subject: " % (n, n, n, n) + subject + b"\n"
            b"Date: Mon, 24 Nov 2025 09:%02d:00 +0100\n"
            b"Message-ID: <%d@example.org>\n" % (n, n) + extra + b"\n")


# multipart/mixed with a nested multipart/alternative, a base64 part, a
# preamble and an epilogue; without a Return-Path (getmail writes
# "Return-Path: <unknown>" then).
boundary = b"=-=-=mixed-b0undary=-=-="
alt = b"=-=-=alt-b0undary=-=-="
attachment = bytes(range(256)) * 3
b64 = base64.encodebytes(attachment)
multipart = (
    head(4, b"multipart: text, alternative, attachment",
         b"MIME-Version: 1.0\n"
         b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\n',
         return_path=False) +
    b"This is a multi-part message in MIME format.\n"
    b"\n--" + boundary + b"\n"
    b"Content-Type: text/plain; charset=us-ascii\n"
    b"\n"
    b"The first part.\n"
    b".\n"
    b"\n--" + boundary + b"\n"
    b'Content-Type: multipart/alternative; boundary="' + alt + b'"\n'
    b"\n"
    b"--" + alt + b"\n"
    b"Content-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: quoted-printable\n"
    b"\n"
    b"Gr=C3=BC=C3=9Fe\n"
    b"\n--" + alt + b"\n"
    b"Content-Type: text/html; charset=utf-8\n"
    b"\n"
    b"<p>Gr\xc3\xbc\xc3\x9fe</p>\n"
    b"\n--" + alt + b"--\n"
    b"\n--" + boundary + b"\n"
    b"Content-Type: application/octet-stream; name=\"bytes.bin\"\n"
    b"Content-Disposition: attachment; filename=\"bytes.bin\"\n"
    b"Content-Transfer-Encoding: base64\n"
    b"\n" + b64 +
    b"\n--" + boundary + b"--\n"
    b"The epilogue.\n")

# 300 KB, with a dot line and dot-led lines inside.
big = b"".join(b"line %06d %s\n" % (i, b"x" * 50) for i in range(5000))
big = big.replace(b"line 001000", b". dot line").replace(
    b"line 002000 " + b"x" * 50, b".")
twin = head(6, b"one of two identical messages") + b"Same bytes, twice.\n"

msgs = [
    head(1, b"lunch?") + b"Shall we have lunch at noon?\n-- \nBob\n",
    head(2, b"dots and quoted From lines") +
    b"A line that is only a dot follows:\n.\n..\n.leading dot\n...\n"
    b">From the archives, quoted by the MDA\n>>From twice quoted\n"
    b"From: inside a body is no separator without the space\n",
    head(3, "Grüße aus Köln ☕ (UTF-8 in a header)".encode(),
         "X-Sender-Name: Jörg Müller\n"
         "MIME-Version: 1.0\n"
         "Content-Type: text/plain; charset=utf-8\n"
         "Content-Transfer-Encoding: 8bit\n".encode()) +
    "Grüße aus Köln ☕ — 8-bit body\n".encode(),
    multipart,
    head(5, b"300 KB") + big,
    twin,
    twin,
    head(8, b"ends with an empty line") + b"the body ends with\n\n",
]
froms = [b"From sender%d@example.org  Mon Nov 24 09:%02d:00 2025\n" % (i, i)
         for i in range(1, len(msgs) + 1)]
froms[6] = froms[5]          # byte-identical, From_ line included
assert len(msgs[4]) > 300 * 1024
assert froms[5] + msgs[5] == froms[6] + msgs[6]

chunks = [f + m + b"\n" for f, m in zip(froms, msgs)]


def write(name, data):
    with open(os.path.join(out, name), "wb") as fh:
        fh.write(data)


write("mbox", b"".join(chunks))
write("after-dele-%d" % DELE_K,
      b"".join(c for i, c in enumerate(chunks, 1) if i != DELE_K))
new = head(9, b"appended after the first fetch") + b"Fresh mail.\n"
write("new.mbox", b"From sender9@example.org  Tue Nov 25 10:00:00 2025\n" +
      new + b"\n")
write("expect/new", new.replace(b"\n", b"\r\n"))
sizes = []
for i, m in enumerate(msgs, 1):
    crlf = m.replace(b"\n", b"\r\n")
    write("expect/%d" % i, crlf)
    sizes.append("%d %d\n" % (i, len(crlf)))
write("sizes", "".join(sizes).encode())
