from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from brokers import BrokerProcess, BrokerThread


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerThread]:
    """A running localbroker (in a thread) on a free port with a fresh data directory."""
    running = BrokerThread(tmp_path / "data").start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def broker_process(tmp_path: Path) -> Iterator[BrokerProcess]:
    """A localbroker process on a free port; killed at the end whatever happens."""
    process = BrokerProcess(tmp_path / "data").start()
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
def start_broker(tmp_path: Path) -> Iterator[object]:
    """Start brokers with custom server properties: `start_broker({"num.partitions": "3"})`.

    Every broker started this way is stopped at the end of the test.
    """
    started: list[BrokerThread] = []

    def start(config: dict[str, str] | None = None, data_dir: Path | None = None) -> BrokerThread:
        running = BrokerThread(data_dir or tmp_path / f"data{len(started)}", config).start()
        started.append(running)
        return running

    try:
        yield start
    finally:
        for running in started:
            running.stop()


@pytest.fixture
def kwb() -> object:
    """Run the `kwb` command line: `kwb("topics", "--list", "--bootstrap-server", b)`.

    Returns the CompletedProcess (text mode); every run is bounded by `timeout` seconds.
    """
    import subprocess

    def run(
        *args: str, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui.cli", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
