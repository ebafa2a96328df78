"""The failover scenario: a partition's leader killed under load, as clients see it.

`run_failover(bootstrap, nodes)` runs against any cluster whose nodes it can kill and restart
(`Nodes`: Apache Kafka's reference cluster now, localbroker's cluster next). A topic with
three replicas and min.insync.replicas=2 gets numbered records from a producer with acks=all
and idempotence, while a consumer in a group reads them: confluent-kafka's (librdkafka) or
another library's (tests/failover_clients.py).
Each round finds the partition's leader from Metadata, kills it with SIGKILL, waits until a
record produced after the kill is acknowledged and consumed, restarts the node and waits
until it is back in the ISR (so the next round kills a leader of a whole ISR again).

The report says what the clients observed: the producer's delivery and client errors, per
kill the seconds to the first acknowledgement and the first consumption of a record produced
after the kill, acknowledged records never consumed (lost: must be none), records stored at
more than one offset (producer duplicates: none with idempotence) and records the consumer
was given again at an offset it had seen (re-deliveries after a group or coordinator move,
which a consumer that commits after processing does see).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from failover_clients import DRAIN_TIMEOUT, PARTITION, Client, Observed, confluent
from waiting import wait_until

REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2
FAILOVER_TIMEOUT = 60.0
"""Seconds a kill may take to be survived (a new leader elected, a record acknowledged and
consumed): Kafka fences a killed broker after broker.session.timeout.ms (9 s)."""


class Nodes(Protocol):
    """What the scenario needs of a cluster: kill a node (SIGKILL) and restart it on its data."""

    def kill(self, node_id: int) -> None: ...

    def restart(self, node_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Kill:
    """One round: the leader killed, and the seconds from the kill until a record produced
    after it was acknowledged, and consumed."""

    leader: int
    to_acknowledged: float
    to_consumed: float


@dataclass
class FailoverReport:
    topic: str
    kills: list[Kill] = field(default_factory=list)
    produced: int = 0
    acknowledged: int = 0
    consumed: int = 0
    lost: list[int] = field(default_factory=list)
    """Numbers acknowledged to the producer and never consumed."""
    duplicates: int = 0
    """Numbers stored at more than one offset."""
    redelivered: int = 0
    """Records the consumer was given again, at an offset it had been given before."""
    committed: int = -1
    """The group's committed offset once its consumer closed (-1 for none)."""
    end_offset: int = -1
    """The partition's end: what the group must have committed, having read everything."""
    delivery_errors: Counter[str] = field(default_factory=Counter)
    client_errors: Counter[str] = field(default_factory=Counter)
    consumer_errors: Counter[str] = field(default_factory=Counter)

    def errors(self) -> tuple[Counter[str], Counter[str], Counter[str]]:
        return self.delivery_errors, self.client_errors, self.consumer_errors

    def summary(self) -> str:
        kills = ", ".join(
            f"node {k.leader}: acked after {k.to_acknowledged:.2f} s,"
            f" consumed after {k.to_consumed:.2f} s"
            for k in self.kills
        )
        return (
            f"{self.produced} produced, {self.acknowledged} acknowledged, {self.consumed}"
            f" consumed, {len(self.lost)} lost, {self.duplicates} duplicates,"
            f" {self.redelivered} re-delivered; committed {self.committed} of"
            f" {self.end_offset}; kills: {kills}; delivery errors:"
            f" {dict(self.delivery_errors)}; producer client errors:"
            f" {dict(self.client_errors)}; consumer errors: {dict(self.consumer_errors)}"
        )


@dataclass(frozen=True, slots=True)
class InSync:
    """The partition's leader while all its replicas are in sync."""

    leader: int


def in_sync(admin: AdminClient, topic: str) -> InSync | None:
    """The partition's leader if its ISR holds every replica, from a fresh Metadata request;
    None otherwise (also while the broker asked does not know the partition yet)."""
    partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
    state = partitions.get(PARTITION)
    if state is None or state.leader < 0 or len(state.isrs) < REPLICATION_FACTOR:
        return None
    return InSync(state.leader)


def create_topic(admin: AdminClient, topic: str) -> None:
    new = NewTopic(
        topic,
        1,
        REPLICATION_FACTOR,
        config={"min.insync.replicas": str(MIN_INSYNC_REPLICAS)},
    )
    admin.create_topics([new])[topic].result(30)
    wait_until(lambda: in_sync(admin, topic), f"{topic}'s {REPLICATION_FACTOR} replicas in sync")


def run_failover(
    bootstrap: str,
    nodes: Nodes,
    rounds: int = 2,
    topic: str | None = None,
    on_ready: Callable[[str], None] | None = None,
    client: Client | None = None,
) -> FailoverReport:
    """Kill the partition leader `rounds` times under load and report what `client`'s
    producer and consumer (confluent-kafka's by default) saw.

    `on_ready(topic)` runs once the topic exists with its whole ISR (a caller captures
    `kafka-topics --describe` there). Every node killed is restarted, and both clients are
    stopped, whatever happens."""
    topic = topic or f"failover-{uuid.uuid4().hex[:8]}"
    report = FailoverReport(topic)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    create_topic(admin, topic)
    if on_ready is not None:
        on_ready(topic)
    clients = Observed()
    threads = [
        threading.Thread(target=body, daemon=True)
        for body in (client or confluent)(bootstrap, topic, clients)
    ]
    for thread in threads:
        thread.start()
    try:
        wait_until(
            lambda: bool(clients.consumed_at),
            "the first record consumed",
            FAILOVER_TIMEOUT,
            showing=lambda: observed_report(FailoverReport(topic), clients).summary(),
        )
        for _ in range(rounds):
            report.kills.append(_kill_leader(admin, topic, nodes, clients, report))
    finally:
        clients.stopping.set()
        for thread in threads:
            thread.join(DRAIN_TIMEOUT + FAILOVER_TIMEOUT)
    report.committed, report.end_offset = committed_and_end(bootstrap, admin, topic)
    return observed_report(report, clients)


def committed_and_end(bootstrap: str, admin: AdminClient, topic: str) -> tuple[int, int]:
    """The group's committed offset and the partition's end offset."""
    group = f"{topic}-readers"
    asked = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, PARTITION)])
    offsets = admin.list_consumer_group_offsets([asked])[group].result(30)
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{group}-watermarks"})
    try:
        _, end = reader.get_watermark_offsets(TopicPartition(topic, PARTITION), timeout=30)
    finally:
        reader.close()
    return offsets.topic_partitions[0].offset, end


def observed_report(report: FailoverReport, observed: Observed) -> FailoverReport:
    """`report` with what the clients observed so far."""
    with observed.lock:
        report.produced = len(observed.sent_at)
        report.acknowledged = len(observed.acked_at)
        report.consumed = len(observed.consumed_at)
        report.lost = sorted(observed.acked_at.keys() - observed.consumed_at.keys())
        report.duplicates = sum(len(offsets) > 1 for offsets in observed.offsets.values())
        report.redelivered = observed.redelivered
        for counter, seen in zip(report.errors(), observed.errors(), strict=True):
            counter.clear()
            counter.update(seen)
    return report


def _kill_leader(
    admin: AdminClient, topic: str, nodes: Nodes, clients: Observed, report: FailoverReport
) -> Kill:
    """One round: kill the leader, time the clients' recovery, restart it, await the ISR."""
    leader = wait_until(lambda: in_sync(admin, topic), f"{topic}'s replicas in sync").leader
    killed_at = time.monotonic()
    nodes.kill(leader)
    try:
        timings: dict[str, float] = {}

        def recovered() -> bool:
            for name, seen in (("acked", clients.acked_at), ("consumed", clients.consumed_at)):
                if name not in timings:
                    after = clients.first_after(seen, killed_at)
                    if after is not None:
                        timings[name] = after
            return len(timings) == 2

        try:
            wait_until(
                recovered,
                f"a record acknowledged and consumed after killing node {leader}",
                FAILOVER_TIMEOUT,
            )
        except AssertionError as exc:  # say which of the two never came, and what clients saw
            summary = observed_report(report, clients).summary()
            raise AssertionError(f"{exc}; came: {timings}; {summary}") from exc
    finally:
        nodes.restart(leader)
    wait_until(
        lambda: in_sync(admin, topic), f"node {leader} back in {topic}'s ISR", FAILOVER_TIMEOUT
    )
    return Kill(leader, timings["acked"], timings["consumed"])
