# SPDX-License-Identifier: ISC
# Perl's Net::POP3 against pop3d, for tests/t-fetch-clients.sh.
# Usage: perl fetch-netpop3.pl PORT APOP-PORT TMP PASSWORD SECRET
# PORT serves dave (USER/PASS), APOP-PORT (--apop-secrets) carol (APOP
# only). TMP holds what tests/clients/fetch-maildrop.py wrote and the
# maildrops (TMP/mail/USER). Prints "ok ..."/"fail ..." lines.
use strict;
use warnings;
use Net::POP3;

my ($port, $apop_port, $tmp, $password, $secret) = @ARGV;
my $DELE = 2;    # fetch-maildrop.py's DELE_K

sub slurp {
	my ($path) = @_;
	open(my $fh, "<:raw", $path) or die "$path: $!";
	local $/;
	return scalar <$fh>;
}

my @sizes = map { (split)[1] } split(/\n/, slurp("$tmp/sizes"));
my $n = @sizes;
my $total = 0;
$total += $_ for @sizes;
my @expect = map { slurp("$tmp/expect/$_") } 1 .. $n;

sub check {
	my ($good, $what) = @_;
	print(($good ? "ok" : "fail") . " Net::POP3: $what\n");
	return $good;
}

sub pop3 {
	my ($p) = @_;
	return Net::POP3->new("127.0.0.1", Port => $p, Timeout => 15)
	    || die "Net::POP3: cannot connect to 127.0.0.1:$p: $@";
}

# Net::Cmd hands over lines with "\n" and the dots unstuffed; RETR sent
# every line with CRLF.
sub crlf {
	my ($lines) = @_;
	return undef unless $lines;
	(my $s = join("", @$lines)) =~ s/\n/\r\n/g;
	return $s;
}

# get() of every message: as many octets as LIST said, as stored.
sub get_all {
	my ($pop, $how) = @_;
	my $list = $pop->list || {};
	check(join(" ", map { $list->{$_} // "-" } 1 .. $n) eq "@sizes",
	    "$how: list() sizes are the octets of each message as RETR sends it");
	my @bad;
	for my $i (1 .. $n) {
		my $got = crlf($pop->get($i));
		push(@bad, $i . ":" . (defined $got ? length($got) : "undef"))
		    unless defined $got && length($got) == $list->{$i} &&
		    $got eq $expect[$i - 1];
	}
	check(!@bad, "$how: get() of all $n messages, each as many octets " .
	    "as list() said and byte for byte as stored" .
	    (@bad ? " (wrong: @bad)" : ""));
}

# --- USER/PASS on the plain server: dave
my $pop = pop3($port);
check(($pop->banner // "") !~ /</, "no APOP timestamp in the banner: " .
    ($pop->banner // "(none)") =~ s/\s+\z//r);
my $count = $pop->login("dave", $password);
check(defined $count && $count == $n,
    "login() (USER/PASS) says $n messages: " . ($count // "undef"));
my ($stat_n, $stat_size) = $pop->popstat;
check(($stat_n // -1) == $n && ($stat_size // -1) == $total,
    "popstat() is $n messages of $total octets");
get_all($pop, "login()");

my @bad;
for my $i (1 .. $n) {
	my $head = substr($expect[$i - 1], 0,
	    index($expect[$i - 1], "\r\n\r\n") + 4);
	my $got = crlf($pop->top($i, 0));
	push(@bad, $i) unless defined $got && $got eq $head;
}
check(!@bad, "top(n, 0) of every message is its header and the empty line" .
    (@bad ? " (wrong: @bad)" : ""));
{
	my $e = $expect[4];
	my $end = index($e, "\r\n\r\n") + 4;
	$end = index($e, "\r\n", $end) + 2 for 1 .. 3;
	check((crlf($pop->top(5, 3)) // "") eq substr($e, 0, $end),
	    "top(5, 3) is the header and three body lines of the 300 KB message");
}
check((crlf($pop->top(5, 99999999)) // "") eq $expect[4],
    "top(5, 99999999) is the whole 300 KB message");

my $uidl = $pop->uidl || {};
my @ids = map { $uidl->{$_} // "" } 1 .. $n;
my %seen;
$seen{$_}++ for @ids;
check(keys(%seen) == $n && !grep(!/\A[\x21-\x7e]{1,70}\z/, @ids),
    "uidl(): $n unique ids of 1-70 printable characters");
check($ids[5] ne $ids[6], "uidl(): the two identical messages have " .
    "different ids: $ids[5] $ids[6]");
check(($pop->uidl(7) // "") eq $ids[6], "uidl(7) is the id uidl() gave");

check($pop->delete($DELE), "delete($DELE)");
check(!defined $pop->list($DELE), "list($DELE) fails after delete($DELE)");
check($pop->quit, "quit()");
check(slurp("$tmp/mail/dave") eq slurp("$tmp/after-dele-$DELE"),
    "delete($DELE) + quit() removed exactly message $DELE from the mbox file");

$pop = pop3($port);
$count = $pop->login("dave", $password);
check(defined $count && $count == $n - 1,
    "next session: " . ($count // "undef") . " messages, one fewer");
$uidl = $pop->uidl || {};
my @left = @ids;
splice(@left, $DELE - 1, 1);
check(join(" ", map { $uidl->{$_} // "-" } 1 .. $n - 1) eq "@left",
    "next session: the other messages keep their ids, in order");
check($pop->quit, "quit()");

# --- APOP on the server with --apop-secrets: carol
$pop = pop3($apop_port);
check(($pop->banner // "") =~ /<[^<>]+\@[^<>]+>/,
    "the banner of the --apop-secrets server has a timestamp: " .
    ($pop->banner // "(none)") =~ s/\s+\z//r);
$count = $pop->apop("carol", $secret);
check(defined $count && $count == $n,
    "apop() says $n messages: " . ($count // "undef"));
get_all($pop, "apop()");
check($pop->quit, "quit() after apop()");
