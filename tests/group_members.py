"""Shared machinery for the consumer-group tests: members running each client's poll loop
in a thread (aiokafka on its own event loop), raw protocol requests for the error codes the
clients hide, and broker-side views of a group and its event stream (waits: tests/waiting.py).

Used by tests/integration/test_groups.py and test_groups_failover.py.
"""

from __future__ import annotations

import asyncio
import struct
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer
from aiokafka.abc import ConsumerRebalanceListener as AioListener
from aiokafka.coordinator.assignors.range import RangePartitionAssignor as AioRange
from aiokafka.structs import OffsetAndMetadata as AioOffset
from aiokafka.structs import TopicPartition as AioPartition
from confluent_kafka import (
    Consumer,
    ConsumerGroupState,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient, KafkaConsumer
from kafka import TopicPartition as KpPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener as KpListener
from kafka.coordinator.assignors.range import RangePartitionAssignor as KpRange
from kafka.structs import OffsetAndMetadata as KpOffset
from kio.schema.errors import ErrorCode
from waiting import TIMEOUT, wait_until
from wire import RawClient

from localbroker.groups import events
from tui.embedded import EmbeddedBroker

T = TypeVar("T")
SESSION_MS = 6000
HEARTBEAT_MS = 250
# Short sessions need the broker's lower bound lowered (Kafka's default minimum is 6000).
GROUP_BROKER = {"group.min.session.timeout.ms": "1000"}


# -- producing -------------------------------------------------------------------------------


def value_of(partition: int, offset: int) -> bytes:
    return b"p%d-o%d" % (partition, offset)


def produce(
    bootstrap: str, topic: str, partitions: Iterable[int], count: int, first: int = 0
) -> None:
    """`count` records to each partition, valued value_of(partition, offset) where each
    partition's log end offset is `first`."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
    errors: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: Any) -> None:
        if error is not None:
            errors.append(error)

    for partition in partitions:
        for offset in range(first, first + count):
            producer.produce(topic, value_of(partition, offset), None, partition, delivered)
    assert producer.flush(TIMEOUT) == 0, "the producer did not deliver in time"
    assert errors == []


def create_topic(broker: EmbeddedBroker, name: str, partitions: int) -> None:
    broker.call(lambda: broker.state.create_topic(name, partitions))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- broker-side views --------------------------------------------------------------------


class EventLog:
    """GroupEvents of one group as the coordinator emits them (collected on the broker loop)."""

    def __init__(self, broker: EmbeddedBroker, group_id: str) -> None:
        self.group_id = group_id
        self._lock = threading.Lock()
        self._events: list[events.GroupEvent] = []
        self._unsubscribe = broker.call(lambda: broker.state.subscribe_groups(self._collect))
        self._broker = broker

    def _collect(self, event: events.GroupEvent) -> None:
        if event.group_id == self.group_id:
            with self._lock:
                self._events.append(event)

    def close(self) -> None:
        self._broker.call(self._unsubscribe)

    @property
    def all(self) -> list[events.GroupEvent]:
        with self._lock:
            return list(self._events)

    def of(self, kind: type[T]) -> list[T]:
        return [e for e in self.all if isinstance(e, kind)]

    def completed(self) -> list[events.RebalanceCompleted]:
        return self.of(events.RebalanceCompleted)


@contextmanager
def event_log(broker: EmbeddedBroker, group_id: str) -> Iterator[EventLog]:
    log = EventLog(broker, group_id)
    try:
        yield log
    finally:
        log.close()


@dataclass(frozen=True)
class GroupView:
    state: str
    generation: int
    protocol: str | None
    leader: str | None
    members: dict[str, Any]  # member id -> the coordinator's Member


def group_view(broker: EmbeddedBroker, group_id: str) -> GroupView | None:
    """A snapshot of the coordinator's group, taken on the broker loop."""

    def snapshot() -> GroupView | None:
        group = broker.state.groups.get(group_id)
        if group is None:
            return None
        return GroupView(
            group.state.value,
            group.generation_id,
            group.protocol_name,
            group.leader_id,
            dict(group.members),
        )

    return broker.call(snapshot)


def stable_with(broker: EmbeddedBroker, group_id: str, members: int) -> GroupView | None:
    view = group_view(broker, group_id)
    if view and view.state == "Stable" and len(view.members) == members:
        return view
    return None


# -- raw requests (for what the clients hide) --------------------------------------------------

JOIN_GROUP, HEARTBEAT, SYNC_GROUP, LEAVE_GROUP = 11, 12, 14, 13
OFFSET_COMMIT, OFFSET_FETCH, DESCRIBE_GROUPS, LIST_OFFSETS, FIND_COORDINATOR = 8, 9, 15, 2, 10
LATEST = -1


def subscription(*topics: str) -> bytes:
    """ConsumerProtocolSubscription v0: topics and null user data."""
    out = struct.pack(">hi", 0, len(topics))
    for topic in topics:
        out += struct.pack(">h", len(topic)) + topic.encode()
    return out + struct.pack(">i", -1)


def assignment_bytes(assigned: dict[str, list[int]]) -> bytes:
    """ConsumerProtocolAssignment v0."""
    out = struct.pack(">hi", 0, len(assigned))
    for topic, partitions in assigned.items():
        out += struct.pack(">h", len(topic)) + topic.encode()
        out += struct.pack(f">i{len(partitions)}i", len(partitions), *partitions)
    return out + struct.pack(">i", -1)


def decode_assignment(data: bytes) -> dict[str, list[int]]:
    """ConsumerProtocolAssignment (any version: the assigned partitions come first)."""
    position = 2
    (count,) = struct.unpack_from(">i", data, position)
    position += 4
    result = {}
    for _ in range(count):
        (size,) = struct.unpack_from(">h", data, position)
        topic = data[position + 2 : position + 2 + size].decode()
        position += 2 + size
        (n,) = struct.unpack_from(">i", data, position)
        result[topic] = list(struct.unpack_from(f">{n}i", data, position + 4))
        position += 4 + 4 * n
    return result


def join_request(
    group: str, member_id: str = "", *, topics: Iterable[str] = ("t",), session_ms: int = 10_000
) -> dict[str, Any]:
    """JoinGroup fields (any version) for a consumer-protocol member using "range"."""
    return {
        "group_id": group,
        "session_timeout": session_ms,
        "rebalance_timeout": 10_000,
        "member_id": member_id,
        "group_instance_id": None,
        "protocol_type": "consumer",
        "protocols": [{"name": "range", "metadata": subscription(*topics)}],
    }


def member_request(group: str, generation: int, member_id: str, **extra: Any) -> dict[str, Any]:
    """The identity fields Heartbeat, SyncGroup and OffsetCommit share."""
    return {
        "group_id": group,
        "generation_id": generation,
        "generation_id_or_member_epoch": generation,
        "member_id": member_id,
        "group_instance_id": None,
        **extra,
    }


def commit_error(
    client: RawClient, group: str, generation: int, member_id: str, topic: str
) -> ErrorCode:
    """The error of an OffsetCommit v8 of offset 1 for partition 0 of `topic`."""
    partition = {
        "partition_index": 0,
        "committed_offset": 1,
        "committed_leader_epoch": -1,
        "committed_metadata": "",
    }
    topics = [{"name": topic, "partitions": [partition]}]
    response = client.call(
        OFFSET_COMMIT, 8, member_request(group, generation, member_id, topics=topics)
    )
    [[result]] = [t.partitions for t in response.topics]
    return result.error_code


# -- members: a client's poll loop in a thread ------------------------------------------------


@dataclass(frozen=True)
class Got:
    member: str
    partition: int
    offset: int
    value: bytes


class Ownership:
    """Who owns each partition according to the clients' own rebalance callbacks; any
    partition assigned while another member still owns it is a violation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.owner: dict[int, str] = {}
        self.violations: list[str] = []
        self.history: list[tuple[str, str, frozenset[int]]] = []

    def assigned(self, member: str, partitions: Iterable[int]) -> None:
        partitions = list(partitions)
        with self._lock:
            self.history.append((member, "assigned", frozenset(partitions)))
            for p in partitions:
                holder = self.owner.get(p)
                if holder is not None and holder != member:
                    self.violations.append(f"partition {p} assigned to {member} held by {holder}")
                self.owner[p] = member

    def revoked(self, member: str, partitions: Iterable[int]) -> None:
        partitions = list(partitions)
        with self._lock:
            self.history.append((member, "revoked", frozenset(partitions)))
            for p in partitions:
                if self.owner.get(p) == member:
                    del self.owner[p]


class Member:
    """One group member; its client lives on its own thread. `call` runs a function with the
    client between polls (clients are not thread-safe), `records` is what polls returned,
    `tps` the client's current assignment and `errors` what it reported."""

    kind = ""

    def __init__(
        self,
        name: str,
        bootstrap: str,
        group_id: str,
        topics: list[str],
        ownership: Ownership | None = None,
        **config: Any,
    ) -> None:
        self.name = name
        self.topics = topics
        self.ownership = ownership or Ownership()
        self.errors: list[Any] = []
        self.config = {**self.defaults(bootstrap, group_id), **config}
        self.tps: frozenset[tuple[str, int]] = frozenset()
        self.member_id = ""
        self._lock = threading.Lock()
        self._records: list[Got] = []
        self._calls: list[tuple[Callable[[Any], Any], Future[Any]]] = []
        self._stop = threading.Event()
        self._started: Future[None] = Future()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def defaults(self, bootstrap: str, group_id: str) -> dict[str, Any]:
        raise NotImplementedError

    # the test's side

    def start(self) -> Member:
        self._thread.start()
        self._started.result(TIMEOUT)
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def assignment(self) -> frozenset[int]:
        return frozenset(p for _, p in self.tps)

    @property
    def records(self) -> list[Got]:
        with self._lock:
            return list(self._records)

    def call(self, function: Callable[[Any], T], timeout: float = TIMEOUT) -> T:
        future: Future[T] = Future()
        with self._lock:
            self._calls.append((function, future))
        return future.result(timeout)

    def stop(self) -> None:
        """Close the client (a dynamic member sends LeaveGroup) and end its thread."""
        self._stop.set()
        self._thread.join(TIMEOUT)
        assert not self._thread.is_alive(), f"{self.name} did not stop"

    # the member thread's side

    def _got(self, partition: int, offset: int, value: bytes | None) -> None:
        with self._lock:
            self._records.append(Got(self.name, partition, offset, value or b""))

    def _assigned(self, partitions: Iterable[Any]) -> None:
        self.ownership.assigned(self.name, [tp.partition for tp in partitions])

    def _revoked(self, partitions: Iterable[Any]) -> None:
        self.ownership.revoked(self.name, [tp.partition for tp in partitions])

    def _run_calls(self, client: Any) -> list[tuple[Any, Future[Any]]]:
        """Run queued calls; coroutines are handed back for an async caller to await."""
        with self._lock:
            calls, self._calls = self._calls, []
        pending = []
        for function, future in calls:
            try:
                result = function(client)
            except BaseException as exc:
                future.set_exception(exc)
                continue
            if asyncio.iscoroutine(result):
                pending.append((result, future))
            else:
                future.set_result(result)
        return pending

    def _fail_calls(self) -> None:
        with self._lock:
            calls, self._calls = self._calls, []
        for _, future in calls:
            future.set_exception(RuntimeError(f"{self.name} stopped"))

    def _main(self) -> None:
        raise NotImplementedError


class ConfluentMember(Member):
    kind = "confluent"

    def defaults(self, bootstrap: str, group_id: str) -> dict[str, Any]:
        return {
            "bootstrap.servers": bootstrap,
            "group.id": group_id,
            "client.id": self.name,
            "session.timeout.ms": SESSION_MS,
            "heartbeat.interval.ms": HEARTBEAT_MS,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "partition.assignment.strategy": "range",
            "error_cb": self.errors.append,
        }

    def _main(self) -> None:
        try:
            consumer = Consumer(self.config)
            consumer.subscribe(
                self.topics,
                on_assign=lambda _, tps: self._assigned(tps),
                on_revoke=lambda _, tps: self._revoked(tps),
                on_lost=lambda _, tps: self._revoked(tps),
            )
        except BaseException as exc:
            self._started.set_exception(exc)
            return
        self._started.set_result(None)
        try:
            while not self._stop.is_set():
                message = consumer.poll(0.1)
                if message is not None and message.error() is not None:
                    self.errors.append(message.error())
                elif message is not None:
                    self._got(message.partition(), message.offset(), message.value())
                self.tps = frozenset((p.topic, p.partition) for p in consumer.assignment())
                self.member_id = consumer.memberid() or ""
                self._run_calls(consumer)
        finally:
            self._fail_calls()
            consumer.close()


def python_listener(base: type, member: Member) -> Any:
    """A rebalance listener of aiokafka's or kafka-python's listener class for `member`."""

    class Listener(base):  # type: ignore[misc,valid-type]
        def on_partitions_revoked(self, revoked: Any) -> None:
            member._revoked(revoked)

        def on_partitions_assigned(self, assigned: Any) -> None:
            member._assigned(assigned)

    return Listener()


def python_defaults(bootstrap: str, group_id: str, name: str) -> dict[str, Any]:
    """aiokafka's and kafka-python's consumers take the same settings."""
    return {
        "bootstrap_servers": bootstrap,
        "group_id": group_id,
        "client_id": name,
        "session_timeout_ms": SESSION_MS,
        "heartbeat_interval_ms": HEARTBEAT_MS,
        "auto_offset_reset": "earliest",
        "enable_auto_commit": False,
    }


class AioMember(Member):
    kind = "aiokafka"

    def defaults(self, bootstrap: str, group_id: str) -> dict[str, Any]:
        strategy = {"partition_assignment_strategy": (AioRange,)}
        return {**python_defaults(bootstrap, group_id, self.name), **strategy}

    def _main(self) -> None:
        asyncio.run(self._async_main())

    async def _async_main(self) -> None:
        try:
            consumer = AIOKafkaConsumer(**self.config)
            consumer.subscribe(self.topics, listener=python_listener(AioListener, self))
            await asyncio.wait_for(consumer.start(), TIMEOUT)
        except BaseException as exc:
            self._started.set_exception(exc)
            return
        self._started.set_result(None)
        try:
            while not self._stop.is_set():
                batches = await consumer.getmany(timeout_ms=100)
                for tp, messages in batches.items():
                    for m in messages:
                        self._got(tp.partition, m.offset, m.value)
                self.tps = frozenset((tp.topic, tp.partition) for tp in consumer.assignment())
                self.member_id = consumer._coordinator.member_id or ""
                for coroutine, future in self._run_calls(consumer):
                    try:
                        future.set_result(await coroutine)
                    except BaseException as exc:
                        future.set_exception(exc)
        finally:
            self._fail_calls()
            await consumer.stop()


class KafkaPythonMember(Member):
    kind = "kafka-python"

    def defaults(self, bootstrap: str, group_id: str) -> dict[str, Any]:
        strategy = {"partition_assignment_strategy": (KpRange,)}
        return {**python_defaults(bootstrap, group_id, self.name), **strategy}

    def _main(self) -> None:
        try:
            consumer = KafkaConsumer(**self.config)
            consumer.subscribe(self.topics, listener=python_listener(KpListener, self))
            # A metadata update after subscribing, before the first poll() joins: a kafka-python
            # 3.0.12 bug. Its coordinator snapshots the subscribed topics' partitions only on a
            # metadata update, so a leader that joins first assigns from an empty snapshot and
            # rejoins when the update lands. If a poll() times out during that rejoin (a slow
            # coordinator, or one that moved), its join loop re-checks need_rejoin(), which the
            # leader's own assignment has just made False: the member stays "rebalancing" for
            # good, still fetching but never heartbeating or committing (commit() raises
            # RebalanceInProgressError). topics() always asks the cluster (partitions_for_topic()
            # before subscribing did not: it reads the cache, under the empty subscription).
            consumer.topics()
        except BaseException as exc:
            self._started.set_exception(exc)
            return
        self._started.set_result(None)
        try:
            while not self._stop.is_set():
                batches = consumer.poll(timeout_ms=100)
                for tp, messages in batches.items():
                    for m in messages:
                        self._got(tp.partition, m.offset, m.value)
                self.tps = frozenset((tp.topic, tp.partition) for tp in consumer.assignment())
                self.member_id = consumer._coordinator._generation.member_id or ""
                self._run_calls(consumer)
        finally:
            self._fail_calls()
            consumer.close()


MEMBER_KINDS: dict[str, type[Member]] = {
    "confluent": ConfluentMember,
    "aiokafka": AioMember,
    "kafka-python": KafkaPythonMember,
}


def start_members() -> Iterator[Callable[..., Member]]:
    """For a `members` fixture: `members(kind, name, bootstrap, group, topics, **config)`
    starts a member; every member still running at the end is closed."""
    started: list[Member] = []

    def start(kind: str, *args: Any, **kwargs: Any) -> Member:
        member = MEMBER_KINDS[kind](*args, **kwargs)
        started.append(member)
        return member.start()

    yield start
    for member in reversed(started):
        if member.alive:
            member.stop()


def admin_offsets(admin: AdminClient, group: str) -> dict[tuple[str, int], int]:
    """Committed offsets of every partition of `group` through librdkafka's admin OffsetFetch.

    Offsets only: librdkafka hands metadata to Python as a C string, so metadata that was not
    committed NUL-terminated (by any client but confluent-kafka-python) reads back with stray
    bytes after it. `fetched` reads metadata exactly.
    """
    request = [ConsumerGroupTopicPartitions(group)]
    result = admin.list_consumer_group_offsets(request, request_timeout=10)[group].result(TIMEOUT)
    return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions}


def fetched(kp_admin: KafkaAdminClient, group: str) -> dict[tuple[str, int], tuple[int, str]]:
    """Committed offsets and metadata of every partition of `group` (kafka-python's admin)."""
    offsets = kp_admin.list_group_offsets({group: None}).get(group, {})
    return {(tp.topic, tp.partition): (c.offset, c.metadata) for tp, c in offsets.items()}


def describe(admin: AdminClient, group: str) -> Any:
    return admin.describe_consumer_groups([group], request_timeout=10)[group].result(TIMEOUT)


def listed(admin: AdminClient, states: set[ConsumerGroupState] | None = None) -> dict[str, Any]:
    """ListGroups (with a state filter when `states`): group id -> ConsumerGroupListing."""
    kwargs = {"states": states} if states else {}
    result = admin.list_consumer_groups(request_timeout=10, **kwargs).result(TIMEOUT)
    assert result.errors == []
    return {g.group_id: g for g in result.valid}


def delete_groups(admin: AdminClient, groups: list[str]) -> dict[str, int]:
    """DeleteGroups: group id -> error code (0 when deleted)."""
    codes = {}
    for group, future in admin.delete_consumer_groups(groups, request_timeout=10).items():
        try:
            future.result(TIMEOUT)
            codes[group] = 0
        except KafkaException as exc:
            codes[group] = exc.args[0].code()
    return codes


def all_consumed(members: Iterable[Member]) -> list[Got]:
    return [g for m in members for g in m.records]


def fence(bootstrap: str, topic: str, ends: dict[int, int], members: Iterable[Member]) -> None:
    """One more record to each partition, at offset `ends[partition]` (valued like the
    others), and wait until `members` have consumed every one of them.

    A partition is read in offset order, so a record delivered twice before its fence was
    read (a re-read from an older position after a rebalance, a batch fetched twice) has
    arrived before the fence: once the fences are in, a check for duplicates needs no pause.
    """
    for partition, offset in ends.items():
        produce(bootstrap, topic, [partition], 1, offset)
    fences = set(ends.items())
    readers = list(members)
    wait_until(
        lambda: fences <= {(g.partition, g.offset) for g in all_consumed(readers)},
        f"the fences {sorted(fences)} consumed",
    )


def commit(member: Member, topic: str, offsets: dict[int, int], metadata: str = "") -> None:
    """A synchronous commit of `offsets` (partition -> offset) by `member`'s own client."""
    if member.kind == "confluent":
        # Without metadata, not "": confluent-kafka-python would send "" as "\x00".
        extra = (metadata,) if metadata else ()
        partitions = [TopicPartition(topic, p, o, *extra) for p, o in offsets.items()]
        member.call(lambda c: c.commit(offsets=partitions, asynchronous=False))
    elif member.kind == "aiokafka":
        aio = {AioPartition(topic, p): AioOffset(o, metadata) for p, o in offsets.items()}
        member.call(lambda c: c.commit(aio))
    else:
        kp = {KpPartition(topic, p): KpOffset(o, metadata, -1) for p, o in offsets.items()}
        member.call(lambda c: c.commit(kp))
