# SPDX-License-Identifier: ISC
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

# --- a test's life (t-*.sh): its temporary directory, the processes it
# started, and a summary line however it ends

tmp=""
started=""

# clean_up_on_exit: from here on the test's end (normal, a command failed
# under set -e, a signal) stops every process in $started, removes $tmp
# (unless KEEP_TMP is set) and, if summary has not run, counts the early
# stop as a failure and prints the summary.
clean_up_on_exit() {
	trap clean_up EXIT
	trap 'exit 1' HUP INT TERM
}
clean_up() {
	_status=$?
	for _pid in $started; do
		stop_process "$_pid"
	done
	if [ -n "$tmp" ] && [ -z "${KEEP_TMP:-}" ]; then
		rm -rf "$tmp"
	fi
	if ! summarized; then
		fail "the test stopped early (exit status $_status)"
		summary || true
		exit 1
	fi
}

# stop_early: after a failure that leaves nothing to test, the summary and
# exit status 1.
stop_early() {
	summary || true
	exit 1
}

# need COMMAND...: a failure for each COMMAND that is not installed.
need() {
	for _cmd in "$@"; do
		command -v "$_cmd" >/dev/null 2>&1 ||
			fail "prerequisite: $_cmd is not installed"
	done
}

# need_perl_modules MODULE...: a failure for each Perl MODULE missing.
need_perl_modules() {
	for _module in "$@"; do
		perl -M"$_module" -e 1 2>/dev/null ||
			fail "prerequisite: Perl module $_module is missing"
	done
}

# need_pop3d: a failure unless POP3D (default ./pop3d), the binary under
# test, is built; makes POP3D an absolute path.
need_pop3d() {
	POP3D=${POP3D:-./pop3d}
	[ -x "$POP3D" ] || fail "prerequisite: $POP3D is not built (make pop3d)"
	case $POP3D in
	/*) ;;
	*) POP3D=$PWD/${POP3D#./} ;;
	esac
}

# prerequisites_met: ends the test (stop_early) if a prerequisite failed.
prerequisites_met() {
	if any_failed; then
		stop_early
	fi
}

# make_tmp NAME [DIR...]: tmp, a new directory /tmp/pop3d-NAME.XXXXXX with
# the subdirectories DIR...; 0755 (mktemp -d makes it 0700): the test uid
# must reach what is inside.
make_tmp() {
	tmp=$(mktemp -d "/tmp/pop3d-$1.XXXXXX")
	chmod 0755 "$tmp"
	shift
	for _dir in "$@"; do
		mkdir "$tmp/$_dir"
	done
}

# --- the test's accounts and maildrops (in $tmp/passwd and $tmp/mail)

# test_accounts PASSWORD: sets hash (of PASSWORD), uid and gid (who owns the
# maildrops) and privsep (pop3d's options, several words): as root an
# unused uid and privilege separation (nobody, an empty root-owned
# directory tmp/empty); otherwise ourselves and no options.
# shellcheck disable=SC2034 # privsep is for the test scripts
test_accounts() {
	hash=$(pw_hash "$1")
	if [ "$(id -u)" -eq 0 ]; then
		uid=$(unused_id)
		gid=$uid
		mkdir -m 0755 "$tmp/empty"
		privsep="--privsep-user=nobody --privsep-dir=$tmp/empty"
	else
		uid=$(id -u)
		gid=$(id -g)
		privsep=""
	fi
}

# passwd_line USER [GECOS]: USER's line for tmp/passwd (test_accounts's
# hash, uid and gid; home tmp).
passwd_line() {
	echo "$1:$hash:$uid:$gid:${2-}:$tmp:/bin/sh"
}

# numbered_passwd_lines N: the lines of users u01 to uN.
numbered_passwd_lines() {
	_i=1
	while [ "$_i" -le "$1" ]; do
		passwd_line "$(printf 'u%02d' "$_i")"
		_i=$((_i + 1))
	done
}

# alice_maildrop: the messages tmp/msg/1, 2, ... (as stored, no From_
# line) make alice's maildrop tmp/mail/alice (a From_ line before each,
# "From senderN@example.org  Mon Nov 24 09:NN:00 2025", a blank line
# between them), tmp/after-dele-1 (that mbox less message 1), tmp/expect/N
# (what RETR N sends: LF -> CRLF, a last line ended) and tmp/sizes ("N
# octets", a line for each, as LIST says them).
alice_maildrop() {
	python3 - "$tmp" <<'PY'
import os, sys

tmp = sys.argv[1]
msgs = []
while os.path.exists(os.path.join(tmp, "msg", str(len(msgs) + 1))):
    with open(os.path.join(tmp, "msg", str(len(msgs) + 1)), "rb") as fh:
        msgs.append(fh.read())
froms = [b"From sender%d@example.org  Mon Nov 24 09:%02d:00 2025\n" % (i, i)
         for i in range(1, len(msgs) + 1)]
mbox = b""
for i, (f, m) in enumerate(zip(froms, msgs)):
    mbox += f + m + (b"\n" if i + 1 < len(msgs) else b"")
with open(os.path.join(tmp, "mail", "alice"), "wb") as fh:
    fh.write(mbox)
with open(os.path.join(tmp, "after-dele-1"), "wb") as fh:
    fh.write(mbox[len(froms[0]) + len(msgs[0]) + 1:])
with open(os.path.join(tmp, "sizes"), "w") as fh:
    for i, m in enumerate(msgs, 1):
        if not m.endswith(b"\n"):
            m += b"\n"
        m = m.replace(b"\n", b"\r\n")
        with open(os.path.join(tmp, "expect", str(i)), "wb") as e:
            e.write(m)
        fh.write("%d %d\n" % (i, len(m)))
PY
}

# seal_maildrops: tmp/passwd and every maildrop 0600, tmp/mail 0700, and
# as root all of tmp/mail the test uid's.
seal_maildrops() {
	chmod 0600 "$tmp/passwd" "$tmp/mail"/*
	chmod 0700 "$tmp/mail"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R "$uid:$gid" "$tmp/mail"
	fi
}

# --- servers and clients

# three_tries COMMAND [ARG...]: runs COMMAND until it succeeds, three times
# at most (a port found free can be taken before a server binds it).
three_tries() {
	_three_tries=0
	while [ "$_three_tries" -lt 3 ]; do
		"$@" && return 0
		_three_tries=$((_three_tries + 1))
	done
	return 1
}

# launch LOG ADDRESS COMMAND [ARG...]: socket_activate, the launcher
# stopped at the end; if it did not start, a failure showing LOG.
launch() {
	if socket_activate "$@"; then
		started="$started $activated_pid"
		return 0
	fi
	fail "systemd-socket-activate on $2 did not start:"
	sed 's/^/  /' "$1"
	return 1
}

# serve_pop3d LOG [OPTION...]: launch on 127.0.0.1 of pop3d -d with the
# test's tmp/passwd and tmp/mail/%u (and privsep), and OPTION...; ends the
# test if it does not start.
serve_pop3d() {
	_log=$1
	shift
	# shellcheck disable=SC2086 # privsep: several words, no spaces in them
	launch "$_log" 127.0.0.1 "$POP3D" -d -p "$tmp/passwd" \
		-m "$tmp/mail/%u" "$@" $privsep || stop_early
}

# stop_started PID: stops that process of $started now.
stop_started() {
	stop_process "$1"
	started=$(echo " $started " | sed "s/ $1 / /")
}

# have_mapped_ipv6: whether an IPv6 socket can bind ::ffff:127.0.0.1.
have_mapped_ipv6() {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::ffff:127.0.0.1", 0))' \
		2>/dev/null
}

# self_signed_cert DIR: DIR/key.pem (0600) and DIR/cert.pem, a throwaway
# certificate (P-256, two days); ends the test if openssl fails.
self_signed_cert() {
	if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj /CN=localhost -keyout "$1/key.pem" \
		-out "$1/cert.pem" >"$1/openssl.log" 2>&1; then
		fail "openssl could not make a certificate:"
		sed 's/^/  /' "$1/openssl.log"
		stop_early
	fi
	chmod 0600 "$1/key.pem"
}

# py_tls_context: prints Python for TLS clients: context(MAXVER, CIPHERS),
# an ssl.SSLContext without certificate checks, down to the oldest version
# and up to MAXVER if given, with CIPHERS if given.
py_tls_context() {
	cat <<'PY'
import ssl


def context(maxver=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if maxver is not None:
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = maxver
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    return ctx
PY
}

# pop3curl ARG...: curl for POP3, bounded, never through a proxy.
pop3curl() {
	curl -sS --noproxy '*' --max-time 20 "$@"
}

# curl_list_retr LABEL URL [CURL-ARG...]: checks that LIST at URL/ gives
# tmp/sizes and RETR N at URL/N gives tmp/expect/N, for every message.
curl_list_retr() {
	_cl=$1
	_url=$2
	shift 2
	if pop3curl "$@" "$_url/" >"$tmp/got/list" 2>"$tmp/got/list.err" &&
		tr -d '\r' <"$tmp/got/list" | cmp -s - "$tmp/sizes"; then
		ok "$_cl: LIST gives every message with its size"
	else
		fail "$_cl: LIST: $(cat "$tmp/got/list.err")"
	fi
	_n=$(wc -l <"$tmp/sizes")
	_i=1
	_good=0
	while [ "$_i" -le "$_n" ]; do
		if pop3curl "$@" -o "$tmp/got/$_i" "$_url/$_i" \
			2>"$tmp/got/$_i.err" &&
			cmp -s "$tmp/expect/$_i" "$tmp/got/$_i"; then
			_good=$((_good + 1))
		else
			echo "  RETR $_i: $(cat "$tmp/got/$_i.err")"
		fi
		_i=$((_i + 1))
	done
	if [ "$_good" -eq "$_n" ]; then
		ok "$_cl: RETR 1-$_n: the stored bytes, CRLF line endings"
	else
		fail "$_cl: RETR: only $_good of $_n messages right"
	fi
}

# concurrent_sessions PORT N [SPREAD]: users u01..uN each RETR 1 at once
# through curl on 127.0.0.1:PORT (password PASSWORD_URL), into tmp/got/uNN;
# with SPREAD, session i comes from 127.0.0.(100 + i). Sets good to how
# many got tmp/expect/uNN; true if all did.
concurrent_sessions() {
	_cs_pids=""
	_cs_i=1
	while [ "$_cs_i" -le "$2" ]; do
		_cs_u=$(printf 'u%02d' "$_cs_i")
		_cs_from=""
		[ -z "${3-}" ] || _cs_from="--interface 127.0.0.$((100 + _cs_i))"
		rm -f "$tmp/got/$_cs_u"
		# shellcheck disable=SC2086 # _cs_from: two words or none
		pop3curl $_cs_from -o "$tmp/got/$_cs_u" \
			"pop3://$_cs_u:$PASSWORD_URL@127.0.0.1:$1/1" \
			2>"$tmp/got/$_cs_u.err" &
		_cs_pids="$_cs_pids $!"
		_cs_i=$((_cs_i + 1))
	done
	good=0
	_cs_i=1
	for _cs_pid in $_cs_pids; do
		_cs_u=$(printf 'u%02d' "$_cs_i")
		if wait "$_cs_pid" &&
			cmp -s "$tmp/expect/$_cs_u" "$tmp/got/$_cs_u"; then
			good=$((good + 1))
		else
			echo "  $_cs_u: $(cat "$tmp/got/$_cs_u.err")"
		fi
		_cs_i=$((_cs_i + 1))
	done
	[ "$good" -eq "$2" ]
}

# --- stunnel (t-stunnel.sh, t-starttls.sh)

# need_stunnel: installs what the stunnel tests need if missing (as
# root), sets STUNNEL; a failure for each prerequisite still missing.
need_stunnel() {
	if ! scripts/deps stunnel4 openssl curl python3 systemd >/dev/null; then
		echo "# scripts/deps could not install what is missing (see above)"
	fi
	STUNNEL=$(command -v stunnel4 || command -v stunnel || true)
	[ -n "$STUNNEL" ] ||
		fail "prerequisite: stunnel is not installed (stunnel4)"
	need openssl curl python3 systemd-socket-activate
	need_pop3d
}

# alice_and_bob PASSWORD: test_accounts, tmp/passwd with alice and bob,
# seal_maildrops, and pop3d_args: the options of a pop3d -d serving them.
alice_and_bob() {
	test_accounts "$1"
	{
		passwd_line alice Alice
		passwd_line bob Bob
	} >"$tmp/passwd"
	seal_maildrops
	# shellcheck disable=SC2034 # pop3d_args is for the test scripts
	pop3d_args="-d -p $tmp/passwd -m $tmp/mail/%u $privsep"
}

# logged_from LABEL LOG FROM AS URL [CURL-ARG...]: a check that bob's
# session with curl from the address FROM (RETR at URL) has its LOGIN line
# in LOG after the session, with ip=[AS].
logged_from() {
	_lf=$1
	_lf_log=$2
	_lf_from=$3
	_lf_as=$4
	_lf_url=$5
	shift 5
	_lf_mark=$(mark "$_lf_log")
	if ! pop3curl "$@" --interface "$_lf_from" "$_lf_url" \
		>/dev/null 2>"$tmp/got/addr.err"; then
		fail "$_lf: curl from $_lf_from: $(cat "$tmp/got/addr.err")"
	elif logged "$_lf_log" "$_lf_mark" \
		"LOGIN, user=bob, method=PLAIN, ip=[$_lf_as]"; then
		ok "$_lf: a client at $_lf_from is logged as ip=[$_lf_as]"
	else
		fail "$_lf: a client at $_lf_from is not logged as ip=[$_lf_as]; stunnel and pop3d said:"
		tail -n "+$((_lf_mark + 1))" "$_lf_log" |
			grep -E 'accepted connection|LOGIN' | sed 's/^/  /'
	fi
}

# py_checks SCRIPT LABEL ARG...: runs the Python SCRIPT (at most 60 s),
# feeding its "ok"/"fail" lines, LABEL in the environment, to the
# counters; a failure if it stops with an error.
py_checks() {
	_script=$1
	_label=$2
	shift 2
	if ! LABEL="$_label" timeout 60 python3 -W ignore::DeprecationWarning \
		"$_script" "$@" >"$tmp/py.out" 2>&1; then
		echo "fail ${_label}the Python client stopped" >>"$tmp/py.out"
	fi
	count_results "$tmp/py.out"
}

# start_stunnel NAME CONF-TEMPLATE: $STUNNEL in the foreground on a free
# port (@PORT@ in the template), log in $tmp/NAME.log, pid file
# $tmp/run/NAME.pid; ready when its pid
# file exists (written after binding). Sets stunnel_port.
start_stunnel() {
	_tries=0
	while [ "$_tries" -lt 3 ]; do
		stunnel_port=$(free_port)
		sed "s|@PORT@|$stunnel_port|" "$2" >"$tmp/$1.conf"
		rm -f "$tmp/run/$1.pid"
		"$STUNNEL" "$tmp/$1.conf" >"$tmp/$1.log" 2>&1 &
		_pid=$!
		if wait_for_file "$tmp/run/$1.pid" "$_pid" 10; then
			started="$started $_pid"
			return 0
		fi
		stop_process "$_pid"
		_tries=$((_tries + 1))
	done
	fail "stunnel ($1) did not start:"
	sed 's/^/  /' "$tmp/$1.log" | tail -n 20
	return 1
}

# log marks: mark LOG prints its line count; logged LOG MARK TEXT waits up
# to 3 s for a line containing TEXT after that mark.
mark() {
	wc -l <"$1" | tr -d ' '
}
logged() {
	_n=0
	while [ "$_n" -lt 30 ]; do
		tail -n "+$(($2 + 1))" "$1" | grep -Fq -- "$3" && return 0
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}
# --- a launcher's log (systemd-socket-activate with pop3d -d)

# count_same FILE ERE1 ERE2 [SECONDS]: waits up to SECONDS (default 5)
# until FILE has as many lines matching ERE1 as ERE2.
count_same() {
	_n=0
	while [ "$_n" -lt "$((${4:-5} * 10))" ]; do
		[ "$(grep -Ec -- "$2" "$1" || true)" -eq \
			"$(grep -Ec -- "$3" "$1" || true)" ] && return 0
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# all_reaped LOG [SECONDS]: waits up to SECONDS (default 5) until every
# process the launcher spawned has been reaped (the last sessions may
# still be exiting).
all_reaped() {
	count_same "$1" '^Spawned' 'died with code' "${2:-5}"
}

# bad_exits LOG...: prints the lines saying a pop3d exited with another
# status than 0, was killed or dumped core; true if there is one.
bad_exits() {
	grep -h 'died with code [1-9]\|killed\|dumped' "$@"
}

# exited_0 OK-TEXT FAIL-TEXT LOG...: a check that no pop3d of these logs
# ended badly (bad_exits).
exited_0() {
	_ok=$1
	_fail=$2
	shift 2
	if bad_exits "$@" >/dev/null; then
		fail "$_fail"
		bad_exits "$@" | sed 's/^/  /'
	else
		ok "$_ok"
	fi
}

# logged_times N LOG TEXT: a check that LOG has N lines with
# "TEXT, ip=[127.0.0.1]".
logged_times() {
	_n=$(grep -Fc "$3, ip=[127.0.0.1]" "$2" || true)
	if [ "$_n" -eq "$1" ]; then
		ok "logged $1 time(s): $3, ip=[127.0.0.1]"
	else
		fail "logged $_n time(s), not $1: $3, ip=[127.0.0.1]"
	fi
}
