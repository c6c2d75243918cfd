#!/bin/sh
# SPDX-License-Identifier: ISC
# fail2ban against pop3d's own log lines: pop3d -d writes its syslog lines
# to stderr too; failed logins of every kind (USER/PASS, unknown user, AUTH
# PLAIN, AUTH LOGIN, three in one connection), hostile user names that try
# to forge the address (USER x,ip=[6.6.6.6], the same with spaces through
# AUTH PLAIN and AUTH LOGIN, a newline that tries to start a log line of its
# own) and a successful login. They become syslog lines and go through
# fail2ban-regex with the stock courier-auth filter, then with the filter
# exactly as examples/fail2ban/jail.d/pop3d.conf makes fail2ban build it
# (backend = systemd, so logtype = journal), taken from "fail2ban-client
# -d". Every failure must match with the client's address, the success
# must not, and 6.6.6.6 must never be found as a host. The journal itself
# cannot be read here (no journald on the test machines): the jail's
# journalmatch is only checked as fail2ban parses it.
# Runs as root (privilege separation, a test uid) and as a normal user.
# POP3D=path overrides the binary (default ./pop3d); KEEP_TMP=1 keeps the
# temporary directory. Last line: "N passed, M failed".
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh disable=SC1091
. tests/lib.sh

FILTER=/etc/fail2ban/filter.d/courier-auth.conf
JAIL=examples/fail2ban/jail.d/pop3d.conf
PASSWORD='correct horse'

clean_up_on_exit

# --- what the test needs (fail2ban: only its tools; no service is started)
if ! scripts/deps fail2ban python3 whois; then
	fail "prerequisite: the Debian package fail2ban is missing"
fi
need fail2ban-regex fail2ban-client python3
[ -r "$FILTER" ] || fail "prerequisite: $FILTER is missing"
need_pop3d
prerequisites_met

make_tmp fail2ban mail

# --- accounts: as root a test uid and privilege separation (nobody, an
# empty root-owned directory); otherwise ourselves.
test_accounts "$PASSWORD"
passwd_line alice Alice >"$tmp/passwd"
printf 'From x@example.org  Tue Nov 25 10:00:00 2025\nSubject: hi\n\nhi\n' \
	>"$tmp/mail/alice"
seal_maildrops

# --- the sessions: each case is one pop3d, all at once (every failure
# costs 2 s). Its stdin/stdout is a real TCP connection on 127.0.0.1 or a
# socketpair with REMOTE_ADDR set, as stunnel in exec mode would.
# Writes $tmp/raw (stderr lines, "TAG<TAB>line") and $tmp/cases.
cat >"$tmp/sessions.py" <<'EOF'
import base64, os, socket, subprocess, sys, threading

pop3d, tmp, password = sys.argv[1], sys.argv[2], sys.argv[3]
extra = sys.argv[4:]
HOSTILE = "x, ip=[6.6.6.6]"


def b64(s):
    return base64.b64encode(s.encode()).decode()


# tag, address pop3d sees (None: a TCP connection), expected address,
# LOGIN FAILED lines expected, dialogue: (line to send, reply prefix)
AUTH_FAIL = "-ERR [AUTH]"
cases = [
    ("userpass-tcp", None, "127.0.0.1", 1,
     [("USER alice", "+OK"), ("PASS wrong password", AUTH_FAIL)]),
    ("unknown-user", "192.0.2.7", "192.0.2.7", 1,
     [("USER nosuchuser", "+OK"), ("PASS " + password, AUTH_FAIL)]),
    ("plain-ipv6", "2001:db8::7", "2001:db8::7", 1,
     [("AUTH PLAIN " + b64("\0alice\0wrong"), AUTH_FAIL)]),
    ("login-mapped", "::ffff:192.0.2.8", "192.0.2.8", 1,
     [("AUTH LOGIN", "+ "), (b64("alice"), "+ "), (b64("wrong"), AUTH_FAIL)]),
    ("three-failures", "192.0.2.15", "192.0.2.15", 3,
     [("USER alice", "+OK"), ("PASS wrong1", AUTH_FAIL),
      ("USER alice", "+OK"), ("PASS wrong2", AUTH_FAIL),
      ("USER alice", "+OK"), ("PASS wrong3", AUTH_FAIL), (None, None)]),
    ("hostile-user", "192.0.2.9", "192.0.2.9", 1,
     [("USER x,ip=[6.6.6.6]", "+OK"), ("PASS pw", AUTH_FAIL)]),
    ("hostile-plain", "192.0.2.10", "192.0.2.10", 1,
     [("AUTH PLAIN " + b64("\0" + HOSTILE + "\0pw"), AUTH_FAIL)]),
    ("hostile-plain-authzid", "192.0.2.11", "192.0.2.11", 1,
     [("AUTH PLAIN", "+ "), (b64(HOSTILE + "\0" + HOSTILE + "\0pw"), AUTH_FAIL)]),
    ("hostile-login", "192.0.2.12", "192.0.2.12", 1,
     [("AUTH LOGIN " + b64(HOSTILE), "+ "), (b64("pw"), AUTH_FAIL)]),
    ("hostile-newline", "192.0.2.13", "192.0.2.13", 1,
     [("AUTH PLAIN " + b64("\0a\nNov 26 10:00:00 mail pop3d[1]: "
                           "LOGIN FAILED, user=b, ip=[6.6.6.6]\0pw"),
       AUTH_FAIL)]),
    ("success", "192.0.2.20", None, 0,
     [("USER alice", "+OK"), ("PASS " + password, "+OK"), ("STAT", "+OK 1 ")]),
]

results = {}


def run(tag, addr, dialogue):
    env = dict(os.environ)
    for k in ("REMOTE_ADDR", "REMOTE_HOST", "TCPREMOTEIP"):
        env.pop(k, None)
    if addr is None:
        lsn = socket.create_server(("127.0.0.1", 0))
        me = socket.create_connection(lsn.getsockname(), timeout=20)
        theirs, _ = lsn.accept()
        lsn.close()
    else:
        env["REMOTE_ADDR"] = addr
        me, theirs = socket.socketpair()
        me.settimeout(20)
    with open(os.path.join(tmp, "err." + tag), "wb") as err:
        proc = subprocess.Popen(
            [pop3d, "-d", "-p", os.path.join(tmp, "passwd"),
             "-m", os.path.join(tmp, "mail", "%u")] + extra,
            stdin=theirs, stdout=theirs, stderr=err, env=env)
    theirs.close()
    problems = []
    f = me.makefile("rb")
    try:
        greeting = f.readline().decode(errors="replace")
        if not greeting.startswith("+OK"):
            problems.append("greeting %r" % greeting)
        quit = True
        for line, want in dialogue:
            if line is None:
                # pop3d ends the connection itself (after a third failure)
                quit = False
                rest = f.read().decode(errors="replace")
                if rest and not all(l.startswith("-ERR")
                                    for l in rest.splitlines()):
                    problems.append("after the end: %r" % rest)
                break
            me.sendall(line.encode() + b"\r\n")
            got = f.readline().decode(errors="replace")
            if not got.startswith(want):
                problems.append("%s: %r, not %r" % (line.split()[0], got, want))
                break
        if quit:
            me.sendall(b"QUIT\r\n")
            f.read()
    except OSError as e:
        problems.append("connection: %s" % e)
    me.close()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        problems.append("pop3d did not exit")
    results[tag] = problems


threads = [threading.Thread(target=run, args=(t, a, d))
           for t, a, _, _, d in cases]
for t in threads:
    t.start()
for t in threads:
    t.join()

with open(os.path.join(tmp, "raw"), "w") as raw, \
        open(os.path.join(tmp, "cases"), "w") as out:
    for tag, addr, want, n, _ in cases:
        p = results.get(tag, ["no result"])
        print(("ok " if not p else "fail ") + "session %s: %s" %
              (tag, "the replies expected" if not p else "; ".join(p)))
        out.write("%s %s %d\n" % (tag, want or "-", n))
        with open(os.path.join(tmp, "err." + tag), errors="replace") as e:
            for line in e:
                raw.write("%s\t%s" % (tag, line))
EOF

# --- checks fail2ban-regex's "-o <ip> <msg>" output (one line per match:
# the address, a space, the log line) against the cases; the host field of
# each syslog line is the case's tag.
cat >"$tmp/check.py" <<'EOF'
import re, sys

tmp, label, matches = sys.argv[1], sys.argv[2], sys.argv[3]
cases = {}
for line in open(tmp + "/cases"):
    tag, want, n = line.split()
    cases[tag] = (None if want == "-" else want, int(n))
failed_lines = {}
for line in open(tmp + "/raw"):
    tag, text = line.rstrip("\n").split("\t", 1)
    if "LOGIN FAILED," in text:
        failed_lines[tag] = failed_lines.get(tag, 0) + 1

got = {}
bad = []
for line in open(matches):
    line = line.rstrip("\n")
    m = re.fullmatch(r"(\S+) \w{3} [ \d]\d \d\d:\d\d:\d\d (\S+) (.*)", line)
    if not m:
        bad.append("unreadable output line %r" % line)
        continue
    ip, tag, text = m.groups()
    got.setdefault(tag, []).append(ip)


def check(cond, what):
    print(("ok " if cond else "fail ") + label + ": " + what)


for tag, (want, n) in cases.items():
    ips = got.get(tag, [])
    if n == 0:
        check(not ips, "%s: the successful login matches nothing%s"
              % (tag, "" if not ips else " (got %s)" % ips))
    else:
        check(ips == [want] * n and failed_lines.get(tag, 0) == n,
              "%s: %d failure(s) found, host %s (got %s, pop3d logged %d)"
              % (tag, n, want, ips, failed_lines.get(tag, 0)))
every = [ip for ips in got.values() for ip in ips]
check("6.6.6.6" not in every, "6.6.6.6 is never found as a host")
check(set(got) <= set(cases), "no match outside the cases: %s"
      % sorted(set(got) - set(cases)))
check(not bad, "fail2ban-regex output parsed: %s" % bad)
EOF

echo "# pop3d ($POP3D) as uid $(id -u); $(fail2ban-regex --version 2>/dev/null | tail -n 1)"
# shellcheck disable=SC2086 # privsep: several words, no spaces in them
if ! python3 "$tmp/sessions.py" "$POP3D" "$tmp" "$PASSWORD" $privsep \
	>"$tmp/sessions.out" 2>&1; then
	echo "fail the session driver stopped" >>"$tmp/sessions.out"
fi
count_results "$tmp/sessions.out"

# pop3d's own lines: hostile names escaped, no forged address anywhere.
if grep -q 'LOGIN FAILED, user=x\\x2c\\x20ip\\x3d\\x5b6\.6\.6\.6\\x5d, method=PLAIN, ip=\[192\.0\.2\.10\]$' "$tmp/raw" &&
	grep -q 'LOGIN FAILED, user=x\\x2cip\\x3d\\x5b6\.6\.6\.6\\x5d, ip=\[192\.0\.2\.9\]$' "$tmp/raw"; then
	ok "pop3d logs the hostile names escaped as \\xNN"
else
	fail "pop3d's hostile-name lines are not as expected:"
	grep 'hostile' "$tmp/raw" | sed 's/^/  /'
fi
if grep -q 'ip=\[6\.6\.6\.6\]' "$tmp/raw"; then
	fail "a log line carries ip=[6.6.6.6]"
else
	ok "no log line carries ip=[6.6.6.6]"
fi
if grep -q '^success	pop3d\[[0-9]*\]: LOGIN, user=alice, ip=\[192\.0\.2\.20\]$' "$tmp/raw"; then
	ok "the successful login is logged as LOGIN with its address"
else
	fail "no LOGIN line for the successful login"
fi

# As syslog writes them to /var/log/mail.log: date, host (the tag), line.
now=$(LC_ALL=C date '+%b %e %H:%M:%S')
awk -F '\t' -v now="$now" '{ print now " " $1 " " $2 }' "$tmp/raw" >"$tmp/mail.log"
nfailed=$(grep -c 'LOGIN FAILED,' "$tmp/mail.log" || true)

# fail2ban-regex's summary: "Lines: N lines, I ignored, M matched, X missed".
summary_matched() {
	sed -n 's/^Lines: [0-9]* lines, [0-9]* ignored, \([0-9]*\) matched, [0-9]* missed.*/\1/p' "$1"
}

# --- 1. the stock filter file
if fail2ban-regex -o '<ip> <msg>' "$tmp/mail.log" "$FILTER" \
	>"$tmp/stock.out" 2>"$tmp/stock.err"; then
	python3 "$tmp/check.py" "$tmp" courier-auth "$tmp/stock.out" \
		>"$tmp/check.out" 2>&1 ||
		echo "fail courier-auth: the check stopped" >>"$tmp/check.out"
	count_results "$tmp/check.out"
else
	fail "fail2ban-regex with $FILTER: $(cat "$tmp/stock.err")"
fi
fail2ban-regex "$tmp/mail.log" "$FILTER" >"$tmp/stock.sum" 2>&1 || true
if [ "$(summary_matched "$tmp/stock.sum")" = "$nfailed" ] && [ "$nfailed" -ge 12 ]; then
	ok "courier-auth: fail2ban-regex's summary counts $nfailed matched lines, as many as LOGIN FAILED lines"
else
	fail "courier-auth: summary says '$(grep '^Lines:' "$tmp/stock.sum")', expected $nfailed matched"
fi

# The test is not vacuous: the same filter does take the address from a
# name that is not escaped (what pop3d must never write).
printf '%s mail pop3d[1]: LOGIN FAILED, user=x, ip=[6.6.6.6], ip=[192.0.2.99]\n' \
	"$now" >"$tmp/forged.log"
if fail2ban-regex -o ip "$tmp/forged.log" "$FILTER" 2>/dev/null |
	grep -qx '6\.6\.6\.6'; then
	ok "control: an unescaped name would make courier-auth find 6.6.6.6"
else
	fail "control: courier-auth did not fall for an unescaped name"
fi

# --- 2. the example jail, as fail2ban reads it: a copy of /etc/fail2ban
# with only this jail enabled, dumped by "fail2ban-client -d" (no server)
mkdir "$tmp/etc"
cp -r /etc/fail2ban "$tmp/etc/fail2ban"
rm -rf "$tmp/etc/fail2ban/jail.d" "$tmp/etc/fail2ban/jail.local"
mkdir "$tmp/etc/fail2ban/jail.d"
cp "$JAIL" "$tmp/etc/fail2ban/jail.d/pop3d.conf"
if fail2ban-client -c "$tmp/etc/fail2ban" -d >"$tmp/dump" 2>"$tmp/dump.err"; then
	ok "fail2ban-client reads the example jail"
else
	fail "fail2ban-client -d with the example jail: $(cat "$tmp/dump.err")"
fi
python3 - "$tmp" >"$tmp/jail.out" 2>&1 <<'EOF' ||
import ast, sys
tmp = sys.argv[1]
cmds = []
for line in open(tmp + "/dump"):
    line = line.strip()
    if line.startswith("["):
        try:
            cmds.append(ast.literal_eval(line))
        except (ValueError, SyntaxError):
            pass
jail = [c for c in cmds if len(c) > 1 and c[1] == "pop3d"]


def check(cond, what):
    print(("ok " if cond else "fail ") + "example jail: " + what)


def opt(name):
    return [c[3:] for c in jail if c[0] == "set" and c[2] == name]


check(["add", "pop3d", "systemd"] in jail, "backend systemd")
check(opt("addjournalmatch") == [["SYSLOG_IDENTIFIER=pop3d", "SYSLOG_FACILITY=2"]],
      "journalmatch SYSLOG_IDENTIFIER=pop3d SYSLOG_FACILITY=2: %s"
      % opt("addjournalmatch"))
check(["start", "pop3d"] in jail, "the jail is enabled")
actions = [c[3:] for c in jail if c[0] == "multi-set" and c[2] == "action"]
check(len(actions) == 1 and actions[0][0] == "nftables-multiport" and
      ["port", "110,995"] in actions[0][1],
      "bans with nftables-multiport on ports 110,995: %s"
      % [(a[0], [o for o in a[1] if o[0] == "port"]) for a in actions])
regexes = opt("addfailregex")
check(len(regexes) == 1 and "LOGIN FAILED" in regexes[0][0],
      "one failregex, courier-auth's")
# logtype=journal: no syslog date/host prefix in front of the daemon.
check(bool(regexes) and "<[^.]+\\.[^.]+>" not in regexes[0][0],
      "the filter is read with logtype = journal")
with open(tmp + "/jail.regex", "w") as f:
    f.write(regexes[0][0] if regexes else "NO REGEX")
dp = opt("datepattern")
with open(tmp + "/jail.datepattern", "w") as f:
    f.write(dp[0][0] if dp else "")
EOF
	echo "fail example jail: the check stopped" >>"$tmp/jail.out"
count_results "$tmp/jail.out"

# As the systemd backend hands lines to the filter: "HOST IDENT[PID]: MSG"
# (formatJournalEntry), with the date given apart; a date in front stands
# in for it here.
if fail2ban-regex -o '<ip> <msg>' -d "$(cat "$tmp/jail.datepattern")" \
	"$tmp/mail.log" "$(cat "$tmp/jail.regex")" \
	>"$tmp/jail.match" 2>"$tmp/jail.err"; then
	python3 "$tmp/check.py" "$tmp" "example jail's filter" "$tmp/jail.match" \
		>"$tmp/check2.out" 2>&1 ||
		echo "fail example jail's filter: the check stopped" >>"$tmp/check2.out"
	count_results "$tmp/check2.out"
else
	fail "fail2ban-regex with the example jail's failregex: $(cat "$tmp/jail.err")"
fi

if any_failed; then
	echo "# pop3d's lines:"
	sed 's/^/  /' "$tmp/mail.log"
	echo "# fail2ban-regex matches (stock filter):"
	sed 's/^/  /' "$tmp/stock.out" 2>/dev/null || true
fi
summary
