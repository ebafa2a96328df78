"""A machine under load, for tests of what load breaks: busy loops on every core.

Textual's key handling, the refresh timers and the broker's threads all race for the CPU;
bugs of ordering (keys typed before the keys ahead of them are applied) show mostly when they
lose. `with cpu_hog():` starts one spinning process per core and kills them on the way out,
whatever the test did.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

SPIN = "while True: pass"


@contextmanager
def cpu_hog(processes: int | None = None) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`processes` busy loops (one per core by default) for the duration of the block."""
    count = processes if processes is not None else os.cpu_count() or 2
    hogs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            hogs.append(subprocess.Popen([sys.executable, "-c", SPIN]))
        yield hogs
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait(timeout=10)
