# pop3d: one hand-written Makefile for Debian; see README.md.

PREFIX	?= /usr/local
CC	?= cc

WARN	= -Wall -Wextra -Wformat=2 -Wshadow -Wconversion -Wsign-conversion \
	  -Wimplicit-fallthrough -Wstrict-prototypes -Wmissing-prototypes \
	  -Wvla -Wnull-dereference -Werror
HARDEN	= -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
	  -fcf-protection -fPIE
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS)
LDFLAGS	?=
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS	= -lpam -lcrypt -lxxhash

OBJS	= io.o proto.o log.o mbox.o lock.o mailbox.o session.o authz.o \
	  priv.o peer.o auth.o monitor.o
HDRS	= $(wildcard *.h)

all: pop3d

pop3d: pop3d.o $(OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ pop3d.o $(OBJS) $(LIBS)

%.o: %.c $(HDRS)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

clean:
	rm -f pop3d *.o

.PHONY: all clean
