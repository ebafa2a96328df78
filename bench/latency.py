"""End-to-end latency, producer to consumer: localbroker, Apache Kafka and Tansu in one run.

    python bench/latency.py [--rates 1000,10000,50000] [--seconds 8] [--size 1000]
                            [--brokers localbroker,kafka,tansu] [--modes default,fsync]
                            [--profile PREFIX]

A paced confluent-kafka producer (acks=all, linger.ms=0) writes `--size`-byte records to a
one-partition topic at each rate; each record carries its sequence number and the moment it
was handed to librdkafka (CLOCK_MONOTONIC, shared by every process on the machine). A
confluent-kafka consumer in another process (so the two never share an interpreter lock)
reads them from the start and takes, per record, the moment it came out of `consume` minus
the moment in the payload. The first second of each run is a warm-up and not counted.

Two modes, each with fresh brokers: `default` (Kafka's own defaults: the page cache, no fsync
before the acknowledgement) and `fsync`, with log.flush.interval.messages=1 given to the broker
(localbroker and Kafka then fsync before acknowledging; Tansu keeps its log in memory and has
no such setting, so it is measured in `default` only). p50, p99, p99.9 and max per broker
and rate, with localbroker's and Tansu's p99 as ratios to Kafka's (lower is better), and
the rate the producer achieved (a broker that cannot keep up shows it there and in its tail).
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import struct
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from multiprocessing.connection import Connection
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from peers import apache_kafka, chosen, localbroker, machine_load, ratio, tansu
from rich.console import Console
from rich.table import Table
from throughput import TIMEOUT, Deliveries, create_topic

STAMP = struct.Struct(">qq")
"""A record's payload starts with its sequence number and its send time (ns)."""
WARM_UP_SECONDS = 1.0
FSYNC = {"log.flush.interval.messages": "1"}


def consume(bootstrap: str, topic: str, count: int, warm_up: int, ready: Connection) -> None:
    """Read `count` records of `topic` and send back (through `ready`) the latency in ns of
    each one after the first `warm_up`: run in its own process."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"latency-{topic}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
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
            # One at a time: consume(n, timeout) would hold records back until n arrived.
            message = consumer.poll(0.1)
            now = time.monotonic_ns()
            if message is None or message.error():
                continue
            value = message.value()
            assert value is not None
            sequence, sent = STAMP.unpack_from(value)
            received += 1
            if sequence >= warm_up:
                latencies.append(now - sent)
    finally:
        consumer.close()
    ready.send((received, latencies))


def produce(bootstrap: str, topic: str, rate: int, count: int, size: int) -> float:
    """Send `count` records at `rate` a second, each stamped as it is handed over; the rate
    achieved."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": 0,
            "compression.type": "none",
            "queue.buffering.max.messages": 1_000_000,
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


def run_once(bootstrap: str, rate: int, seconds: float, size: int) -> tuple[float, list[int]]:
    """The achieved rate and the latencies (ns) of one paced run on a new topic."""
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
        achieved = produce(bootstrap, topic, rate, count, size)
        if not ours.poll(TIMEOUT):
            raise TimeoutError("the consumer never finished")
        received, latencies = ours.recv()
        if received < count:
            raise RuntimeError(f"consumed {received} of {count}")
        return achieved, latencies
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


def starters(
    names: str, mode: str, profile: str | None
) -> dict[str, Callable[[], AbstractContextManager[str]]]:
    """The brokers of `--brokers` for `mode`, each with its fsync setting if it has one."""
    brokers = chosen(names)
    overrides = FSYNC if mode == "fsync" else None
    lb_profile = Path(f"{profile}-{mode}.txt") if profile else None
    if "localbroker" in brokers:
        brokers["localbroker"] = functools.partial(
            localbroker, overrides=overrides, profile=lb_profile
        )
    if "kafka" in brokers:
        brokers["kafka"] = functools.partial(apache_kafka, overrides)
    if mode == "fsync":
        brokers.pop("tansu", None)
    elif "tansu" in brokers:
        brokers["tansu"] = tansu
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
    console = Console(width=150)
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
        "load",
    ):
        table.add_column(column, justify="right")
    for mode in args.modes.split(","):
        brokers = starters(args.brokers, mode, args.profile)
        with ExitStack() as stack:
            bootstrap = {name: stack.enter_context(start()) for name, start in brokers.items()}
            for name in brokers:  # the JIT and caches warm, topics and connections made once
                run_once(bootstrap[name], rates[0], 1.0, args.size)
            for rate in rates:
                figures = {}
                for name in brokers:
                    achieved, latencies = run_once(bootstrap[name], rate, args.seconds, args.size)
                    figures[name] = (achieved, percentiles(latencies), machine_load())
                    console.log(f"{mode} {rate}/s {name}: {figures[name]}")
                reference = figures.get("kafka")
                for name, (achieved, (p50, p99, p999, top), load) in figures.items():
                    table.add_row(
                        mode,
                        f"{rate:,}",
                        name,
                        f"{achieved:,.0f}",
                        f"{p50:.2f}",
                        f"{p99:.2f}",
                        f"{p999:.2f}",
                        f"{top:.2f}",
                        ratio(p99, reference[1][1]) if reference and name != "kafka" else "",
                        load.removeprefix("load "),
                    )
    console.print(table)


if __name__ == "__main__":
    main()
