# Shell helpers shared by tests/t-*.sh and scripts/demo; source it, do not
# run it. POSIX sh. Every wait here is bounded.
# shellcheck shell=sh

# --- results: "ok"/"fail" lines, and the summary that tests/run adds up.
passed=0
failed=0

ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL - $*"
}

any_failed() {
	[ "$failed" -gt 0 ]
}

# Whether summary has run (an EXIT trap prints one if not).
summarized() {
	[ -n "$summarized" ]
}

# Prints the last line tests/run reads; the exit status says whether all passed.
summarized=""
summary() {
	summarized=1
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

# Feeds the "ok TEXT" / "fail TEXT" lines of FILE into the counters; any
# other line is shown as it is.
count_results() {
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok }" ;;
		"fail "*) fail "${line#fail }" ;;
		*) echo "  $line" ;;
		esac
	done <"$1"
}

# --- accounts

# pw_hash PASSWORD: a yescrypt crypt(3) hash, as Debian 12 makes them.
# mkpasswd (package whois) when present, else libxcrypt through Python's
# crypt module (which is gone from Python 3.13 on).
pw_hash() {
	if command -v mkpasswd >/dev/null 2>&1; then
		printf '%s\n' "$1" | mkpasswd -m yescrypt --stdin
		return
	fi
	python3 -W ignore::DeprecationWarning - "$1" <<'EOF'
import crypt, secrets, sys
abc = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# 20 characters of 6 bits are 15 whole salt bytes: libxcrypt takes them.
salt = "".join(secrets.choice(abc) for _ in range(20))
h = crypt.crypt(sys.argv[1], "$y$j9T$" + salt + "$")
if not h or not h.startswith("$y$"):
    sys.exit("pw_hash: this libcrypt cannot make yescrypt hashes")
print(h)
EOF
}

# unused_id: the highest id at or below 64999 that no user or group has.
unused_id() {
	_id=64999
	while getent passwd "$_id" >/dev/null 2>&1 ||
		getent group "$_id" >/dev/null 2>&1; do
		_id=$((_id - 1))
	done
	echo "$_id"
}

# can_reach UID GID PATH: whether that uid (without groups) can search
# PATH and every directory above it.
can_reach() {
	setpriv --reuid="$1" --regid="$2" --clear-groups -- test -x "$3" \
		2>/dev/null
}

# --- ports and the superserver

# port_is_free PORT: nothing listens on 127.0.0.1:PORT.
port_is_free() {
	python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

# free_port: a port the kernel just found free on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_listening LOG PID: waits up to 5 s until systemd-socket-activate
# (process PID, stderr in LOG) says it listens; fails if it exits first.
wait_listening() {
	_n=0
	while [ "$_n" -lt 50 ]; do
		grep -q '^Listening on' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# --- more bounded waits and processes (t-stunnel.sh, t-haproxy.sh)

# wait_for_grep FILE PATTERN [SECONDS]: waits up to SECONDS (default 5)
# until a line of FILE matches the extended regular expression PATTERN.
wait_for_grep() {
	_n=0
	while [ "$_n" -lt "$((${3:-5} * 10))" ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# wait_for_file FILE PID [SECONDS]: waits up to SECONDS (default 5) until
# FILE exists and is not empty; fails at once if process PID is gone.
wait_for_file() {
	_n=0
	while [ "$_n" -lt "$((${3:-5} * 10))" ]; do
		[ -s "$1" ] && return 0
		is_running "$2" || return 1
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# is_running PID: the process exists and is not a zombie.
is_running() {
	kill -0 "$1" 2>/dev/null || return 1
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	Z* | "") return 1 ;;
	esac
	return 0
}

# stop_process PID: SIGTERM, up to 5 s to exit, then SIGKILL; reaps it
# when it is a child of this shell.
stop_process() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || true
	_n=0
	while [ "$_n" -lt 50 ] && is_running "$1"; do
		sleep 0.1
		_n=$((_n + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# socket_activate LOG ADDRESS COMMAND [ARG...]: systemd-socket-activate
# --inetd --accept on ADDRESS (127.0.0.2, [::ffff:127.0.0.1], ...) and a
# free port, output in LOG; a port found free can be taken in between, so
# up to 3 tries. Sets activated_pid and activated_port; fails if it could
# not start (LOG says why).
socket_activate() {
	_log=$1
	_addr=$2
	shift 2
	_tries=0
	while [ "$_tries" -lt 3 ]; do
		activated_port=$(free_port)
		: >"$_log"
		systemd-socket-activate --inetd --accept \
			-l "$_addr:$activated_port" "$@" >>"$_log" 2>&1 &
		activated_pid=$!
		wait_listening "$_log" "$activated_pid" && return 0
		stop_process "$activated_pid"
		_tries=$((_tries + 1))
	done
	activated_pid=""
	return 1
}
