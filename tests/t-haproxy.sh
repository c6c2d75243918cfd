#!/bin/sh
# SPDX-License-Identifier: ISC
# Scale-out end to end: HAProxy (examples/haproxy/haproxy.cfg, run in the
# foreground) on 127.0.0.1 in front of two pop3d "hosts": two
# systemd-socket-activate launchers on 127.0.0.2 and 127.0.0.3, both with
# --proxy-from=127.0.0.1 and the same mailbox directory (the shared spool).
# The test configuration is the example with only these changes: log to
# stderr; addresses and ports on 127.0.0.0/8 (the IPv6 binds dropped); the
# commented-out pop3s frontend enabled with a throwaway certificate; health
# checks every 1 s instead of 10 s; when not root, no chroot/user/group.
# It adds one frontend on a dual-stack socket. Checks: the example's health
# checks pass and are silent in pop3d's log; many sessions succeed and are
# spread over both backends, each logged with its client's own address
# (PROXY v2); one session per maildrop across the two backends; DELE + QUIT
# on one backend is seen on the other; the per-source limit; TLS on the
# pop3s frontend; a backend going away. Runs as root and as a normal user.
# POP3D=path overrides the binary (default ./pop3d); KEEP_TMP=1 keeps the
# temporary directory. Last line: "N passed, M failed".
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh disable=SC1091
. tests/lib.sh

PASSWORD='correct horse'
PASSWORD_URL='correct%20horse'
USERS=20 # concurrent sessions, one maildrop each, each from its own address

clean_up_on_exit

# --- what the test needs
if ! scripts/deps haproxy openssl curl python3 systemd >/dev/null; then
	echo "# scripts/deps could not install what is missing (see above)"
fi
need haproxy openssl curl python3 systemd-socket-activate
need_pop3d
[ -r examples/haproxy/haproxy.cfg ] ||
	fail "prerequisite: examples/haproxy/haproxy.cfg is missing"
prerequisites_met

make_tmp haproxy mail expect got

# --- the shared spool: alice (5 messages) and u01..u20 (one each)
python3 - "$tmp" "$USERS" <<'EOF'
import os, sys

tmp, users = sys.argv[1], int(sys.argv[2])
mbox = b""
for i in range(1, 6):
    mbox += (b"From s%d@example.org  Mon Nov 24 09:%02d:00 2025\n"
             b"Subject: message %d\n\nbody %d\n\n" % (i, i, i, i))
with open(os.path.join(tmp, "mail", "alice"), "wb") as fh:
    fh.write(mbox)
for u in range(1, users + 1):
    name = b"u%02d" % u
    with open(os.path.join(tmp, "mail", name.decode()), "wb") as fh:
        fh.write(b"From x@example.org  Tue Nov 25 10:00:00 2025\n"
                 b"Subject: hello " + name + b"\n\nhi " + name + b"\n")
    with open(os.path.join(tmp, "expect", name.decode()), "wb") as fh:
        fh.write(b"Subject: hello " + name + b"\r\n\r\nhi " + name + b"\r\n")
EOF

test_accounts "$PASSWORD"
{
	passwd_line alice Alice
	numbered_passwd_lines "$USERS"
} >"$tmp/passwd"
seal_maildrops

# --- two pop3d hosts sharing the spool
backend() { # backend NAME ADDRESS: sets activated_pid, activated_port
	# shellcheck disable=SC2086 # privsep: several words, no spaces in them
	launch "$tmp/$1.log" "$2" "$POP3D" --proxy-from=127.0.0.1 -d \
		-p "$tmp/passwd" -m "$tmp/mail/%u" $privsep || stop_early
}
backend A 127.0.0.2
port_A=$activated_port
backend B 127.0.0.3
pid_B=$activated_pid
port_B=$activated_port
echo "# backends: A 127.0.0.2:$port_A, B 127.0.0.3:$port_B (pop3d $POP3D," \
	"as uid $(id -u), mailbox uid $uid)"

# --- HAProxy from the example
if [ "$(id -u)" -eq 0 ]; then
	drop=""
else
	drop='/^[[:space:]]*chroot /d
/^[[:space:]]*user /d
/^[[:space:]]*group /d'
fi
self_signed_cert "$tmp"
cat "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/pop3s.pem"
chmod 0600 "$tmp/pop3s.pem"
if haproxy -c -f examples/haproxy/haproxy.cfg >"$tmp/check.log" 2>&1 &&
	! grep -q WARNING "$tmp/check.log"; then
	ok "haproxy -c: the example is valid as it is, without warnings"
else
	fail "haproxy -c on the example:"
	sed 's/^/  /' "$tmp/check.log"
fi
# start_haproxy: haproxy with the test configuration on free ports; sets
# port, port6 (the dual-stack frontend), ports (pop3s) and hpid.
start_haproxy() {
	port=$(free_port)
	port6=$(free_port)
	ports=$(free_port)
	sed -e "s|^\([[:space:]]*\)log /dev/log |\1log stderr |
s|^\([[:space:]]*\)bind :110\$|\1bind 127.0.0.1:$port|
/^[[:space:]]*bind :::110 v6only\$/d
s|^\([[:space:]]*\)source 192.0.2.10\$|\1source 127.0.0.1|
s|^\([[:space:]]*\)server mail1 192.0.2.11:110\$|\1server mail1 127.0.0.2:$port_A|
s|^\([[:space:]]*\)server mail2 192.0.2.12:110\$|\1server mail2 127.0.0.3:$port_B|
s| inter 10s | inter 1s |
/^#frontend pop3s\$/,/^#[[:space:]]*default_backend/s|^#||
s|^\([[:space:]]*\)bind :995 ssl crt .*|\1bind 127.0.0.1:$ports ssl crt $tmp/pop3s.pem|
/^[[:space:]]*bind :::995 v6only /d
$drop" examples/haproxy/haproxy.cfg >"$tmp/haproxy.cfg"
	# A frontend on a dual-stack socket, as "bind :::110" would make.
	printf '\nfrontend dualstack\n\tbind ::ffff:127.0.0.1:%s\n\tdefault_backend pop3d\n' \
		"$port6" >>"$tmp/haproxy.cfg"
	missing=""
	for want in "bind 127.0.0.1:$port" "source 127.0.0.1" \
		"server mail1 127.0.0.2:$port_A" "server mail2 127.0.0.3:$port_B" \
		" inter 1s " "send-proxy-v2" "balance leastconn" \
		"frontend pop3s" "bind 127.0.0.1:$ports ssl crt $tmp/pop3s.pem"; do
		grep -qF -- "$want" "$tmp/haproxy.cfg" || missing="$missing '$want'"
	done
	if [ -n "$missing" ]; then
		fail "haproxy.cfg from the example lacks:$missing"
		stop_early
	fi
	haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
	hpid=$!
	i=0
	while [ "$i" -lt 50 ] && is_running "$hpid" && port_is_free "$port"; do
		sleep 0.1
		i=$((i + 1))
	done
	if is_running "$hpid" && ! port_is_free "$port"; then
		started="$started $hpid"
		return 0
	fi
	stop_process "$hpid"
	return 1
}
if ! three_tries start_haproxy; then
	fail "haproxy did not start:"
	sed 's/^/  /' "$tmp/haproxy.log" | tail -n 20
	stop_early
fi
ok "haproxy runs the example's configuration on 127.0.0.1:$port"

# --- the health checks: greeting + QUIT after a LOCAL PROXY header. Three
# intervals of 1 s: each backend has had checks, none failed, and pop3d
# logged nothing about them.
sleep 3.5
for name in A B; do
	n=$(grep -c '^Spawned' "$tmp/$name.log" || true)
	if [ "$n" -ge 2 ] && ! grep -q 'pop3d\[' "$tmp/$name.log"; then
		ok "backend $name: $n health checks, not one pop3d log line about them"
	else
		fail "backend $name: $n health checks; pop3d logged:"
		grep 'pop3d\[' "$tmp/$name.log" | head -n 5 | sed 's/^/  /'
	fi
done
if grep -Eq 'Health check for server .* failed|is DOWN' "$tmp/haproxy.log"; then
	fail "haproxy: a health check failed:"
	grep -E 'Health check|is DOWN' "$tmp/haproxy.log" | head -n 5 | sed 's/^/  /'
else
	ok "haproxy: every health check passed, both backends up"
fi
if grep -h '^Connection from' "$tmp/A.log" "$tmp/B.log" | grep -vq '^Connection from 127\.0\.0\.1:'; then
	fail "haproxy connects to the backends from another address than 127.0.0.1:"
	grep -h '^Connection from' "$tmp/A.log" "$tmp/B.log" | sort -u | head -n 3
else
	ok "haproxy connects to the backends from 127.0.0.1 (their --proxy-from)"
fi

# --- a malformed PROXY header from a trusted address: no greeting, the
# connection closed, and the pre-login child, which logs why (to syslog;
# it may not write to the -d log file), survives its system call filter
# and its limits.
python3 - "$port_A" >"$tmp/garbage.out" <<'EOF'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.settimeout(10)
s.connect(("127.0.0.2", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(repr(data))
EOF
all_reaped "$tmp/A.log" || true
if [ "$(cat "$tmp/garbage.out")" = "b''" ] &&
	! grep -q 'killed by signal' "$tmp/A.log"; then
	ok "a malformed PROXY header: closed without a byte"
else
	fail "a malformed PROXY header: got $(cat "$tmp/garbage.out"); A logged:"
	grep 'pop3d\[' "$tmp/A.log" | tail -n 3 | sed 's/^/  /'
fi

logins_in() { # logins_in LOG USER: the ip=[...] of USER's LOGIN lines
	sed -n "s/.*LOGIN, user=$2, method=PLAIN, ip=\[\([^]]*\)\].*/\1/p;s/.*LOGIN, user=$2, ip=\[\([^]]*\)\].*/\1/p" "$1"
}

# --- many concurrent sessions through HAProxy, each user from its own
# loopback address 127.0.0.1xx: all succeed, both backends serve some,
# and each is logged with its own client address
if concurrent_sessions "$port" "$USERS" spread; then
	ok "$USERS concurrent sessions through haproxy all got their message"
else
	fail "only $good of $USERS concurrent sessions through haproxy succeeded"
fi
n_A=$(grep -c 'LOGIN, user=u[0-9]*,' "$tmp/A.log" || true)
n_B=$(grep -c 'LOGIN, user=u[0-9]*,' "$tmp/B.log" || true)
if [ "$n_A" -ge 1 ] && [ "$n_B" -ge 1 ] && [ $((n_A + n_B)) -eq "$USERS" ]; then
	ok "the sessions were spread over both backends: A $n_A, B $n_B"
else
	fail "the sessions were not spread over both backends: A $n_A, B $n_B"
fi
wrong=""
i=1
while [ "$i" -le "$USERS" ]; do
	u=$(printf 'u%02d' "$i")
	got=$(logins_in "$tmp/A.log" "$u"; logins_in "$tmp/B.log" "$u")
	[ "$got" = "127.0.0.$((100 + i))" ] || wrong="$wrong $u:[$got]"
	i=$((i + 1))
done
if [ -z "$wrong" ]; then
	ok "each session is logged with its client's own address (127.0.0.101-$((100 + USERS)))"
else
	fail "sessions logged with the wrong address:$wrong"
fi

# --- the plain client address: 127.0.0.1, and 127.0.0.9 for a client bound there
for src in 127.0.0.1 127.0.0.9; do
	mA=$(wc -l <"$tmp/A.log")
	mB=$(wc -l <"$tmp/B.log")
	if pop3curl --interface "$src" "pop3://u01:$PASSWORD_URL@127.0.0.1:$port/" \
		>/dev/null 2>"$tmp/got/src.err"; then
		got=$({
			tail -n "+$((mA + 1))" "$tmp/A.log"
			tail -n "+$((mB + 1))" "$tmp/B.log"
		} | sed -n 's/.*LOGIN, user=u01, method=PLAIN, ip=\[\([^]]*\)\].*/\1/p')
		if [ "$got" = "$src" ]; then
			ok "a client at $src through haproxy is logged as ip=[$src]"
		else
			fail "a client at $src through haproxy is logged as ip=[$got]"
		fi
	else
		fail "curl from $src through haproxy: $(cat "$tmp/got/src.err")"
	fi
done

# --- the Python side: sessions through HAProxy and straight to one
# backend with a PROXY v2 header made by hand, as HAProxy sends it
{
	py_tls_context
	cat <<'EOF'
import ipaddress, poplib, re, socket, struct, sys, time

cmd, tmp, password = sys.argv[1], sys.argv[2], sys.argv[3]
fe, a, b = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
backends = {"A": ("127.0.0.2", a), "B": ("127.0.0.3", b)}


def check(cond, what):
    print(("ok " if cond else "fail ") + what, flush=True)
    return cond


def v2(src):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    addrs = (ipaddress.IPv4Address(src).packed +
             ipaddress.IPv4Address("127.0.0.1").packed +
             struct.pack("!HH", 50000, 110))
    return sig + b"\x21\x11" + struct.pack("!H", len(addrs)) + addrs


class Proxied(poplib.POP3):
    """A POP3 session straight to a backend, PROXY v2 header first."""

    def __init__(self, backend, src):
        self.header = v2(src)
        host, port = backends[backend]
        super().__init__(host, port, timeout=15)

    def _create_socket(self, timeout):
        s = socket.create_connection((self.host, self.port), timeout,
                                     source_address=("127.0.0.1", 0))
        s.sendall(self.header)
        return s


def login(p, user="alice"):
    p.user(user)
    p.pass_(password)
    return p


def via_lb(user="alice"):
    return login(poplib.POP3("127.0.0.1", fe, timeout=15), user)


def logins(user, src):
    """How many LOGIN lines for USER from SRC each backend has logged."""
    pat = re.compile(r"LOGIN, user=%s, ip=\[%s\]" % (user, re.escape(src)))
    return {name: len(pat.findall(open("%s/%s.log" % (tmp, name),
                                       errors="replace").read()))
            for name in ("A", "B")}


def new_logins(before, user, src):
    """The backends with more such LOGIN lines than BEFORE (up to 3 s)."""
    for _ in range(30):
        now = logins(user, src)
        grown = [n for n in now if now[n] > before[n]]
        if grown:
            return grown
        time.sleep(0.1)
    return []


def refused(make):
    try:
        p = make()
    except poplib.error_proto as e:
        return e.args[0]
    p.quit()
    return b"(accepted)"


class From(poplib.POP3):
    """A POP3 session from a chosen local address."""

    def __init__(self, src, port):
        self.src = src
        super().__init__("127.0.0.1", port, timeout=15)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.src, 0))


if cmd == "inuse":
    # hold a session open straight on A; B refuses the same maildrop
    held = login(Proxied("A", "192.0.2.61"))
    r = refused(lambda: login(Proxied("B", "192.0.2.62")))
    check(b"[IN-USE]" in r,
          "a session held on backend A: backend B answers %r" % r)
    held.quit()
    p = login(Proxied("B", "192.0.2.63"))
    check(p.stat()[0] == 5, "after QUIT on A, backend B lets the maildrop in")
    p.quit()
    # through HAProxy: the held session keeps one backend busy, so
    # leastconn sends the next session to the other one, which must refuse
    before = logins("alice", "127.0.0.1")
    held = via_lb()
    first = new_logins(before, "alice", "127.0.0.1")
    before = logins("alice", "127.0.0.1")
    r = refused(via_lb)
    second = new_logins(before, "alice", "127.0.0.1")
    check(len(first) == 1 and len(second) == 1 and first != second
          and b"[IN-USE]" in r,
          "through haproxy: a session held on backend %s, the next one "
          "(on backend %s) gets %r" % ("".join(first), "".join(second), r))
    held.quit()

elif cmd == "dele":
    # DELE 1 + QUIT on one backend, the next session on the other
    for one, other, src in (("A", "B", "192.0.2.71"), ("B", "A", "192.0.2.72")):
        p = login(Proxied(one, src))
        n, size = p.stat()
        ids = [l.split()[1] for l in p.uidl()[1]]
        p.dele(1)
        check(p.quit().startswith(b"+OK"), "DELE 1 + QUIT on backend " + one)
        p = login(Proxied(other, src))
        n2, _ = p.stat()
        ids2 = [l.split()[1] for l in p.uidl()[1]]
        check(n2 == n - 1 and ids2 == ids[1:],
              "backend %s sees it: %d messages, the rest keep their UIDLs"
              % (other, n2))
        p.quit()

elif cmd == "mapped":
    # a client at 127.0.0.9 through the frontend on the dual-stack socket
    login(From("127.0.0.9", fe), "u02").quit()

elif cmd == "tls":
    # the pop3s frontend: TLS 1.1 refused; a client at 127.0.0.9 over TLS
    # 1.3 reaches a backend, which logs 127.0.0.9
    class FromSSL(poplib.POP3_SSL):
        def __init__(self, src, port, ctx):
            self.src = src
            super().__init__("127.0.0.1", port, context=ctx, timeout=15)

        def _create_socket(self, timeout):
            s = socket.create_connection((self.host, self.port), timeout,
                                         source_address=(self.src, 0))
            return self.context.wrap_socket(s, server_hostname=self.host)

    try:
        FromSSL("127.0.0.1", fe, context(ssl.TLSVersion.TLSv1_1,
                                         "DEFAULT:@SECLEVEL=0")).quit()
        r = None
    except ssl.SSLError as e:
        r = e.reason
    check(r == "TLSV1_ALERT_PROTOCOL_VERSION",
          "pop3s frontend: TLS 1.1 refused: %s" % r)
    before = logins("u03", "127.0.0.9")
    p = FromSSL("127.0.0.9", fe, context())
    version = p.sock.version()
    login(p, "u03")
    n = p.stat()[0]
    p.quit()
    where = new_logins(before, "u03", "127.0.0.9")
    check(version == "TLSv1.3" and n == 1 and len(where) == 1,
          "pop3s frontend: %s, STAT, logged on backend %s as ip=[127.0.0.9]"
          % (version, "".join(where) or "(none)"))

elif cmd == "limit":
    # 11 connections at once from 127.0.0.50: the frontend admits 10
    socks, greeted, outcome = [], 0, []
    for i in range(11):
        try:
            s = socket.create_connection(("127.0.0.1", fe), 10,
                                         source_address=("127.0.0.50", 0))
        except OSError as e:
            outcome.append("connect: %s" % e.strerror)
            continue
        socks.append(s)
        try:
            s.settimeout(5)
            line = s.recv(100)
        except OSError as e:
            line = e.strerror.encode()
        outcome.append(line.decode("ascii", "replace").strip() or "(closed)")
        greeted += line.startswith(b"+OK")
    for s in socks:
        try:
            s.sendall(b"QUIT\r\n")
        except OSError:
            pass
        s.close()
    check(greeted == 10,
          "per-source limit: %d of 11 connections from one address got a "
          "greeting (10 allowed): %s" % (greeted, sorted(set(outcome))))
EOF
} >"$tmp/lb.py"
lb() {
	if ! python3 -W ignore::DeprecationWarning "$tmp/lb.py" "$1" "$tmp" "$PASSWORD" "${2:-$port}" \
		"$port_A" "$port_B" >"$tmp/lb.out" 2>&1; then
		echo "fail the Python client ($1) stopped" >>"$tmp/lb.out"
	fi
	count_results "$tmp/lb.out"
}

lb inuse
lb dele
lb limit
lb tls "$ports"

# --- a frontend on a dual-stack socket ("bind :::110" without v6only):
# HAProxy sends the IPv4 client as ::ffff:127.0.0.9 in its PROXY v2 header;
# pop3d logs IPv4-mapped socket peers as IPv4 (as fail2ban bans them) and
# must do the same with an address from a header.
if have_mapped_ipv6; then
	mA=$(wc -l <"$tmp/A.log")
	mB=$(wc -l <"$tmp/B.log")
	lb mapped "$port6"
	got=$({
		tail -n "+$((mA + 1))" "$tmp/A.log"
		tail -n "+$((mB + 1))" "$tmp/B.log"
	} | sed -n 's/.*LOGIN, user=u02, ip=\[\([^]]*\)\].*/\1/p')
	if [ "$got" = 127.0.0.9 ]; then
		ok "dual-stack frontend: a client at 127.0.0.9 is logged as ip=[127.0.0.9]"
	else
		fail "dual-stack frontend: a client at 127.0.0.9 is logged as ip=[$got], not ip=[127.0.0.9]"
	fi
else
	echo "# no IPv6 here: the dual-stack frontend check is left out"
fi

# --- backend B goes away: sessions still succeed (retried on A at once),
# and the health checks take B out
stop_started "$pid_B"
good=0
i=1
while [ "$i" -le 4 ]; do
	u=$(printf 'u%02d' "$i")
	if pop3curl -o "$tmp/got/$u.after" \
		"pop3://$u:$PASSWORD_URL@127.0.0.1:$port/1" 2>/dev/null &&
		cmp -s "$tmp/expect/$u" "$tmp/got/$u.after"; then
		good=$((good + 1))
	fi
	i=$((i + 1))
done
if [ "$good" -eq 4 ]; then
	ok "with backend B gone, 4 of 4 sessions succeed (on A)"
else
	fail "with backend B gone, only $good of 4 sessions succeed"
fi
if wait_for_grep "$tmp/haproxy.log" 'Server pop3d/mail2 is DOWN' 8; then
	ok "haproxy's health checks took backend B out"
else
	fail "haproxy did not mark backend B down"
fi

# --- every pop3d on A exited with status 0 (B's launcher is gone)
all_reaped "$tmp/A.log" || true
exited_0 "every pop3d process exited with status 0" \
	"a pop3d process ended badly:" "$tmp/A.log" "$tmp/B.log"

if any_failed; then
	for f in haproxy A B; do
		echo "# $f log, last lines:"
		grep -v '^Execing\|^Communication' "$tmp/$f.log" | tail -n 12 | sed 's/^/  /'
	done
fi
summary
