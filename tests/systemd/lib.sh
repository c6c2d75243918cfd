# SPDX-License-Identifier: ISC
# Shell helpers of tests/systemd/run and tests/systemd/deb: a copy of the
# cached Debian 12 root (tests/systemd/mkroot), prepared offline, then
# booted under systemd-nspawn with a private network. Source it after
# tests/lib.sh; the caller sets STEP (seconds for one command inside the
# container), LIFETIME (seconds the container may live at all) and
# TARGET (the make target that installs the tools). Every wait is bounded;
# the copy is removed and the container stopped on every exit (KEEP_TMP=1
# keeps the copy).
# shellcheck shell=sh

# skip WHY: "SKIP: WHY" and exit 0, or a failure under
# POP3D_SYSTEMD_REQUIRED=1 (CI).
skip() {
	if [ -n "${POP3D_SYSTEMD_REQUIRED:-}" ]; then
		fail "cannot run under systemd here, but CI requires it: $*"
		summary || true
		exit 1
	fi
	echo "SKIP: $*"
	summary || true
	exit 0
}

work=""
nspawn=""
leader=""
# halt: the container powers off (killed after 30 s); $halted is "yes"
# when it went by itself. The copy stays: boot boots it again.
halt() {
	halted=no
	if [ -n "$leader" ]; then
		timeout 10 nsenter -t "$leader" -a systemctl poweroff \
			>/dev/null 2>&1
		_i=0
		while kill -0 "$nspawn" 2>/dev/null && [ $_i -lt 30 ]; do
			sleep 1
			_i=$((_i + 1))
		done
		# shellcheck disable=SC2034 # read by the caller
		kill -0 "$nspawn" 2>/dev/null || halted=yes
	fi
	if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
		kill -KILL "$nspawn" 2>/dev/null
	fi
	wait 2>/dev/null
	leader=""
	nspawn=""
}
# finish: on every exit the container stops, then tests/lib.sh's clean_up
# removes the copy ($tmp) and counts an early stop as a failure.
finish() {
	_exit=$?
	halt
	# shellcheck disable=SC2034 # clean_up (tests/lib.sh) removes $tmp
	tmp=$work
	# clean_up reports the status the script exited with.
	(exit "$_exit")
	clean_up
}
trap finish EXIT
trap 'exit 1' HUP INT TERM

# need_container: root and the tools, or SKIP.
need_container() {
	[ "$(id -u)" -eq 0 ] || skip "not root (systemd-nspawn needs root)"
	for _c in systemd-nspawn nsenter debootstrap timeout; do
		command -v "$_c" >/dev/null 2>&1 ||
			skip "$_c is missing (make $TARGET installs it)"
	done
}

# copy_root: $root, a fresh copy of the cached root in $work, or SKIP.
copy_root() {
	base=$(timeout 1200 tests/systemd/mkroot) ||
		skip "no Debian 12 root could be built (see the lines above)"
	work=$(mktemp -d /var/tmp/pop3d-systemd.XXXXXX)
	root=$work/root
	cp -a --reflink=auto "$base" "$root" || skip "cannot copy $base"
}

# offline CMD...: runs CMD in the copy before it boots.
offline() {
	timeout "$STEP" systemd-nspawn -q --register=no --keep-unit \
		--private-network -D "$root" "$@" 2>"$work/offline.err"
}
# inside CMD...: runs CMD inside the booted container.
inside() {
	timeout "$STEP" nsenter -t "$leader" -a "$@"
}
# inside_sh SCRIPT: the same through sh -c.
inside_sh() {
	inside sh -c "$1"
}

# boot: the copy boots; "ok" once systemd says running, or SKIP.
boot() {
	timeout -k 5 "$LIFETIME" systemd-nspawn -q -b -D "$root" \
		--register=no --keep-unit --private-network \
		--console=passive >"$work/boot.log" 2>&1 &
	_guard=$!
	_i=0
	while [ -z "$leader" ] && [ $_i -lt 100 ]; do
		nspawn=$(pgrep -P "$_guard" -x systemd-nspawn)
		[ -n "$nspawn" ] && leader=$(pgrep -P "$nspawn" -x systemd)
		[ -n "$leader" ] || sleep 0.1
		_i=$((_i + 1))
	done
	[ -n "$leader" ] || { cat "$work/boot.log"; skip "systemd-nspawn -b did not start systemd"; }
	# systemctl answers once PID 1 has its private socket: until then, retry.
	_i=0
	_state=""
	while [ -z "$_state" ] && [ $_i -lt 60 ]; do
		_state=$(inside systemctl is-system-running --wait 2>/dev/null)
		[ -n "$_state" ] || sleep 1
		_i=$((_i + 1))
	done
	case $_state in
	running) ok "the container booted: $(inside systemctl --version | head -n 1) as PID 1" ;;
	*)
		[ -n "$_state" ] || { cat "$work/boot.log"; skip "the container did not boot"; }
		fail "the container booted $_state: $(inside systemctl --failed --no-legend --plain | tr '\n' ' ')"
		;;
	esac
}

# add_user NAME PASSWORD: offline, a user with a password in /etc/shadow
# (pam_unix) and a mailbox of one message, or SKIP.
add_user() {
	offline sh -c "useradd -m $1 && echo '$1:$2' | chpasswd &&
	printf 'From x@example.org  Tue Nov 25 10:00:00 2025\nSubject: hello\n\nbody line\n' >/var/mail/$1 &&
	chown $1:mail /var/mail/$1 && chmod 0600 /var/mail/$1" ||
		skip "cannot create the test user in the container"
}

# next_version DEB DIR: DIR/pop3d_VERSION+1_ARCH.deb, the package DEB with a
# higher version, as a next build would be (the same conffile and
# maintainer scripts): the upgrade the package tests make. Its path on
# stdout, or a failure.
next_version() {
	_next=$(dpkg-deb -f "$1" Version)+1
	if ! { mkdir -p "$2" && dpkg-deb -R "$1" "$2/tree" &&
		sed -i "s/^Version: .*/Version: $_next/" "$2/tree/DEBIAN/control" &&
		dpkg-deb -b --root-owner-group "$2/tree" "$2" >/dev/null; }; then
		return 1
	fi
	rm -rf "$2/tree"
	echo "$2"/pop3d_"$_next"_*.deb
}
