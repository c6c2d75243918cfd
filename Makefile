# SPDX-License-Identifier: ISC
# pop3d: one hand-written Makefile for Debian; see README.md.

PREFIX	?= /usr/local
CC	?= cc

WARN	= -Wall -Wextra -Wformat=2 -Wshadow -Wconversion -Wsign-conversion \
	  -Wimplicit-fallthrough -Wstrict-prototypes -Wmissing-prototypes \
	  -Wvla -Wnull-dereference -Werror
HARDEN	= -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
	  -fcf-protection -fPIE
CFLAGS	?= -O2 -g
LDFLAGS	?=

# make SANITIZE=1: AddressSanitizer and UBSan (they do not mix with FORTIFY).
ifeq ($(SANITIZE),1)
HARDEN	= -fPIE
CFLAGS	+= -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=address,undefined
endif

# make SANDBOX=0: no system call filter (sandbox.c), for valgrind only,
# which cannot run a process whose filter refuses valgrind's own calls.
# Like SANITIZE, switching needs "make clean".
SANDBOX	?= 1
ifeq ($(SANDBOX),0)
SANDBOX_CFLAGS = -DPOP3D_NO_SANDBOX
SANDBOX_LIBS =
else
SANDBOX_CFLAGS =
SANDBOX_LIBS = -lseccomp
endif

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(SANDBOX_CFLAGS) \
	     $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS	= -lpam -lcrypt -lxxhash -lmd $(SANDBOX_LIBS)

OBJS	= io.o proto.o log.o mbox.o lock.o lockd.o lockchan.o journal.o mailbox.o window.o \
	  session.o authz.o sasl.o monmsg.o peer.o proxy.o auth.o apop.o cred.o \
	  monitor.o privsep.o pop3d.o sandbox.o trusted.o recover.o template.o \
	  selfcheck.o popa3d.o
HDRS	= $(wildcard *.h)

all: pop3d

pop3d: main.o $(OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ main.o $(OBJS) $(LIBS)

%.o: %.c $(HDRS)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Debian packages: to build, to run the tests, and to run the demo.
BUILD_DEPS = gcc make pkg-config libpam0g-dev libcrypt-dev libxxhash-dev \
	     libmd-dev libseccomp-dev
TEST_DEPS  = check libpam-wrapper libnss-wrapper python3 curl systemd whois \
	     strace procmail liblockfile-bin libauthen-sasl-perl fetchmail \
	     getmail6 perl stunnel4 haproxy openssl xinetd fail2ban man-db
DEMO_DEPS  = systemd curl python3 whois
FUZZ_DEPS  = clang libclang-rt-14-dev
LINT_DEPS  = clang clang-tidy clang-tools cppcheck valgrind

TEST_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Werror -g \
	      -I. $(filter -fsanitize% -fno-%,$(CFLAGS)) $(SANDBOX_CFLAGS) \
	      $(shell pkg-config --cflags check 2>/dev/null)
TEST_LIBS  = $(shell pkg-config --libs check 2>/dev/null)
UNIT_SRCS  = $(sort $(wildcard tests/unit*.c))
INTEG_SRCS = $(sort $(wildcard tests/integration*.c tests/harness*.c))

tests/unit: $(UNIT_SRCS) $(OBJS) $(HDRS) $(wildcard tests/*.h)
	$(CC) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $(UNIT_SRCS) $(OBJS) \
	    $(LIBS) $(TEST_LIBS)

tests/integration: $(INTEG_SRCS) $(wildcard tests/*.h) monmsg.h params.h \
	    sandbox.h
	$(CC) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $(INTEG_SRCS) $(TEST_LIBS)

# pop3d with a test hook: its session makes the forbidden system call
# that POP3D_PROBE names (sandbox.c). pop3d itself never has it.
tests/sandbox-probe.o: sandbox.c $(HDRS)
	$(CC) $(ALL_CFLAGS) -DPOP3D_SANDBOX_PROBE -c -o $@ sandbox.c

tests/pop3d-probe: main.o $(filter-out sandbox.o,$(OBJS)) \
	    tests/sandbox-probe.o
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

deps:
	@scripts/deps $(BUILD_DEPS) $(TEST_DEPS)

lint-deps:
	@scripts/deps $(BUILD_DEPS) $(LINT_DEPS)

check: deps
	$(MAKE) pop3d tests/unit tests/integration tests/pop3d-probe
	tests/run

# The gates .ci/run adds to "make check" (README.md says what CI runs).
SRCS	= main.c $(OBJS:.o=.c)
SCAN_DIR = scan-build-report

# clang-tidy with .clang-tidy and the build's flags, one file per run:
# given several files, clang-tidy 14 carries its va_list checker's state
# from one to the next and reports lists that va_start() began as unset.
check-tidy:
	@scripts/deps $(BUILD_DEPS) $(LINT_DEPS)
	@for f in $(SRCS); do \
	    echo "clang-tidy $$f"; \
	    clang-tidy --quiet $$f -- $(ALL_CFLAGS) 2>tidy.err || \
	        { cat tidy.err; rm -f tidy.err; exit 1; }; \
	done; rm -f tidy.err

# clang's static analyzer on a fresh build; its report stays in SCAN_DIR
# when it finds something.
check-scan:
	@scripts/deps $(BUILD_DEPS) $(LINT_DEPS)
	rm -rf $(SCAN_DIR) pop3d main.o $(OBJS)
	scan-build --use-cc=clang --status-bugs -o $(SCAN_DIR) $(MAKE) -j2 pop3d
	rm -f pop3d main.o $(OBJS)

# PIE, full RELRO, BIND_NOW, stack protector and FORTIFY, checked on the
# binary as "make install" puts it.
check-hardening: pop3d
	@d=$$(mktemp -d) && \
	    $(MAKE) -s install DESTDIR=$$d >/dev/null && \
	    scripts/hardening-check $$d$(SBINDIR)/pop3d; \
	    rc=$$?; rm -rf $$d; exit $$rc

# pop3d.socket and pop3d@.service under a real systemd as PID 1: a Debian 12
# container (systemd-nspawn -b) with the built tree installed; its root is
# made once by debootstrap and cached in /var/cache/pop3d-check-systemd.
# Root only; says SKIP where no container can boot (tests/systemd/run).
check-systemd:
	@scripts/deps systemd-container debootstrap
	$(MAKE) pop3d
	tests/systemd/run

# The Debian package (debian/), built with dpkg-buildpackage from a copy of
# the checkout's files that git knows of (untracked ones too, ignored ones
# not: no object file of this tree gets in), so that its outputs land in
# DEB_DIR and nothing outside the repository; then lintian on the .changes,
# failing on any error or warning.
DEB_DIR	 = build-deb
DEB_DEPS = build-essential debhelper dpkg-dev fakeroot lintian
deb:
	@scripts/deps $(BUILD_DEPS) $(DEB_DEPS)
	@v=$$(dpkg-parsechangelog -S Version) && \
	    grep -q "^#define POP3D_VERSION[[:space:]]*\"$$v\"$$" params.h || { \
	    echo "deb: debian/changelog says $$v, params.h's" \
	        "POP3D_VERSION differs" >&2; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	git ls-files -z --cached --others --exclude-standard | \
	    xargs -0 cp -P --parents -t $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b
	rm -rf $(DEB_DIR)/src
	lintian --fail-on error,warning $(DEB_DIR)/*.changes
	@ls $(DEB_DIR)/*.deb

# The package under a real systemd as PID 1 (tests/systemd/deb): installed
# with apt-get on a fresh Debian 12 root, a session, remove, purge,
# reinstall, an upgrade that keeps an edited /etc/pam.d/pop3.
check-deb: deb
	@scripts/deps systemd-container debootstrap
	tests/systemd/deb $(DEB_DIR)/pop3d_*.deb

# Debian's piuparts on the package (tests/systemd/piuparts): install and
# purge, and an upgrade from a local repository, in a fresh chroot.
check-piuparts: deb
	@scripts/deps piuparts dpkg-dev debootstrap
	tests/systemd/piuparts $(DEB_DIR)/pop3d_*.deb

# The unit and integration tests under valgrind's memcheck (tests/valgrind);
# rebuilt without the seccomp filter, which valgrind's system calls break.
check-valgrind:
	@scripts/deps $(BUILD_DEPS) $(TEST_DEPS) $(LINT_DEPS)
	$(MAKE) -j2 -B SANDBOX=0 pop3d tests/unit tests/integration \
	    tests/pop3d-probe
	tests/valgrind

# libFuzzer targets (fuzz/Makefile), FUZZ_SECONDS (default 60) each; "make
# check" replays their seed corpus under ASan and UBSan.
fuzz:
	@scripts/deps $(BUILD_DEPS) $(FUZZ_DEPS)
	$(MAKE) -C fuzz run

# The benchmark against popa3d and Dovecot (bench/README.md); not part of
# "make check". bench-smoke is the same on tiny mailboxes.
bench: pop3d
	$(MAKE) -C bench run BENCH_VIA="make bench"

bench-smoke: pop3d
	$(MAKE) -C bench smoke BENCH_VIA="make bench-smoke"

demo:
	@scripts/deps $(BUILD_DEPS) $(DEMO_DEPS)
	$(MAKE) pop3d
	scripts/demo

clean:
	rm -f pop3d *.o tests/*.o tests/unit tests/integration \
	    tests/pop3d-probe
	rm -rf fuzz/build $(SCAN_DIR) $(DEB_DIR)
	$(MAKE) -C bench clean

.PHONY: all bench bench-smoke check check-deb check-hardening \
	check-piuparts check-scan check-systemd check-tidy check-valgrind clean \
	deb deps demo fuzz lint-deps

# --- make install / make uninstall (PREFIX, DESTDIR as usual)
#
# Debian's mailutils-pop3d owns /usr/sbin/pop3d and courier-pop a pop3d(8),
# so the default PREFIX is /usr/local. Units: systemd reads units of
# packages from /usr/lib/systemd/system and units the administrator
# installs from /usr/local/lib/systemd/system (systemd.unit(5), "systemd-
# analyze unit-paths"), so PREFIX=/usr and PREFIX=/usr/local put them under
# $(PREFIX)/lib/systemd/system, which leaves /etc/systemd/system to the
# administrator's own copies and "systemctl edit" drop-ins, which take
# precedence. Any other PREFIX is not on systemd's search path: then they
# go to /etc/systemd/system. UNITDIR=... overrides the choice.
# pop3d@.service is written with ExecStart= naming $(SBINDIR)/pop3d; the
# repository's copy keeps /usr/local/sbin/pop3d.
SBINDIR	= $(PREFIX)/sbin
MANDIR	= $(PREFIX)/share/man
ifneq ($(filter /usr /usr/local,$(patsubst %/,%,$(PREFIX))),)
UNITDIR_SEARCHED = $(patsubst %/,%,$(PREFIX))/lib/systemd/system
else
UNITDIR_SEARCHED = /etc/systemd/system
endif
UNITDIR	?= $(UNITDIR_SEARCHED)
PAMDIR	= /etc/pam.d
PRIVSEP_DIR = /var/empty
ADDUSER	= adduser --system --group --no-create-home --home /nonexistent pop3d
USERADD	= useradd --system --user-group --no-create-home \
	  --home-dir /nonexistent --shell /usr/sbin/nologin pop3d

install: pop3d
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(PAMDIR)
	install -m 0755 pop3d $(DESTDIR)$(SBINDIR)/pop3d
	install -m 0644 pop3d.8 $(DESTDIR)$(MANDIR)/man8/pop3d.8
	install -m 0644 pop3d.socket $(DESTDIR)$(UNITDIR)/pop3d.socket
	sed 's|^ExecStart=/usr/local/sbin/pop3d|ExecStart=$(SBINDIR)/pop3d|' \
	    pop3d@.service >$(DESTDIR)$(UNITDIR)/pop3d@.service.tmp
	grep -q '^ExecStart=$(SBINDIR)/pop3d\b' \
	    $(DESTDIR)$(UNITDIR)/pop3d@.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/pop3d@.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/pop3d@.service.tmp \
	    $(DESTDIR)$(UNITDIR)/pop3d@.service
	sed 's|^ExecStart=/usr/local/sbin/pop3d|ExecStart=$(SBINDIR)/pop3d|' \
	    pop3d-recover.service \
	    >$(DESTDIR)$(UNITDIR)/pop3d-recover.service.tmp
	grep -q '^ExecStart=$(SBINDIR)/pop3d --recover$$' \
	    $(DESTDIR)$(UNITDIR)/pop3d-recover.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/pop3d-recover.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/pop3d-recover.service.tmp \
	    $(DESTDIR)$(UNITDIR)/pop3d-recover.service
	@# Recovery at boot is part of the crash safety: enabled here when
	@# the unit is where systemd looks; a package (DESTDIR) enables it in
	@# its maintainer scripts.
	@if [ -n "$(DESTDIR)" ]; then \
	    echo "install: the package must enable pop3d-recover.service"; \
	elif [ "$(UNITDIR)" != "$(UNITDIR_SEARCHED)" ]; then \
	    echo "install: systemd does not read $(UNITDIR): enable" \
	        "pop3d-recover.service by hand"; \
	elif command -v systemctl >/dev/null; then \
	    echo "systemctl enable pop3d-recover.service"; \
	    systemctl enable pop3d-recover.service || \
	    echo "install: warning: pop3d-recover.service is not enabled"; \
	fi
	@# The PAM service is configuration: an existing one is never replaced.
	@if [ -e $(DESTDIR)$(PAMDIR)/pop3 ]; then \
	    echo "install: kept the existing $(DESTDIR)$(PAMDIR)/pop3" \
	        "(not overwritten; compare with pam.d/pop3)"; \
	else \
	    echo "install -m 0644 pam.d/pop3 $(DESTDIR)$(PAMDIR)/pop3"; \
	    install -m 0644 pam.d/pop3 $(DESTDIR)$(PAMDIR)/pop3; \
	fi
	@# The privsep directory: empty, root's, not writable by anyone else.
	install -d -m 0755 $(DESTDIR)$(PRIVSEP_DIR)
	@if [ -n "$$(ls -A $(DESTDIR)$(PRIVSEP_DIR))" ]; then \
	    echo "install: warning: $(DESTDIR)$(PRIVSEP_DIR) is not empty"; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ "$$(stat -c %u $(PRIVSEP_DIR))" != 0 ]; then \
	    echo "install: warning: $(PRIVSEP_DIR) is not root's: pop3d" \
	        "will refuse to start (exit status 78)"; \
	fi
	@# The privsep account: on this system only (no DESTDIR), as root.
	@if [ -n "$(DESTDIR)" ]; then \
	    echo "install: the package must create the privsep account on the" \
	        "target system, as root, if it is missing (pop3d.socket" \
	        "makes it with systemd-sysusers when it starts):"; \
	    echo "    $(ADDUSER)"; \
	elif getent passwd pop3d >/dev/null; then \
	    echo "install: the privsep account pop3d exists"; \
	elif [ "$$(id -u)" -ne 0 ]; then \
	    echo "install: not root: create the privsep account as root:"; \
	    echo "    $(ADDUSER)"; \
	elif command -v adduser >/dev/null; then \
	    echo "$(ADDUSER)"; $(ADDUSER); \
	else \
	    echo "$(USERADD)"; $(USERADD); \
	fi
	@if [ -z "$(DESTDIR)" ]; then \
	    echo "install: now: systemctl daemon-reload &&" \
	        "systemctl enable --now pop3d.socket"; \
	fi

# The DESTDIR uninstall acts on: empty without one or when it resolves to /
# (DESTDIR=// is the real system and gets the real system's guards).
UNINSTALL_DESTDIR = $(shell scripts/rmdir-empty --staging-root "$(DESTDIR)")

# Removes what install put, except configuration: the PAM service when it
# is not the one install wrote, the privsep account and /var/empty (which
# other programs may share); it says how to remove those, and the session
# files beside the mailboxes. The directories install made go when empty
# (scripts/rmdir-empty), the privsep one only under a DESTDIR.
uninstall:
	@if [ -z "$(UNINSTALL_DESTDIR)" ] && \
	    systemctl is-enabled --quiet pop3d.socket 2>/dev/null; then \
	    echo "uninstall: pop3d.socket is enabled: first run" \
	        "systemctl disable --now pop3d.socket" >&2; \
	    exit 1; \
	fi
	@if [ -z "$(UNINSTALL_DESTDIR)" ] && [ "$(UNITDIR)" = "$(UNITDIR_SEARCHED)" ] && \
	    command -v systemctl >/dev/null; then \
	    echo "systemctl disable pop3d-recover.service"; \
	    systemctl disable pop3d-recover.service || true; \
	fi
	rm -f $(DESTDIR)$(SBINDIR)/pop3d $(DESTDIR)$(MANDIR)/man8/pop3d.8 \
	    $(DESTDIR)$(UNITDIR)/pop3d.socket $(DESTDIR)$(UNITDIR)/pop3d@.service
	rm -f $(DESTDIR)$(UNITDIR)/pop3d-recover.service
	@if [ ! -e $(DESTDIR)$(PAMDIR)/pop3 ]; then :; \
	elif cmp -s pam.d/pop3 $(DESTDIR)$(PAMDIR)/pop3; then \
	    echo "rm -f $(DESTDIR)$(PAMDIR)/pop3"; \
	    rm -f $(DESTDIR)$(PAMDIR)/pop3; \
	else \
	    echo "uninstall: kept $(DESTDIR)$(PAMDIR)/pop3: it is not the" \
	        "file install writes (remove it by hand if pop3d was its" \
	        "only user)"; \
	fi
	@scripts/rmdir-empty "$(DESTDIR)" "$(PREFIX)" \
	    $(SBINDIR) $(MANDIR)/man8 $(UNITDIR) $(PAMDIR) -- $(PRIVSEP_DIR)
	@echo "uninstall: left for the administrator, to remove if nothing" \
	    "else uses them:"
	@echo "    the privsep account: deluser --system pop3d"
	@if [ -z "$(UNINSTALL_DESTDIR)" ]; then \
	    echo "    the privsep directory: rmdir $(PRIVSEP_DIR)"; \
	fi
	@echo "    the session file MAILBOX.pop3d beside each mailbox (with" \
	    "the default -m: /var/mail/*.pop3d), once pop3d --recover has" \
	    "completed any update they hold: rm /var/mail/*.pop3d"
	@if [ -z "$(UNINSTALL_DESTDIR)" ]; then \
	    echo "uninstall: now: systemctl daemon-reload"; \
	fi

.PHONY: install uninstall
