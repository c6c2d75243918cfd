#!/bin/sh
# SPDX-License-Identifier: ISC
# SASL with real clients: curl (AUTH PLAIN with and without an initial
# response, AUTH LOGIN with and without one, authzid) and Perl's Net::POP3
# (auth() through Authen::SASL, PLAIN and LOGIN; login() for USER/PASS)
# list and fetch a small maildrop from pop3d run by a real superserver
# (systemd-socket-activate --inetd --accept on 127.0.0.1, a free port).
# Runs as root (privilege separation, a test uid owning the maildrop) and
# as a normal user. POP3D=path overrides ./pop3d; KEEP_TMP=1 keeps the
# temporary directory. Last line: "N passed, M failed".
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh disable=SC1091
. tests/lib.sh

# A space and UTF-8 (e acute) in the password; the URL form is for curl.
PASSWORD=$(printf 's\303\251same ouvre-toi')
PASSWORD_URL='s%C3%A9same%20ouvre-toi'

clean_up_on_exit

# --- prerequisites: Authen::SASL is package libauthen-sasl-perl
need curl perl python3 systemd-socket-activate
need_perl_modules Net::POP3 Authen::SASL
need_pop3d
prerequisites_met

make_tmp sasl mail expect got

# --- alice's maildrop: byte-stuffed lines, 8-bit, no final newline. For
# each message the bytes RETR must send (LF -> CRLF, the last line ended)
# and "n size" as LIST must say it.
stored() {
	case $1 in
	1) printf 'Subject: one\n\nHello over SASL.\n' ;;
	2) printf 'Subject: dots\n\n.leading dot\n.\n..\nend\n' ;;
	3)
		printf 'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\n\n'
		printf 'Gr\303\274\303\237e\n\nno newline'
		;;
	esac
}
count=3
: >"$tmp/sizes"
for i in 1 2 3; do
	printf 'From sender@example.org  Mon Nov 24 09:0%s:00 2025\n' "$i"
	stored "$i"
	# the blank separator line, none after the last message
	[ "$i" -eq 3 ] || printf '\n'
	{ stored "$i"; [ "$i" -ne 3 ] || printf '\n'; } | sed 's/$/\r/' \
		>"$tmp/expect/$i"
	echo "$i $(wc -c <"$tmp/expect/$i")" >>"$tmp/sizes"
done >"$tmp/mail/alice"

# --- the passwd file; as root the maildrop belongs to an unused uid and
# the pre-login child runs as nobody in an empty directory
test_accounts "$PASSWORD"
passwd_line alice Alice >"$tmp/passwd"
seal_maildrops

# --- the superserver
serve_pop3d "$tmp/server.log"
port=$activated_port
echo "# $POP3D via systemd-socket-activate on 127.0.0.1:$port, as uid" \
	"$(id -u), maildrop uid $uid"

# --- curl: one connection per run (LIST, then RETR of every message),
# its SASL exchange checked in curl's own trace
url="pop3://alice:$PASSWORD_URL@127.0.0.1:$port"

# sasl_curl NAME TRACE-PATTERN [CURL-OPTION...]: the run logs in as its
# trace shows (an extended regular expression), LIST and RETR are right.
sasl_curl() {
	name=$1
	pattern=$2
	shift 2
	dir="$tmp/got/$name"
	mkdir "$dir"
	set -- "$@" "$url/" -o "$dir/list"
	for i in $(seq "$count"); do
		set -- "$@" "$url/$i" -o "$dir/$i"
	done
	if ! pop3curl -v "$@" 2>"$dir/trace"; then
		fail "curl $name: $(grep '^curl:' "$dir/trace")"
		return
	fi
	tr -d '\r' <"$dir/trace" >"$dir/trace.lf"
	if grep -Eq "$pattern" "$dir/trace.lf" &&
		[ "$(grep -c '^> AUTH' "$dir/trace.lf")" -eq 1 ]; then
		ok "curl $name: one AUTH, as wanted"
	else
		fail "curl $name: the exchange differs:"
		grep '^[<>] ' "$dir/trace.lf" | sed 's/^/  /' | head -n 20
	fi
	for i in $(seq "$count"); do
		cmp -s "$tmp/expect/$i" "$dir/$i" ||
			fail "curl $name: RETR $i is not the stored message"
	done
	if tr -d '\r' <"$dir/list" | cmp -s - "$tmp/sizes"; then
		ok "curl $name: LIST sizes and every RETR byte for byte"
	else
		fail "curl $name: LIST is not the sizes of the messages"
	fi
}

b64='[A-Za-z0-9+/]+=*'
sasl_curl plain-ir "^> AUTH PLAIN $b64\$" --sasl-ir
sasl_curl plain "^> AUTH PLAIN\$" --login-options AUTH=PLAIN
sasl_curl login "^< \+ VXNlcm5hbWU6\$" --login-options AUTH=LOGIN
sasl_curl login-ir "^> AUTH LOGIN $b64\$" --login-options AUTH=LOGIN \
	--sasl-ir
sasl_curl authzid-self "^> AUTH PLAIN $b64\$" --sasl-ir --sasl-authzid alice

# Acting as another user is refused (curl: 67, login denied).
status=0
pop3curl --sasl-ir --sasl-authzid bob \
	"$url/1" >/dev/null 2>"$tmp/got/authzid-bob" || status=$?
if [ "$status" -eq 67 ]; then
	ok "curl: PLAIN with the authzid of another user is refused"
else
	fail "curl --sasl-authzid bob: exit status $status"
fi

# --- Net::POP3
cat >"$tmp/net-pop3.pl" <<'EOF'
use strict;
use warnings;
use Authen::SASL;
use Net::POP3;

my ($port, $tmp, $password) = @ARGV;
my @sizes = map { (split)[1] } do {
	open(my $fh, "<", "$tmp/sizes") or die "sizes: $!";
	<$fh>;
};
my @expect = map {
	local $/;
	open(my $fh, "<:raw", "$tmp/expect/$_") or die "expect/$_: $!";
	scalar <$fh>;
} 1 .. @sizes;

sub check {
	my ($good, $what) = @_;
	print(($good ? "ok" : "fail") . " Net::POP3: $what\n");
	return $good;
}

sub pop3 {
	return Net::POP3->new("127.0.0.1", Port => $port, Timeout => 15)
	    || die "connect: $@";
}

# LIST as stored, and every message (Net::Cmd hands over lines with LF).
sub fetch_all {
	my ($pop, $how) = @_;
	my $list = $pop->list || {};
	check(join(" ", map { $list->{$_} // "-" } 1 .. @sizes) eq
	    join(" ", @sizes), "$how: LIST sizes");
	my $same = 1;
	for my $n (1 .. @sizes) {
		my $lines = $pop->get($n) || [];
		(my $got = join("", @$lines)) =~ s/\n/\r\n/g;
		$same &&= $got eq $expect[$n - 1];
	}
	check($same, "$how: every message as stored");
	check($pop->quit, "$how: QUIT");
}

my $pop = pop3();
my $capa = $pop->capa;
check(($capa->{SASL} // "") eq "PLAIN LOGIN" && exists $capa->{USER},
    "CAPA has SASL PLAIN LOGIN and USER");
check(!$pop->auth("alice", "wrong password"),
    "auth() with a wrong password fails: " . $pop->code . " " .
    join("", $pop->message) =~ s/\s+\z//r);
check($pop->auth("alice", $password),
    "auth() with the password, after a failure");
fetch_all($pop, "auth() (PLAIN, authzid = user)");

$pop = pop3();
my $sasl = Authen::SASL->new(mechanism => "LOGIN",
    callback => { user => "alice", pass => $password });
check($pop->auth($sasl), "auth() with Authen::SASL LOGIN");
fetch_all($pop, "auth() LOGIN");

$pop = pop3();
check($pop->command("AUTH")->response == Net::Cmd::CMD_OK &&
    join(",", @{$pop->read_until_dot}) eq "PLAIN\n,LOGIN\n",
    "bare AUTH lists PLAIN and LOGIN");
check(($pop->login("alice", $password) // 0) == @sizes,
    "login() (USER/PASS) after the bare AUTH");
fetch_all($pop, "login()");
EOF
if ! perl "$tmp/net-pop3.pl" "$port" "$tmp" "$PASSWORD" \
	>"$tmp/got/perl" 2>&1; then
	echo "fail Net::POP3: the script stopped" >>"$tmp/got/perl"
fi
count_results "$tmp/got/perl"

# --- the server's log: a line per login naming its method (USER/PASS
# names none; a refused authzid is no login attempt), no password, and
# every pop3d exited 0
logged_times 4 "$tmp/server.log" "LOGIN, user=alice, method=PLAIN"
logged_times 3 "$tmp/server.log" "LOGIN, user=alice, method=LOGIN"
logged_times 1 "$tmp/server.log" "LOGIN, user=alice"
logged_times 1 "$tmp/server.log" "LOGIN FAILED, user=alice, method=PLAIN"
if grep -Fq "$PASSWORD" "$tmp/server.log"; then
	fail "the password is in the log"
else
	ok "the password is not in the log"
fi
# A process that just answered QUIT may still be exiting: up to 5 s.
reaped=yes
all_reaped "$tmp/server.log" || reaped=""
bad=$(bad_exits "$tmp/server.log" || true)
if [ -z "$bad" ] && [ -n "$reaped" ]; then
	ok "every pop3d exited with status 0"
else
	fail "pop3d processes did not all exit 0: $bad"
fi

if any_failed; then
	echo "# server log:"
	tail -n 40 "$tmp/server.log" | sed 's/^/  /'
fi
summary
