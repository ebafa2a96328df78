"""`python -m localbroker.supervised`, the workbench's broker as a child: it says on stdout when
it is up (the group coordinator's events that follow are checked through the Demo pane, in
tests/tui/test_broker_process.py), and stops cleanly at EOF on stdin, the lifeline that ends it
where PR_SET_PDEATHSIG is missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from localbroker.supervised import IN_USE_STATUS

pytestmark = pytest.mark.timeout(60)


def supervised(data_dir: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "localbroker.supervised", "--data-dir", str(data_dir)]
    return subprocess.Popen(
        [*command, "--port", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def test_eof_on_stdin_stops_the_broker_cleanly(tmp_path: Path) -> None:
    """Mutation check: without the reader on stdin (`loop.add_reader` in serve) the broker
    runs on after EOF and the wait times out."""
    broker = supervised(tmp_path)
    try:
        assert broker.stdout is not None and broker.stdin is not None
        ready = json.loads(broker.stdout.readline())
        assert "ready" in ready and ready["pid"] == broker.pid
        broker.stdin.close()
        assert broker.wait(20) == 0
    finally:
        broker.kill()
        broker.wait(10)


def test_a_held_data_dir_is_said_in_use(tmp_path: Path) -> None:
    """A second broker on the same directory says `in_use` and exits with IN_USE_STATUS (the
    workbench then joins the first)."""
    broker = supervised(tmp_path)
    try:
        assert broker.stdout is not None
        assert "ready" in json.loads(broker.stdout.readline())
        second = supervised(tmp_path)
        out, _ = second.communicate(timeout=30)
        assert second.returncode == IN_USE_STATUS
        assert "in_use" in json.loads(out)
    finally:
        broker.kill()
        broker.wait(10)
