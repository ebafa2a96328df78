"""ISR shrink and rejoin, and a returning leader's truncation, as clients and the logs show.

`run_isr_scenario(cluster)` runs on any three-node cluster whose nodes it can pause
(SIGSTOP), resume, kill (SIGKILL) and restart, and whose partition directories it can read:
Apache Kafka's reference cluster and `localbroker --cluster 3`, both started with
replica.lag.time.max.ms=LAG_MAX_MS and Kafka's default broker.session.timeout.ms (9 s), so a
follower paused for longer than the one but not the other leaves the ISR by lag, not by
being fenced.

1. An RF=3, min.insync.replicas=2 topic; a follower (not the active controller) is paused:
   the leader shrinks the ISR (Metadata shows it) and acks=all produce goes on with two.
2. The follower resumes, catches up and rejoins the ISR; its log equals the leader's.
3. Both followers are paused for a moment while an acks=1 producer's records reach the
   leader alone (after a probe record that completes any fetch they had parked at the
   leader), and the leader is killed; the followers resume, one of them leads (the old
   leader is fenced after its session), acks=all produce goes on, and the old leader
   restarts: it truncates the records only it had, and all three logs are equal again.

The report holds what clients observed, for comparing the two clusters.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from failover import FAILOVER_TIMEOUT, REPLICATION_FACTOR, create_topic
from failover_clients import PARTITION
from waiting import wait_until

from localbroker.records.batch import HEADER_SIZE, read_header

LAG_MAX_MS = 3000
"""replica.lag.time.max.ms on both clusters: a follower paused this long leaves the ISR."""
SETTINGS = {"replica.lag.time.max.ms": str(LAG_MAX_MS)}
RECORDS = 50
"""Records each acks=all round produces."""
UNREPLICATED = 5
"""Records the acks=1 producer gets acknowledged by the leader alone before it dies."""
METADATA_TIMEOUT_S = 5
"""How long one look at the ISR waits for its answer before the wait looks again."""


class PausableCluster(Protocol):
    bootstrap: str

    def pause(self, node_id: int) -> None: ...

    def resume(self, node_id: int) -> None: ...

    def kill(self, node_id: int) -> None: ...

    def restart(self, node_id: int) -> None: ...

    def partition_dir(self, node_id: int, topic: str, partition: int) -> Path: ...


@dataclass
class IsrReport:
    """What the clients observed, the same on both clusters."""

    isr_while_paused: int = 0
    """The ISR's size while the follower was paused."""
    acks_all_while_paused: int = 0
    """acks=all records acknowledged while the ISR was short (all RECORDS expected)."""
    isr_after_resume: int = 0
    unreplicated_acknowledged: int = 0
    """acks=1 records the leader alone acknowledged before it was killed."""
    acks_all_after_kill: int = 0
    unreplicated_kept: int = 0
    """Of those, how many a consumer reads once the old leader is back (0: truncated)."""
    consumed: int = 0
    """Records a consumer reads from the start at the end (the probe left out)."""


def run_isr_scenario(cluster: PausableCluster) -> IsrReport:
    report = IsrReport()
    topic = f"isr-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    create_topic(admin, topic)
    controller = admin.describe_cluster().result(30).controller.id
    leader, replicas = leader_and_replicas(admin, topic)
    follower = next(n for n in replicas if n not in (leader, controller))
    assert produce(cluster.bootstrap, topic, "all", "before") == RECORDS

    cluster.pause(follower)
    try:
        isr = wait_until(
            lambda: isr_when(admin, topic, lambda isr: follower not in isr),
            f"node {follower} out of {topic}'s ISR",
            FAILOVER_TIMEOUT,
        )
        report.isr_while_paused = len(isr)
        report.acks_all_while_paused = produce(cluster.bootstrap, topic, "all", "short")
    finally:
        cluster.resume(follower)
    report.isr_after_resume = len(wait_for_whole_isr(admin, topic))
    wait_until(lambda: same_logs(cluster, topic, replicas), "the logs equal", FAILOVER_TIMEOUT)

    followers = [n for n in replicas if n != leader]
    for node in followers:
        cluster.pause(node)
    try:
        # A fetch a follower had parked at the leader before it stopped would carry the
        # next records to it all the same (the answer waits in its socket): the probe
        # completes such fetches, and the paused followers send no other.
        produce(cluster.bootstrap, topic, "1", "probe", 1)
        report.unreplicated_acknowledged = produce(
            cluster.bootstrap, topic, "1", "unreplicated", UNREPLICATED
        )
        cluster.kill(leader)
    finally:
        for node in followers:
            cluster.resume(node)
    try:
        wait_until(
            lambda: leader_and_replicas(admin, topic)[0] in followers,
            f"a follower leading {topic}",
            FAILOVER_TIMEOUT,
        )
        report.acks_all_after_kill = produce(cluster.bootstrap, topic, "all", "after")
    finally:
        cluster.restart(leader)
    wait_for_whole_isr(admin, topic)
    wait_until(lambda: same_logs(cluster, topic, replicas), "the logs equal", FAILOVER_TIMEOUT)
    values = consume_all(cluster.bootstrap, topic)
    report.consumed = sum(not v.startswith(b"probe") for v in values)
    report.unreplicated_kept = sum(v.startswith(b"unreplicated") for v in values)
    return report


def leader_and_replicas(admin: AdminClient, topic: str) -> tuple[int, list[int]]:
    state = admin.list_topics(topic, timeout=10).topics[topic].partitions[PARTITION]
    return state.leader, list(state.replicas)


def isr_of(admin: AdminClient, topic: str) -> list[int] | None:
    """The partition's ISR, or None when the node asked did not answer in time: librdkafka
    sends a Metadata request to any broker it is connected to, and a paused node's kernel
    still holds the connection open while the node never answers."""
    try:
        metadata = admin.list_topics(topic, timeout=METADATA_TIMEOUT_S)
    except KafkaException as error:
        if error.args[0].code() != KafkaError._TIMED_OUT:
            raise
        return None
    return list(metadata.topics[topic].partitions[PARTITION].isrs)


def isr_when(
    admin: AdminClient, topic: str, condition: Callable[[list[int]], bool]
) -> list[int] | None:
    """The partition's ISR if `condition` holds for it, else None (also when unanswered)."""
    isr = isr_of(admin, topic)
    return isr if isr is not None and condition(isr) else None


def wait_for_whole_isr(admin: AdminClient, topic: str) -> list[int]:
    return wait_until(
        lambda: isr_when(admin, topic, lambda isr: len(isr) == REPLICATION_FACTOR),
        f"{topic}'s whole ISR",
        FAILOVER_TIMEOUT,
    )


def produce(bootstrap: str, topic: str, acks: str, prefix: str, count: int = RECORDS) -> int:
    """Produce `count` records with `acks`; how many were acknowledged."""
    acknowledged = 0

    def delivered(error: KafkaError | None, _message: object) -> None:
        nonlocal acknowledged
        acknowledged += error is None

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": acks,
            "enable.idempotence": acks == "all",
            "message.timeout.ms": int(FAILOVER_TIMEOUT * 1000),
        }
    )
    for number in range(count):
        value = f"{prefix}-{number}".encode()
        producer.produce(topic, value, partition=PARTITION, on_delivery=delivered)
    producer.flush(FAILOVER_TIMEOUT)
    return acknowledged


def consume_all(bootstrap: str, topic: str) -> list[bytes]:
    """Every record of the partition, read from the start to its end."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-check"})
    try:
        partition = TopicPartition(topic, PARTITION)
        _, end = consumer.get_watermark_offsets(partition, timeout=30)
        consumer.assign([TopicPartition(topic, PARTITION, 0)])
        values: list[bytes] = []
        last = [-1]

        def read() -> bool:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                values.append(message.value())
                last[0] = message.offset()
            return last[0] >= end - 1

        wait_until(read, f"{topic} read to its end ({end})", FAILOVER_TIMEOUT)
        return values
    finally:
        consumer.close()


def same_logs(cluster: PausableCluster, topic: str, replicas: list[int]) -> bool:
    """Whether every replica's log holds the same batches (offsets and CRCs)."""
    batches = [log_batches(cluster.partition_dir(n, topic, PARTITION)) for n in replicas]
    return all(b == batches[0] for b in batches)


def log_batches(directory: Path) -> list[tuple[int, int, int]]:
    """(base offset, last offset, CRC) of each batch in the directory's segments."""
    found: list[tuple[int, int, int]] = []
    for segment in sorted(directory.glob("*.log")):
        data = segment.read_bytes()
        position = 0
        while position + HEADER_SIZE <= len(data):
            header = read_header(data, position)
            if header.size <= 0 or position + header.size > len(data):
                break
            found.append((header.base_offset, header.last_offset, header.crc))
            position += header.size
    return found
