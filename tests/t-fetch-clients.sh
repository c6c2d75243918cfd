#!/bin/sh
# SPDX-License-Identifier: ISC
# End to end with the mail fetchers people run: fetchmail, getmail6, Perl's
# Net::POP3 and Python's poplib fetch a maildrop with every edge (dot lines,
# ">From " lines, multipart, 300 KB, UTF-8 in a header, two byte-identical
# messages) from pop3d run by a real superserver (systemd-socket-activate
# --inetd --accept, one process per connection) on 127.0.0.1 and free
# ports: one plain instance, one with --apop-secrets. What each client
# stored is compared byte for byte with the stored messages (LF -> CRLF,
# as RETR sends them), less only the trace headers that client adds; the
# mbox files are compared after every run. Runs as root (privilege
# separation, a test uid owning the maildrops) and as a normal user
# (everything as that user). POP3D=path overrides ./pop3d; KEEP_TMP=1
# keeps the temporary directory. Last line: "N passed, M failed".
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh disable=SC1091
. tests/lib.sh

PASSWORD='correct horse'          # PASS takes the rest of the line
SECRET='open sesame'              # carol's APOP secret
CLIENTS=tests/clients
# Every client run is bounded; the clients' own timeouts are shorter.
LIMIT=45

clean_up_on_exit

# --- what the test needs, as Debian packages (scripts/deps installs those
# missing): fetchmail, getmail6, and perl for Net::POP3 (libnet) and
# Digest::MD5 (libnet-perl is only a name perl provides)
if ! scripts/deps fetchmail getmail6 perl; then
	fail "prerequisite: scripts/deps could not install fetchmail getmail6 perl"
fi
need fetchmail getmail perl python3 systemd-socket-activate timeout
need_perl_modules Net::POP3 Digest::MD5
need_pop3d
prerequisites_met

make_tmp fetch mail home
chmod 0700 "$tmp/home"

# --- the maildrop (tmp/mbox) and what RETR must send (tmp/expect/N);
# every user gets a copy: alice for fetchmail, bob for getmail, dave for
# Net::POP3, carol (APOP only) for APOP with all three
python3 "$CLIENTS/fetch-maildrop.py" "$tmp"
count=$(wc -l <"$tmp/sizes")
for u in alice bob carol dave; do
	cp "$tmp/mbox" "$tmp/mail/$u"
done

# --- accounts: as root a test uid that owns the maildrops, and privilege
# separation (nobody, an empty root-owned directory); otherwise ourselves.
test_accounts "$PASSWORD"
for u in alice bob carol dave; do
	passwd_line "$u" "$u"
done >"$tmp/passwd"
# carol logs in with APOP only; the file is the server's own, 0600
echo "carol:$SECRET" >"$tmp/apop-secrets"
chmod 0600 "$tmp/apop-secrets"
seal_maildrops

# --- the superservers
serve_pop3d "$tmp/plain.log"
port=$activated_port
serve_pop3d "$tmp/apop.log" --apop-secrets="$tmp/apop-secrets"
apop_port=$activated_port
echo "# pop3d ($POP3D) via systemd-socket-activate on 127.0.0.1:$port" \
	"and, with --apop-secrets, :$apop_port; as uid $(id -u), mailbox uid" \
	"$uid, $count messages"

# mailbox_is USER FILE WHAT: USER's mbox is byte for byte FILE.
mailbox_is() {
	if cmp -s "$2" "$tmp/mail/$1"; then
		ok "$3"
	else
		fail "$3: $(cmp "$2" "$tmp/mail/$1" 2>&1 || true)"
	fi
}

# compare LABEL KIND WHERE NAME...: what the client stored in WHERE is
# tmp/expect/NAME... ("all": 1 to count), less its trace headers; see
# tests/clients/fetch-compare.py.
compare() {
	_c_label=$1 _c_kind=$2 _c_where=$3
	shift 3
	python3 "$CLIENTS/fetch-compare.py" "$_c_label" "$_c_kind" "$_c_where" \
		"$tmp/expect" "$@" >"$tmp/compare.out" 2>&1 ||
		echo "fail $_c_label: fetch-compare.py stopped" >>"$tmp/compare.out"
	count_results "$tmp/compare.out"
}

# sizes_are WHAT FILE NAME...: FILE holds the sizes a client got from
# LIST, one a line, as its log shows them: they are the octets of
# tmp/expect/NAME... ("all": 1 to count), which is what RETR sends.
sizes_are() {
	_sa_what=$1 _sa_file=$2
	shift 2
	for _sa_n in "$@"; do
		if [ "$_sa_n" = all ]; then
			_sa_i=1
			while [ "$_sa_i" -le "$count" ]; do
				wc -c <"$tmp/expect/$_sa_i"
				_sa_i=$((_sa_i + 1))
			done
		else
			wc -c <"$tmp/expect/$_sa_n"
		fi
	done >"$tmp/sizes.want"
	if cmp -s "$tmp/sizes.want" "$_sa_file"; then
		ok "$_sa_what: the sizes LIST gave it ($(wc -l <"$_sa_file"), from its log) are the octets RETR sends"
	else
		fail "$_sa_what: the sizes LIST gave it, $(tr '\n' ' ' <"$_sa_file")," \
			"are not the octets RETR sends, $(tr '\n' ' ' <"$tmp/sizes.want")"
	fi
}

# ============================== fetchmail
# Its own rc file (0600, as fetchmail demands), pid and id files in the
# temporary directory, no syslog, no daemon; an MDA that writes each
# message to the next numbered file. As root fetchmail runs the MDA as
# FETCHMAILUSER: ourselves. fetchmail 6.4 sends STLS before a password,
# advertised or not, and gives up when it is refused: --sslproto ""
# lets it log in without TLS (pop3d has none; stunnel adds it). Exit
# statuses (fetchmail(1)): 0 mail fetched, 1 no mail, 3 authentication
# failed.
mkdir "$tmp/fm"
cat >"$tmp/fm/mda.sh" <<'EOF'
# fetchmail's MDA: standard input to DIR/N, N = 1, 2, ... in order.
n=$(($(ls "$1" | wc -l) + 1))
cat >"$1/$n"
EOF
FETCHMAILUSER=$(id -un)
export FETCHMAILUSER

# fm_run NAME USER PASSWORD PORT PROTOCOL OPTION...: one fetchmail run;
# the messages land in tmp/fm/NAME, its output in tmp/fm/NAME.log, its
# exit status in fm_status.
fm_run() {
	_name=$1 _user=$2 _pass=$3 _port=$4 _proto=$5
	shift 5
	mkdir "$tmp/fm/$_name"
	cat >"$tmp/fm/$_name.rc" <<EOF
poll 127.0.0.1 protocol $_proto service $_port timeout 20
	user "$_user" password "$_pass"
EOF
	chmod 0600 "$tmp/fm/$_name.rc"
	fm_status=0
	HOME=$tmp/home timeout "$LIMIT" fetchmail -f "$tmp/fm/$_name.rc" \
		--nosyslog --pidfile "$tmp/fm/pid" --norewrite --sslproto "" -v \
		--mda "sh $tmp/fm/mda.sh $tmp/fm/$_name" "$@" \
		>"$tmp/fm/$_name.log" 2>&1 || fm_status=$?
}

# fm_fetched NAME STATUS WHAT EXPECTED...: the run ended with STATUS, was
# told the right sizes, and stored exactly the EXPECTED messages (names in
# tmp/expect, as compare takes them).
fm_fetched() {
	_name=$1 _want=$2 _what=$3
	shift 3
	if [ "$fm_status" -eq "$_want" ]; then
		ok "fetchmail $_what: exit status $_want"
	else
		fail "fetchmail $_what: exit status $fm_status, not $_want"
		sed 's/^/    /' "$tmp/fm/$_name.log" | tail -n 15
	fi
	# "reading message alice@127.0.0.1:1 of 8 (429 octets) ...", and a
	# complaint when RETR's "+OK N octets" differs from LIST
	sed -n 's/^reading message .* (\([0-9]*\) octets).*/\1/p' \
		"$tmp/fm/$_name.log" >"$tmp/fm/$_name.sizes"
	if grep -q 'expected length' "$tmp/fm/$_name.log"; then
		fail "fetchmail $_what: $(grep 'expected length' "$tmp/fm/$_name.log")"
	fi
	sizes_are "fetchmail $_what" "$tmp/fm/$_name.sizes" "$@"
	compare "fetchmail $_what" fetchmail "$tmp/fm/$_name" "$@"
}

idfile=$tmp/fm/fetchids
fm_run keep alice "$PASSWORD" "$port" POP3 --auth password --keep \
	--uidl --idfile "$idfile"
fm_fetched keep 0 "--keep --uidl --auth password (all)" all
mailbox_is alice "$tmp/mbox" \
	"fetchmail --keep left alice's mbox byte for byte unchanged"
if grep -q 'POP3> USER alice' "$tmp/fm/keep.log"; then
	ok "fetchmail --auth password logged in with USER/PASS"
else
	fail "fetchmail --auth password did not send USER"
fi

fm_run again alice "$PASSWORD" "$port" POP3 --keep --uidl \
	--idfile "$idfile"
fm_fetched again 1 "second --keep --uidl run (nothing new)"
mailbox_is alice "$tmp/mbox" "fetchmail: alice's mbox still unchanged"

# an MDA appends one message (as root it stays the test uid's file)
cat "$tmp/new.mbox" >>"$tmp/mail/alice"
cat "$tmp/mbox" "$tmp/new.mbox" >"$tmp/mbox+new"
fm_run new alice "$PASSWORD" "$port" POP3 --keep --uidl \
	--idfile "$idfile"
fm_fetched new 0 "third --keep --uidl run (only the appended one)" new
mailbox_is alice "$tmp/mbox+new" \
	"fetchmail: alice's mbox is still the old one plus the new one"

fm_run wrong alice "wrong password" "$port" POP3 --auth password --keep
if [ "$fm_status" -eq 3 ] && [ -z "$(ls "$tmp/fm/wrong")" ] &&
	grep -q '^fetchmail: POP3< -ERR \[AUTH\]' "$tmp/fm/wrong.log"; then
	ok "fetchmail with a wrong password: -ERR [AUTH], exit status 3 (authentication failed)"
else
	fail "fetchmail with a wrong password: exit status $fm_status"
	sed 's/^/    /' "$tmp/fm/wrong.log" | tail -n 15
fi
if grep -Fq 'LOGIN FAILED, user=alice, ip=[127.0.0.1]' "$tmp/plain.log"; then
	ok "pop3d logged: LOGIN FAILED, user=alice, ip=[127.0.0.1]"
else
	fail "pop3d did not log LOGIN FAILED for alice"
fi
mailbox_is alice "$tmp/mbox+new" \
	"fetchmail: a failed login leaves alice's mbox unchanged"

fm_run delete alice "$PASSWORD" "$port" POP3 --all
fm_fetched delete 0 "delete mode --all (every message, then DELE)" \
	all new
if [ -f "$tmp/mail/alice" ] && [ ! -s "$tmp/mail/alice" ]; then
	ok "fetchmail delete mode left alice's mbox empty (0 bytes)"
else
	fail "alice's mbox after the delete run: $(wc -c <"$tmp/mail/alice" 2>&1) bytes"
fi

# APOP: fetchmail's protocol APOP (its --auth has no apop value)
fm_run apop carol "$SECRET" "$apop_port" APOP --keep
fm_fetched apop 0 "protocol APOP --keep (all)" all
mailbox_is carol "$tmp/mbox" \
	"fetchmail APOP --keep left carol's mbox unchanged"

# ============================== getmail6
# rc files of SimplePOP3Retriever with an Mboxrd (keep) or a Maildir
# (delete) destination, each run with its own --getmaildir, where getmail
# keeps the UIDLs it has seen. getmail refuses to deliver as root: then
# its destination names a user (nobody) that it delivers as.
mkdir -m 0755 "$tmp/gm"
gm_user=""
if [ "$(id -u)" -eq 0 ]; then
	gm_user="user = nobody"
fi

# gm_run NAME STATE DESTINATION-TYPE PATH DELETE: one getmail run with rc
# file tmp/gm/NAME.rc and --getmaildir tmp/gm/STATE; output in
# tmp/gm/NAME.log, exit status in gm_status.
gm_run() {
	mkdir -p "$tmp/gm/$2"
	cat >"$tmp/gm/$1.rc" <<EOF
[retriever]
type = SimplePOP3Retriever
server = 127.0.0.1
port = $port
username = bob
password = $PASSWORD
timeout = 20

[destination]
type = $3
path = $4
$gm_user

[options]
read_all = false
delete = $5
verbose = 2
EOF
	gm_status=0
	HOME=$tmp/home timeout "$LIMIT" getmail --rcfile="$tmp/gm/$1.rc" \
		--getmaildir="$tmp/gm/$2" >"$tmp/gm/$1.log" 2>&1 ||
		gm_status=$?
}

# gm_ran NAME WHAT N: the run exited 0, says it retrieved N messages, and
# was told the right size of every message in bob's maildrop (it lists
# them all, retrieved or not).
gm_ran() {
	if [ "$gm_status" -eq 0 ] &&
		grep -q "^  $3 messages* (.*) retrieved" "$tmp/gm/$1.log"; then
		ok "getmail $2: exit status 0, $3 messages retrieved"
	else
		fail "getmail $2: exit status $gm_status:"
		sed 's/^/    /' "$tmp/gm/$1.log" | tail -n 15
	fi
	# "  msg 1/8 (429 bytes) ..."
	sed -n 's/^  msg [0-9]*\/[0-9]* (\([0-9]*\) bytes).*/\1/p' \
		"$tmp/gm/$1.log" >"$tmp/gm/$1.sizes"
	sizes_are "getmail $2" "$tmp/gm/$1.sizes" all
}

: >"$tmp/gm/bob.mbox"
if [ "$(id -u)" -eq 0 ]; then
	chown nobody "$tmp/gm/bob.mbox"
fi
gm_run keep keep.d Mboxrd "$tmp/gm/bob.mbox" false
gm_ran keep "Mboxrd, delete = false (all)" "$count"
compare "getmail Mboxrd" mboxrd "$tmp/gm/bob.mbox" all
mailbox_is bob "$tmp/mbox" "getmail delete = false left bob's mbox unchanged"

cp "$tmp/gm/bob.mbox" "$tmp/gm/bob.mbox.first"
gm_run again keep.d Mboxrd "$tmp/gm/bob.mbox" false
gm_ran again "second run, same --getmaildir (nothing new)" 0
if grep -q 'uniquely identify' "$tmp/gm/keep.log" "$tmp/gm/again.log"; then
	fail "getmail: the UIDLs do not identify messages uniquely"
elif cmp -s "$tmp/gm/bob.mbox.first" "$tmp/gm/bob.mbox"; then
	ok "getmail's second run added nothing: UIDLs unique (two identical messages) and stable"
else
	fail "getmail's second run changed its mbox"
fi
mailbox_is bob "$tmp/mbox" "getmail: bob's mbox still unchanged"

mkdir -p "$tmp/gm/maildir/new" "$tmp/gm/maildir/cur" "$tmp/gm/maildir/tmp"
if [ "$(id -u)" -eq 0 ]; then
	chown -R nobody "$tmp/gm/maildir"
fi
gm_run delete delete.d Maildir "$tmp/gm/maildir/" true
gm_ran delete "Maildir, delete = true, a new --getmaildir (all)" "$count"
compare "getmail Maildir" maildir "$tmp/gm/maildir" all
if [ -f "$tmp/mail/bob" ] && [ ! -s "$tmp/mail/bob" ]; then
	ok "getmail delete = true left bob's mbox empty (0 bytes)"
else
	fail "bob's mbox after getmail delete = true: $(wc -c <"$tmp/mail/bob" 2>&1) bytes"
fi

# ============================== Net::POP3 (perl) and poplib (python)
if ! timeout "$LIMIT" perl "$CLIENTS/fetch-netpop3.pl" "$port" "$apop_port" \
	"$tmp" "$PASSWORD" "$SECRET" >"$tmp/perl.out" 2>&1; then
	echo "fail Net::POP3: the script stopped" >>"$tmp/perl.out"
fi
count_results "$tmp/perl.out"

if ! timeout "$LIMIT" python3 "$CLIENTS/fetch-poplib.py" "$port" \
	"$apop_port" "$tmp" "$PASSWORD" "$SECRET" >"$tmp/py.out" 2>&1; then
	echo "fail poplib: the script stopped" >>"$tmp/py.out"
fi
count_results "$tmp/py.out"
mailbox_is carol "$tmp/mbox" \
	"three APOP clients in keep mode left carol's mbox unchanged"

# ============================== the servers' logs
# fetchmail, Net::POP3, poplib
logged_times 3 "$tmp/apop.log" "LOGIN, user=carol, method=APOP"
logged_times 1 "$tmp/apop.log" "LOGIN FAILED, user=carol, method=APOP"
logged_times 1 "$tmp/apop.log" "LOGIN FAILED, user=carol"
if grep -Fq -e "$PASSWORD" -e "$SECRET" "$tmp/plain.log" "$tmp/apop.log"; then
	fail "a password or the APOP secret is in the log"
else
	ok "neither the password nor the APOP secret is in the log"
fi

# Every session ended cleanly (exit status 0); the last ones may still be
# exiting: wait up to 5 s until every spawned process is reaped.
for log in "$tmp/plain.log" "$tmp/apop.log"; do
	reaped=yes
	all_reaped "$log" || reaped=""
	name=$(basename "$log" .log)
	if bad_exits "$log" >/dev/null; then
		fail "a pop3d process of the $name server ended badly:"
		bad_exits "$log" | sed 's/^/  /'
	elif [ -z "$reaped" ]; then
		fail "pop3d processes of the $name server still running after 5 s"
	else
		ok "every pop3d process of the $name server exited with status 0" \
			"($(grep -c '^Spawned' "$log") sessions)"
	fi
done

if any_failed; then
	for log in "$tmp/plain.log" "$tmp/apop.log"; do
		echo "# $(basename "$log"), launcher and pop3d:"
		grep -v '^Execing\|^Communication attempt' "$log" |
			sed 's/^/  /' | tail -n 40
	done
fi
summary
