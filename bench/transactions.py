"""Transactions with librdkafka: transactions/s and records/s, localbroker against Apache Kafka
and Tansu.

    python bench/transactions.py [--repeat 3] [--sizes 1,1000] [--seconds 10]
                                 [--brokers localbroker,kafka,tansu]

For each transaction size (records per transaction), a confluent-kafka transactional producer
commits transactions of that many 100-byte records to a one-partition topic for `--seconds`
(begin, produce, commit: one round trip each for AddPartitionsToTxn, Produce and EndTxn, plus
the markers), and the rates are reported with each broker's ratio to Apache Kafka (median of
`--repeat` runs, brokers alternating). Each broker first serves a discarded warm-up run. A
broker that refuses transactions (a Kafka error from the client) is shown with that error
instead of figures, and the other brokers' runs go on. Each broker's row also says whether a
read_committed consumer skipped a record of an aborted transaction (checked once per broker).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from typing import TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from peers import chosen, machine_load, ratio
from rich.console import Console
from rich.table import Table

TIMEOUT = 60.0
RECORD = b"x" * 100
T = TypeVar("T")


def transactional_producer(bootstrap: str) -> tuple[str, Producer]:
    """A fresh one-partition topic and a producer whose transactional id is its name."""
    topic = f"bench-txn-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until it answers
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(TIMEOUT)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "transactional.id": topic,
            "linger.ms": 5,
            "batch.size": 1_000_000,
        }
    )
    producer.init_transactions(TIMEOUT)
    return topic, producer


def run_once(bootstrap: str, per_transaction: int, seconds: float) -> tuple[float, float]:
    """(transactions/s, records/s) committed by one producer for about `seconds`."""
    topic, producer = transactional_producer(bootstrap)
    committed = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        producer.begin_transaction()
        for _ in range(per_transaction):
            producer.produce(topic, RECORD, partition=0)
        producer.commit_transaction(TIMEOUT)
        committed += 1
    elapsed = time.perf_counter() - started
    return committed / elapsed, committed * per_transaction / elapsed


def hides_aborts(bootstrap: str) -> bool:
    """Whether a read_committed consumer skips an aborted transaction's record between two
    committed ones: a broker can accept every transactional request and still not do this,
    and its transactions/s then mean little."""
    topic, producer = transactional_producer(bootstrap)
    for value, commit in ((b"committed", True), (b"aborted", False), (b"committed", True)):
        producer.begin_transaction()
        producer.produce(topic, value, partition=0)
        producer.flush(TIMEOUT)
        if commit:
            producer.commit_transaction(TIMEOUT)
        else:
            producer.abort_transaction(TIMEOUT)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": topic,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    values = []
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error() is None:
                values.append(message.value())
            elif message.error().code() == KafkaError._PARTITION_EOF:
                return b"aborted" not in values
        raise TimeoutError(f"read_committed never reached the end of {topic}")
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,1000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--brokers", default="localbroker,kafka,tansu")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    brokers = chosen(args.brokers)
    console = Console(width=120)
    runs: dict[tuple[str, int], list[tuple[float, float]]] = {}
    refused: dict[str, str] = {}
    loads = [machine_load()]

    def attempt(name: str, measure: Callable[[str], T]) -> T | None:
        """`measure` on broker `name`, None once it refused transactions."""
        if name not in refused:
            try:
                return measure(bootstrap[name])
            except KafkaException as exc:
                error = exc.args[0]
                refused[name] = f"{error.name()}: {error.str()}"
                console.log(f"{name} refused transactions: {refused[name]}")
        return None

    with ExitStack() as stack:
        bootstrap = {name: stack.enter_context(start()) for name, start in brokers.items()}
        hidden = {name: attempt(name, hides_aborts) for name in brokers}
        for size in sizes:
            for name in brokers:
                attempt(name, partial(run_once, per_transaction=size, seconds=args.seconds / 5))
            for _ in range(args.repeat):
                for name in brokers:
                    result = attempt(
                        name, partial(run_once, per_transaction=size, seconds=args.seconds)
                    )
                    if result is None:
                        continue
                    runs.setdefault((name, size), []).append(result)
                    console.log(
                        f"{name} {size} record(s)/txn: {result[0]:.1f} txn/s,"
                        f" {result[1]:.0f} records/s; {machine_load()}"
                    )
    loads.append(machine_load())
    table = Table(
        title=f"librdkafka transactions; median of runs; {loads[0]} at the start,"
        f" {loads[-1]} at the end"
    )
    columns = ("records/txn", "broker", "txn/s", "records/s", "vs kafka", "read_committed")
    for column in columns:
        table.add_column(column)
    shown = {True: "hides aborted", False: "SHOWS ABORTED", None: "-"}
    for size in sizes:
        reference = runs.get(("kafka", size))
        reference_rate = statistics.median(r[0] for r in reference) if reference else 0.0
        for name in brokers:
            if (name, size) not in runs:
                table.add_row(str(size), name, f"refused: {refused.get(name)}", "-", "-", "-")
                continue
            rate = statistics.median(r[0] for r in runs[(name, size)])
            records = statistics.median(r[1] for r in runs[(name, size)])
            table.add_row(
                str(size),
                name,
                f"{rate:.1f}",
                f"{records:.0f}",
                ratio(rate, reference_rate),
                shown[hidden[name]],
            )
    console.print(table)


if __name__ == "__main__":
    main()
