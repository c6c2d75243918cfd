#!/bin/sh
# SPDX-License-Identifier: ISC
# End to end with real clients: curl and Python's poplib talk to pop3d
# through a real superserver (systemd-socket-activate --inetd --accept, one
# process per connection, as in production) on 127.0.0.1 and a random free
# port. Runs as root (privilege separation, a test uid owning the mailbox)
# and as a normal user (everything as that user). POP3D=path overrides the
# binary under test (default ./pop3d); KEEP_TMP=1 keeps the temporary
# directory. Last line: "N passed, M failed".
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh disable=SC1091
. tests/lib.sh

PASSWORD='correct horse'          # PASS takes the rest of the line
PASSWORD_URL='correct%20horse'
CONCURRENT=20

clean_up_on_exit

# --- what the test needs
need curl python3 systemd-socket-activate
need_pop3d
prerequisites_met

make_tmp clients mail msg expect got

# --- the maildrop of alice: every edge a client sees, and the expected
# bytes of each RETR (stored message, LF -> CRLF, a CRLF added to a last
# line without one), and the file as it must be after DELE 1 + QUIT.
python3 - "$tmp" "$CONCURRENT" <<'EOF'
import os, sys

tmp, concurrent = sys.argv[1], int(sys.argv[2])


def head(n, subject, extra=b""):
    return (b"Return-Path: <sender%d@example.org>\n"
            b"Received: from mx.example.org (mx.example.org [192.0.2.25])\n"
            b"\tby mail.example.net (Postfix) with ESMTPS id 4Q%dX\n"
            b"\tfor <alice@example.net>; Mon, 24 Nov 2025 09:%02d:00 +0100\n"
            b"From: Sender %d <sender%d@example.org>\n"
            b"To: alice@example.net\n"
            b"Subject: " % (n, n, n, n, n) + subject + b"\n"
            b"Date: Mon, 24 Nov 2025 09:%02d:00 +0100\n"
            b"Message-ID: <%d@example.org>\n" % (n, n) + extra + b"\n")


big = b"".join(b"line %06d %s\n" % (i, b"x" * 60) for i in range(2900))
big = big.replace(b"line 001000", b". dot line")
msgs = [
    head(1, b"lunch?") + b"Shall we have lunch at noon?\n-- \nBob\n",
    head(2, b"dots and quoted From lines") +
    b"A line that is only a dot follows:\n.\n..\n.leading dot\n...\n"
    b">From the archives, quoted by the MDA\n>>From twice quoted\n"
    b"From: inside a body is no separator without the space\n",
    head(3, b"=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4g4piV?=",
         b"MIME-Version: 1.0\n"
         b"Content-Type: text/plain; charset=utf-8\n"
         b"Content-Transfer-Encoding: 8bit\n") +
    "Grüße aus Köln ☕ — 8-bit body\n".encode(),
    head(4, b"200 KB") + big,
    head(5, b"ends with an empty line") + b"the body ends with\n\n",
    head(6, b"no final newline") + b"the end, without a newline",
]
for i, m in enumerate(msgs, 1):
    with open(os.path.join(tmp, "msg", str(i)), "wb") as fh:
        fh.write(m)

# One small maildrop per user for the concurrent sessions: POP3 allows one
# session per maildrop, so concurrent sessions need different users.
for u in range(1, concurrent + 1):
    name = "u%02d" % u
    with open(os.path.join(tmp, "mail", name), "wb") as fh:
        fh.write(b"From x@example.org  Tue Nov 25 10:00:00 2025\n"
                 b"Subject: hello %s\n\nhi %s\n\n" % (name.encode(), name.encode()))
    with open(os.path.join(tmp, "expect", name), "wb") as fh:
        fh.write(b"Subject: hello %s\r\n\r\nhi %s\r\n" % (name.encode(), name.encode()))
EOF
alice_maildrop
count=$(wc -l <"$tmp/sizes")

# --- accounts: as root a test uid that owns the maildrops, and privilege
# separation (nobody, an empty root-owned directory); otherwise ourselves.
test_accounts "$PASSWORD"
{
	passwd_line alice Alice
	numbered_passwd_lines "$CONCURRENT"
} >"$tmp/passwd"
seal_maildrops

# --- the superserver
serve_pop3d "$tmp/launcher.log"
port=$activated_port
echo "# pop3d ($POP3D) via systemd-socket-activate on 127.0.0.1:$port," \
	"as uid $(id -u), mailbox uid $uid, $count messages"

url="pop3://alice:$PASSWORD_URL@127.0.0.1:$port"

# --- curl: LIST, RETR of every message, UIDL
if pop3curl "$url/" >"$tmp/got/list" 2>"$tmp/got/list.err" &&
	tr -d '\r' <"$tmp/got/list" | cmp -s - "$tmp/sizes"; then
	ok "curl LIST gives every message with its size"
else
	fail "curl LIST: $(cat "$tmp/got/list.err")"
	diff "$tmp/sizes" "$tmp/got/list" | head -n 10 || true
fi

i=1
while [ "$i" -le "$count" ]; do
	if pop3curl -o "$tmp/got/$i" "$url/$i" 2>"$tmp/got/$i.err" &&
		cmp "$tmp/expect/$i" "$tmp/got/$i"; then
		ok "curl RETR $i: the stored bytes, CRLF line endings"
	else
		fail "curl RETR $i: $(cat "$tmp/got/$i.err")"
	fi
	i=$((i + 1))
done

if pop3curl -X UIDL "$url/" >"$tmp/got/uidl" 2>"$tmp/got/uidl.err"; then
	tr -d '\r' <"$tmp/got/uidl" >"$tmp/uidl.curl"
	if [ "$(wc -l <"$tmp/uidl.curl")" -eq "$count" ] &&
		[ "$(cut -d' ' -f2 "$tmp/uidl.curl" | sort -u | wc -l)" -eq "$count" ] &&
		! grep -Evq '^[0-9]+ [!-~]{1,70}$' "$tmp/uidl.curl"; then
		ok "curl UIDL: $count unique ids of 1-70 printable characters"
	else
		fail "curl UIDL:"
		sed 's/^/  /' "$tmp/uidl.curl"
	fi
else
	fail "curl UIDL: $(cat "$tmp/got/uidl.err")"
fi

# --- Python poplib
cat >"$tmp/clients.py" <<'EOF'
import os, poplib, re, sys, time

mode, tmp, port, password = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sizes = [int(l.split()[1]) for l in open(os.path.join(tmp, "sizes"))]
n = len(sizes)
expect = [open(os.path.join(tmp, "expect", str(i)), "rb").read()
          for i in range(1, n + 1)]


def check(cond, what):
    print(("ok " if cond else "fail ") + what, flush=True)
    return cond


def login(user="alice", pw=password):
    p = poplib.POP3("127.0.0.1", port, timeout=15)
    p.user(user)
    p.pass_(pw)
    return p


def refused(user, pw):
    """The -ERR line a failed login gets."""
    p = poplib.POP3("127.0.0.1", port, timeout=15)
    try:
        p.user(user)
        p.pass_(pw)
    except poplib.error_proto as e:
        return e.args[0] if isinstance(e.args[0], bytes) else str(e).encode()
    finally:
        p.close()
    return b"(accepted)"


def uidls(p):
    ids = {}
    for line in p.uidl()[1]:
        num, uid = line.split(b" ")
        ids[int(num)] = uid
    return ids


if mode == "first":
    p = poplib.POP3("127.0.0.1", port, timeout=15)
    w = p.getwelcome()
    check(w.startswith(b"+OK") and b"<" not in w,
          "poplib: greeting +OK without an APOP timestamp: %r" % w)
    capa = p.capa()
    check(all(c in capa for c in ("USER", "UIDL", "TOP", "RESP-CODES")),
          "poplib: CAPA lists USER UIDL TOP RESP-CODES: %s" % sorted(capa))
    check(p.user("alice").startswith(b"+OK") and
          p.pass_(password).startswith(b"+OK"),
          "poplib: USER/PASS with a space in the password")
    check(p.stat() == (n, sum(sizes)), "poplib: STAT %r" % (p.stat(),))
    listed = [tuple(map(int, l.split())) for l in p.list()[1]]
    check(listed == list(enumerate(sizes, 1)), "poplib: LIST sizes")
    good = True
    for i in range(1, n + 1):
        resp, lines, _ = p.retr(i)
        octets = sum(len(l) + 2 for l in lines)
        if octets != sizes[i - 1] or b"\r\n".join(lines) + b"\r\n" != expect[i - 1]:
            good = check(False, "poplib: RETR %d gave %d octets, LIST said %d"
                         % (i, octets, sizes[i - 1]))
    check(good, "poplib: every RETR is as many octets as LIST said, same bytes")
    good = True
    for i in range(1, n + 1):
        lines = p.top(i, 0)[1]
        want = expect[i - 1].split(b"\r\n")
        want = want[:want.index(b"") + 1]
        if lines != want:
            good = check(False, "poplib: TOP %d 0: %r" % (i, lines[-3:]))
    check(good, "poplib: TOP n 0 is the header and the empty line")
    lines = p.top(4, 99999999)[1]
    check(b"\r\n".join(lines) + b"\r\n" == expect[3],
          "poplib: TOP 4 99999999 is the whole 200 KB message")
    ids = uidls(p)
    check(sorted(ids) == list(range(1, n + 1)) and len(set(ids.values())) == n
          and all(re.fullmatch(rb"[\x21-\x7e]{1,70}", u) for u in ids.values()),
          "poplib: UIDL unique and well-formed")
    curl_ids = dict((int(a), b.encode()) for a, b in
                    (l.split() for l in open(os.path.join(tmp, "uidl.curl"))))
    check(ids == curl_ids, "poplib: UIDL same as in curl's earlier session")
    with open(os.path.join(tmp, "uidl.first"), "wb") as fh:
        fh.write(b"".join(ids[i] + b"\n" for i in sorted(ids)))
    check(p.dele(1).startswith(b"+OK"), "poplib: DELE 1")
    try:
        p.dele(1)
        check(False, "poplib: second DELE 1 accepted")
    except poplib.error_proto:
        check(True, "poplib: second DELE 1 is -ERR")
    try:
        p.retr(1)
        check(False, "poplib: RETR of a deleted message accepted")
    except poplib.error_proto:
        check(True, "poplib: RETR of a deleted message is -ERR")
    check(p.stat() == (n - 1, sum(sizes) - sizes[0]),
          "poplib: STAT leaves out the deleted message")
    check(p.quit().startswith(b"+OK"), "poplib: QUIT")

elif mode == "second":
    p = login()
    check(p.stat() == (n - 1, sum(sizes) - sizes[0]),
          "poplib, next session: STAT %r: message 1 is gone" % (p.stat(),))
    old = open(os.path.join(tmp, "uidl.first"), "rb").read().split()
    ids = uidls(p)
    check([ids[i] for i in sorted(ids)] == old[1:],
          "poplib, next session: the other messages keep their UIDL")
    resp = refused("alice", password)
    check(b"[IN-USE]" in resp,
          "poplib: a second session on the same maildrop: %r" % resp)
    p.quit()
    t = time.monotonic()
    try:
        p = login()
        check(p.stat()[0] == n - 1 and time.monotonic() - t < 3,
              "poplib: the maildrop is free again right after QUIT")
        p.quit()
    except poplib.error_proto as e:
        check(False, "poplib: login right after QUIT: %r" % e)
    wrong = refused("alice", "wrong password")
    check(wrong.startswith(b"-ERR [AUTH]"),
          "poplib: wrong password: %r" % wrong)
    nouser = refused("nosuchuser", password)
    check(nouser == wrong, "poplib: unknown user, same reply: %r" % nouser)
EOF

run_python() {
	if ! python3 "$tmp/clients.py" "$1" "$tmp" "$port" "$PASSWORD" \
		>"$tmp/py.$1" 2>&1; then
		echo "fail poplib ($1): the script stopped" >>"$tmp/py.$1"
	fi
	count_results "$tmp/py.$1"
}

run_python first
if cmp "$tmp/after-dele-1" "$tmp/mail/alice"; then
	ok "DELE 1 + QUIT removed exactly message 1 from the mbox file"
else
	fail "the mbox file after DELE 1 + QUIT is not the old one less message 1"
fi
if [ -e "$tmp/mail/alice.lock" ]; then
	fail "alice.lock left behind after QUIT"
else
	ok "no dot-lock left behind after QUIT"
fi
run_python second

# --- concurrent sessions, one per user
if concurrent_sessions "$port" "$CONCURRENT"; then
	ok "$CONCURRENT concurrent curl sessions all got their message"
else
	fail "only $good of $CONCURRENT concurrent curl sessions succeeded"
fi

# --- every session ended cleanly (exit status 0); the last ones may still
# be exiting: wait up to 5 s until every spawned process is reaped
all_reaped "$tmp/launcher.log" || true
exited_0 "every pop3d process exited with status 0" \
	"a pop3d process ended badly:" "$tmp/launcher.log"

if any_failed; then
	echo "# launcher and pop3d log:"
	sed 's/^/  /' "$tmp/launcher.log" | tail -n 40
fi
summary
