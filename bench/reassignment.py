"""How long a partition reassignment takes: a partition with records moved to another node.

    python bench/reassignment.py [--brokers localbroker,kafka] [--megabytes 50] [--size 1000]

On each of `--brokers` (`localbroker --cluster 3`, tests/launched.py; Apache Kafka's three
KRaft nodes, tests/reference_cluster.py; one after the other) a topic with one partition and
one replica on node 0 gets `--megabytes` of `--size`-byte records (a confluent-kafka
producer, acks=all). Then AlterPartitionReassignments moves it to node 2, as
`kafka-reassign-partitions --execute` does, and the clock runs until the reassignment is
done: the controller lists none under way and node 2's Metadata shows it leading the
partition alone. Printed: seconds, and MB/s of the copy, with the machine's load.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from confluent_kafka.admin import AdminClient, NewTopic
from launched import launched_cluster, metadata
from peers import machine_load
from reference_cluster import CLUSTER_SETTINGS, running_cluster
from reference_kafka import kafka_version
from replication import write
from wire import RawClient

from localbroker.protocol.names import ApiKey, ErrorCode

TOPIC = "moving"
TIMEOUT = 600.0


def fill(bootstrap: str, count: int, size: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(TOPIC, 1, replica_assignment=[[0]])])[TOPIC].result(30)
    write(bootstrap, TOPIC, count, size)


def _call(address: str, api_key: ApiKey, data: dict[str, Any]) -> Any:
    with RawClient(address, timeout=30) as client:
        return client.call(api_key, 0, data)


def move(addresses: list[str]) -> float:
    """Seconds from AlterPartitionReassignments to the move done (see the docstring)."""
    target = {"partition_index": 0, "replicas": [2]}
    started = time.perf_counter()
    answer = _call(
        addresses[0],
        ApiKey.ALTER_PARTITION_REASSIGNMENTS,
        {"timeout": 30_000, "topics": [{"name": TOPIC, "partitions": [target]}]},
    )
    errors = [p.error_code for t in answer.responses for p in t.partitions]
    assert errors == [ErrorCode.none], answer
    while time.perf_counter() - started < TIMEOUT:
        listed = _call(addresses[0], ApiKey.LIST_PARTITION_REASSIGNMENTS, {"timeout": 30_000})
        shown = metadata(addresses[2], [TOPIC])
        partition = shown.topics[0].partitions[0] if shown and shown.topics[0].partitions else None
        if not listed.topics and partition and tuple(partition.replica_nodes) == (2,):
            return time.perf_counter() - started
        time.sleep(0.05)
    raise TimeoutError("the reassignment did not complete")


def run(name: str, bootstrap: str, count: int, size: int) -> None:
    fill(bootstrap, count, size)
    seconds = move(bootstrap.split(","))
    megabytes = count * size / 1e6
    print(f"{name}: {megabytes:.0f} MB moved node 0 -> 2 in {seconds:.2f} s "
          f"({megabytes / seconds:.1f} MB/s; {machine_load()})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", default="localbroker,kafka")
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--size", type=int, default=1000, help="bytes per record")
    args = parser.parse_args()
    count = int(args.megabytes * 1e6 / args.size)
    for brokers in args.brokers.split(","):
        with tempfile.TemporaryDirectory(prefix=f"{brokers}-cluster-") as directory:
            if brokers == "localbroker":
                with launched_cluster(Path(directory), CLUSTER_SETTINGS) as launched:
                    launched.wait_registered()
                    run("localbroker --cluster 3", launched.bootstrap, count, args.size)
                continue
            with running_cluster(Path(directory)) as cluster:
                run(f"Apache Kafka {kafka_version()}", cluster.bootstrap, count, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
