#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The server's structure (issue 15): the include graph of the top-level
sources has no cycle, file by file and module by module (x.c with x.h),
and no file the root side runs includes the maildrop code's headers."""
import os
import re
import sys

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# The files root runs (the start-up checks, the monitor, its PAM worker,
# the credential changes, pop3d --recover): none of them may include the
# maildrop code's headers. Two files are of both sides: main.c, whose
# process is the root monitor and, once it has become the user for good,
# the session (pop3_transaction()); and selfcheck.c (pop3d --check), whose
# child becomes the user and reads the mailbox as a session does. The lock
# helper and the recovery children use the maildrop code as the user, by
# design; the helper's first step, finding the mailbox's directory
# (lockd_directory()), runs before it drops root, through mailbox_dir(),
# the one walk that follows no link.
ROOT_SIDE = ["monitor.c", "monitor.h", "monmsg.c", "monmsg.h",
             "privsep.c", "privsep.h", "auth.c", "auth.h", "apop.c",
             "apop.h", "cred.c", "cred.h", "trusted.c", "trusted.h",
             "peer.c", "peer.h", "recover.c", "recover.h", "template.c",
             "template.h", "config.h", "selfcheck.h"]
MAILDROP = {"mailbox.h", "journal.h", "mbox.h", "pop3d.h", "lock.h",
            "window.h"}

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def includes():
    graph = {}
    for name in sorted(os.listdir(TOP)):
        if name.endswith((".c", ".h")):
            with open(os.path.join(TOP, name), encoding="utf-8") as f:
                graph[name] = [h for h in INCLUDE.findall(f.read())
                               if os.path.exists(os.path.join(TOP, h))]
    return graph


def circles(graph):
    """The strongly connected components of more than one node, each a
    set of nodes that include one another in a circle (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def modules(graph):
    mods = {}
    for name, deps in graph.items():
        mod = name[:-2]
        mods.setdefault(mod, set()).update(d[:-2] for d in deps
                                           if d[:-2] != mod)
    return {m: sorted(d) for m, d in mods.items()}


def main():
    graph = includes()
    check(len(graph) > 40, "found the sources (%d files)" % len(graph))
    for what, g in (("files", graph), ("modules (x.c with x.h)",
                                       modules(graph))):
        found = circles(g)
        check(not found, "%s include each other: %s" % (what, "; ".join(
            " ".join(c) for c in found)))
    for name in ROOT_SIDE:
        if name not in graph:
            check(False, "root-side file %s exists" % name)
            continue
        seen, todo = set(), list(graph[name])
        while todo:
            h = todo.pop()
            if h not in seen:
                seen.add(h)
                todo.extend(graph.get(h, []))
        bad = sorted(seen & MAILDROP)
        check(not bad, "%s (root side) includes %s" % (name, ", ".join(bad)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
