"""How fast a follower replicates from a localbroker leader, beside a consumer reading the same.

    python bench/replication.py [--megabytes 50] [--size 1000] [--partition-max-bytes 1048576]

A localbroker process is the leader; a confluent-kafka producer writes `--megabytes` of
`--size`-byte records to one partition. Then, in this process, a ReplicaFetcher (Fetch v15,
the follower's defaults: replica.fetch.max.bytes per partition, replica.fetch.wait.max.ms)
copies the partition into a fresh PartitionLog, and a confluent-kafka consumer reads the same
records: the two figures and their ratio, with the machine's load. The follower fetches as a
consumer (replica id -1), which is what a localbroker leader serves today.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from peers import localbroker, machine_load, ratio

from localbroker.cluster.peer import PeerClient
from localbroker.cluster.replication.fetcher import CONSUMER_REPLICA_ID, ReplicaFetcher
from localbroker.log.log_config import LogConfig
from localbroker.log.partition import LEADER_EPOCH, PartitionLog
from localbroker.protocol.names import ApiKey

TOPIC = "replicated"
TIMEOUT = 300.0


def produce(bootstrap: str, count: int, size: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(TOPIC, 1, 1)])[TOPIC].result(30)
    write(bootstrap, TOPIC, count, size)


def write(bootstrap: str, topic: str, count: int, size: int) -> None:
    """`count` records of `size` bytes, acks=all, in batches of up to 1 MiB."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "batch.size": 1 << 20}
    )
    value = b"x" * size
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, value)
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(TIMEOUT) == 0


async def replicate(bootstrap: str, count: int, partition_max_bytes: int) -> float:
    """Seconds the fetcher takes to copy `count` records into an empty follower log."""
    host, port = bootstrap.rsplit(":", 1)
    peer = PeerClient(host, int(port), client_id="bench-replica", timeout_s=30)
    metadata = await peer.call(
        ApiKey.METADATA,
        12,
        {
            "topics": [{"name": TOPIC}],
            "allow_auto_topic_creation": False,
            "include_topic_authorized_operations": False,
        },
    )
    topic_id: uuid.UUID = metadata.topics[0].topic_id
    with tempfile.TemporaryDirectory(prefix="lb-follower-") as directory:
        follower = PartitionLog(Path(directory) / f"{TOPIC}-0", TOPIC, 0, LogConfig())
        fetcher = ReplicaFetcher(
            peer, replica_id=CONSUMER_REPLICA_ID, partition_max_bytes=partition_max_bytes
        )
        started = time.perf_counter()
        fetcher.add(follower, topic_id, LEADER_EPOCH)
        fetcher.start()
        try:
            async with asyncio.timeout(TIMEOUT):
                while follower.log_end_offset < count:
                    await asyncio.sleep(0.01)
            return time.perf_counter() - started
        finally:
            await fetcher.stop()
            await peer.close()
            follower.close()


def consume(bootstrap: str, count: int) -> float:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "bench", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(TOPIC, 0, 0)])
    started = time.perf_counter()
    deadline = time.monotonic() + TIMEOUT
    seen = 0
    try:
        while seen < count:
            assert time.monotonic() < deadline, f"consumed {seen} of {count} records"
            seen += len(consumer.consume(10_000, 1.0))
        return time.perf_counter() - started
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--partition-max-bytes", type=int, default=1_048_576)
    args = parser.parse_args()
    count = args.megabytes * 1_000_000 // args.size
    megabytes = count * args.size / 1e6
    with localbroker() as bootstrap:
        produce(bootstrap, count, args.size)
        fetched = asyncio.run(replicate(bootstrap, count, args.partition_max_bytes))
        consumed = consume(bootstrap, count)
    print(f"{count} records of {args.size} bytes ({megabytes:.0f} MB), {machine_load()}")
    print(f"replica fetcher: {megabytes / fetched:8.1f} MB/s  {count / fetched:10.0f} records/s")
    print(f"consumer:        {megabytes / consumed:8.1f} MB/s  {count / consumed:10.0f} records/s")
    print(f"fetcher / consumer: {ratio(consumed, fetched)}")


if __name__ == "__main__":
    main()
