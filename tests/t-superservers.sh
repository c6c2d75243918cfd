#!/bin/sh
# SPDX-License-Identifier: ISC
# pop3d under the superservers it is deployed with, on 127.0.0.1 and free
# ports, with real curl sessions:
#  1. systemd-socket-activate --inetd --accept (what pop3d.socket does):
#     30 concurrent sessions and 50 sequential ones;
#  2. xinetd in the foreground with examples/xinetd.d/pop3d, changed only
#     in port, listening address, paths and user: its per_source limit,
#     concurrent and sequential sessions, the address pop3d logs (xinetd
#     sets REMOTE_HOST; with flags = IPv6 the peer is ::ffff:127.0.0.1)
#     and every exit status;
#  3. the line of examples/inetd.conf: its fields as inetd.conf(5) reads
#     them, then its command run as inetd runs it (the connection on fd 0,
#     1 and 2, argv from the line) by a small emulator: openbsd-inetd
#     cannot be installed beside xinetd (both are inet-superservers).
# Every LOGIN line must carry ip=[127.0.0.1]. pop3d gets -d (log lines on
# stderr: there is no syslog daemon on the test machines) through a
# wrapper that sends its stderr to a file, never to the client.
# Runs as root (privilege separation, a test uid owning the mailboxes) and
# as a normal user (xinetd then runs the service as that user). POP3D=path
# overrides the binary (default ./pop3d); KEEP_TMP=1 keeps the temporary
# directory. Last line: "N passed, M failed".
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh disable=SC1091
. tests/lib.sh

PATH=$PATH:/usr/sbin:/sbin      # xinetd, for a normal user's PATH too
export PATH
XINETD_EXAMPLE=examples/xinetd.d/pop3d
INETD_EXAMPLE=examples/inetd.conf
PASSWORD='correct horse'
PASSWORD_URL='correct%20horse'
CONCURRENT=30
SEQUENTIAL=50
PER_SOURCE=10           # what the xinetd example allows from one address

clean_up_on_exit

# wait_grep FILE ERE PID: up to 5 s until a line of FILE matches; fails
# at once if process PID is gone.
wait_grep() {
	_n=0
	while [ "$_n" -lt 50 ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# --- what the test needs
if ! scripts/deps xinetd curl python3 systemd whois; then
	fail "prerequisite: Debian packages missing (xinetd curl python3 systemd whois)"
fi
need curl python3 systemd-socket-activate xinetd
need_pop3d
prerequisites_met

make_tmp superservers mail expect got

# --- accounts and maildrops: alice for sequential sessions, u01..u30 for
# concurrent ones (one session per maildrop). As root a test uid owns them
# and pop3d separates privileges (nobody, an empty root-owned directory).
test_accounts "$PASSWORD"
msg() {
	printf 'From x@example.org  Tue Nov 25 10:00:00 2025\nSubject: for %s\n\nhello %s\n' \
		"$1" "$1" >"$tmp/mail/$1"
	printf 'Subject: for %s\r\n\r\nhello %s\r\n' "$1" "$1" >"$tmp/expect/$1"
}
msg alice
i=1
while [ "$i" -le "$CONCURRENT" ]; do
	msg "$(printf 'u%02d' "$i")"
	i=$((i + 1))
done
{
	passwd_line alice
	numbered_passwd_lines "$CONCURRENT"
} >"$tmp/passwd"
seal_maildrops
ARGS="-p $tmp/passwd -m $tmp/mail/%u $privsep"

# wrapper NAME: a server program that runs pop3d -d with its stderr in
# $tmp/NAME.log (never the client's socket), noting REMOTE_HOST.
wrapper() {
	cat >"$tmp/$1" <<EOF
#!/bin/sh
echo "\${REMOTE_HOST-unset}" >>"$tmp/$1.env"
exec "$POP3D" -d "\$@" 2>>"$tmp/$1.log"
EOF
	chmod 0755 "$tmp/$1"
	: >"$tmp/$1.log"
	: >"$tmp/$1.env"
}

# concurrent PORT N LABEL: N curl sessions at once (u01..uN), each RETR 1.
concurrent() {
	if concurrent_sessions "$1" "$2"; then
		ok "$3: $2 concurrent curl sessions all got their message"
	else
		fail "$3: only $good of $2 concurrent curl sessions succeeded"
	fi
}

# sequential PORT N LABEL: N curl sessions one after another (alice).
sequential() {
	_good=0
	_i=1
	while [ "$_i" -le "$2" ]; do
		rm -f "$tmp/got/alice"
		if pop3curl -o "$tmp/got/alice" \
			"pop3://alice:$PASSWORD_URL@127.0.0.1:$1/1" \
			2>"$tmp/got/alice.err" &&
			cmp -s "$tmp/expect/alice" "$tmp/got/alice"; then
			_good=$((_good + 1))
		else
			echo "  session $_i: $(cat "$tmp/got/alice.err")"
		fi
		_i=$((_i + 1))
	done
	if [ "$_good" -eq "$2" ]; then
		ok "$3: $2 sequential curl sessions all got the message"
	else
		fail "$3: only $_good of $2 sequential curl sessions succeeded"
	fi
}

# logins LOG N LABEL: N LOGIN lines, each with ip=[127.0.0.1], no failure.
logins() {
	_all=$(grep -c ': LOGIN, ' "$1" || true)
	_local=$(grep -Ec ': LOGIN, user=[a-z0-9]+(, method=[A-Z]+)?, ip=\[127\.0\.0\.1\]$' "$1" || true)
	if [ "$_all" -eq "$2" ] && [ "$_local" -eq "$2" ] &&
		! grep -q 'LOGIN FAILED' "$1"; then
		ok "$3: $2 LOGIN lines, every one with ip=[127.0.0.1]"
	else
		fail "$3: $_all LOGIN lines, $_local with ip=[127.0.0.1], $2 expected"
		grep 'LOGIN' "$1" | grep -v 'ip=\[127\.0\.0\.1\]' | head -n 5 |
			sed 's/^/  /'
	fi
}

echo "# pop3d ($POP3D) as uid $(id -u), mailbox uid $uid;" \
	"$(xinetd -version 2>&1 | head -n 1)"

# --- 1. systemd-socket-activate --inetd --accept
wrapper ssa
# shellcheck disable=SC2086 # ARGS: several words, no spaces in them
if launch "$tmp/ssa.launcher" 127.0.0.1 "$tmp/ssa" $ARGS; then
	port=$activated_port
	launcher=$activated_pid
	concurrent "$port" "$CONCURRENT" "systemd-socket-activate"
	sequential "$port" "$SEQUENTIAL" "systemd-socket-activate"
	if all_reaped "$tmp/ssa.launcher" 10; then
		ok "systemd-socket-activate: every pop3d has ended"
	else
		fail "systemd-socket-activate: pop3d processes still running"
	fi
	exited_0 "systemd-socket-activate: every pop3d exited with status 0" \
		"systemd-socket-activate: a pop3d ended badly:" "$tmp/ssa.launcher"
	logins "$tmp/ssa.log" $((CONCURRENT + SEQUENTIAL)) "systemd-socket-activate"
	stop_started "$launcher"
fi

# --- 2. xinetd with the example service, adapted by sed: port, the
# listening address (the example's commented bind line, as IPv4-mapped
# since flags = IPv6), server and server_args, log_type, and the user
# (xinetd requires the line; unprivileged it can only run the service as
# its own user: setuid to another fails in the child)
wrapper xinetd-pop3d
me=$(id -un)
# start_xinetd: xinetd with the adapted example on a free port; sets port
# and xinetd (its pid).
start_xinetd() {
	port=$(free_port)
	{
		printf 'defaults\n{\n}\n'
		sed -e "s|^\([[:space:]]*port[[:space:]]*=\).*|\1 $port|" \
			-e "s|^[[:space:]]*#[[:space:]]*bind[[:space:]]*=.*|	bind = ::ffff:127.0.0.1|" \
			-e "s|^\([[:space:]]*server[[:space:]]*=\).*|\1 $tmp/xinetd-pop3d|" \
			-e "s|^[[:space:]]*#[[:space:]]*server_args[[:space:]]*=.*|	server_args = $ARGS|" \
			-e "s|^\([[:space:]]*log_type[[:space:]]*=\).*|\1 FILE $tmp/xinetd.log|" \
			-e "s|^\([[:space:]]*user[[:space:]]*=\).*|\1 $me|" \
			"$XINETD_EXAMPLE"
	} >"$tmp/xinetd.conf"
	: >"$tmp/xinetd.log"
	: >"$tmp/xinetd.self"
	xinetd -dontfork -f "$tmp/xinetd.conf" -pidfile "$tmp/xinetd.pid" \
		-filelog "$tmp/xinetd.self" >"$tmp/xinetd.out" 2>&1 &
	xinetd=$!
	if wait_grep "$tmp/xinetd.self" 'Started working: 1 available service' "$xinetd"; then
		started="$started $xinetd"
		return 0
	fi
	stop_process "$xinetd"
	return 1
}
if ! three_tries start_xinetd; then
	fail "xinetd did not start with the example service:"
	cat "$tmp/xinetd.self" "$tmp/xinetd.out" | sed 's/^/  /'
else
	# The sed changed only what it should.
	if diff "$XINETD_EXAMPLE" "$tmp/xinetd.conf" |
		grep '^[<>]' | grep -Ev '^< [[:space:]]*(port|#bind|server|#server_args|log_type|user)[[:space:]]*=|^> [[:space:]]*(port|bind|server|server_args|log_type|user)[[:space:]]*=|^> (defaults|\{|\})$' >"$tmp/xinetd.diff"; then
		fail "xinetd: the example changed beyond port/address/paths/user:"
		sed 's/^/  /' "$tmp/xinetd.diff"
	else
		ok "xinetd: the example runs changed only in port, address, paths and user ($me)"
	fi
	case $(ss -Hltn "sport = :$port" 2>/dev/null | awk '{ print $4 }') in
	"[::ffff:127.0.0.1]:$port") ok "xinetd: listens on ::ffff:127.0.0.1 only" ;;
	"") ok "xinetd: (ss cannot say where it listens)" ;;
	*) fail "xinetd: listens on $(ss -Hltn "sport = :$port" | awk '{ print $4 }')" ;;
	esac

	# per_source: that many sessions from one address, one more is closed.
	python3 - "$port" "$PER_SOURCE" >"$tmp/per_source.out" 2>&1 <<'EOF' ||
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
held = []
try:
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        g = s.makefile("rb").readline()
        held.append(s)
        if not g.startswith(b"+OK"):
            print("fail xinetd: session %d of %d got %r" % (i + 1, n, g))
            sys.exit(0)
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        extra = s.makefile("rb").readline()
    except OSError:
        extra = b""
    print(("ok " if extra == b"" else "fail ") +
          "xinetd: per_source: %d sessions from one address, the next one "
          "is closed at once (%r)" % (n, extra))
finally:
    for s in held:
        s.close()
EOF
		echo "fail xinetd: the per_source check stopped" >>"$tmp/per_source.out"
	count_results "$tmp/per_source.out"
	if grep -q 'FAIL: pop3 per_source_limit' "$tmp/xinetd.log"; then
		ok "xinetd: logs FAIL: pop3 per_source_limit"
	else
		fail "xinetd: no per_source_limit line in its log"
	fi
	# the held sessions end (hang-up) before the next check
	count_same "$tmp/xinetd.log" ': START: ' ': EXIT: ' 10 || true

	concurrent "$port" "$PER_SOURCE" "xinetd"
	sequential "$port" "$SEQUENTIAL" "xinetd"
	if count_same "$tmp/xinetd.log" ': START: ' ': EXIT: ' 10; then
		ok "xinetd: every pop3d has ended"
	else
		fail "xinetd: pop3d processes still running"
	fi
	starts=$(grep -c ': START: pop3 ' "$tmp/xinetd.log" || true)
	zero=$(grep -c ': EXIT: pop3 status=0 ' "$tmp/xinetd.log" || true)
	want=$((PER_SOURCE + PER_SOURCE + SEQUENTIAL))
	if [ "$starts" -eq "$want" ] && [ "$zero" -eq "$want" ]; then
		ok "xinetd: $want pop3d started, every one exited with status 0"
	else
		fail "xinetd: $starts started, $zero exited 0, $want expected:"
		grep ': EXIT: ' "$tmp/xinetd.log" | grep -v 'status=0 ' |
			head -n 5 | sed 's/^/  /'
	fi
	logins "$tmp/xinetd-pop3d.log" $((PER_SOURCE + SEQUENTIAL)) "xinetd"
	if [ "$(sort -u "$tmp/xinetd-pop3d.env")" = "::ffff:127.0.0.1" ]; then
		ok "xinetd: REMOTE_HOST is ::ffff:127.0.0.1 (flags = IPv6); pop3d logs 127.0.0.1"
	else
		fail "xinetd: REMOTE_HOST was: $(sort -u "$tmp/xinetd-pop3d.env" | tr '\n' ' ')"
	fi
	stop_started "$xinetd"
	if any_failed; then
		echo "# xinetd's own messages:"
		sed 's/^/  /' "$tmp/xinetd.self" | tail -n 20
	fi
fi

# --- 3. the inetd.conf line
line=$(grep -v '^[[:space:]]*#' "$INETD_EXAMPLE" | grep -v '^[[:space:]]*$' || true)
# shellcheck disable=SC2086
set -f
# shellcheck disable=SC2086
set -- $line
set +f
if [ "$(printf '%s\n' "$line" | wc -l)" -eq 1 ] && [ "$#" -ge 7 ] &&
	[ "$1" = pop3 ] && [ "$2" = stream ] &&
	printf '%s\n' "$3" | grep -Eqx 'tcp[46]?|tcp46' &&
	printf '%s\n' "$4" | grep -Eqx 'nowait(\.[0-9]+)?' &&
	[ "$5" = root ] && [ "$6" = /usr/local/sbin/pop3d ] && [ "$7" = pop3d ] &&
	getent services pop3/tcp | grep -Eq '[[:space:]]110/tcp'; then
	ok "inetd.conf: one line: pop3 (110/tcp) stream $3 $4 root /usr/local/sbin/pop3d pop3d"
else
	fail "inetd.conf: not the line inetd.conf(5) wants: $line"
fi
case " $* " in
*" -d "* | *" --debug "*) fail "inetd.conf: -d would send log lines to the client" ;;
esac

# inetd's way: fd 0, 1 and 2 the connection, argv[0] and the options from
# the line after the program; as a normal user the user field cannot apply.
shift 6
cat >"$tmp/inetd.py" <<'EOF'
import os, signal, socket, subprocess, sys
port, program, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
lsn = socket.create_server(("127.0.0.1", port), backlog=64)
print("Listening on 127.0.0.1:%d" % port, flush=True)
signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # no zombies
while True:
    conn, _ = lsn.accept()
    subprocess.Popen(argv, executable=program, stdin=conn, stdout=conn,
                     stderr=conn, close_fds=True)
    conn.close()
EOF
# start_inetd ARG...: the emulator on a free port, running pop3d with
# ARG...; sets port and inetd (its pid).
start_inetd() {
	port=$(free_port)
	: >"$tmp/inetd.launcher"
	python3 "$tmp/inetd.py" "$port" "$POP3D" "$@" \
		>>"$tmp/inetd.launcher" 2>&1 &
	inetd=$!
	if wait_listening "$tmp/inetd.launcher" "$inetd"; then
		started="$started $inetd"
		return 0
	fi
	stop_process "$inetd"
	return 1
}
# shellcheck disable=SC2086 # ARGS: several words, no spaces in them
if ! three_tries start_inetd "$@" $ARGS; then
	fail "the inetd emulator did not start:"
	sed 's/^/  /' "$tmp/inetd.launcher"
else
	concurrent "$port" 10 "inetd.conf line"
	sequential "$port" 10 "inetd.conf line"
	# Nothing but POP3 on the wire although fd 2 is the connection.
	printf 'CAPA\r\nUSER alice\r\nPASS wrong\r\nQUIT\r\n' >"$tmp/dialogue"
	python3 - "$port" "$tmp/dialogue" >"$tmp/wire" 2>&1 <<'EOF' || true
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(open(sys.argv[2], "rb").read())
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
sys.stdout.write(data.decode(errors="replace"))
EOF
	if grep -q '^-ERR \[AUTH\]' "$tmp/wire" && grep -q '^+OK' "$tmp/wire" &&
		! grep -Ev '^(\+OK( .*)?|-ERR( .*)?|\.|[A-Z0-9-]+( .*)?)'"$(printf '\r')"'$' "$tmp/wire" | grep -q .; then
		ok "inetd.conf line: fd 2 is the client, and it gets only POP3 lines (no log lines)"
	else
		fail "inetd.conf line: the client got more than POP3:"
		sed 's/^/  /' "$tmp/wire"
	fi
	stop_started "$inetd"
fi

summary
