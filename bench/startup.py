"""Start-up time and resident memory: localbroker, Apache Kafka and Tansu in one run.

    python bench/startup.py [--gigabytes 1.0] [--partitions 8] [--repeat 3]
                            [--load-megabytes 200] [--brokers localbroker,kafka,tansu]

Start-up is measured from process launch to the first answer to Metadata (the same yardstick for
every broker: a raw Metadata request polled every 20 ms; Kafka's by the reference broker's own
wait, every 50 ms). Two tables:

- empty: start-up on an empty log, resident memory (VmRSS) 5 s after start-up, its peak while
  a librdkafka producer and consumer move `--load-megabytes` of 1 KB records through 8
  partitions (sampled every 100 ms), and what stays resident after that load.
- with a log: about `--gigabytes` of 1 KB records written through the broker, then start-up
  after a clean SIGTERM, after a kill -9 with nothing unflushed, and after a kill -9 right behind
  a burst of writes (the recovery scan). Tansu keeps its log in memory, so it is not here.

Ratios are each broker's to Apache Kafka's (lower is better for all of them).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from peers import (
    START_TIMEOUT,
    free_port,
    localbroker_command,
    machine_load,
    ratio,
    tansu_command,
)
from reference_kafka import ReferenceKafka, answering_nodes
from rich.console import Console
from rich.table import Table
from throughput import TARGET_BYTES, consume, create_topic, produce

RECORD_SIZE = 1000
IDLE_SECONDS = 5.0
SAMPLE_INTERVAL = 0.1


def resident_megabytes(pid: int) -> float:
    """VmRSS of `pid`: what it holds in RAM now (a JVM's heap counts once touched)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class Command:
    """A broker run from a command line (localbroker, Tansu), on one port across restarts."""

    def __init__(self, command: Callable[[int], list[str]]) -> None:
        self.port = free_port()
        self.command = command(self.port)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> float:
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while not answering_nodes(self.bootstrap):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command[0]} exited with {self.process.returncode}")
            if time.perf_counter() - started > START_TIMEOUT:
                raise TimeoutError(f"{self.command[0]} never answered Metadata")
            time.sleep(0.02)
        return time.perf_counter() - started

    def stop(self, sig: int = signal.SIGTERM) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(START_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Kafka:
    """The reference broker, formatted once, launched (and timed) as often as asked."""

    def __init__(self, directory: Path) -> None:
        self.reference = ReferenceKafka(directory).format()

    @property
    def bootstrap(self) -> str:
        return self.reference.bootstrap

    @property
    def pid(self) -> int:
        assert self.reference.process is not None
        return self.reference.process.pid

    def start(self) -> float:
        started = time.perf_counter()
        self.reference.launch()
        return time.perf_counter() - started

    def stop(self, sig: int = signal.SIGTERM) -> None:
        process = self.reference.process
        if sig == signal.SIGKILL and process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(START_TIMEOUT)
        self.reference.stop()


Broker = Command | Kafka


@contextlib.contextmanager
def broker(name: str) -> Iterator[Broker]:
    """A stopped broker of kind `name` over a data directory of its own, removed at the end."""
    directory = Path(tempfile.mkdtemp(prefix=f"startup-{name}-"))
    chosen: Broker
    if name == "kafka":
        chosen = Kafka(directory)
    elif name == "tansu":
        chosen = Command(tansu_command)
    else:
        chosen = Command(lambda port: localbroker_command(directory, port))
    try:
        yield chosen
    finally:
        chosen.stop(signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)


def under_load(running: Broker, megabytes: float) -> float:
    """Peak resident megabytes while `megabytes` of 1 KB records go in and out again."""
    peak = resident_megabytes(running.pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(SAMPLE_INTERVAL):
            peak = max(peak, resident_megabytes(running.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        topic = create_topic(running.bootstrap, 8)
        count = int(megabytes * 1e6 / RECORD_SIZE)
        produce(running.bootstrap, topic, count, RECORD_SIZE)
        consume(running.bootstrap, topic, 8, count)
    finally:
        done.set()
        sampler.join()
    return max(peak, resident_megabytes(running.pid))


def empty_log(names: list[str], repeat: int, megabytes: float) -> dict[str, tuple[float, ...]]:
    """Per broker: median start-up on an empty log, idle, peak and after-load megabytes."""
    rows = {}
    for name in names:
        with broker(name) as running:
            runs = []
            for _ in range(repeat):
                runs.append(running.start())
                running.stop()
            running.start()
            time.sleep(IDLE_SECONDS)  # a figure of the idle broker, not a wait for an effect
            idle = resident_megabytes(running.pid)
            peak = under_load(running, megabytes)
            time.sleep(IDLE_SECONDS)
            rows[name] = (statistics.median(runs), idle, peak, resident_megabytes(running.pid))
    return rows


def with_log(name: str, gigabytes: float, partitions: int, repeat: int) -> dict[str, float]:
    """Median start-up of broker `name` over about `gigabytes` of log, per shutdown case."""
    cases = {}
    with broker(name) as running:
        running.start()
        topic = create_topic(running.bootstrap, partitions)
        count = int(gigabytes * 1e9 / RECORD_SIZE)
        produce(running.bootstrap, topic, count, RECORD_SIZE)
        running.stop()
        for case in ("clean shutdown", "kill -9, nothing unflushed", "kill -9 after 10% more"):
            runs = []
            for _ in range(repeat):
                if case != "clean shutdown":
                    running.start()
                    if case == "kill -9 after 10% more":
                        produce(running.bootstrap, topic, count // 10, RECORD_SIZE)
                    running.stop(signal.SIGKILL)
                runs.append(running.start())
                running.stop()
            cases[case] = statistics.median(runs)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--load-megabytes", type=float, default=TARGET_BYTES[1000] / 1e6)
    parser.add_argument("--brokers", default="localbroker,kafka,tansu")
    args = parser.parse_args()
    names = args.brokers.split(",")
    console = Console(width=180)
    start_load = machine_load()
    empty = empty_log(names, args.repeat, args.load_megabytes)
    table = Table(
        title=f"start-up on an empty log (s) and resident memory (MB), {args.load_megabytes:.0f}"
        f" MB of load; {start_load} at the start, {machine_load()} at the end"
    )
    columns = ("start-up", "idle RSS", "peak RSS under load", "RSS after load")
    for column in ("broker", *columns, *(f"{column} / Kafka" for column in columns)):
        table.add_column(column, justify="right")
    reference = empty.get("kafka")
    for name, figures in empty.items():
        ratios = [ratio(a, b) for a, b in zip(figures, reference, strict=True)] if reference else []
        table.add_row(name, f"{figures[0]:.2f}", *(f"{f:,.0f}" for f in figures[1:]), *ratios)
    console.print(table)

    start_load = machine_load()
    logged = {
        name: with_log(name, args.gigabytes, args.partitions, args.repeat)
        for name in names
        if name != "tansu"
    }
    table = Table(
        title=f"start-up (s) with {args.gigabytes} GB of log in {args.partitions} partitions,"
        f" median of {args.repeat}; {start_load} at the start, {machine_load()} at the end"
    )
    for column in ("case", *logged, *(f"{name} / Kafka" for name in logged if name != "kafka")):
        table.add_column(column, justify="right")
    for case in next(iter(logged.values())):
        figures = [logged[name][case] for name in logged]
        ratios = [
            ratio(logged[name][case], logged["kafka"][case])
            for name in logged
            if name != "kafka" and "kafka" in logged
        ]
        table.add_row(case, *(f"{f:.2f}" for f in figures), *ratios)
    console.print(table)


if __name__ == "__main__":
    main()
