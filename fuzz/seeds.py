#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/.

The seeds are committed; this script says how they were made and remakes
them (python3 fuzz/seeds.py). Each seed is named for what it holds. The
input format of each target is described at the top of fuzz_<target>.c.
"""
import base64
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def crlf(s):
    return s.replace(b"\n", b"\r\n")


def b64(s):
    return base64.b64encode(s)


# Mailboxes as Debian's MDAs leave them.
M1 = (b"From alice@example.org Mon Jan  1 10:00:00 2024\n"
      b"Return-Path: <alice@example.org>\n"
      b"From: Alice <alice@example.org>\n"
      b"To: bob@example.org\n"
      b"Subject: lunch\n"
      b"Message-ID: <1@example.org>\n"
      b"\n"
      b"Shall we?\n"
      b"\n")
M2 = (b"From carol@example.net Mon Jan  1 11:00:00 2024\n"
      b"From: carol@example.net\n"
      b"Subject: dots\n"
      b"Status: RO\n"
      b"X-Status: A\n"
      b"\n"
      b".\n"
      b"..\n"
      b".hidden line\n"
      b">From the start\n"
      b"From here on, no separator\n"
      b"last line\n"
      b"\n")
M3 = (b"From dave@example.com Mon Jan  1 12:00:00 2024\n"
      b"Subject: no body\n")
XUIDL = (b"From erin@example.org Tue Jan  2 09:00:00 2024\n"
         b"X-UIDL: 3f2a9c1e\n"
         b"Subject: kept by another server\n"
         b"\n"
         b"body\n"
         b"\n"
         b"From frank@example.org Tue Jan  2 09:05:00 2024\n"
         b"X-UIDL:\t  GmailId1234  \n"
         b"Subject: tabs and spaces\n"
         b"\n"
         b"body\n"
         b"\n"
         b"From erin@example.org Tue Jan  2 09:10:00 2024\n"
         b"X-UIDL: 3f2a9c1e\n"
         b"Subject: repeated X-UIDL\n"
         b"\n"
         b"body\n"
         b"\n"
         b"From grace@example.org Tue Jan  2 09:15:00 2024\n"
         b"x-uidl: " + b"x" * 71 + b"\n"
         b"X-UIDL: second-one\n"
         b"Subject: too long, then another\n"
         b"\n"
         b"body\n")
VOLATILE = (b"From heidi@example.org Wed Jan  3 08:00:00 2024\n"
            b"Subject: flags\n"
            b"Status: O\n"
            b"X-Status: \n"
            b"X-Keywords: $Label1\n"
            b"X-UID: 17\n"
            b"X-IMAP: 1700000000 0000000017\n"
            b"X-IMAPbase: 1700000000 17\n"
            b"Content-Length: 5\n"
            b"Lines: 1\n"
            b"X-Folded: one\n"
            b"\tcontinued\n"
            b"Status-Not: kept\n"
            b"\n"
            b"text\n")
DUPS = M1 + M1 + M1
PREFIX = (b"\n\r\n"
          b"Text before any From_ line is a message of its own.\n"
          b"\n"
          + M1)
CR_ODD = (b"From ivan@example.org Thu Jan  4 07:00:00 2024\r\n"
          b"Subject: carriage returns\r\n"
          b"\r\n"
          b"bare\rCR\r\r\n"
          b"\r\n"
          b"\r"
          b"\n"
          b"no final newline")
NULS = (b"From judy@example.org Fri Jan  5 06:00:00 2024\n"
        b"Subject: nul\x00bytes\n"
        b"\n"
        b"a\x00b\n"
        b"\x00\n")
LONG = (b"From " + b"k" * 1100 + b" Sat Jan  6 05:00:00 2024\n"
        b"Subject: a long From_ line and a long body line\n"
        b"X-UIDL: long-line-ahead\n"
        b"\n"
        + b"y" * 3000 + b"\n"
        + b"\n" + M3)
BLANKS = (M1.rstrip(b"\n") + b"\n\n\n\n" + M2)
HASHED = (b"From b@example.org Tue Jan  2 00:00:00 2024\n"
          b"Subject: second\n\nbody\n")
# Review 8, finding 1: folds of headers popa3d does not hash.
POPA3D_FOLDS = (b"From a@b Mon Jan  1 00:00:00 2024\n"
                b"Received: from a\n\tby b\nSubject: hello\n world\n\nb\n\n"
                b"From a@b Mon Jan  1 00:00:00 2024\n"
                b"Date: d\nFrom: a user\n <u@example.org>\n\nb\n\n"
                b"From a@b Mon Jan  1 00:00:00 2024\n"
                b"Received: from mx\nARC-Seal: i=1;\n\tcv=none\n\nb\n")
FROM_AT_EOF = M1 + b"From mallory@example.org Sun Jan  7 04:00:00 2024"


def mbox_seeds():
    s = {}
    h = b"\x00\x01\x02\x03"
    s["one-lf"] = h + M1
    s["one-crlf"] = h + crlf(M1)
    s["three"] = h + M1 + M2 + M3
    s["three-crlf"] = h + crlf(M1 + M2 + M3)
    s["dot-lines-top0"] = b"\x00\x05\x00\x00" + M2
    s["dot-lines-top9"] = b"\x00\x06\x00\x09" + M2
    s["xuidl"] = b"\x01\x07\x00\x01" + XUIDL
    s["xuidl-off"] = b"\x00\x07\x00\x01" + XUIDL
    s["volatile-headers"] = b"\x00\x08\x00\x02" + VOLATILE
    s["duplicates"] = b"\x01\x09\x00\x01" + DUPS
    s["text-before-from"] = b"\x00\x0a\x00\x01" + PREFIX
    s["cr-and-no-final-newline"] = b"\x00\x0b\x00\x03" + CR_ODD
    s["nul-bytes"] = b"\x00\x0c\x00\x01" + NULS
    s["long-lines"] = b"\x01\x0d\x00\x01" + LONG
    s["long-lines-crlf"] = b"\x01\x0e\x00\x01" + crlf(LONG)
    s["blank-runs"] = b"\x00\x0f\x00\x02" + BLANKS
    s["from-line-at-eof"] = b"\x00\x10\x00\x01" + FROM_AT_EOF
    s["header-only"] = b"\x00\x11\x00\x05" + M3
    s["empty"] = b"\x00\x12\x00\x00"
    s["popa3d-fold-after-unhashed"] = b"\x02\x13\x00\x01" + POPA3D_FOLDS
    s["only-blank-lines"] = b"\x00\x13\x00\x00" + b"\n\r\n\n"
    s["no-from-line"] = b"\x00\x14\x00\x01" + b"Subject: x\n\nbody\n"
    s["top-255"] = b"\x00\x15\x00\xff" + M1 + M2
    # A server bug: an X-UIDL value equal to another message's content
    # UIDL (the XXH3-128 of HASHED, computed with mbox.c: mbox_uidl())
    # gives two messages one UIDL. Replay fails until mbox.c prevents it.
    s["xuidl-equals-hash-uidl"] = (b"\x01\x00\x00\x00"
        b"From a@example.org Mon Jan  1 00:00:00 2024\n"
        b"X-UIDL: d2a8defb45d58006547238d6d0b57166\n"
        b"Subject: first\n\nbody\n\n" + HASHED)
    return s


# RFC 1939 section 7: the digest of "<1896.697170952@dbc.mtview.ca.us>tanstaaf".
APOP_DIGEST = b"c4c9334bac560ecc979e58001b3e22fb"
PLAIN = b64(b"\x00bob\x00secret")
GREETING_FLAGS = {"xuidl": 1, "noplain": 2, "apop": 4, "trans": 8,
                  "nombox": 16, "reset": 32, "interrupt": 64, "gone": 128}


def cmd(flags=(), verdicts=0, rchunk=0, wchunk=0, mbox=b"", lines=b"",
        big=False):
    f = 0
    for name in flags:
        f |= GREETING_FLAGS[name]
    return (bytes([f, verdicts, rchunk, wchunk, int(big)]) + mbox +
            b"=====COMMANDS=====\r\n" + lines)


def v(*names):
    """Verdicts, two bits each: OK, FAIL, TEMPFAIL, DENIED."""
    code = {"ok": 0, "fail": 1, "temp": 2, "denied": 3}
    bits = 0
    for i, n in enumerate(names):
        bits |= code[n] << (2 * i)
    return bits


def t(*lines):
    return b"".join(l + b"\r\n" for l in lines)


LOGIN = (b"USER bob", b"PASS secret")
TRANS = (b"STAT", b"LIST", b"LIST 2", b"UIDL", b"UIDL 1", b"RETR 1",
         b"TOP 2 0", b"TOP 2 3", b"DELE 1", b"RETR 1", b"LIST 1", b"NOOP",
         b"RSET", b"DELE 2", b"STAT", b"QUIT")


def command_seeds():
    mb = M1 + M2 + M3
    s = {}
    s["user-pass-session"] = cmd(mbox=mb, lines=t(*LOGIN, *TRANS))
    s["user-pass-session-crlf-mbox"] = cmd(mbox=crlf(mb),
                                           lines=t(*LOGIN, *TRANS))
    s["capa-both-states"] = cmd(mbox=mb, lines=t(b"CAPA", *LOGIN, b"CAPA",
                                                 b"QUIT"))
    s["auth-plain-initial"] = cmd(mbox=mb, lines=t(b"AUTH PLAIN " + PLAIN,
                                                   b"STAT", b"QUIT"))
    s["auth-plain-continued"] = cmd(mbox=mb, lines=t(b"AUTH PLAIN", PLAIN,
                                                     b"LIST", b"QUIT"))
    s["auth-plain-authzid"] = cmd(mbox=mb, lines=t(
        b"AUTH PLAIN " + b64(b"bob\x00bob\x00secret"), b"QUIT"))
    s["auth-plain-other-authzid"] = cmd(verdicts=v("ok"), lines=t(
        b"AUTH PLAIN " + b64(b"eve\x00bob\x00secret"), b"QUIT"))
    s["auth-plain-empty"] = cmd(lines=t(b"AUTH PLAIN =", b"QUIT"))
    s["auth-login"] = cmd(mbox=mb, lines=t(b"AUTH LOGIN", b64(b"bob"),
                                           b64(b"secret"), b"UIDL",
                                           b"QUIT"))
    s["auth-login-initial"] = cmd(mbox=mb, lines=t(
        b"auth login " + b64(b"bob"), b64(b"secret"), b"RETR 2", b"QUIT"))
    s["auth-cancel-and-bad-base64"] = cmd(lines=t(
        b"AUTH PLAIN", b"*", b"AUTH LOGIN", b"Ym9i", b"*", b"AUTH PLAIN",
        b"not base64!", b"AUTH PLAIN AGJvYgBzZWNyZXQ", b"AUTH",
        b"AUTH CRAM-MD5", b"QUIT"))
    s["auth-long-sasl-line"] = cmd(lines=t(b"AUTH PLAIN",
                                           b"QUFB" * 255, b"AUTH PLAIN",
                                           b"QUFB" * 300, b"QUIT"))
    s["apop"] = cmd(flags=["apop"], mbox=mb, lines=t(
        b"APOP mrose " + APOP_DIGEST, b"STAT", b"QUIT"))
    s["apop-unavailable"] = cmd(lines=t(b"APOP mrose " + APOP_DIGEST,
                                        b"APOP mrose short", b"QUIT"))
    s["utf8-user"] = cmd(mbox=mb, lines=t(
        b"UTF8", "USER jos\u00e9".encode(), "PASS p\u00e4ss".encode(),
        b"STAT", b"UTF8", b"QUIT"))
    s["utf8-invalid"] = cmd(lines=t(b"UTF8", b"USER b\xc0\xafb",
                                    b"USER bob", b"PASS \xed\xa0\x80",
                                    b"AUTH PLAIN " + b64(b"\x00b\xffb\x00x"),
                                    b"QUIT"))
    s["fail-temp-then-ok"] = cmd(verdicts=v("fail", "temp", "ok"), mbox=mb,
                                 lines=t(*LOGIN, *LOGIN, *LOGIN, b"STAT",
                                         b"QUIT"))
    s["fail-last"] = cmd(verdicts=v("fail", "fail", "fail", "fail"),
                         lines=t(*LOGIN, *LOGIN, *LOGIN, *LOGIN, b"QUIT"))
    s["denied"] = cmd(verdicts=v("denied"), lines=t(*LOGIN, b"STAT"))
    s["no-plaintext"] = cmd(flags=["noplain"], lines=t(
        b"CAPA", b"USER bob", b"AUTH PLAIN " + PLAIN, b"QUIT"))
    s["commands-before-login"] = cmd(lines=t(
        b"STAT", b"LIST 1", b"RETR 1", b"PASS x", b"USER", b"USER a b",
        b"QUIT now", b"QUIT"))
    s["commands-after-login"] = cmd(mbox=mb, lines=t(
        *LOGIN, b"USER bob", b"PASS x", b"APOP a b", b"AUTH", b"UTF8",
        b"QUIT"))
    s["pipelined-one-byte-reads"] = cmd(rchunk=1, wchunk=1, mbox=mb,
                                        lines=t(*LOGIN, *TRANS))
    s["pipelined-short-reads"] = cmd(rchunk=7, wchunk=3, mbox=crlf(mb),
                                     lines=t(*LOGIN, *TRANS))
    s["handover-pipelined"] = cmd(rchunk=0, mbox=mb,
                                  lines=t(*LOGIN, b"STAT", b"RETR 1",
                                          b"QUIT"))
    s["long-and-odd-lines"] = cmd(lines=t(
        b"USER " + b"a" * 300, b"USER " + b"b" * 129, b"USER " + b"c" * 128,
        b"PASS " + b"d" * 249, b"NOOP\x00", b"N\x01OP", b"noop",
        b"USER\tbob", b"USER  bob  ", b"U", b"USERS bob", b"1234",
        b"UTF8", b"")
        + b"QUIT\n")
    s["numbers"] = cmd(flags=["trans"], mbox=mb, lines=t(
        b"LIST 0", b"LIST 4", b"LIST 4294967297", b"LIST 18446744073709551617",
        b"LIST 99999999999999999999999", b"LIST -1", b"LIST +1", b"LIST 01",
        b"LIST 1 2", b"RETR", b"TOP 1", b"TOP 1 -1",
        b"TOP 1 18446744073709551615", b"TOP 1 18446744073709551616",
        b"DELE 3", b"DELE 3", b"TOP 3 1", b"QUIT"))
    s["transaction-only"] = cmd(flags=["trans"], mbox=DUPS + XUIDL, lines=t(
        b"UIDL", b"LIST", b"RETR 3", b"DELE 1", b"DELE 2", b"QUIT"))
    s["xuidl-listing"] = cmd(flags=["trans", "xuidl"], mbox=XUIDL, lines=t(
        b"UIDL", b"UIDL 3", b"TOP 1 1", b"QUIT"))
    s["no-mailbox-file"] = cmd(flags=["trans", "nombox"], lines=t(
        b"STAT", b"LIST", b"UIDL", b"RETR 1", b"QUIT"))
    s["empty-mailbox"] = cmd(flags=["trans"], lines=t(b"STAT", b"QUIT"))
    s["odd-mailbox"] = cmd(flags=["trans"], mbox=CR_ODD + NULS + LONG,
                           lines=t(b"LIST", b"RETR 1", b"RETR 2", b"TOP 3 2",
                                   b"DELE 2", b"QUIT"))
    s["delete-all"] = cmd(flags=["trans"], mbox=PREFIX + M2,
                          lines=t(b"DELE 1", b"DELE 2", b"DELE 3", b"QUIT"))
    s["connection-reset"] = cmd(flags=["reset"], mbox=mb,
                                lines=t(*LOGIN, b"DELE 1"))
    s["eof-mid-line"] = cmd(mbox=mb, lines=t(*LOGIN, b"STAT") + b"LIS")
    s["too-many-errors"] = cmd(lines=t(*([b"BOGUS"] * 21)))
    s["lf-only"] = cmd(mbox=mb, lines=b"USER bob\nPASS secret\nSTAT\nQUIT\n")
    s["interrupted-io"] = cmd(flags=["interrupt"], rchunk=5, wchunk=1,
                              mbox=mb, lines=t(*LOGIN, *TRANS))
    s["client-gone"] = cmd(flags=["gone"], wchunk=8, mbox=mb,
                           lines=t(*LOGIN, b"RETR 1", b"DELE 1", b"QUIT"))
    s["big-message"] = cmd(flags=["trans"], big=True, mbox=mb, lines=t(
        b"LIST 1", b"RETR 1", b"TOP 1 5", b"TOP 1 6000", b"RETR 2",
        b"DELE 2", b"QUIT"))
    s["big-message-delete"] = cmd(flags=["trans"], big=True, mbox=mb,
                                  lines=t(b"DELE 1", b"QUIT"))
    s["no-marker"] = b"\x00\x00\x00\x00\x00" + t(b"CAPA", b"QUIT")
    return s


def mailbox(flags, delete, extra=b"", mbox=b"", crash=0):
    head = (bytes([flags]) + struct.pack("<I", delete) +
            bytes([len(extra), crash]))
    return head + mbox + extra


def mailbox_seeds():
    s = {}
    three = M1 + M2 + M3
    s["keep-all"] = mailbox(0, 0, mbox=three)
    s["delete-first"] = mailbox(0, 1, mbox=three)
    s["delete-middle"] = mailbox(0, 2, mbox=three)
    s["delete-last"] = mailbox(0, 4, mbox=three)
    s["delete-all"] = mailbox(0, 7, mbox=three)
    s["delete-alternate-crlf"] = mailbox(0, 0x55555555,
                                         mbox=crlf(three + three))
    s["delete-duplicates"] = mailbox(1, 2, mbox=DUPS)
    s["delete-text-before-from"] = mailbox(0, 1, mbox=PREFIX)
    s["delete-after-text"] = mailbox(0, 2, mbox=PREFIX)
    s["xuidl"] = mailbox(1, 5, mbox=XUIDL)
    s["volatile"] = mailbox(0, 1, mbox=VOLATILE + M1)
    s["odd-bytes"] = mailbox(0, 3, mbox=CR_ODD + NULS)
    s["long-lines"] = mailbox(0, 1, mbox=LONG + M1)
    s["blank-runs"] = mailbox(0, 1, mbox=BLANKS)
    s["from-line-at-eof"] = mailbox(0, 2, mbox=FROM_AT_EOF)
    s["empty"] = mailbox(0, 0xffffffff)
    s["append-new-message"] = mailbox(2, 4, mbox=three, extra=b"\n" + M1)
    s["append-after-separator"] = mailbox(2, 2, mbox=M1 + M2, extra=M3)
    s["append-joins-last"] = mailbox(2, 4, mbox=three,
                                     extra=b"more text\n")
    s["append-copy-of-deleted"] = mailbox(2, 2, mbox=M1 + M2,
                                          extra=M2)
    for k in range(1, 13):
        s["crash-at-%02d" % k] = mailbox(2, 5, mbox=three + M1,
                                          extra=b"\n" + M2, crash=k)
    s["crash-first-message"] = mailbox(0, 1, mbox=PREFIX + M2, crash=3)
    s["big-delete-first"] = mailbox(8, 1, mbox=three)
    s["big-delete-second"] = mailbox(8, 2, mbox=three)
    s["big-crash-at-05"] = mailbox(8 | 4, 5, mbox=three, extra=M2[5:],
                                   crash=5)
    late = M2[5:]
    for k in (0, 2, 4, 6, 8, 11, 12):
        s["late-delivery-crash-at-%02d" % k] = mailbox(
            4, 3, mbox=three + M1, extra=late, crash=k)
    return s


def sasl_seeds():
    s = {}
    s["plain-b64"] = PLAIN
    s["plain-authzid-b64"] = b64(b"bob\x00bob\x00secret")
    s["login-user-b64"] = b64(b"bob")
    s["one-pad"] = b"Ym9iYg=="
    s["two-pads"] = b"Ym9i"
    s["noncanonical-bits"] = b"QR=="
    s["pad-in-middle"] = b"Ym=9iYg=="
    s["three-pads"] = b"Y==="
    s["whitespace"] = b"Ym9i\r\nYg=="
    s["url-alphabet"] = b"-_-_"
    s["long"] = b64(bytes(range(256)) * 3)
    s["plain-raw"] = b"\x00bob\x00secret"
    s["plain-raw-authzid"] = b"bob\x00bob\x00secret"
    s["plain-raw-other"] = b"eve\x00bob\x00secret"
    s["plain-raw-three-nuls"] = b"\x00bob\x00sec\x00ret"
    s["plain-raw-empty-pass"] = b"\x00bob\x00"
    s["utf8-names"] = "jos\u00e9 \u65e5\u672c \U0001f600".encode()
    s["utf8-overlong"] = b"\xc0\xaf\xe0\x80\xaf"
    s["utf8-surrogate"] = b"\xed\xa0\x80"
    s["utf8-too-big"] = b"\xf4\x90\x80\x80"
    s["utf8-truncated"] = b"ab\xe2\x82"
    s["utf8-max"] = b"\xf4\x8f\xbf\xbf\xef\xbf\xbf"
    return s


V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(cmd_byte, fam, addr, tlv=b""):
    body = addr + tlv
    return V2_SIG + bytes([cmd_byte, fam]) + struct.pack(">H", len(body)) + body


def proxy_seeds():
    s = {}
    after = b"USER bob\r\n"
    s["v1-tcp4"] = b"PROXY TCP4 192.0.2.1 198.51.100.2 40000 110\r\n" + after
    s["v1-tcp6"] = (b"PROXY TCP6 2001:db8::1 2001:db8::2 40000 995\r\n"
                    + after)
    s["v1-unknown"] = b"PROXY UNKNOWN\r\n" + after
    s["v1-unknown-with-fields"] = (b"PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2"
                                   b"\r\n")
    s["v1-bad-port"] = b"PROXY TCP4 192.0.2.1 198.51.100.2 65536 0110\r\n"
    s["v1-double-space"] = b"PROXY TCP4  192.0.2.1 198.51.100.2 1 2\r\n"
    s["v1-trailing-space"] = b"PROXY TCP4 192.0.2.1 198.51.100.2 1 2 \r\n"
    s["v1-lf-only"] = b"PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n"
    s["v1-family-mismatch"] = b"PROXY TCP4 2001:db8::1 192.0.2.2 1 2\r\n"
    s["v1-longest"] = (b"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                       b"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535"
                       b"\r\n")
    s["v1-too-long"] = b"PROXY " + b"x" * 110 + b"\r\n"
    s["v1-nul"] = b"PROXY TCP4 192.0.2.1\x00 198.51.100.2 1 2\r\n"
    s["v1-partial"] = b"PROXY TCP4 192.0.2.1 198.51.1"
    s["v2-local"] = v2(0x20, 0x00, b"") + after
    s["v2-tcp4"] = v2(0x21, 0x11, bytes([192, 0, 2, 1, 198, 51, 100, 2])
                      + struct.pack(">HH", 40000, 110)) + after
    s["v2-udp4-tlv"] = v2(0x21, 0x12, bytes(12), b"\x01\x00\x02h2") + after
    s["v2-tcp6"] = v2(0x21, 0x21, bytes(range(32)) + b"\x9c\x40\x00\x6e")
    s["v2-unix"] = v2(0x21, 0x31, b"/run/x".ljust(216, b"\x00"))
    s["v2-short-address"] = v2(0x21, 0x11, bytes(8))
    s["v2-bad-version"] = v2(0x11, 0x11, bytes(12))
    s["v2-bad-command"] = v2(0x22, 0x11, bytes(12))
    s["v2-bad-family"] = v2(0x21, 0x41, bytes(12))
    s["v2-too-long"] = V2_SIG + b"\x21\x11\x00\xe0" + bytes(224)
    s["v2-truncated"] = v2(0x21, 0x11, bytes(12))[:20]
    s["not-proxy"] = after
    return s


def priv_seeds():
    s = {}
    s["auth-user"] = b"A\x00\x03\x06bobsecret"
    s["auth-apop"] = b"A\x03\x05\x20mrose" + APOP_DIGEST
    s["auth-bad-method"] = b"A\x04\x03\x06bobsecret"
    s["auth-bad-length"] = b"A\x01\x03\x07bobsecret"
    s["auth-too-long-user"] = b"A\x01\x81\x00" + b"u" * 129
    s["handover"] = b"HSTAT\r\nLIST\r\n"
    s["handover-empty"] = b"H"
    s["peer-v4"] = b"P192.0.2.1"
    s["peer-v6"] = b"P2001:db8::1"
    s["peer-empty"] = b"P"
    s["peer-nul"] = b"P192.0.2.1\x00junk"
    s["peer-name"] = b"Pmail.example.org"
    s["verdict"] = b"V\x00"
    s["passwd-line"] = (b"bob:$y$j9T$OTcR7TqFOspiJrH5bq4tX/$vTa2EzCWzAIHvN/Qx"
                        b"mcvVvGQxdz8XWw3JcATH9pzGw8:1000:1000:Bob,,,:"
                        b"/home/bob:/bin/bash")
    s["passwd-empty-home"] = b"alice:x:1001:1001:::/bin/sh"
    s["passwd-six-fields"] = b"bob:x:1000:1000:/home/bob:/bin/sh"
    s["passwd-eight-fields"] = b"bob:x:1000:1000::/home/bob:/bin/sh:x"
    s["passwd-max-uid"] = b"bob:x:4294967294:4294967295::/:"
    s["passwd-long-uid"] = b"bob:x:00000001000:1000::/:"
    s["passwd-signed-uid"] = b"bob:x:+1000:-1::/:"
    s["passwd-nul"] = b"bob\x00:x:1000:1000::/:"
    s["passwd-long-name"] = b"u" * 129 + b":x:1:1::/:"
    s["apop-line"] = b"mrose:tanstaaf"
    s["apop-no-name"] = b":tanstaaf"
    s["apop-no-secret"] = b"mrose:"
    s["apop-colons"] = b"mrose:tan:sta:af"
    s["apop-long-name"] = b"n" * 129 + b":s"
    # whole secrets files; the first is issue 12's defect 6: an absent
    # name hashed with the length of the last line's secret
    s["apop-file-absent-after-long-secret"] = (b"alice:secret1\nbob:" +
                                               b"x" * 200)
    s["apop-file-comments-blanks"] = (b"# secrets\n\nmrose:tanstaaf\n"
                                      b"#mrose:other\n\nbob:x:y\n")
    s["apop-file-first-wins"] = b"mrose:first\nmrose:second\n:x\nq:"
    return s


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def main():
    write("mbox", mbox_seeds())
    write("command", command_seeds())
    write("mailbox", mailbox_seeds())
    write("sasl", sasl_seeds())
    write("proxy", proxy_seeds())
    write("priv", priv_seeds())


if __name__ == "__main__":
    main()
