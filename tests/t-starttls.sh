#!/bin/sh
# SPDX-License-Identifier: ISC
# STARTTLS on "port 110": stunnel with protocol = pop3 in front of pop3d on
# 127.0.0.1 and random free ports, configurations made from
# examples/stunnel/pop3d-starttls.conf by replacing only ports, paths, the
# account stunnel runs as, and (connect mode) the lines its comment says:
#   exec mode     stunnel starts one pop3d per connection (as shipped);
#   connect mode  stunnel connects to pop3d run by systemd-socket-activate.
# Real clients: curl --ssl-reqd pop3:// (LIST, RETR byte-exact), openssl
# s_client -starttls pop3 driven line by line (USER/PASS/STAT/QUIT), and
# Python's poplib with stls(). Also what a client that never sends STLS
# gets (stunnel drops it; no -ERR, pop3d never sees USER), stunnel's CAPA
# before STLS, pop3d's after it, the client address pop3d logs in each
# mode, and --no-plaintext behind stunnel (every login refused, with the
# text that points to TLS). POP3D=path overrides the binary under test;
# KEEP_TMP=1 keeps the temporary directory. Last line: "N passed, M failed".
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh disable=SC1091
. tests/lib.sh

PASSWORD='correct horse'
PASSWORD_URL='correct%20horse'
OTHER=127.0.0.9 # a client address that is not 127.0.0.1
REFUSAL='-ERR [SYS/PERM] plaintext login is disabled here; use TLS: port 995, or STARTTLS on port 110'

clean_up_on_exit

# --- what the test needs
need_stunnel
example=$PWD/examples/stunnel/pop3d-starttls.conf
[ -r "$example" ] || fail "prerequisite: $example is missing"
prerequisites_met

make_tmp starttls mail msg expect got tls run
self_signed_cert "$tmp/tls"

# --- alice's maildrop with edge cases (dot lines, UTF-8, no final
# newline, one big message); bob's small one for the address checks
python3 - "$tmp" <<'EOF'
import os, sys

tmp = sys.argv[1]
big = b"".join(b"line %06d %s\n" % (i, b"z" * 70) for i in range(1500))
msgs = [
    b"Subject: over STARTTLS\n\nPlain text.\n",
    b"Subject: dots\n\n.\n..\n.leading dot\n>From quoted\n",
    b"Subject: =?UTF-8?Q?K=C3=B6ln?=\n\n" + "Grüße ☕\n".encode(),
    b"Subject: 120 KB\n\n" + big,
    b"Subject: no final newline\n\nthe end, without a newline",
]
for i, m in enumerate(msgs, 1):
    with open(os.path.join(tmp, "msg", str(i)), "wb") as fh:
        fh.write(m)
with open(os.path.join(tmp, "mail", "bob"), "wb") as fh:
    fh.write(b"From x@example.org  Tue Nov 25 10:00:00 2025\n"
             b"Subject: for bob\n\nhi bob\n")
EOF
alice_maildrop
count=$(wc -l <"$tmp/sizes")
total=$(awk '{ s += $2 } END { print s }' "$tmp/sizes")

alice_and_bob "$PASSWORD"

# make_conf OUT SED-SCRIPT: the example through SED-SCRIPT; fails if the
# example does not have a line the test must change any more.
make_conf() {
	sed -e "$2" "$example" >"$1"
	for _line in '^accept = 110$' '^cert = ' '^key = ' '^pid =' \
		'^protocol = pop3$' '^exec = ' '^execArgs = pop3d$'; do
		if ! grep -q "$_line" "$example"; then
			fail "pop3d-starttls.conf: no line $_line"
			return 1
		fi
	done
}
common_sed="s|^accept = 110\$|accept = 127.0.0.1:@PORT@|
s|^cert = .*|cert = $tmp/tls/cert.pem|
s|^key = .*|key = $tmp/tls/key.pem|"

# --- the Python clients
{
	py_tls_context
	cat <<'EOF'
import os, poplib, socket, sys

cmd, port, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
label = os.environ.get("LABEL", "")


def check(cond, what):
    print(("ok " if cond else "fail ") + label + what, flush=True)
    return cond


def lines_until_closed(s):
    """Every line the server sends until it closes; None on a timeout."""
    data = b""
    while True:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            return data.split(b"\r\n") + [b"(reset)"]
        except socket.timeout:
            return None
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n")


def plain(first):
    """A plain TCP session: the greeting, then FIRST; every reply line."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    greeting = f.readline()
    s.sendall(first)
    rest = lines_until_closed(s)
    s.close()
    return greeting, rest


if cmd == "no-stls":
    # a client set to "no security" on port 110: USER right away
    greeting, rest = plain(b"USER alice\r\n")
    check(greeting.startswith(b"+OK ") and
          greeting.endswith(b" + stunnel\r\n"),
          "no STLS: pop3d's greeting passed on by stunnel: %r"
          % greeting.rstrip())
    check(rest == [b"", b"(reset)"],
          "no STLS: USER before STLS: no reply (no -ERR), the connection "
          "reset: %r" % rest)
elif cmd == "capa":
    greeting, rest = plain(b"CAPA\r\nQUIT\r\n")
    check(rest is not None and rest[:3] ==
          [b"+OK Stunnel capability list follows", b"STLS", b"."],
          "CAPA before STLS: stunnel's list, STLS alone: %r" % rest)
    check(rest is not None and rest[3:] == [b"", b"(reset)"],
          "CAPA before STLS, then QUIT: no reply, the connection reset: %r"
          % rest)
elif cmd == "poplib":
    p = poplib.POP3("127.0.0.1", port, timeout=15)
    # stls() sends CAPA first and needs STLS in stunnel's reply; stunnel
    # takes one CAPA before STLS, a second one would end the session
    check(p.stls(context()).startswith(b"+OK"), "poplib: CAPA, STLS")
    check(p.sock.version() in ("TLSv1.2", "TLSv1.3"),
          "poplib: TLS %s after STLS" % p.sock.version())
    capa = p.capa()
    check("USER" in capa and "STLS" not in capa and
          capa.get("SASL") == ["PLAIN", "LOGIN"],
          "poplib: CAPA after STLS is pop3d's: %r" % sorted(capa))
    check(p.user("alice").startswith(b"+OK") and
          p.pass_(password).startswith(b"+OK"), "poplib: USER/PASS")
    n, size = int(sys.argv[4]), int(sys.argv[5])
    check(p.stat() == (n, size), "poplib: STAT %r" % (p.stat(),))
    check(p.quit().startswith(b"+OK"), "poplib: QUIT")
elif cmd == "no-plaintext":
    p = poplib.POP3("127.0.0.1", port, timeout=15)
    p.stls(context())
    capa = p.capa()
    check("USER" not in capa and "SASL" not in capa,
          "CAPA after STLS offers no login: %r"
          % sorted(capa))
    try:
        r = p.user("alice")
    except poplib.error_proto as e:
        r = e.args[0]
    print("reply %s" % r.decode(), flush=True)
    p.quit()
EOF
} >"$tmp/clients.py"

# py LABEL ARGS...: runs clients.py, feeding its ok/fail lines to the
# counters
py() {
	py_checks "$tmp/clients.py" "$@"
}

# s_client LABEL PORT: openssl s_client -starttls pop3, fed one command at
# a time through a FIFO, each sent once the previous reply has arrived.
s_client() {
	_out=$tmp/got/s_client.out
	rm -f "$tmp/s_client.in"
	mkfifo "$tmp/s_client.in"
	timeout 30 openssl s_client -starttls pop3 -connect "127.0.0.1:$2" \
		-quiet -nocommands <"$tmp/s_client.in" >"$_out" \
		2>"$tmp/got/s_client.err" &
	_sc=$!
	exec 3>"$tmp/s_client.in"
	_replies=0
	for _cmd in 'USER alice' "PASS $PASSWORD" STAT QUIT; do
		printf '%s\r\n' "$_cmd" >&3
		_replies=$((_replies + 1))
		_n=0
		while [ "$(grep -c '^[+-]' "$_out" || true)" -lt "$_replies" ] &&
			[ "$_n" -lt 100 ]; do
			sleep 0.1
			_n=$((_n + 1))
		done
	done
	exec 3>&-
	wait "$_sc" || true
	tr -d '\r' <"$_out" >"$_out.lf"
	if sed -n 1p "$_out.lf" | grep -q '^+OK' &&
		sed -n 2p "$_out.lf" | grep -q '^+OK maildrop has ' &&
		[ "$(sed -n 3p "$_out.lf")" = "+OK $count $total" ] &&
		[ "$(sed -n 4p "$_out.lf")" = "+OK bye" ] &&
		[ "$(wc -l <"$_out.lf")" -eq 4 ]; then
		ok "$1: openssl s_client -starttls pop3: USER, PASS, STAT ($count $total), QUIT"
	else
		fail "$1: openssl s_client -starttls pop3 got:"
		sed 's/^/  /' "$_out.lf" "$tmp/got/s_client.err"
	fi
	if grep -q '^verify error\|^depth=' "$tmp/got/s_client.err"; then
		ok "$1: s_client did the TLS handshake (it saw the certificate)"
	else
		fail "$1: s_client shows no certificate:"
		sed 's/^/  /' "$tmp/got/s_client.err"
	fi
}

# The checks for one stunnel on PORT, its log STUNNEL-LOG, pop3d's POP3D-LOG.
starttls_checks() {
	_l=$1
	_port=$2
	_log=$3
	_plog=$4
	curl_list_retr "$_l: curl --ssl-reqd" \
		"pop3://alice:$PASSWORD_URL@127.0.0.1:$_port" --ssl-reqd --insecure
	s_client "$_l" "$_port"
	py "$_l: " poplib "$_port" "$PASSWORD" "$count" "$total"

	m=$(mark "$_log")
	pm=$(mark "$_plog")
	py "$_l: " no-stls "$_port" "$PASSWORD"
	if logged "$_log" "$m" "Client does not want TLS"; then
		ok "$_l: stunnel logs 'Client does not want TLS'"
	else
		fail "$_l: stunnel did not log 'Client does not want TLS'"
	fi
	sleep 1 # time for a line pop3d might write as it exits
	if tail -n "+$((pm + 1))" "$_plog" | grep -q 'pop3d\['; then
		fail "$_l: pop3d logged something for the client without STLS:"
		tail -n "+$((pm + 1))" "$_plog" | sed 's/^/  /'
	else
		ok "$_l: pop3d logged nothing for the client without STLS"
	fi
	py "$_l: " capa "$_port" "$PASSWORD"
}

# starttls_logged_from LABEL PORT LOG AS: bob's session through the stunnel
# on PORT from $OTHER is in LOG as ip=[AS].
starttls_logged_from() {
	logged_from "$1" "$3" "$OTHER" "$4" \
		"pop3://bob:$PASSWORD_URL@127.0.0.1:$2/1" --ssl-reqd --insecure
}

echo "# $STUNNEL, pop3d $POP3D, as uid $(id -u), mailbox uid $uid"

# ======================= exec mode (as shipped) =======================
exec_sed="$common_sed
s|^pid =.*|pid = $tmp/run/@NAME@.pid|
s|^exec = .*|exec = $POP3D|"
make_conf "$tmp/exec.conf.in" "$(echo "$exec_sed" | sed s/@NAME@/exec/)
s|^execArgs = pop3d\$|execArgs = pop3d $pop3d_args|" || true
if grep -q "^exec = $POP3D\$" "$tmp/exec.conf.in" &&
	start_stunnel exec "$tmp/exec.conf.in"; then
	ok "exec: stunnel runs pop3d-starttls.conf on 127.0.0.1:$stunnel_port"
	starttls_checks exec "$stunnel_port" "$tmp/exec.log" "$tmp/exec.log"
	# stunnel passes the client's address in REMOTE_HOST
	starttls_logged_from exec "$stunnel_port" "$tmp/exec.log" "$OTHER"
else
	fail "exec: no stunnel from pop3d-starttls.conf"
fi

# ======================= connect mode =======================
# pop3d behind systemd-socket-activate; stunnel as the example's comment
# says: exec and execArgs replaced with connect, setuid/setgid stunnel4
# (as root; nobody/nogroup without a stunnel4 account).
# shellcheck disable=SC2086 # pop3d_args: several words, no spaces in them
launch "$tmp/launcher.log" 127.0.0.1 "$POP3D" $pop3d_args || stop_early
lport=$activated_port
account=""
if [ "$(id -u)" -eq 0 ]; then
	if getent passwd stunnel4 >/dev/null 2>&1; then
		account="setuid = stunnel4\nsetgid = stunnel4"
		chown stunnel4 "$tmp/run" # the pid file comes after the drop
	else
		account="setuid = nobody\nsetgid = nogroup"
		chown nobody "$tmp/run"
	fi
fi
make_conf "$tmp/connect.conf.in" "$common_sed
s|^pid =.*|pid = $tmp/run/connect.pid\n$account|
/^execArgs = /d
s|^exec = .*|connect = 127.0.0.1:$lport|" || true
if grep -q "^connect = 127.0.0.1:$lport\$" "$tmp/connect.conf.in" &&
	! grep -q '^exec' "$tmp/connect.conf.in" &&
	start_stunnel connect "$tmp/connect.conf.in"; then
	ok "connect: stunnel runs pop3d-starttls.conf (connect = 127.0.0.1:$lport)"
	if [ -n "$account" ]; then
		user=$(ps -o user= -p "$(cat "$tmp/run/connect.pid")" | tr -d ' ')
		if [ "$user" != root ]; then
			ok "connect: stunnel runs as $user, not root"
		else
			fail "connect: stunnel still runs as root"
		fi
	fi
	starttls_checks connect "$stunnel_port" "$tmp/connect.log" \
		"$tmp/launcher.log"
	# one protocol per service: no PROXY header, so stunnel's address
	starttls_logged_from connect "$stunnel_port" "$tmp/launcher.log" \
		127.0.0.1
	all_reaped "$tmp/launcher.log" || true
	exited_0 "connect: every pop3d exited with status 0, the dropped ones too" \
		"connect: a pop3d ended badly:" "$tmp/launcher.log"
else
	fail "connect: no stunnel from pop3d-starttls.conf"
fi

# ============ --no-plaintext behind STARTTLS: a misconfiguration ============
# pop3d cannot see stunnel's TLS: it refuses every login, with the
# refusal that names both ways to use TLS.
make_conf "$tmp/nopt.conf.in" "$(echo "$exec_sed" | sed s/@NAME@/nopt/)
s|^execArgs = pop3d\$|execArgs = pop3d --no-plaintext $pop3d_args|" || true
if start_stunnel nopt "$tmp/nopt.conf.in"; then
	py "--no-plaintext behind STARTTLS: " no-plaintext "$stunnel_port" \
		"$PASSWORD"
	if grep -Fqx "reply $REFUSAL" "$tmp/py.out"; then
		ok "--no-plaintext behind STARTTLS: USER refused: $REFUSAL"
	else
		fail "--no-plaintext behind STARTTLS: USER got:"
		sed 's/^/  /' "$tmp/py.out"
	fi
fi

if any_failed; then
	for f in exec connect nopt; do
		[ -f "$tmp/$f.log" ] || continue
		echo "# stunnel ($f) log, last lines:"
		grep -v 'LOG5\[ui\]' "$tmp/$f.log" | tail -n 15 | sed 's/^/  /'
	done
	echo "# launcher log, last lines:"
	tail -n 15 "$tmp/launcher.log" | sed 's/^/  /'
fi
summary
