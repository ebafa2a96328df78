"""Log compaction throughput with produce running: localbroker beside Apache Kafka's cleaner.

    python bench/compaction.py [--mb 64] [--keys 5000] [--value-bytes 1000]
                               [--brokers localbroker,kafka]

Each broker gets a compacted topic (16 MiB segments) held back by min.compaction.lag.ms
while `--mb` MB of keyed records are written. Then the lag is lifted (AlterConfigs) while a
producer keeps writing new keys to the topic, and the clock runs until the cleaner has
finished its first round: its `cleaner-offset-checkpoint` (which both brokers write in the
same format) names the topic with an offset at or past the segment that was active when the
lag was lifted. Reported: MB of log cleaned per second (the bytes of the segments below it
over that time, the cleaner's backoff included), their size after cleaning, and the MB/s the
producer (paced at --produce-mb-s) reached meanwhile with its p99 and worst delivery latency
(does cleaning stall produce?), each beside Apache Kafka's.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)
from peers import localbroker, machine_load
from reference_kafka import reference_kafka
from rich.console import Console
from rich.table import Table

TIMEOUT = 600.0
SEGMENT_BYTES = 16 * 1024 * 1024
CLEANER = {"log.cleaner.backoff.ms": "100"}


@dataclass
class Result:
    cleaned_mb: float
    seconds: float
    left_mb: float
    produce_mb_s: float
    produce_p99_ms: float
    produce_max_ms: float

    @property
    def mb_s(self) -> float:
        return self.cleaned_mb / self.seconds


@contextlib.contextmanager
def local() -> Iterator[tuple[str, Path]]:
    with (
        tempfile.TemporaryDirectory(prefix="lb-compaction-") as directory,
        localbroker(Path(directory), CLEANER) as bootstrap,
    ):
        yield bootstrap, Path(directory)


@contextlib.contextmanager
def kafka() -> Iterator[tuple[str, Path]]:
    with (
        tempfile.TemporaryDirectory(prefix="kafka-compaction-") as directory,
        reference_kafka(Path(directory), CLEANER) as broker,
    ):
        yield broker.bootstrap, Path(directory) / "logs"


BROKERS: dict[str, Callable[[], AbstractContextManager[tuple[str, Path]]]] = {
    "localbroker": local,
    "kafka": kafka,
}


def checkpointed(log_dir: Path, topic: str) -> int:
    """The topic's offset in the cleaner checkpoint, -1 before its first round."""
    path = log_dir / "cleaner-offset-checkpoint"
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text().splitlines()[2:]:
            name, _, offset = line.rsplit(" ", 2)
            if name == topic:
                return int(offset)
    return -1


def write(producer: Producer, topic: str, keys: range, value: bytes) -> None:
    for key in keys:
        while True:
            try:
                producer.produce(topic, value, b"key-%d" % key)
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(TIMEOUT)


def run(bootstrap: str, log_dir: Path, mb: int, keys: int, value_bytes: int, rate: float) -> Result:
    topic = f"compaction-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    held = {
        "cleanup.policy": "compact",
        "segment.bytes": str(SEGMENT_BYTES),
        "min.compaction.lag.ms": str(10**12),
    }
    admin.create_topics([NewTopic(topic, 1, 1, config=held)])[topic].result(60)
    value = b"v" * value_bytes
    records = mb * 1_000_000 // value_bytes
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
    for start in range(0, records, keys):
        write(producer, topic, range(min(keys, records - start)), value)
    partition = log_dir / f"{topic}-0"
    active = max(int(p.stem) for p in partition.glob("*.log"))
    preloaded = sum(p.stat().st_size for p in partition.glob("*.log") if int(p.stem) < active)
    stop = threading.Event()
    produced = [0]
    latencies: list[float] = []

    def delivered(error: object, message: Any) -> None:
        if error is None:
            latencies.append(message.latency())

    extra = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    extra.produce(topic, value, b"warm-up")  # connected, metadata known: latencies are
    extra.flush(TIMEOUT)  # the broker's

    def keep_producing() -> None:
        n = 0
        begun = time.monotonic()
        while not stop.is_set():
            ahead = produced[0] / (rate * 1e6) - (time.monotonic() - begun)
            if ahead > 0:
                extra.poll(min(ahead, 0.05))
                continue
            try:
                extra.produce(topic, value, b"new-%d" % n, on_delivery=delivered)
                n += 1
                produced[0] += len(value)
            except BufferError:
                extra.poll(0.05)
        extra.flush(TIMEOUT)

    background = threading.Thread(target=keep_producing, daemon=True)
    background.start()
    started = time.monotonic()
    lift = ConfigEntry("min.compaction.lag.ms", "0", incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[lift])
    admin.incremental_alter_configs([resource])[resource].result(60)
    deadline = started + TIMEOUT
    while checkpointed(log_dir, topic) < active:
        if time.monotonic() > deadline:
            stop.set()
            raise TimeoutError(f"{topic} was not cleaned within {TIMEOUT}s")
        time.sleep(0.05)
    seconds = time.monotonic() - started
    stop.set()
    background.join(TIMEOUT)
    left = sum(p.stat().st_size for p in partition.glob("*.log") if int(p.stem) < active)
    latencies.sort()
    return Result(
        preloaded / 1e6,
        seconds,
        left / 1e6,
        produced[0] / 1e6 / seconds,
        latencies[int(len(latencies) * 0.99)] * 1000,
        latencies[-1] * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=64)
    parser.add_argument("--keys", type=int, default=5000)
    parser.add_argument("--value-bytes", type=int, default=1000)
    parser.add_argument("--brokers", default="localbroker,kafka")
    parser.add_argument("--produce-mb-s", type=float, default=10.0, help="the producer's pace")
    args = parser.parse_args()
    results = {}
    for name in args.brokers.split(","):
        with BROKERS[name]() as (bootstrap, log_dir):
            results[name] = run(
                bootstrap, log_dir, args.mb, args.keys, args.value_bytes, args.produce_mb_s
            )
    table = Table(title=f"Compaction of {args.mb} MB, {args.keys} keys ({machine_load()})")
    columns = ("broker", "cleaned MB", "seconds", "MB/s", "left MB", "produce MB/s", "p99 ms")
    for column in (*columns, "max ms"):
        table.add_column(column, justify="right")
    for name, result in results.items():
        table.add_row(
            name,
            f"{result.cleaned_mb:.1f}",
            f"{result.seconds:.2f}",
            f"{result.mb_s:.1f}",
            f"{result.left_mb:.1f}",
            f"{result.produce_mb_s:.1f}",
            f"{result.produce_p99_ms:.0f}",
            f"{result.produce_max_ms:.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
