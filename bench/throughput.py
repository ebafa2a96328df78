"""Produce and consume throughput with librdkafka: localbroker, Apache Kafka and Tansu in one run.

    python bench/throughput.py [--repeat 3] [--sizes 100,1000,10000] [--partitions 1,8]
                               [--scale 1.0] [--brokers localbroker,kafka,tansu]
    python bench/throughput.py --brokers localbroker-cluster,kafka-cluster
                               --replication-factors 1,3

For each record size, partition count and replication factor, a confluent-kafka producer
(acks=all) writes N records to a new topic, then a consumer reads them back with manual
assignment. The `-cluster` brokers are three-node clusters (`localbroker --cluster 3`, Apache
Kafka's three KRaft nodes), where RF=3 with acks=all waits for both followers; the table
then also shows each figure against the same broker's RF=1. Runs
alternate between the brokers and the median of `--repeat` runs is reported, with each
broker's ratio to Apache Kafka (ratios, because these machines are noisy). `--scale` shrinks
or grows the bytes written per run (TARGET_BYTES). Each broker first serves one discarded run
a tenth that size, so the JVM's JIT compiler (and localbroker's caches) are warm when measured.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import statistics
import time
import uuid
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from peers import chosen, localbroker, machine_load, ratio, reference_of
from rich.console import Console
from rich.table import Table

TIMEOUT = 120.0
TARGET_BYTES = {100: 60_000_000, 1000: 200_000_000, 10_000: 300_000_000}


@dataclass
class Result:
    produce_msgs_s: float
    produce_mb_s: float
    consume_msgs_s: float
    consume_mb_s: float


def records_for(size: int, scale: float = 1.0) -> int:
    return max(int(TARGET_BYTES.get(size, 100_000_000) * scale) // size, 1000)


def create_topic(bootstrap: str, partitions: int, replication_factor: int = 1) -> str:
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = NewTopic(topic, partitions, replication_factor)
    admin.create_topics([new])[topic].result(TIMEOUT)
    deadline = time.monotonic() + TIMEOUT
    while len(admin.list_topics(topic, timeout=10).topics[topic].partitions) < partitions:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{topic} never showed {partitions} partitions")
        time.sleep(0.1)
    return topic


def produce(bootstrap: str, topic: str, count: int, size: int) -> float:
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": 5,
            "batch.size": 1_000_000,
            "compression.type": "none",
            "queue.buffering.max.messages": 1_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
        }
    )
    payload = os.urandom(size)
    delivered = Deliveries()
    started = time.perf_counter()
    for i in range(count):
        while True:
            try:
                producer.produce(topic, payload, callback=delivered)
                break
            except BufferError:
                producer.poll(0.01)
        if i % 10_000 == 0:
            producer.poll(0)
    delivered.flush(producer)
    return time.perf_counter() - started


class Deliveries:
    """A producer's delivery callback that counts failures, and the flush that checks them."""

    def __init__(self) -> None:
        self.failures = 0

    def __call__(self, error: object, _message: object) -> None:
        if error is not None:
            self.failures += 1

    def flush(self, producer: Producer) -> None:
        """Wait for every record to be delivered; raise if one was not."""
        left = producer.flush(TIMEOUT)
        if self.failures or left:
            raise RuntimeError(f"{self.failures} delivery failures, {left} undelivered")


def consume(bootstrap: str, topic: str, partitions: int, count: int) -> float:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{topic}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "fetch.max.bytes": 52_428_800,
            "max.partition.fetch.bytes": 10_485_760,
            "fetch.wait.max.ms": 10,
            "queued.min.messages": 1_000_000,
            "queued.max.messages.kbytes": 2_097_151,
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    received, first = 0, None
    deadline = time.monotonic() + TIMEOUT
    try:
        while received < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"consumed {received} of {count}")
            for message in consumer.consume(10_000, 1.0):
                if message.error():
                    continue
                if first is None:
                    first = time.perf_counter()
                received += 1
        assert first is not None
        return time.perf_counter() - first
    finally:
        consumer.close()


def run_once(
    bootstrap: str, size: int, partitions: int, scale: float = 1.0, replication_factor: int = 1
) -> Result:
    count = records_for(size, scale)
    topic = create_topic(bootstrap, partitions, replication_factor)
    produce_s = produce(bootstrap, topic, count, size)
    consume_s = consume(bootstrap, topic, partitions, count)
    megabytes = count * size / 1e6
    return Result(
        count / produce_s, megabytes / produce_s, count / consume_s, megabytes / consume_s
    )


def median(results: list[Result]) -> Result:
    return Result(
        *(
            statistics.median(getattr(r, f) for r in results)
            for f in ("produce_msgs_s", "produce_mb_s", "consume_msgs_s", "consume_mb_s")
        )
    )


def ratios(result: Result, against: Result | None) -> tuple[str, str]:
    """Produce and consume records/s against another result's, blank without one."""
    if against is None:
        return "", ""
    return (
        ratio(result.produce_msgs_s, against.produce_msgs_s),
        ratio(result.consume_msgs_s, against.consume_msgs_s),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--partitions", default="1,8")
    parser.add_argument("--scale", type=float, default=1.0, help="times TARGET_BYTES per run")
    parser.add_argument("--brokers", default="localbroker,kafka,tansu")
    parser.add_argument("--replication-factors", default="1", help="e.g. 1,3 on the clusters")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help="sample localbroker with py-spy: PREFIX-<size>B-<partitions>p.txt per configuration",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    partition_counts = [int(p) for p in args.partitions.split(",")]
    factors = [int(r) for r in args.replication_factors.split(",")]
    brokers = chosen(args.brokers)
    console = Console(width=140)
    runs: dict[tuple[str, int, int, int], list[Result]] = {}
    loads = [machine_load()]
    for size in sizes:
        for partitions in partition_counts:
            # Fresh brokers for every configuration: data written by earlier configurations
            # would otherwise be flushed by the kernel in the middle of this one.
            with ExitStack() as stack:
                if args.profile and "localbroker" in brokers:
                    brokers["localbroker"] = functools.partial(
                        localbroker, profile=Path(f"{args.profile}-{size}B-{partitions}p.txt")
                    )
                bootstrap = {name: stack.enter_context(start()) for name, start in brokers.items()}
                for name in brokers:
                    run_once(bootstrap[name], size, partitions, args.scale / 10)
                for _ in range(args.repeat):
                    for rf, name in itertools.product(factors, brokers):
                        result = run_once(bootstrap[name], size, partitions, args.scale, rf)
                        runs.setdefault((name, size, partitions, rf), []).append(result)
                        console.log(
                            f"{name} {size} B x{partitions} RF={rf}: "
                            f"produce {result.produce_mb_s:.1f} MB/s, "
                            f"consume {result.consume_mb_s:.1f} MB/s; {machine_load()}"
                        )
            loads.append(machine_load())
    table = Table(
        title="librdkafka, acks=all; median of runs; localbroker and Kafka on disk, Tansu in"
        f" memory; {loads[0]} at the start, {loads[-1]} at the end"
    )
    for column in (
        "size",
        "partitions",
        "RF",
        "broker",
        "produce msg/s",
        "produce MB/s",
        "consume msg/s",
        "consume MB/s",
        "produce / Kafka",
        "consume / Kafka",
        "produce / RF=1",
        "consume / RF=1",
    ):
        table.add_column(column, justify="right")
    summary = []
    for size, partitions, rf in itertools.product(sizes, partition_counts, factors):
        medians = {name: median(runs[(name, size, partitions, rf)]) for name in brokers}
        reference = reference_of(medians)
        for name, result in medians.items():
            single = median(runs[(name, size, partitions, 1)]) if 1 in factors else None
            table.add_row(
                str(size),
                str(partitions),
                str(rf),
                name,
                f"{result.produce_msgs_s:,.0f}",
                f"{result.produce_mb_s:,.1f}",
                f"{result.consume_msgs_s:,.0f}",
                f"{result.consume_mb_s:,.1f}",
                *ratios(result, reference),
                *ratios(result, single),
            )
            summary.append(
                {
                    "size": size,
                    "partitions": partitions,
                    "replication_factor": rf,
                    "broker": name,
                    **asdict(result),
                }
            )
    console.print(table)
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"loads": loads, "runs": summary}, file, indent=1)


if __name__ == "__main__":
    main()
