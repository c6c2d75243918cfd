# SPDX-License-Identifier: ISC
"""
What a test part prints: a line "ok - NAME" or "FAIL - NAME" (and what was
found) for each check, and the closing line "N passed, M failed".
"""

import os
import threading

from .harness import Env

COUNT = {"passed": 0, "failed": 0}
LOCK = threading.Lock()    # parts may check from several threads


def check(cond, name, detail=""):
    """Counts and prints one check; returns cond."""
    with LOCK:
        if cond:
            COUNT["passed"] += 1
            print("ok - " + name, flush=True)
        else:
            COUNT["failed"] += 1
            print("FAIL - %s%s" % (name, "\n    " + detail if detail
                                    else ""), flush=True)
    return cond


def summary():
    """Prints the closing line; the exit status (1 if nothing passed)."""
    print("%(passed)d passed, %(failed)d failed" % COUNT)
    return 0 if COUNT["failed"] == 0 and COUNT["passed"] > 0 else 1


def run_parts(parts):
    """Runs each part(env) with one Env for pop3d (POP3D, else ./pop3d)."""
    env = Env(os.environ.get("POP3D", "./pop3d"))
    try:
        for part in parts:
            part(env)
    finally:
        env.cleanup()
    return summary()
