"""`kwb --brokers 3` in a real terminal (issue 18, deliverable 4): it starts three nodes and
says so at the top, a second `kwb --brokers 3` joins them as a client, `q` stops them all,
and a `kwb` killed with -9 leaves no node behind."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from terminal import KWB, TMUX_REASON, Terminal, no_traceback, tmux_missing, workbench_env
from waiting import gone, polling, wait_until

from tui.broker_process import RUNNING_FILE
from tui.embedded import data_home

pytestmark = [
    pytest.mark.timeout(150),
    pytest.mark.skipif(tmux_missing(), reason=TMUX_REASON),
    pytest.mark.xdist_group("terminal"),  # one real terminal at a time (tests/conftest.py)
]
SMALL = (80, 24)


def cluster_dir(env: dict[str, str]) -> Path:
    """Where `kwb --brokers 3` keeps its cluster in the private home `env` names."""
    home = Path(env["XDG_DATA_HOME"]) / data_home().relative_to(data_home().parents[1])
    return home.parent / "cluster-3"


def children(pid: int) -> set[int]:
    """The processes `pid` started and that still run (every thread's)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def wait_online(term: Terminal, brokers: int) -> str:
    """The screen once the Brokers pane shows `brokers` brokers online."""
    pauses = polling(f"{brokers} brokers online", 90, showing=term.screen)
    while (screen := term.screen()).count(" online ") < brokers:
        time.sleep(next(pauses))
    return no_traceback(screen)


def test_kwb_runs_a_cluster_a_second_joins_and_q_stops_every_node(tmp_path: Path) -> None:
    """Mutation check: with Workbench.close not stopping the cluster (stop a no-op), the
    nodes outlive `q` and this fails."""
    env = workbench_env(str(tmp_path / "home"))
    nodes: set[int] = set()
    try:
        with Terminal([KWB, "--brokers", "3"], env, size=SMALL) as first:
            screen = wait_online(first, 3)
            assert "local · 3-broker local cluster 127.0.0.1:" in screen, screen
            record = json.loads((cluster_dir(env) / RUNNING_FILE).read_text())
            nodes = children(record["pid"])
            assert len(nodes) == 3
            with Terminal([KWB, "--brokers", "3"], env, size=SMALL) as second:
                screen = wait_online(second, 3)
                assert f"joined the 3-broker local cluster of kwb (pid {record['pid']})" in screen
                second.send("q")
                assert second.exit_status() == 0, second.screen()
            first.send("q")
            assert first.exit_status(timeout=30) == 0, first.screen()
            assert not (cluster_dir(env) / RUNNING_FILE).exists()  # stopped, said so
            wait_until(lambda: all(gone(pid) for pid in nodes), "every node to end")
    finally:
        for pid in nodes:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


def test_kill_9_of_kwb_leaves_no_node(tmp_path: Path) -> None:
    """Mutation check: without die_with_parent in the launcher's spawn_node, the nodes
    outlive kwb and this fails (they are killed at the end either way)."""
    env = workbench_env(str(tmp_path / "home"))
    nodes: set[int] = set()
    try:
        with Terminal([KWB, "--brokers", "3"], env, size=SMALL) as term:
            wait_online(term, 3)
            kwb = json.loads((cluster_dir(env) / RUNNING_FILE).read_text())["pid"]
            nodes = children(kwb)
            assert len(nodes) == 3
            os.kill(kwb, signal.SIGKILL)
            wait_until(lambda: all(gone(pid) for pid in nodes), "every node to end")
    finally:
        for pid in nodes:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
