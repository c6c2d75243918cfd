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

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS	= -lpam -lcrypt -lxxhash -lmd

OBJS	= io.o proto.o log.o mbox.o lock.o lockd.o journal.o mailbox.o \
	  session.o authz.o sasl.o priv.o peer.o proxy.o auth.o apop.o \
	  monitor.o
HDRS	= $(wildcard *.h)

all: pop3d

pop3d: pop3d.o $(OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ pop3d.o $(OBJS) $(LIBS)

%.o: %.c $(HDRS)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Debian packages: to build, to run the tests, and to run the demo.
BUILD_DEPS = gcc make pkg-config libpam0g-dev libcrypt-dev libxxhash-dev \
	     libmd-dev
TEST_DEPS  = check libpam-wrapper libnss-wrapper python3 curl systemd whois \
	     strace procmail liblockfile-bin
DEMO_DEPS  = systemd curl python3 whois

TEST_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Werror -g \
	      -I. $(filter -fsanitize% -fno-%,$(CFLAGS)) \
	      $(shell pkg-config --cflags check 2>/dev/null)
TEST_LIBS  = $(shell pkg-config --libs check 2>/dev/null)
UNIT_SRCS  = $(sort $(wildcard tests/unit*.c))
INTEG_SRCS = $(sort $(wildcard tests/integration*.c tests/harness*.c))

tests/unit: $(UNIT_SRCS) $(OBJS) $(HDRS) $(wildcard tests/*.h)
	$(CC) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $(UNIT_SRCS) $(OBJS) \
	    $(LIBS) $(TEST_LIBS)

tests/integration: $(INTEG_SRCS) $(wildcard tests/*.h) priv.h params.h
	$(CC) $(TEST_CFLAGS) $(LDFLAGS) -o $@ $(INTEG_SRCS) $(TEST_LIBS)

deps:
	@scripts/deps $(BUILD_DEPS) $(TEST_DEPS)

check: deps
	$(MAKE) pop3d tests/unit tests/integration
	tests/run

demo:
	@scripts/deps $(BUILD_DEPS) $(DEMO_DEPS)
	$(MAKE) pop3d
	scripts/demo

clean:
	rm -f pop3d *.o tests/unit tests/integration

.PHONY: all clean check deps demo
