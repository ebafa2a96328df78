"""Die with the parent: a child process that must never outlive the process that started it.

A broker the workbench starts for itself, or an Apache Kafka JVM a test starts, is useless once
its parent is gone and harmful if it stays: it keeps the port, the data directory's lock and
memory, and the next start fails on them. A parent killed with -9 runs no cleanup, so the
child has to notice by itself. Linux tells it: PR_SET_PDEATHSIG asks the kernel to send a
signal when the parent dies. Two things a caller must know: "the parent" is the *thread* that
forked the child (start children from a thread that lives as long as they should), and a
parent that died before the call is not noticed (check `os.getppid()` afterwards, as
`die_with_parent` does). Where prctl is missing (not Linux), the caller needs its own
fallback: the workbench's broker also exits when the pipe from its parent reaches EOF.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal

PR_SET_PDEATHSIG = 1
"""From <linux/prctl.h>."""


def die_with_parent(signum: int = signal.SIGTERM, parent: int | None = None) -> bool:
    """Ask the kernel to send `signum` to this process when its parent dies; usable as a
    `preexec_fn` (the JVM's case: it cannot run this itself). False where prctl is missing.
    With `parent` (the pid expected), a parent already gone sends `signum` at once."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return False
    if prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        return False
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signum)
    return True
