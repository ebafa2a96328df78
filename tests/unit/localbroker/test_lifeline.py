"""die_with_parent: a child whose parent is killed with -9 ends too (Linux's PR_SET_PDEATHSIG).

Mutation check: with `die_with_parent` returning before its prctl, the `sleep` outlives the
killed parent and this fails (the test kills it at the end either way)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from waiting import wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")

PARENT = textwrap.dedent(
    """
    import subprocess, sys, time
    from localbroker.lifeline import die_with_parent
    child = subprocess.Popen(["sleep", "60"], preexec_fn=die_with_parent)
    print(child.pid, flush=True)
    time.sleep(60)
    """
)


def gone(pid: int) -> bool:
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def test_a_child_ends_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = None
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert not gone(child)
        parent.kill()
        parent.wait(10)
        wait_until(lambda: gone(child), f"sleep (pid {child}) to end with its parent")
    finally:
        parent.kill()
        parent.wait(10)
        if child is not None and not gone(child):
            os.kill(child, signal.SIGKILL)
