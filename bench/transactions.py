"""Transactions with librdkafka: transactions/s and records/s, localbroker against Apache Kafka.

    python bench/transactions.py [--repeat 3] [--sizes 1,1000] [--seconds 10]
                                 [--brokers localbroker,kafka,tansu]

For each transaction size (records per transaction), a confluent-kafka transactional producer
commits transactions of that many 100-byte records to a one-partition topic for `--seconds`
(begin, produce, commit: one round trip each for AddPartitionsToTxn, Produce and EndTxn, plus
the markers), and the rates are reported with each broker's ratio to Apache Kafka (median of
`--repeat` runs, brokers alternating). Each broker first serves a discarded warm-up run.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from contextlib import ExitStack

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from peers import chosen, machine_load, ratio
from rich.console import Console
from rich.table import Table

TIMEOUT = 60.0
RECORD = b"x" * 100


def run_once(bootstrap: str, per_transaction: int, seconds: float) -> tuple[float, float]:
    """(transactions/s, records/s) committed by one producer for about `seconds`."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,1000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--brokers", default="localbroker,kafka")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    brokers = chosen(args.brokers)
    console = Console(width=120)
    runs: dict[tuple[str, int], list[tuple[float, float]]] = {}
    loads = [machine_load()]
    with ExitStack() as stack:
        bootstrap = {name: stack.enter_context(start()) for name, start in brokers.items()}
        for size in sizes:
            for name in brokers:
                run_once(bootstrap[name], size, args.seconds / 5)
            for _ in range(args.repeat):
                for name in brokers:
                    result = run_once(bootstrap[name], size, args.seconds)
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
    for column in ("records/txn", "broker", "txn/s", "records/s", "vs kafka"):
        table.add_column(column)
    for size in sizes:
        reference = runs.get(("kafka", size))
        reference_rate = statistics.median(r[0] for r in reference) if reference else 0.0
        for name in brokers:
            rate = statistics.median(r[0] for r in runs[(name, size)])
            records = statistics.median(r[1] for r in runs[(name, size)])
            table.add_row(
                str(size), name, f"{rate:.1f}", f"{records:.0f}", ratio(rate, reference_rate)
            )
    console.print(table)


if __name__ == "__main__":
    main()
