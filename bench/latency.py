"""End-to-end latency, producer to consumer: localbroker, Apache Kafka and Tansu in one run.

    python bench/latency.py [--rates 1000,10000,50000] [--seconds 8] [--size 1000]
                            [--brokers localbroker,kafka,tansu] [--modes default,fsync]
                            [--profile PREFIX]

A paced confluent-kafka producer (acks=all, linger.ms=0) writes `--size`-byte records to a
one-partition topic at each rate; each record carries its sequence number and the moment it
was handed to librdkafka (CLOCK_MONOTONIC, shared by every process on the machine). A
confluent-kafka consumer in another process (so the two never share an interpreter lock)
reads them from the start and takes, per record, the moment it came out of `consume` minus
the moment in the payload. The first second of each run is a warm-up and not counted, and
each broker first serves a run at the highest rate, so that Kafka's JIT compiler has compiled
its hot path before anything is measured.

The clients must not queue, or the bench measures them rather than the broker:
- the producer keeps at most 5 requests in flight (the Java client's default, and
  librdkafka's own limit when idempotent). librdkafka's default for a plain producer,
  1,000,000, with linger.ms=0 sends a request per record or two and pipelines thousands of
  them on the one connection, which every broker answers in order: measured at 10,000/s, 2,000+
  requests waited, the producer's request round trip was 126-528 ms at the median and records
  took 190-1,100 ms end to end on both brokers, against 1-4 ms with 5 in flight;
- both clients set TCP_NODELAY (`socket.nagle.disable`), as Kafka's Java client always does;
  librdkafka leaves Nagle's algorithm on by default, which holds a request back while the one
  before it is unacknowledged: at 10,000/s on localbroker, five alternating pairs of runs gave
  a p99 of 40-136 ms (median 88) with Nagle and 21-60 ms (median 29) without;
- the consumer takes whatever has arrived in one call (`consume(n, 0)`) and waits with
  `consume(1, timeout)` only when nothing has: a call per record fell behind at 50,000/s
  (6,000 records waited in librdkafka's queue for the application).
The queues are checked on every run from librdkafka's statistics: `rtt p99` is the producer's
request round trip, the broker's share of the latency; `behind` the most records that
waited in the consumer for the application (more than a few hundred: the consumer is the bound).
`CPU` is the broker process's CPU time (every thread) over the run's wall-clock time, in cores:
a figure the machine's other load moves much less than the latencies, and a broker near 1.0
(localbroker has one thread) is its own bound.

Two modes, each with fresh brokers: `default` (Kafka's own defaults: the page cache, no fsync
before the acknowledgement) and `fsync`, with log.flush.interval.messages=1 given to the broker
(localbroker and Kafka then fsync before acknowledging; Tansu keeps its log in memory and has
no such setting, so it is measured in `default` only). p50, p99, p99.9 and max per broker
and rate, with localbroker's and Tansu's p99 as ratios to Kafka's (lower is better), and
the rate the producer achieved (a broker that cannot keep up shows it there and in its tail).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import multiprocessing
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from broker_cpu import cpu_seconds
from confluent_kafka import Consumer, Producer, TopicPartition
from peers import (
    apache_kafka_process,
    chosen,
    localbroker_process,
    machine_load,
    ratio,
    tansu_process,
)
from rich.console import Console
from rich.table import Table
from throughput import TIMEOUT, Deliveries, create_topic

STAMP = struct.Struct(">qq")
"""A record's payload starts with its sequence number and its send time (ns)."""
WARM_UP_SECONDS = 1.0
JIT_WARM_UP_SECONDS = 3.0
"""Each broker's first run, at the highest rate, not counted."""
IN_FLIGHT = 5
"""The producer's requests in flight per connection: the Java client's default (see above)."""
DRAIN = 10_000
"""The most records the consumer takes from librdkafka in one call."""
STATISTICS_MS = 1000
FSYNC = {"log.flush.interval.messages": "1"}


class ClientQueues:
    """librdkafka's statistics (its `stats_cb`) reduced to what shows who queued: the
    producer's request round trip (the broker's share) and the records that waited in the
    consumer for the application (the bench's own share)."""

    def __init__(self) -> None:
        self.round_trips_p99_us: list[int] = []
        self.behind = 0

    def __call__(self, raw: str) -> None:
        statistics = json.loads(raw)
        for broker in statistics["brokers"].values():
            if broker["nodeid"] >= 0 and broker["rtt"]["cnt"]:
                self.round_trips_p99_us.append(broker["rtt"]["p99"])
        for topic in statistics["topics"].values():
            for partition in topic["partitions"].values():
                self.behind = max(self.behind, partition["fetchq_cnt"])

    def round_trip_p99_ms(self) -> float:
        """The median over the run of each second's p99 of Produce round trips."""
        ordered = sorted(self.round_trips_p99_us)
        return ordered[len(ordered) // 2] / 1e3 if ordered else float("nan")


def consume(bootstrap: str, topic: str, count: int, warm_up: int, ready: Connection) -> None:
    """Read `count` records of `topic` and send back (through `ready`) how many were read,
    the latency in ns of each one after the first `warm_up` and the most that waited in
    librdkafka for this loop: run in its own process."""
    queues = ClientQueues()
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "socket.nagle.disable": True,
            "group.id": f"latency-{topic}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "statistics.interval.ms": STATISTICS_MS,
            "stats_cb": queues,
        }
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    consumer.consume(1, 0.5)  # connected and fetching before the producer starts
    ready.send("ready")
    latencies: list[int] = []
    received = 0
    deadline = time.monotonic() + TIMEOUT
    try:
        while received < count and time.monotonic() < deadline:
            # All that has arrived, or the first record to arrive: consume(n, timeout) with a
            # timeout holds records back until n have arrived.
            messages = consumer.consume(DRAIN, 0) or consumer.consume(1, 0.1)
            now = time.monotonic_ns()
            for message in messages:
                if message.error():
                    continue
                value = message.value()
                assert value is not None
                sequence, sent = STAMP.unpack_from(value)
                received += 1
                if sequence >= warm_up:
                    latencies.append(now - sent)
    finally:
        consumer.close()
    ready.send((received, latencies, queues.behind))


def produce(
    bootstrap: str, topic: str, rate: int, count: int, size: int, queues: ClientQueues
) -> float:
    """Send `count` records at `rate` a second, each stamped as it is handed over; the rate
    achieved."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "socket.nagle.disable": True,
            "acks": "all",
            "linger.ms": 0,
            "max.in.flight.requests.per.connection": IN_FLIGHT,
            "compression.type": "none",
            "queue.buffering.max.messages": 1_000_000,
            "statistics.interval.ms": STATISTICS_MS,
            "stats_cb": queues,
        }
    )
    padding = bytes(size - STAMP.size)
    delivered = Deliveries()
    started = time.monotonic()
    sent = 0
    while sent < count:
        due = min(count, int((time.monotonic() - started) * rate) + 1)
        while sent < due:
            payload = STAMP.pack(sent, time.monotonic_ns()) + padding
            producer.produce(topic, payload, partition=0, callback=delivered)
            sent += 1
        producer.poll(0)
        ahead = (sent / rate) - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(min(ahead, 0.001))
    achieved = count / (time.monotonic() - started)
    delivered.flush(producer)
    return achieved


@dataclass(frozen=True)
class Run:
    """One paced run: the rate achieved, the latencies (ns) and who queued (ClientQueues)."""

    achieved: float
    latencies: list[int]
    round_trip_p99_ms: float
    behind: int
    broker_cpu: float
    """The broker's CPU seconds per second of the run (cores)."""


def run_once(bootstrap: str, pid: int, rate: int, seconds: float, size: int) -> Run:
    """One paced run on a new topic of the broker `bootstrap`, whose process is `pid`."""
    topic = create_topic(bootstrap, 1)
    warm_up = int(rate * WARM_UP_SECONDS)
    count = warm_up + int(rate * seconds)
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    reader = multiprocessing.get_context("spawn").Process(
        target=consume, args=(bootstrap, topic, count, warm_up, theirs)
    )
    reader.start()
    try:
        if not ours.poll(TIMEOUT) or ours.recv() != "ready":
            raise TimeoutError("the consumer never started")
        queues = ClientQueues()
        cpu, wall = cpu_seconds(pid), time.monotonic()
        achieved = produce(bootstrap, topic, rate, count, size, queues)
        if not ours.poll(TIMEOUT):
            raise TimeoutError("the consumer never finished")
        received, latencies, behind = ours.recv()
        broker_cpu = (cpu_seconds(pid) - cpu) / (time.monotonic() - wall)
        if received < count:
            raise RuntimeError(f"consumed {received} of {count}")
        return Run(achieved, latencies, queues.round_trip_p99_ms(), behind, broker_cpu)
    finally:
        reader.join(TIMEOUT)
        if reader.is_alive():
            reader.kill()


def percentiles(latencies: list[int]) -> tuple[float, float, float, float]:
    """p50, p99, p99.9 and max in milliseconds."""
    ordered = sorted(latencies)
    last = len(ordered) - 1
    return tuple(  # type: ignore[return-value]
        ordered[min(last, round(q * last))] / 1e6 for q in (0.5, 0.99, 0.999, 1.0)
    )


Started = AbstractContextManager[tuple[str, int]]
"""A broker running: its bootstrap and its process id."""


@contextlib.contextmanager
def with_pid(
    running: AbstractContextManager[tuple[str, subprocess.Popen[bytes]]],
) -> Iterator[tuple[str, int]]:
    with running as (bootstrap, process):
        yield bootstrap, process.pid


def starters(names: str, mode: str, profile: str | None) -> dict[str, Callable[[], Started]]:
    """The brokers of `--brokers` for `mode`, each with its fsync setting if it has one."""
    wanted = chosen(names)
    overrides = FSYNC if mode == "fsync" else None
    lb_profile = Path(f"{profile}-{mode}.txt") if profile else None
    brokers: dict[str, Callable[[], Started]] = {}
    if "localbroker" in wanted:
        brokers["localbroker"] = lambda: with_pid(
            localbroker_process(overrides=overrides, profile=lb_profile)
        )
    if "kafka" in wanted:
        brokers["kafka"] = functools.partial(apache_kafka_process, overrides)
    if "tansu" in wanted and mode != "fsync":
        brokers["tansu"] = lambda: with_pid(tansu_process())
    return brokers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="1000,10000,50000")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured, per run")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--brokers", default="localbroker,kafka,tansu")
    parser.add_argument("--modes", default="default,fsync")
    parser.add_argument(
        "--profile", metavar="PREFIX", help="sample localbroker with py-spy: PREFIX-<mode>.txt"
    )
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    console = Console(width=180)
    table = Table(title=f"end-to-end latency (ms), {args.size} B, acks=all, linger.ms=0")
    for column in (
        "mode",
        "rate/s",
        "broker",
        "achieved/s",
        "p50",
        "p99",
        "p99.9",
        "max",
        "p99 / Kafka",
        "rtt p99",
        "behind",
        "CPU",
        "load",
    ):
        table.add_column(column, justify="right")
    for mode in args.modes.split(","):
        brokers = starters(args.brokers, mode, args.profile)
        with ExitStack() as stack:
            running = {name: stack.enter_context(start()) for name, start in brokers.items()}
            for name in brokers:  # the JIT and caches warm, topics and connections made once
                run_once(*running[name], max(rates), JIT_WARM_UP_SECONDS, args.size)
            for rate in rates:
                figures = {}
                for name in brokers:
                    run = run_once(*running[name], rate, args.seconds, args.size)
                    figures[name] = (run, percentiles(run.latencies), machine_load())
                    console.log(f"{mode} {rate}/s {name}: {figures[name][1:]}")
                reference = figures.get("kafka")
                for name, (run, (p50, p99, p999, top), load) in figures.items():
                    table.add_row(
                        mode,
                        f"{rate:,}",
                        name,
                        f"{run.achieved:,.0f}",
                        f"{p50:.2f}",
                        f"{p99:.2f}",
                        f"{p999:.2f}",
                        f"{top:.2f}",
                        ratio(p99, reference[1][1]) if reference and name != "kafka" else "",
                        f"{run.round_trip_p99_ms:.2f}",
                        f"{run.behind:,}",
                        f"{run.broker_cpu:.2f}",
                        load.removeprefix("load "),
                    )
    console.print(table)


if __name__ == "__main__":
    main()
