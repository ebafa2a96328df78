"""stop_all: the launcher's and the workbench's way to stop a cluster's nodes together.

The nodes here are real processes that ignore SIGTERM (a node stuck in its shutdown), so
every one of them needs the SIGKILL; each is seen through the calls stop_all makes on it.
"""

from __future__ import annotations

import selectors
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from localbroker.cluster.launcher import stop_all

_STUCK = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)
BOUND_S = 0.5
calls: list[tuple[str, float | None]] = []


class Watched(subprocess.Popen[bytes]):
    """A node's process whose SIGTERMs and bounded waits are noted in `calls`."""

    def terminate(self) -> None:
        calls.append(("terminate", None))
        super().terminate()

    def wait(self, timeout: float | None = None) -> int:
        if timeout is not None:
            calls.append(("wait", timeout))
        return super().wait(timeout)


@pytest.fixture
def stuck_nodes() -> Iterator[list[Watched]]:
    nodes: list[Watched] = []
    try:
        for _ in range(3):
            node = Watched([sys.executable, "-c", _STUCK], stdout=subprocess.PIPE)
            nodes.append(node)
            _ready(node)
        yield nodes
    finally:
        for node in nodes:
            node.kill()
            node.wait()
            if node.stdout is not None:
                node.stdout.close()


def _ready(node: Watched, within_s: float = 30.0) -> None:
    """Wait (bounded) for the node to say it ignores SIGTERM."""
    assert node.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(node.stdout, selectors.EVENT_READ)
        assert selector.select(within_s), "the node did not start"
    assert node.stdout.readline() == b"ready\n"


def test_nodes_are_stopped_within_one_bound_not_one_each(stuck_nodes: Any) -> None:
    """Every node has its SIGTERM before any is waited for, and the waits share one bound:
    what the nodes may take together is BOUND_S, not three times it. Fails with a wait of
    BOUND_S per node (stop_all as it was: the workbench's exit took > 12 s)."""
    calls.clear()
    stop_all(stuck_nodes, BOUND_S)
    assert [name for name, _ in calls[:3]] == ["terminate"] * 3
    assert sum(bound or 0.0 for _, bound in calls[3:]) <= BOUND_S
    assert [node.returncode for node in stuck_nodes] == [-9, -9, -9]
