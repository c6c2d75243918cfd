#!/bin/sh
# SPDX-License-Identifier: ISC
# make install / make uninstall into a DESTDIR: the tree (files, modes, the
# ExecStart= written for PREFIX), systemd-analyze verify on the installed
# units, the installed manual page free of groff warnings, an existing PAM
# service left alone, and an uninstall that leaves no file and no empty
# directory it made, keeps shared ones and says what it leaves. Also
# PREFIX=/usr and a PREFIX systemd does not search. Never touches the real
# system (every run has a DESTDIR, so no account is created). Runs as root
# and as a normal user. KEEP_TMP=1 keeps the temporary directory. Last
# line: "N passed, M failed".
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh disable=SC1091
. tests/lib.sh

clean_up_on_exit

# --- what the test needs
if ! scripts/deps make systemd man-db groff-base; then
	fail "prerequisite: Debian packages missing (make systemd man-db groff-base)"
fi
need make systemd-analyze man
[ -x pop3d ] || fail "prerequisite: pop3d is not built (make pop3d)"
prerequisites_met

make_tmp install

# Not the jobserver or flags of a "make check" around us. -o pop3d: install
# the binary make check built, never rebuild it here.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEFILES
minstall() {
	make --no-print-directory -o pop3d install "$@"
}
muninstall() {
	make --no-print-directory uninstall "$@"
}

# listing DIR: every non-directory under DIR, "mode path", sorted.
listing() {
	(cd "$1" && find . ! -type d -printf '%m %p\n' | sed 's| \./| |' | sort)
}

# --- 1. PREFIX=/usr/local (the default)
d=$tmp/dest
if minstall DESTDIR="$d" PREFIX=/usr/local >"$tmp/install.out" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr/local"
else
	fail "make install DESTDIR=... PREFIX=/usr/local:"
	sed 's/^/  /' "$tmp/install.out"
fi
cat >"$tmp/want" <<'EOF'
644 etc/pam.d/pop3
644 usr/local/lib/systemd/system/pop3d-recover.service
644 usr/local/lib/systemd/system/pop3d.socket
644 usr/local/lib/systemd/system/pop3d@.service
644 usr/local/share/man/man8/pop3d.8
755 usr/local/sbin/pop3d
EOF
listing "$d" >"$tmp/got"
if cmp -s "$tmp/want" "$tmp/got"; then
	ok "the installed files and their modes, nothing else"
else
	fail "the installed tree is not as expected:"
	diff "$tmp/want" "$tmp/got" | sed 's/^/  /' || true
fi
if cmp -s pop3d "$d/usr/local/sbin/pop3d" &&
	cmp -s pop3d.8 "$d/usr/local/share/man/man8/pop3d.8" &&
	cmp -s pop3d.socket "$d/usr/local/lib/systemd/system/pop3d.socket" &&
	cmp -s pam.d/pop3 "$d/etc/pam.d/pop3"; then
	ok "binary, manual page, socket unit and PAM service are the repository's"
else
	fail "an installed file differs from the repository's"
fi
if [ -d "$d/var/empty" ] && [ -z "$(ls -A "$d/var/empty")" ] &&
	[ "$(stat -c %a "$d/var/empty")" = 755 ]; then
	ok "var/empty: an empty directory, mode 0755"
else
	fail "var/empty: $(ls -ld "$d/var/empty" 2>&1)"
fi
if [ "$(id -u)" -eq 0 ]; then
	if [ -z "$(find "$d" ! -user root -o ! -group root)" ]; then
		ok "everything installed belongs to root:root"
	else
		fail "not root's: $(find "$d" ! -user root -o ! -group root | head -n 3)"
	fi
fi
if grep -qx 'ExecStart=/usr/local/sbin/pop3d' \
	"$d/usr/local/lib/systemd/system/pop3d@.service" &&
	cmp -s pop3d@.service "$d/usr/local/lib/systemd/system/pop3d@.service"; then
	ok "pop3d@.service: ExecStart=/usr/local/sbin/pop3d, as in the repository"
else
	fail "pop3d@.service: $(grep '^ExecStart' "$d/usr/local/lib/systemd/system/pop3d@.service")"
fi
if grep -q 'adduser --system --group --no-create-home --home /nonexistent pop3d' \
	"$tmp/install.out" && grep -q 'must create the privsep account' "$tmp/install.out"; then
	ok "with DESTDIR, install says which account the package must create"
else
	fail "install does not print the privsep account's command"
fi

# systemd-analyze verify: copies whose ExecStart= is the binary in DESTDIR
# (verify checks that it exists and is executable) or a missing one.
mkdir "$tmp/verify" "$tmp/verify-missing"
for f in pop3d.socket pop3d@.service; do
	sed "s|^ExecStart=/usr/local/sbin/pop3d|ExecStart=$d/usr/local/sbin/pop3d|" \
		"$d/usr/local/lib/systemd/system/$f" >"$tmp/verify/$f"
	sed "s|^ExecStart=/usr/local/sbin/pop3d|ExecStart=$tmp/missing/pop3d|" \
		"$d/usr/local/lib/systemd/system/$f" >"$tmp/verify-missing/$f"
done
sed "s|^ExecStart=/usr/local/sbin/pop3d|ExecStart=$d/usr/local/sbin/pop3d|" \
	"$d/usr/local/lib/systemd/system/pop3d-recover.service" \
	>"$tmp/verify/pop3d-recover.service"
if (cd "$tmp/verify" && systemd-analyze verify --man=no pop3d.socket \
	pop3d@.service "$tmp/verify/pop3d@1.service" \
	"$tmp/verify/pop3d-recover.service") >"$tmp/verify.out" 2>&1 &&
	! grep -q . "$tmp/verify.out"; then
	ok "systemd-analyze verify: the installed pop3d.socket, pop3d@.service and pop3d-recover.service are clean"
else
	fail "systemd-analyze verify:"
	sed 's/^/  /' "$tmp/verify.out"
fi
if (cd "$tmp/verify-missing" &&
	systemd-analyze verify --man=no "$tmp/verify-missing/pop3d@1.service") \
	>/dev/null 2>&1; then
	fail "control: systemd-analyze verify accepts a missing ExecStart= binary"
else
	ok "control: systemd-analyze verify does check the ExecStart= binary"
fi

# The manual page as installed, through man-db and groff (as lintian does).
if LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l \
	-Tutf8 -Z "$d/usr/local/share/man/man8/pop3d.8" >/dev/null 2>"$tmp/man.err" &&
	! grep -q . "$tmp/man.err"; then
	ok "man --warnings: the installed pop3d(8) has no warnings"
else
	fail "man --warnings on the installed pop3d(8):"
	sed 's/^/  /' "$tmp/man.err" | head -n 20
fi
if MANWIDTH=80 man -l "$d/usr/local/share/man/man8/pop3d.8" 2>/dev/null |
	grep -q 'pop3d - small'; then
	ok "man -l renders the installed page"
else
	fail "man -l does not render the installed page"
fi

# A second install over the first (an upgrade) works and changes nothing.
if minstall DESTDIR="$d" PREFIX=/usr/local >"$tmp/install2.out" 2>&1 &&
	listing "$d" | cmp -s - "$tmp/got"; then
	ok "a second make install over the first succeeds, same tree"
else
	fail "a second make install:"
	sed 's/^/  /' "$tmp/install2.out"
fi

if muninstall DESTDIR="$d" PREFIX=/usr/local >"$tmp/uninstall.out" 2>&1; then
	ok "make uninstall DESTDIR=... PREFIX=/usr/local"
else
	fail "make uninstall:"
	sed 's/^/  /' "$tmp/uninstall.out"
fi
if [ -z "$(find "$d" -mindepth 1)" ]; then
	ok "after make uninstall nothing is left, not even an empty directory"
else
	fail "left by make uninstall: $(find "$d" -mindepth 1 | tr '\n' ' ')"
fi
if grep -qx "rmdir $d/usr/local/lib/systemd/system" "$tmp/uninstall.out" &&
	grep -qx "rmdir $d/var/empty" "$tmp/uninstall.out" &&
	! grep -q -e 'rm -r' -e "^rmdir $d\$" "$tmp/uninstall.out"; then
	ok "make uninstall prints each rmdir, and removes DESTDIR itself nowhere"
else
	fail "make uninstall's rmdir lines:"
	sed 's/^/  /' "$tmp/uninstall.out"
fi
if grep -q 'deluser --system pop3d' "$tmp/uninstall.out" &&
	grep -q 'MAILBOX.pop3d beside each mailbox' "$tmp/uninstall.out" &&
	grep -q 'pop3d --recover' "$tmp/uninstall.out"; then
	ok "make uninstall says what it leaves: the privsep account, the MAILBOX.pop3d files"
else
	fail "make uninstall does not say what it leaves:"
	sed 's/^/  /' "$tmp/uninstall.out"
fi

# A directory install shares with others (something else in it) stays.
d=$tmp/dest-shared
mkdir -p "$d/usr/local/sbin" "$d/usr/local/share/man/man8"
: >"$d/usr/local/sbin/other"
: >"$d/usr/local/share/man/man8/other.8"
if minstall DESTDIR="$d" >/dev/null 2>&1 &&
	muninstall DESTDIR="$d" >"$tmp/uninstall-shared.out" 2>&1 &&
	[ "$(cd "$d" && find . | sort | tr '\n' ' ')" = ". ./usr ./usr/local ./usr/local/sbin ./usr/local/sbin/other ./usr/local/share ./usr/local/share/man ./usr/local/share/man/man8 ./usr/local/share/man/man8/other.8 " ]; then
	ok "make uninstall keeps directories that hold another program's files"
else
	fail "make uninstall and shared directories: $(cd "$d" && find . | tr '\n' ' ')"
fi

# --- 2. an existing PAM service is never overwritten, nor removed
d=$tmp/dest-pam
mkdir -p "$d/etc/pam.d"
printf 'auth required pam_unix.so\naccount required pam_unix.so\n' >"$d/etc/pam.d/pop3"
cp "$d/etc/pam.d/pop3" "$tmp/pam.local"
if minstall DESTDIR="$d" >"$tmp/install-pam.out" 2>&1 &&
	cmp -s "$tmp/pam.local" "$d/etc/pam.d/pop3" &&
	grep -q 'kept the existing' "$tmp/install-pam.out"; then
	ok "make install keeps an existing etc/pam.d/pop3 and says so"
else
	fail "make install and an existing etc/pam.d/pop3:"
	sed 's/^/  /' "$tmp/install-pam.out"
fi
if muninstall DESTDIR="$d" >"$tmp/uninstall-pam.out" 2>&1 &&
	cmp -s "$tmp/pam.local" "$d/etc/pam.d/pop3" &&
	[ "$(find "$d" -mindepth 1 | sort | tr '\n' ' ')" = "$d/etc $d/etc/pam.d $d/etc/pam.d/pop3 " ]; then
	ok "make uninstall keeps a PAM service it did not write, and only that"
else
	fail "make uninstall and a PAM service it did not write: $(find "$d" ! -type d | tr '\n' ' ')"
fi

# --- 3. PREFIX=/usr: a package's paths
d=$tmp/dest-usr
if minstall DESTDIR="$d" PREFIX=/usr >"$tmp/install-usr.out" 2>&1 &&
	[ -x "$d/usr/sbin/pop3d" ] && [ -f "$d/usr/share/man/man8/pop3d.8" ] &&
	[ -f "$d/usr/lib/systemd/system/pop3d.socket" ] &&
	grep -qx 'ExecStart=/usr/sbin/pop3d' "$d/usr/lib/systemd/system/pop3d@.service" &&
	[ "$(diff pop3d@.service "$d/usr/lib/systemd/system/pop3d@.service" | grep -c '^[<>]')" -eq 2 ]; then
	ok "PREFIX=/usr: usr/sbin, usr/lib/systemd/system, ExecStart=/usr/sbin/pop3d (the only change)"
else
	fail "PREFIX=/usr:"
	sed 's/^/  /' "$tmp/install-usr.out"
	listing "$d" | sed 's/^/  /'
fi
muninstall DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1 || true
if [ -z "$(find "$d" -mindepth 1)" ]; then
	ok "PREFIX=/usr: make uninstall leaves nothing"
else
	fail "PREFIX=/usr: left: $(find "$d" -mindepth 1 | tr '\n' ' ')"
fi

# --- 4. a PREFIX systemd does not search: the units go to /etc
d=$tmp/dest-opt
if minstall DESTDIR="$d" PREFIX=/opt/pop3d >"$tmp/install-opt.out" 2>&1 &&
	[ -x "$d/opt/pop3d/sbin/pop3d" ] &&
	[ -f "$d/etc/systemd/system/pop3d.socket" ] &&
	grep -qx 'ExecStart=/opt/pop3d/sbin/pop3d' "$d/etc/systemd/system/pop3d@.service"; then
	ok "PREFIX=/opt/pop3d: units in etc/systemd/system, ExecStart=/opt/pop3d/sbin/pop3d"
else
	fail "PREFIX=/opt/pop3d:"
	sed 's/^/  /' "$tmp/install-opt.out"
	listing "$d" | sed 's/^/  /'
fi
muninstall DESTDIR="$d" PREFIX=/opt/pop3d >/dev/null 2>&1 || true
if [ -z "$(find "$d" -mindepth 1)" ]; then
	ok "PREFIX=/opt/pop3d: make uninstall leaves nothing"
else
	fail "PREFIX=/opt/pop3d: left: $(find "$d" -mindepth 1 | tr '\n' ' ')"
fi

# --- 5. no DESTDIR: the privsep account step, with every path moved into
# the temporary directory and the account command replaced by an echo
d=$tmp/nodest
if getent passwd pop3d >/dev/null 2>&1; then
	want='the privsep account pop3d exists'
elif [ "$(id -u)" -eq 0 ]; then
	want='^FAKE adduser ran$'
else
	want='not root: create the privsep account as root'
fi
if minstall DESTDIR= PREFIX="$d/usr/local" UNITDIR="$d/units" PAMDIR="$d/pam.d" \
	PRIVSEP_DIR="$d/empty" ADDUSER='echo FAKE adduser ran' \
	>"$tmp/install-nodest.out" 2>&1 && grep -q "$want" "$tmp/install-nodest.out" &&
	grep -q 'systemctl enable --now pop3d.socket' "$tmp/install-nodest.out"; then
	ok "without DESTDIR as uid $(id -u): the account step ($want), then how to enable the socket"
else
	fail "without DESTDIR, expected '$want':"
	sed 's/^/  /' "$tmp/install-nodest.out"
fi
# Without DESTDIR only what is below PREFIX goes, never PREFIX itself; the
# privsep directory is the administrator's (as /etc/systemd/system would be).
if muninstall DESTDIR= PREFIX="$d/usr/local" UNITDIR="$d/units" \
	PAMDIR="$d/pam.d" PRIVSEP_DIR="$d/empty" >"$tmp/uninstall-nodest.out" 2>&1 &&
	[ "$(cd "$d" && find . | sort | tr '\n' ' ')" = ". ./empty ./pam.d ./units ./usr ./usr/local " ] &&
	grep -q "the privsep directory: rmdir $d/empty" "$tmp/uninstall-nodest.out"; then
	ok "without DESTDIR: make uninstall keeps PREFIX and the directories outside it, and says how to remove the privsep directory"
else
	fail "without DESTDIR, make uninstall left: $(cd "$d" && find . | tr '\n' ' ')"
	sed 's/^/  /' "$tmp/uninstall-nodest.out"
fi

# --- 6. a DESTDIR or PREFIX that spells the real root or a shared directory
# another way (//, /., /usr/./local), and symbolic links below DESTDIR. The
# real-system cases run in a private mount namespace with tmpfs over
# /usr/local, /var and /etc/pam.d and a fake systemctl, so the system
# itself is never touched (the UNITDIR= keeps /usr/./local's units out of
# the real /etc/systemd/system). Each must keep what Debian ships and /var/empty,
# and say how to remove /var/empty.
debian_like='mkdir -p /usr/local/bin /usr/local/sbin /usr/local/share/man/man8 /usr/local/etc /usr/local/lib/systemd/system /var/empty /var/lib/dpkg'
in_namespace() { # in_namespace MAKE-ARGS...: "after: <dirs>" of the tmpfs
	printf '#!/bin/sh\nexit 1\n' >"$tmp/fake-systemctl"
	chmod 755 "$tmp/fake-systemctl"
	# shellcheck disable=SC2016
	unshare -m sh -c 'set -e; mount --make-rprivate /
		for m in /usr/local /var /etc/pam.d; do mount -t tmpfs t6 $m; done
		mount --bind "$1" /usr/bin/systemctl
		eval "$2"; shift 2
		make --no-print-directory uninstall "$@" >/var/lib/dpkg/t6.out 2>&1 || echo "make failed"
		echo "after: $(find /usr/local /var -type d | sort | tr "\n" " ")"
		grep -q "privsep directory: rmdir /var/empty" /var/lib/dpkg/t6.out || echo "no rmdir /var/empty advice"' \
		sh "$tmp/fake-systemctl" "$debian_like" "$@"
}
if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
	ok "skipped (needs root and unshare -m): uninstall with DESTDIR=//, /., / and PREFIX=/usr/./local"
else
	want='after: /usr/local /usr/local/bin /usr/local/etc /usr/local/lib /usr/local/sbin /usr/local/share /usr/local/share/man /var /var/empty /var/lib /var/lib/dpkg '
	for args in DESTDIR=// DESTDIR=/. DESTDIR=/ "DESTDIR= PREFIX=/usr/./local UNITDIR=/usr/./local/lib/systemd/system" "DESTDIR=/tmp/.. PREFIX=/usr/local/"; do
		# shellcheck disable=SC2086
		got=$(in_namespace $args)
		if [ "$got" = "$want" ]; then
			ok "make uninstall $args keeps /usr/local/sbin, /usr/local/share/man and /var/empty, and says rmdir /var/empty"
		else
			fail "make uninstall $args: $got"
		fi
	done
fi
# A symbolic link below DESTDIR is never followed out of it, and one that
# blocks an rmdir does not stop uninstall before its closing advice.
d=$tmp/dest-link
mkdir -p "$tmp/outside/local"
minstall DESTDIR="$d" >/dev/null 2>&1 || true
rm -rf "${d:?}/usr/local"
ln -s "$tmp/outside/local" "$d/usr/local"
minstall DESTDIR="$d" >/dev/null 2>&1 || true
if muninstall DESTDIR="$d" >"$tmp/uninstall-link.out" 2>&1 &&
	[ -d "$tmp/outside/local/sbin" ] && [ -d "$tmp/outside/local/lib/systemd/system" ] &&
	grep -q 'symbolic link' "$tmp/uninstall-link.out"; then
	ok "make uninstall leaves directories reached through a symbolic link out of DESTDIR, and says so"
else
	fail "make uninstall and a symbolic link out of DESTDIR: $(cd "$tmp/outside" && find . | tr '\n' ' ')"
	sed 's/^/  /' "$tmp/uninstall-link.out"
fi
d=$tmp/dest-link2
minstall DESTDIR="$d" >/dev/null 2>&1 || true
rm -f "$d"/usr/local/lib/systemd/system/*
rmdir "$d/usr/local/lib/systemd/system"
mkdir -p "$tmp/empty-target"
ln -s "$tmp/empty-target" "$d/usr/local/lib/systemd/system"
if muninstall DESTDIR="$d" >"$tmp/uninstall-link2.out" 2>&1 &&
	grep -q 'daemon-reload\|MAILBOX.pop3d' "$tmp/uninstall-link2.out" &&
	[ -d "$tmp/empty-target" ]; then
	ok "make uninstall with a symlinked unit directory completes and prints its advice"
else
	fail "make uninstall with a symlinked unit directory:"
	sed 's/^/  /' "$tmp/uninstall-link2.out"
fi

summary
