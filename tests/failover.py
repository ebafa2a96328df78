"""The failover scenario: a partition's leader killed under load, as clients see it.

`run_failover(bootstrap, nodes)` runs against any cluster whose nodes it can kill and restart
(`Nodes`: Apache Kafka's reference cluster now, localbroker's cluster next). A topic with
three replicas and min.insync.replicas=2 gets numbered records from a confluent-kafka
(librdkafka) producer with acks=all and idempotence, while a consumer in a group reads them.
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
from typing import Any, Protocol

from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from waiting import wait_until

PARTITION = 0
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2
SEND_INTERVAL = 0.005
"""Seconds between two records: a steady 200 records a second, enough to time a failover to a
few milliseconds without loading a two-core machine."""
FAILOVER_TIMEOUT = 60.0
"""Seconds a kill may take to be survived (a new leader elected, a record acknowledged and
consumed): Kafka fences a killed broker after broker.session.timeout.ms (9 s)."""
DRAIN_TIMEOUT = 60.0
"""Seconds for the producer's last records to be acknowledged once it stops."""
CONSUMER_IDLE = 10.0
"""Seconds the consumer goes on reading, once the producer has flushed, without being given a
record: then what it has not read counts as lost (nothing was in flight any more)."""


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
    delivery_errors: Counter[str] = field(default_factory=Counter)
    client_errors: Counter[str] = field(default_factory=Counter)
    consumer_errors: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        kills = ", ".join(
            f"node {k.leader}: acked after {k.to_acknowledged:.2f} s,"
            f" consumed after {k.to_consumed:.2f} s"
            for k in self.kills
        )
        return (
            f"{self.produced} produced, {self.acknowledged} acknowledged, {self.consumed}"
            f" consumed, {len(self.lost)} lost, {self.duplicates} duplicates,"
            f" {self.redelivered} re-delivered; kills: {kills}; delivery errors:"
            f" {dict(self.delivery_errors)}; producer client errors:"
            f" {dict(self.client_errors)}; consumer errors: {dict(self.consumer_errors)}"
        )


class _Clients:
    """The producer and consumer threads and what they saw, by record number."""

    def __init__(self, bootstrap: str, topic: str, report: FailoverReport) -> None:
        self.topic = topic
        self.report = report
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.flushed = threading.Event()
        self.sent_at: list[float] = []
        self.acked_at: dict[int, float] = {}
        self.consumed_at: dict[int, float] = {}
        self.offsets: dict[int, set[int]] = {}
        self.seen_offsets: set[int] = set()
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 5,
                "message.timeout.ms": int(FAILOVER_TIMEOUT * 2 * 1000),
                "error_cb": self._client_error,
            }
        )
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"{topic}-readers",
                "auto.offset.reset": "earliest",
                "error_cb": lambda error: self._count(report.consumer_errors, error),
            }
        )

    def _count(self, counter: Counter[str], error: KafkaError) -> None:
        with self.lock:
            counter[error.name()] += 1

    def _client_error(self, error: KafkaError) -> None:
        self._count(self.report.client_errors, error)

    def _delivered(self, error: KafkaError | None, message: Any) -> None:
        if error is not None:
            self._count(self.report.delivery_errors, error)
            return
        with self.lock:
            self.acked_at[int(message.value())] = time.monotonic()

    def produce(self) -> None:
        while not self.stopping.is_set():
            with self.lock:
                number = len(self.sent_at)
                self.sent_at.append(time.monotonic())
            self.producer.produce(
                self.topic, str(number).encode(), partition=PARTITION, on_delivery=self._delivered
            )
            self.producer.poll(SEND_INTERVAL)
        self.producer.flush(DRAIN_TIMEOUT)
        self.flushed.set()

    def consume(self) -> None:
        self.consumer.subscribe([self.topic])
        last_record = time.monotonic()
        try:
            while not self.drained():
                if self.flushed.is_set() and time.monotonic() - last_record > CONSUMER_IDLE:
                    break
                message = self.consumer.poll(0.1)
                if message is None:
                    continue
                last_record = time.monotonic()
                if message.error() is not None:
                    self._count(self.report.consumer_errors, message.error())
                    continue
                number, offset = int(message.value()), message.offset()
                with self.lock:
                    self.consumed_at.setdefault(number, time.monotonic())
                    self.offsets.setdefault(number, set()).add(offset)
                    if offset in self.seen_offsets:
                        self.report.redelivered += 1
                    self.seen_offsets.add(offset)
        finally:
            self.consumer.close()

    def drained(self) -> bool:
        """The producer stopped and flushed, and every record it had acknowledged consumed
        (a lost record keeps the consumer reading until it gives up)."""
        if not self.flushed.is_set():
            return False
        with self.lock:
            return self.acked_at.keys() <= self.consumed_at.keys()

    def first_after(self, seen: dict[int, float], moment: float) -> float | None:
        """When the first record sent after `moment` was seen in `seen`, or None."""
        with self.lock:
            later = [number for number, sent in enumerate(self.sent_at) if sent >= moment]
            times = [seen[number] for number in later if number in seen]
        return min(times) - moment if times else None


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
) -> FailoverReport:
    """Kill the partition leader `rounds` times under load and report what clients saw.

    `on_ready(topic)` runs once the topic exists with its whole ISR (a caller captures
    `kafka-topics --describe` there). Every node killed is restarted, and both clients are
    stopped, whatever happens."""
    topic = topic or f"failover-{uuid.uuid4().hex[:8]}"
    report = FailoverReport(topic)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    create_topic(admin, topic)
    if on_ready is not None:
        on_ready(topic)
    clients = _Clients(bootstrap, topic, report)
    threads = [
        threading.Thread(target=clients.produce, daemon=True),
        threading.Thread(target=clients.consume, daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: bool(clients.consumed_at), "the first record consumed", FAILOVER_TIMEOUT)
        for _ in range(rounds):
            report.kills.append(_kill_leader(admin, topic, nodes, clients))
    finally:
        clients.stopping.set()
        for thread in threads:
            thread.join(DRAIN_TIMEOUT + FAILOVER_TIMEOUT)
    with clients.lock:
        report.produced = len(clients.sent_at)
        report.acknowledged = len(clients.acked_at)
        report.consumed = len(clients.consumed_at)
        report.lost = sorted(clients.acked_at.keys() - clients.consumed_at.keys())
        report.duplicates = sum(len(offsets) > 1 for offsets in clients.offsets.values())
    return report


def _kill_leader(admin: AdminClient, topic: str, nodes: Nodes, clients: _Clients) -> Kill:
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
            raise AssertionError(f"{exc}; came: {timings}; {clients.report.summary()}") from exc
    finally:
        nodes.restart(leader)
    wait_until(
        lambda: in_sync(admin, topic), f"node {leader} back in {topic}'s ISR", FAILOVER_TIMEOUT
    )
    return Kill(leader, timings["acked"], timings["consumed"])
