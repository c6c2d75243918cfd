#!/bin/sh
# SPDX-License-Identifier: ISC
# End to end over TLS: stunnel in front of pop3d on 127.0.0.1 and random
# free ports, with configurations made from examples/stunnel/*.conf by
# replacing only ports, paths and the account stunnel runs as:
#   exec mode     stunnel starts one pop3d per connection (pop3d-exec.conf);
#   connect mode  stunnel sends a PROXY v1 header to pop3d run by
#                 systemd-socket-activate with --proxy-from=127.0.0.1
#                 (pop3d-proxy.conf).
# Clients: curl (pop3s://) and Python's poplib.POP3_SSL, both without
# certificate checks (the certificate is a throwaway self-signed one). Also
# checks the TLS versions and suites the examples allow, the client address
# pop3d logs (with a client bound to 127.0.0.9), and PROXY headers sent by
# hand from a trusted and from an untrusted address. Runs as root (privilege
# separation, a test uid owning the mailboxes, stunnel dropping to stunnel4
# in connect mode) and as a normal user (everything as that user).
# POP3D=path overrides the binary under test (default ./pop3d); KEEP_TMP=1
# keeps the temporary directory. Last line: "N passed, M failed".
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh disable=SC1091
. tests/lib.sh

PASSWORD='correct horse'
PASSWORD_URL='correct%20horse'
OTHER=127.0.0.9 # a client address that is not 127.0.0.1

clean_up_on_exit

# --- what the test needs
need_stunnel
for f in examples/stunnel/pop3d-exec.conf examples/stunnel/pop3d-proxy.conf; do
	[ -r "$f" ] || fail "prerequisite: $f is missing"
done
prerequisites_met
examples=$PWD/examples/stunnel

make_tmp stunnel mail msg expect got tls run
self_signed_cert "$tmp/tls"

# --- maildrops: alice's with edge cases (the expected bytes of each RETR:
# LF -> CRLF, a CRLF added to a last line without one); bob's small one for
# the sessions whose logged address is checked
python3 - "$tmp" <<'EOF'
import os, sys

tmp = sys.argv[1]


def head(n, subject, extra=b""):
    return (b"From: Sender %d <sender%d@example.org>\n"
            b"To: alice@example.net\n"
            b"Subject: " % (n, n) + subject + b"\n"
            b"Message-ID: <%d@example.org>\n" % n + extra + b"\n")


big = b"".join(b"line %06d %s\n" % (i, b"y" * 70) for i in range(1500))
msgs = [
    head(1, b"hello over TLS") + b"Plain text.\n-- \nBob\n",
    head(2, b"dots") + b".\n..\n.leading dot\n>From quoted\n",
    head(3, b"=?UTF-8?Q?K=C3=B6ln?=",
         b"Content-Type: text/plain; charset=utf-8\n") +
    "Grüße aus Köln ☕\n".encode(),
    head(4, b"120 KB") + big,
    head(5, b"no final newline") + b"the end, without a newline",
]
for i, m in enumerate(msgs, 1):
    with open(os.path.join(tmp, "msg", str(i)), "wb") as fh:
        fh.write(m)
with open(os.path.join(tmp, "mail", "bob"), "wb") as fh:
    fh.write(b"From x@example.org  Tue Nov 25 10:00:00 2025\n"
             b"Subject: for bob\n\nhi bob\n")
EOF
alice_maildrop
cp "$tmp/mail/alice" "$tmp/alice.orig"

# --- accounts: as root a test uid owning the maildrops and privilege
# separation (nobody, an empty root-owned directory); else ourselves
alice_and_bob "$PASSWORD"

# --- configurations from the examples: only ports, paths, the account.
# make_conf EXAMPLE OUT SED-SCRIPT: fails if a line the script must change
# is not in the example any more.
make_conf() {
	sed -e "$3" "$1" >"$2"
	if cmp -s "$1" "$2"; then
		fail "$(basename "$1"): nothing replaced"
		return 1
	fi
}
common_sed="s|^accept = 995\$|accept = 127.0.0.1:@PORT@|
s|^cert = .*|cert = $tmp/tls/cert.pem|
s|^key = .*|key = $tmp/tls/key.pem|"

# The LOGIN lines after MARK, for failure messages.
logins() {
	tail -n "+$(($2 + 1))" "$1" | grep 'LOGIN' | sed 's/^/  /' || true
}

# pop3s_curl ARG...: pop3curl without certificate checks
pop3s_curl() {
	pop3curl --insecure "$@"
}

# --- the Python clients
{
	py_tls_context
	cat <<'EOF'
import os, poplib, socket, sys, time

cmd, tmp, port, password = sys.argv[1:5]
port = int(port)
label = os.environ.get("LABEL", "")
sizes = [int(l.split()[1]) for l in open(os.path.join(tmp, "sizes"))]
n = len(sizes)
expect = [open(os.path.join(tmp, "expect", str(i)), "rb").read()
          for i in range(1, n + 1)]


def check(cond, what):
    print(("ok " if cond else "fail ") + label + what, flush=True)
    return cond


def pop3s(user="alice", ctx=None):
    p = poplib.POP3_SSL("127.0.0.1", port, context=ctx or context(),
                        timeout=15)
    p.user(user)
    p.pass_(password)
    return p


def handshake_error(ctx):
    """None if the handshake works, else the error's reason."""
    try:
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                     timeout=10))
        s.close()
        return None
    except ssl.SSLError as e:
        return e.reason or str(e)


if cmd == "suite":
    p = poplib.POP3_SSL("127.0.0.1", port, context=context(), timeout=15)
    check(p.sock.version() == "TLSv1.3",
          "poplib: TLS version %s with a default client" % p.sock.version())
    check(p.getwelcome().startswith(b"+OK"),
          "poplib: greeting over TLS %r" % p.getwelcome())
    check(p.user("alice").startswith(b"+OK") and
          p.pass_(password).startswith(b"+OK"), "poplib: USER/PASS")
    check(p.stat() == (n, sum(sizes)), "poplib: STAT %r" % (p.stat(),))
    listed = [tuple(map(int, l.split())) for l in p.list()[1]]
    check(listed == list(enumerate(sizes, 1)), "poplib: LIST sizes")
    good = True
    for i in range(1, n + 1):
        lines = p.retr(i)[1]
        if b"\r\n".join(lines) + b"\r\n" != expect[i - 1]:
            good = check(False, "poplib: RETR %d differs" % i)
    check(good, "poplib: RETR of all %d messages, the stored bytes" % n)
    ids = [l.split()[1] for l in p.uidl()[1]]
    check(len(ids) == n and len(set(ids)) == n, "poplib: UIDL unique")
    check(p.dele(1).startswith(b"+OK"), "poplib: DELE 1")
    check(p.stat() == (n - 1, sum(sizes) - sizes[0]),
          "poplib: STAT without the deleted message")
    check(p.quit().startswith(b"+OK"), "poplib: QUIT")

elif cmd == "tls":
    r = handshake_error(context(ssl.TLSVersion.TLSv1_1,
                                "DEFAULT:@SECLEVEL=0"))
    check(r == "TLSV1_ALERT_PROTOCOL_VERSION",
          "TLS 1.1 refused by the server: %s" % r)
    r = handshake_error(context(ssl.TLSVersion.TLSv1_2,
                                "AES128-SHA:AES256-SHA:AES128-GCM-SHA256"))
    check(r is not None,
          "TLS 1.2 without forward secrecy or AEAD refused: %s" % r)
    p = pop3s(ctx=context(ssl.TLSVersion.TLSv1_2))
    c = p.sock.cipher()
    check(p.sock.version() == "TLSv1.2" and c[0].startswith("ECDHE-")
          and ("GCM" in c[0] or "CHACHA20" in c[0]),
          "TLS 1.2 works, with an ECDHE AEAD suite: %s" % (c,))
    p.quit()

elif cmd == "inuse":
    first = pop3s()
    try:
        pop3s()
        check(False, "poplib: a second session on the same maildrop got in")
    except poplib.error_proto as e:
        check(b"[IN-USE]" in e.args[0],
              "poplib: a second session on the same maildrop: %r" % e.args[0])
    first.quit()
    p = pop3s()
    check(p.stat()[0] >= 0, "poplib: the maildrop is free again after QUIT")
    p.quit()

elif cmd == "raw":
    # raw SOURCE-ADDRESS HEX-PREFIX USER: a plain TCP session from SOURCE
    # that sends the bytes of HEX-PREFIX first; prints every reply line.
    src, prefix, user = sys.argv[5], bytes.fromhex(sys.argv[6]), sys.argv[7]
    s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                 source_address=(src, 0))
    s.sendall(prefix + b"USER %s\r\nPASS %s\r\nSTAT\r\nQUIT\r\n"
              % (user.encode(), password.encode()))
    data = b""
    while True:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    for line in data.split(b"\r\n")[:-1]:
        print(line.decode("utf-8", "replace"))
    if data.endswith(b"+OK bye\r\n"):
        print("(closed after QUIT)")
    elif data == b"":
        print("(closed without a byte)")
EOF
} >"$tmp/tls.py"

# py LABEL ARGS...: runs tls.py, feeding its ok/fail lines to the counters
py() {
	py_checks "$tmp/tls.py" "$@"
}

# The curl checks for one stunnel: LIST, every RETR; then poplib's suite
# with DELE 1 + QUIT, and the file afterwards; then one session per maildrop.
clients() {
	_l=$1
	_port=$2
	url="pop3s://alice:$PASSWORD_URL@127.0.0.1:$_port"
	cat "$tmp/alice.orig" >"$tmp/mail/alice" # same inode, owner, mode
	curl_list_retr "$_l: curl over TLS" "$url" --insecure
	py "$_l: " suite "$tmp" "$_port" "$PASSWORD"
	if cmp -s "$tmp/after-dele-1" "$tmp/mail/alice"; then
		ok "$_l: DELE 1 + QUIT removed exactly message 1 from the mbox file"
	else
		fail "$_l: the mbox file after DELE 1 + QUIT is not the old one less message 1"
	fi
	py "$_l: " inuse "$tmp" "$_port" "$PASSWORD"
}

# The client's address in pop3d's LOGIN line: from 127.0.0.1 and from
# $OTHER (curl --interface), user bob.
addresses() {
	_l=$1
	_port=$2
	_log=$3
	for src in 127.0.0.1 "$OTHER"; do
		logged_from "$_l" "$_log" "$src" "$src" \
			"pop3s://bob:$PASSWORD_URL@127.0.0.1:$_port/1" --insecure
	done
}

echo "# $STUNNEL, pop3d $POP3D, as uid $(id -u), mailbox uid $uid"

# ======================= exec mode =======================
make_conf "$examples/pop3d-exec.conf" "$tmp/exec.conf.in" \
	"$common_sed
s|^pid =.*|pid = $tmp/run/exec.pid|
s|^exec = .*|exec = $POP3D|
s|^execArgs = pop3d\(.*\)|execArgs = pop3d\1 $pop3d_args|" || true
if grep -q "^exec = $POP3D\$" "$tmp/exec.conf.in" &&
	grep -q "^execArgs = pop3d.* -d -p " "$tmp/exec.conf.in" &&
	grep -q '^foreground = yes$' "$tmp/exec.conf.in" &&
	start_stunnel exec "$tmp/exec.conf.in"; then
	ok "exec: stunnel runs pop3d-exec.conf on 127.0.0.1:$stunnel_port"
	exec_port=$stunnel_port
	clients exec "$exec_port"
	py "exec: " tls "$tmp" "$exec_port" "$PASSWORD"
	# stunnel sets REMOTE_HOST for the program it starts
	addresses exec "$exec_port" "$tmp/exec.log"
else
	fail "exec: no stunnel from pop3d-exec.conf"
fi

# ======================= connect mode + PROXY =======================
# pop3d behind systemd-socket-activate, trusting PROXY headers from 127.0.0.1
# shellcheck disable=SC2086 # pop3d_args: several words, no spaces in them
launch "$tmp/launcher.log" 127.0.0.1 "$POP3D" \
	--proxy-from=127.0.0.1 $pop3d_args || stop_early
lport=$activated_port
ok "connect: pop3d --proxy-from=127.0.0.1 listens on 127.0.0.1:$lport"
chown_sed=""
if [ "$(id -u)" -ne 0 ]; then
	# unprivileged: stunnel cannot change its user
	chown_sed='/^setuid = /d
/^setgid = /d'
elif ! getent passwd stunnel4 >/dev/null 2>&1; then
	chown_sed='s/^setuid = .*/setuid = nobody/
s/^setgid = .*/setgid = nogroup/'
else
	# stunnel writes its pid file after dropping to stunnel4
	chown stunnel4 "$tmp/run"
fi
make_conf "$examples/pop3d-proxy.conf" "$tmp/proxy.conf.in" \
	"$common_sed
s|^pid =.*|pid = $tmp/run/proxy.pid|
s|^connect = 127.0.0.1:110\$|connect = 127.0.0.1:$lport|
$chown_sed" || true
if grep -q "^connect = 127.0.0.1:$lport\$" "$tmp/proxy.conf.in" &&
	grep -q '^protocol = proxy$' "$tmp/proxy.conf.in" &&
	start_stunnel proxy "$tmp/proxy.conf.in"; then
	ok "connect: stunnel runs pop3d-proxy.conf on 127.0.0.1:$stunnel_port"
	proxy_port=$stunnel_port
	if [ "$(id -u)" -eq 0 ]; then
		pid=$(cat "$tmp/run/proxy.pid")
		user=$(ps -o user= -p "$pid" | tr -d ' ')
		if [ "$user" != root ]; then
			ok "connect: stunnel runs as $user, not root"
		else
			fail "connect: stunnel still runs as root"
		fi
	fi
	clients connect "$proxy_port"
	py "connect: " tls "$tmp" "$proxy_port" "$PASSWORD"
	addresses connect "$proxy_port" "$tmp/launcher.log"
	m=$(mark "$tmp/launcher.log")
	if pop3s_curl --interface "$OTHER" \
		"pop3s://bob:$PASSWORD_URL@127.0.0.1:$proxy_port/1" >/dev/null 2>&1 &&
		logged "$tmp/launcher.log" "$m" \
			"PROXY header from 127.0.0.1: client $OTHER"; then
		ok "connect: pop3d took $OTHER from stunnel's PROXY header"
	else
		fail "connect: no 'PROXY header from 127.0.0.1: client $OTHER' line"
	fi
	# "accept = :::995" (IPv6 too) makes one dual-stack socket: stunnel then
	# sees IPv4 clients as ::ffff:a.b.c.d and says "PROXY TCP6 ::ffff:...".
	# pop3d logs IPv4-mapped socket peers as IPv4 (as fail2ban bans them)
	# and must do the same with an address from a header.
	if have_mapped_ipv6; then
		sed -e 's|^accept = .*|accept = ::ffff:127.0.0.1:@PORT@|' \
			-e "s|^pid = .*|pid = $tmp/run/proxy6.pid|" \
			"$tmp/proxy.conf.in" >"$tmp/proxy6.conf.in"
		if start_stunnel proxy6 "$tmp/proxy6.conf.in"; then
			m=$(mark "$tmp/launcher.log")
			if pop3s_curl --interface "$OTHER" \
				"pop3s://bob:$PASSWORD_URL@127.0.0.1:$stunnel_port/1" \
				>/dev/null 2>"$tmp/got/addr.err" &&
				logged "$tmp/launcher.log" "$m" "LOGIN, user=bob, method=PLAIN, ip=[$OTHER]"; then
				ok "connect, dual-stack accept: a client at $OTHER is logged as ip=[$OTHER]"
			else
				fail "connect, dual-stack accept: a client at $OTHER is not logged as ip=[$OTHER]:"
				cat "$tmp/got/addr.err"
				tail -n "+$((m + 1))" "$tmp/launcher.log" |
					grep -E 'PROXY|LOGIN' | sed 's/^/  /'
			fi
		fi
	else
		echo "# no IPv6 here: the dual-stack accept check is left out"
	fi
else
	fail "connect: no stunnel from pop3d-proxy.conf"
fi

# --- PROXY headers by hand, straight to pop3d (no TLS)
hex() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}
v1=$(hex "PROXY TCP4 192.0.2.44 127.0.0.1 40000 110
" | sed 's/0a$/0d0a/')

# raw LABEL SOURCE HEX USER: prints the server's lines to $tmp/raw.out
raw() {
	if ! python3 -W ignore::DeprecationWarning "$tmp/tls.py" raw "$tmp" "$lport" "$PASSWORD" "$2" "$3" \
		"$4" >"$tmp/raw.out" 2>&1; then
		echo "(the client failed)" >>"$tmp/raw.out"
	fi
}

# trusted VERSION HEX ADDRESS: a header from 127.0.0.1 is taken: the
# session logs in, logged with ADDRESS from the header.
trusted() {
	m=$(mark "$tmp/launcher.log")
	raw "$1" 127.0.0.1 "$2" bob
	if grep -q '^+OK 1 ' "$tmp/raw.out" &&
		logged "$tmp/launcher.log" "$m" "LOGIN, user=bob, ip=[$3]"; then
		ok "PROXY $1 from 127.0.0.1 (trusted): logged as ip=[$3]"
	else
		fail "PROXY $1 from 127.0.0.1: not logged as $3:"
		sed 's/^/  /' "$tmp/raw.out"
		logins "$tmp/launcher.log" "$m"
	fi
}
trusted v1 "$v1" 192.0.2.44
trusted v2 0d0a0d0a000d0a515549540a2111000cc000022dc0a8000113880050 192.0.2.45

m=$(mark "$tmp/launcher.log")
raw untrusted "$OTHER" "$v1" bob
if [ "$(sed -n 2p "$tmp/raw.out")" = "-ERR unknown command" ] &&
	grep -q '^+OK 1 ' "$tmp/raw.out" &&
	logged "$tmp/launcher.log" "$m" "LOGIN, user=bob, ip=[$OTHER]" &&
	! tail -n "+$((m + 1))" "$tmp/launcher.log" | grep -q 'PROXY header'; then
	ok "PROXY v1 from $OTHER (not trusted): an unknown command, logged as ip=[$OTHER]"
else
	fail "PROXY v1 from $OTHER (not trusted) got special treatment:"
	sed 's/^/  /' "$tmp/raw.out"
	tail -n "+$((m + 1))" "$tmp/launcher.log" | grep pop3d | sed 's/^/  /'
fi

raw missing 127.0.0.1 "" bob
if [ "$(cat "$tmp/raw.out")" = "(closed without a byte)" ]; then
	ok "no PROXY header from 127.0.0.1 (trusted): closed without a greeting"
else
	fail "no PROXY header from 127.0.0.1 (trusted):"
	sed 's/^/  /' "$tmp/raw.out"
fi

# pop3d.socket listens with BindIPv6Only=both: IPv4 peers are ::ffff:a.b.c.d
# there, and --proxy-from=127.0.0.1 must still match stunnel's connections.
if have_mapped_ipv6; then
	# shellcheck disable=SC2086 # as above
	if launch "$tmp/launcher6.log" '[::ffff:127.0.0.1]' "$POP3D" \
		--proxy-from=127.0.0.1 $pop3d_args; then
		m=$(mark "$tmp/launcher6.log")
		if python3 -W ignore::DeprecationWarning "$tmp/tls.py" raw "$tmp" "$activated_port" "$PASSWORD" \
			127.0.0.1 "$v1" bob >"$tmp/raw.out" 2>&1 &&
			logged "$tmp/launcher6.log" "$m" "LOGIN, user=bob, ip=[192.0.2.44]"; then
			ok "dual-stack socket: --proxy-from=127.0.0.1 matches ::ffff:127.0.0.1"
		else
			fail "dual-stack socket: the PROXY header from ::ffff:127.0.0.1 was not used:"
			sed 's/^/  /' "$tmp/raw.out"
			logins "$tmp/launcher6.log" "$m"
		fi
	fi
else
	echo "# no IPv6 here: the dual-stack socket check is left out"
fi

# --- every pop3d under the launcher exited with status 0
all_reaped "$tmp/launcher.log" || true
exited_0 "every pop3d behind the PROXY listener exited with status 0" \
	"a pop3d process ended badly:" "$tmp/launcher.log"

if any_failed; then
	for f in exec proxy; do
		[ -f "$tmp/$f.log" ] || continue
		echo "# stunnel ($f) log, last lines:"
		grep -v 'LOG5\[ui\]' "$tmp/$f.log" | tail -n 15 | sed 's/^/  /'
	done
	echo "# launcher log, last lines:"
	tail -n 15 "$tmp/launcher.log" | sed 's/^/  /'
fi
summary
