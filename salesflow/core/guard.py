"""Runs a server binary so that it never outlives the salesflow process that started it.

    python -m salesflow.core.guard PARENT_PID PROGRAM [ARGS...]

The guard starts PROGRAM, passes on the signals it gets (SIGTERM, SIGINT, SIGHUP,
SIGQUIT), exits with PROGRAM's status, and stops PROGRAM (SIGTERM, then SIGKILL after
10 s) as soon as PARENT_PID is no longer its parent — `salesflow up` killed with SIGKILL
leaves no nats-server or Temporal dev server behind. PROGRAM is tied to the guard with
Linux's PR_SET_PDEATHSIG, so killing the guard itself stops PROGRAM too (SIGTERM).

The guard watches its parent instead of asking for PR_SET_PDEATHSIG itself because that
signal follows the *thread* that forked the child, and the Temporal dev server is spawned
from a thread of the SDK's Rust runtime. It is its own process group, so a Ctrl-C in the
terminal reaches `salesflow up` alone, which then stops its servers in order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
PR_SET_PDEATHSIG = 1


def _die_with(guard_pid: int):
    def tie_to_guard() -> None:
        # Runs in the forked child of a single-threaded process, before exec.
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            return  # not Linux: the parent watch below still applies
        if os.getppid() != guard_pid:
            os._exit(1)  # the guard died before the tie was made

    return tie_to_guard


def run(parent_pid: int, command: list[str], *, poll: float = 0.25) -> int:
    """Runs command until it exits; stops it when parent_pid stops being our parent."""
    if os.getpgrp() != os.getpid():
        os.setsid()
    child = subprocess.Popen(command, preexec_fn=_die_with(os.getpid()))
    for signum in FORWARDED:
        signal.signal(signum, lambda signum, _frame: child.send_signal(signum))

    while True:
        try:
            code = child.wait(timeout=poll)
            break
        except subprocess.TimeoutExpired:
            pass
        if os.getppid() != parent_pid:
            child.terminate()
            try:
                code = child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                code = child.wait()
            break
    return 128 - code if code < 0 else code


def guarded(command: list[str]) -> list[str]:
    """command, run under a guard that stops it when this process dies."""
    return [sys.executable, "-m", "salesflow.core.guard", str(os.getpid()), *command]


if __name__ == "__main__":
    sys.exit(run(int(sys.argv[1]), sys.argv[2:]))
