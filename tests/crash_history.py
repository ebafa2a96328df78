"""A Jepsen-style history of clients working through broker crashes, and its checker.

A `Workload` runs real clients (confluent-kafka) in threads against a broker that the caller
kills and restarts on the same port: an idempotent producer, a plain producer (acks=all,
retries: duplicates allowed) and a group consumer that commits what it consumed. Everything
the broker acknowledged or showed goes into a `History`; `violations` then holds the history
against what a final read finds, by Jepsen's Kafka checks: no acknowledged record lost, one
value per (partition, offset) in every read and acknowledgement, no duplicates from the
idempotent producer, and committed offsets no older than the last acknowledged commit.

Used by tests/integration/test_crash_history.py (a bounded run in CI) and
bench/crash_loop.py (long runs).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from brokers import BrokerProcess
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from restarts import CLIENT_TIMEOUT, fetch_everything, watermarks

MAX_OUTSTANDING = 500
KINDS = ("idempotent", "plain")
COMMIT_EVERY = 25
GROUP = "crash-history"
CRASH_BROKER = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "1000",
}
"""Broker settings a crash workload needs: a group that forms at once after each restart."""

Record = tuple[int, int, bytes]  # partition, offset, value
CLIENT_LOG = logging.getLogger("crash_history.clients")
"""Where librdkafka's complaints about the broker being down go: nowhere (a client's fatal
errors are caught by its error callback)."""
CLIENT_LOG.addHandler(logging.NullHandler())
CLIENT_LOG.propagate = False


@dataclass
class History:
    """What clients were told and shown; appended to from the clients' threads."""

    acked: list[tuple[str, int, int, bytes]] = field(default_factory=list)
    observed: list[Record] = field(default_factory=list)
    commits: list[tuple[int, int]] = field(default_factory=list)
    fatal: list[str] = field(default_factory=list)

    def acked_by_kind(self) -> Counter[str]:
        counts = Counter(kind for kind, *_ in self.acked)
        for kind in KINDS:
            counts.setdefault(kind, 0)
        return counts


class _Producing(threading.Thread):
    """Produces values `<kind>-<n>` round-robin over the partitions until stopped."""

    def __init__(
        self, bootstrap: str, topic: str, partitions: int, kind: str, history: History
    ) -> None:
        super().__init__(name=f"{kind}-producer", daemon=True)
        self.topic, self.partitions, self.kind, self.history = topic, partitions, kind, history
        self.stopping = threading.Event()
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": "all",
                "enable.idempotence": kind == "idempotent",
                "linger.ms": 2,
                "batch.num.messages": 50,
                "message.timeout.ms": 120_000,
                "retry.backoff.ms": 50,
                "reconnect.backoff.ms": 20,
                "reconnect.backoff.max.ms": 200,
                "error_cb": self._error,
                "logger": CLIENT_LOG,
            }
        )

    def _error(self, error: KafkaError) -> None:
        if error.fatal():
            self.history.fatal.append(f"{self.kind} producer: {error}")

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.history.acked.append(
                (self.kind, message.partition(), message.offset(), message.value())
            )

    def run(self) -> None:
        number = 0
        while not self.stopping.is_set():
            if len(self.producer) >= MAX_OUTSTANDING:
                self.producer.poll(0.01)
                continue
            value = f"{self.kind}-{number}".encode()
            try:
                self.producer.produce(
                    self.topic,
                    value,
                    partition=number % self.partitions,
                    on_delivery=self._delivered,
                )
            except BufferError:
                self.producer.poll(0.01)
                continue
            except KafkaException as exc:  # a fatal error: the producer is unusable
                self.history.fatal.append(f"{self.kind} producer: {exc}")
                return
            number += 1
            self.producer.poll(0)

    def finish(self, timeout: float) -> int:
        """Stop producing and wait for what is in flight; how many were never answered."""
        self.stopping.set()
        self.join(timeout)
        return int(self.producer.flush(timeout))


class _Consuming(threading.Thread):
    """A group member that records what it consumes and commits every COMMIT_EVERY records."""

    def __init__(self, bootstrap: str, topic: str, history: History) -> None:
        super().__init__(name="group-consumer", daemon=True)
        self.history = history
        self.stopping = threading.Event()
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": GROUP,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500,
                "fetch.wait.max.ms": 50,
                "reconnect.backoff.ms": 20,
                "reconnect.backoff.max.ms": 200,
                "logger": CLIENT_LOG,
            }
        )
        self.consumer.subscribe([topic])

    def run(self) -> None:
        since_commit = 0
        while not self.stopping.is_set():
            message = self.consumer.poll(0.1)
            if message is None or message.error() is not None:
                continue
            self.history.observed.append((message.partition(), message.offset(), message.value()))
            since_commit += 1
            if since_commit >= COMMIT_EVERY:
                since_commit = 0
                self._commit()
        self.consumer.close()

    def _commit(self) -> None:
        try:
            committed = self.consumer.commit(asynchronous=False)
        except KafkaException:
            return  # not acknowledged: the broker was down or the group rebalancing
        for position in committed or []:
            if position.error is None and position.offset >= 0:
                self.history.commits.append((position.partition, position.offset))


class Workload:
    """The three clients above, started and stopped together."""

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        self.history = History()
        self.producers = [
            _Producing(bootstrap, topic, partitions, kind, self.history) for kind in KINDS
        ]
        self.consumer = _Consuming(bootstrap, topic, self.history)

    def start(self) -> Workload:
        for thread in (*self.producers, self.consumer):
            thread.start()
        return self

    def stop(self, timeout: float) -> int:
        """Stop every client; how many produced records were never answered."""
        unanswered = sum(producer.finish(timeout) for producer in self.producers)
        self.consumer.stopping.set()
        self.consumer.join(timeout)
        return unanswered


def wait_for_progress(history: History, count: int, timeout: float, broker: BrokerProcess) -> None:
    """Until each producer has `count` more records acknowledged and the group has committed
    again (so every client works again after a restart before the next kill), failing after
    `timeout` seconds or if the broker process died.

    The group's commit is waited for too: the producers alone are back within a second of a
    restart, the group (coordinator, join, sync, offsets, fetch) a second or two later, so
    kills paced by the producers alone could come faster than the group ever rejoined, and
    a run then tested no consumer at all (it happened in CI once the broker answered
    produce requests faster)."""
    targets = {kind: n + count for kind, n in history.acked_by_kind().items()}
    commits = len(history.commits)
    deadline = time.monotonic() + timeout
    while (
        any(history.acked_by_kind()[kind] < n for kind, n in targets.items())
        or len(history.commits) == commits
    ):
        assert broker.process is not None and broker.process.poll() is None, "the broker died"
        assert not history.fatal, f"fatal client errors: {history.fatal}"
        assert time.monotonic() < deadline, (
            f"acknowledged {history.acked_by_kind()} of {targets}, and"
            f" {len(history.commits) - commits} new commits, in {timeout:g} s"
        )
        time.sleep(0.005)


def violations(
    history: History,
    stored: dict[int, dict[int, bytes | None]],
    committed: dict[int, int],
    high_watermarks: dict[int, int],
) -> list[str]:
    """Everything the final read (`stored`: value by offset per partition; `committed`:
    the group's offsets) contradicts in the history; empty when the history is valid."""
    found: list[str] = [f"fatal client error: {error}" for error in history.fatal]
    lost = [(kind, p, o, v) for kind, p, o, v in history.acked if stored.get(p, {}).get(o) != v]
    if lost:
        found.append(f"{len(lost)} acknowledged records lost or changed, first {lost[:3]}")
    values: dict[tuple[int, int], set[bytes | None]] = defaultdict(set)
    for partition, offsets in stored.items():
        for offset, value in offsets.items():
            values[(partition, offset)].add(value)
    for partition, offset, value in history.observed:
        values[(partition, offset)].add(value)
    for _, partition, offset, value in history.acked:
        values[(partition, offset)].add(value)
    split = {key: seen for key, seen in values.items() if len(seen) > 1}
    if split:
        found.append(f"{len(split)} offsets with two values, first {list(split.items())[:3]}")
    counts = Counter(v for offsets in stored.values() for v in offsets.values())
    twice = [
        v for v, n in counts.items() if n > 1 and v is not None and v.startswith(b"idempotent-")
    ]
    if twice:
        found.append(f"{len(twice)} idempotent records stored twice, first {twice[:3]}")
    last_commit: dict[int, int] = {}
    for partition, offset in history.commits:
        last_commit[partition] = offset
    for partition, offset in last_commit.items():
        if not offset <= committed.get(partition, -1) <= high_watermarks.get(partition, -1):
            found.append(
                f"partition {partition}: committed offset {committed.get(partition)} is not"
                f" between the last acknowledged commit {offset} and the high watermark"
                f" {high_watermarks.get(partition)}"
            )
    return found


def check(bootstrap: str, topic: str, partitions: int, history: History) -> list[str]:
    """Read every partition back (raw Fetch, errors shown) and the group's committed offsets,
    and return what contradicts the history (see `violations`)."""
    ends = {p: high for p, (_, high) in watermarks(bootstrap, topic, partitions).items()}
    stored: dict[int, dict[int, bytes | None]] = {}
    found: list[str] = []
    for partition, end in ends.items():
        stored[partition], errors = fetch_everything(bootstrap, topic, partition, end)
        if errors:
            found.append(f"partition {partition}: unreadable offsets {errors}")
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP})
    try:
        positions = consumer.committed(
            [TopicPartition(topic, p) for p in range(partitions)], timeout=CLIENT_TIMEOUT
        )
    finally:
        consumer.close()
    committed = {position.partition: position.offset for position in positions}
    return found + violations(history, stored, committed, ends)
