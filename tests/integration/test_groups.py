"""Consumer groups with real clients: confluent-kafka (librdkafka), aiokafka and kafka-python
form groups together, split partitions, rebalance eagerly and cooperatively, keep static
members, commit and fetch offsets; admin APIs list, describe and delete groups and offsets;
raw requests check the error codes the clients hide; the in-process event stream tells the
story of a group. (Failover and broker restarts are in test_groups_failover.py.)

Every member runs its client's poll loop in its own thread (aiokafka on its own event loop),
so members heartbeat and rejoin concurrently, as separate processes would.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.coordinator.assignors.range import RangePartitionAssignor as AioRange
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor as AioRoundRobin
from aiokafka.structs import OffsetAndMetadata as AioOffset
from aiokafka.structs import TopicPartition as AioPartition
from confluent_kafka import (
    Consumer,
    ConsumerGroupState,
    KafkaError,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from group_members import (
    DESCRIBE_GROUPS,
    FIND_COORDINATOR,
    LATEST,
    LIST_OFFSETS,
    OFFSET_FETCH,
    GroupView,
    Member,
    Ownership,
    admin_offsets,
    all_consumed,
    commit,
    create_topic,
    decode_assignment,
    delete_groups,
    describe,
    event_log,
    fence,
    fetched,
    group_view,
    listed,
    produce,
    stable_with,
    unique,
    value_of,
)
from kafka import KafkaAdminClient, KafkaConsumer
from kafka import TopicPartition as KpPartition
from kafka.coordinator.assignors.range import RangePartitionAssignor as KpRange
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor as KpRoundRobin
from kafka.structs import OffsetAndMetadata as KpOffset
from kio.schema.errors import ErrorCode
from waiting import wait_until
from wire import RawClient

from localbroker.groups import events
from tui.embedded import EmbeddedBroker

# -- 1. a group of three different clients ------------------------------------------------


def test_three_clients_split_partitions_and_consume_each_record_once(
    group_broker: EmbeddedBroker, members: Callable[..., Member]
) -> None:
    """confluent-kafka, aiokafka and kafka-python in one group agree on the range protocol:
    each gets two of six partitions and every record is consumed by exactly one of them."""
    broker, topic, group = group_broker, unique("mixed"), unique("g-mixed")
    create_topic(broker, topic, 6)
    ownership = Ownership()
    with event_log(broker, group) as log:
        started = [
            members(kind, f"m-{kind}", broker.bootstrap, group, [topic], ownership)
            for kind in ("confluent", "aiokafka", "kafka-python")
        ]
        view = wait_until(lambda: stable_with(broker, group, 3), "a stable group of three")
        assert view.protocol == "range"
        wait_until(
            lambda: all(len(m.assignment) == 2 for m in started), "two partitions for each member"
        )
        sets = [m.assignment for m in started]
        assert frozenset().union(*sets) == frozenset(range(6))
        assert sum(len(s) for s in sets) == 6  # disjoint
        produce(broker.bootstrap, topic, range(6), 5)
        wait_until(lambda: len(all_consumed(started)) >= 30, "all 30 records consumed")
        fence(broker.bootstrap, topic, dict.fromkeys(range(6), 5), started)
        consumed = all_consumed(started)
        # each of the 5 records of a partition once, then its fence
        assert sorted((g.partition, g.offset) for g in consumed) == [
            (p, o) for p in range(6) for o in range(6)
        ]
        assert all(g.value == value_of(g.partition, g.offset) for g in consumed)
        for m in started:
            assert {g.partition for g in m.records} == m.assignment, m.name
        # The broker's final assignment is what the clients consume.
        last = log.completed()[-1]
        assert last.generation_id == view.generation
        by_member = {m.member_id: frozenset(last.assignments[m.member_id][topic]) for m in started}
        assert by_member == {m.member_id: m.assignment for m in started}
        assert ownership.violations == []


# -- 3. cooperative and eager rebalancing -------------------------------------------------


def moved_without_revocation(completed: list[events.RebalanceCompleted], topic: str) -> list[str]:
    """Partitions handed from one member to another that is still in the next generation:
    the cooperative protocol must first take them away (a generation where nobody owns them)."""
    problems = []
    for before, after in itertools.pairwise(completed):
        owners = {p: m for m, a in before.assignments.items() for p in (a or {}).get(topic, [])}
        for member, assignment in after.assignments.items():
            for p in (assignment or {}).get(topic, []):
                old = owners.get(p)
                if old is not None and old != member and old in after.assignments:
                    problems.append(
                        f"generation {after.generation_id}: partition {p} {old} -> {member}"
                    )
    return problems


def test_cooperative_sticky_members_join_and_leave_incrementally(
    group_broker: EmbeddedBroker, members: Callable[..., Member]
) -> None:
    """librdkafka cooperative-sticky: a joining member only takes partitions others give up
    (they keep consuming the rest), a partition is never owned twice, and with auto-commit no
    record is lost or read twice as members come and go."""
    broker, topic, group = group_broker, unique("coop"), unique("g-coop")
    create_topic(broker, topic, 6)
    ownership = Ownership()
    config = {
        "partition.assignment.strategy": "cooperative-sticky",
        "enable.auto.commit": True,
        "auto.commit.interval.ms": 200,
    }
    started: list[Member] = []
    everyone: list[Member] = []
    produced = 0

    def produce_and_consume() -> None:
        nonlocal produced
        produce(broker.bootstrap, topic, range(6), 4)
        produced += 24
        wait_until(lambda: len(all_consumed(everyone)) >= produced, f"{produced} records consumed")

    def join(name: str) -> Member:
        member = members("confluent", name, broker.bootstrap, group, [topic], ownership, **config)
        started.append(member)
        everyone.append(member)
        return member

    def settled(count: int) -> None:
        def check() -> bool:
            active = [m for m in started if m.alive]
            sets = [m.assignment for m in active]
            return (
                stable_with(broker, group, count) is not None
                and len(active) == count
                and all(sets)
                and frozenset().union(*sets) == frozenset(range(6))
                and sum(len(s) for s in sets) == 6
            )

        wait_until(check, f"{count} members sharing all six partitions")

    with event_log(broker, group) as log:
        a = join("coop-a")
        settled(1)
        produce_and_consume()
        b = join("coop-b")
        settled(2)
        # Sticky and incremental: a gave up exactly what b got and never lost the rest.
        assert len(a.assignment) == len(b.assignment) == 3
        a_revocations = [p for m, what, p in ownership.history if m == a.name and what == "revoked"]
        assert a_revocations == [b.assignment]
        produce_and_consume()
        c = join("coop-c")
        settled(3)
        assert [len(m.assignment) for m in (a, b, c)] == [2, 2, 2]
        produce_and_consume()
        kept_by_a = a.assignment
        b.stop()  # leaves the group; its partitions go to a and c
        started.remove(b)
        settled(2)
        assert kept_by_a <= a.assignment
        produce_and_consume()
        fence(broker.bootstrap, topic, dict.fromkeys(range(6), 16), everyone)
        consumed = all_consumed(everyone)
        # each of the 16 records of a partition once, then its fence
        assert sorted((g.partition, g.offset) for g in consumed) == [
            (p, o) for p in range(6) for o in range(17)
        ]
        assert ownership.violations == []
        completed = log.completed()
        assert {c.protocol_name for c in completed} == {"cooperative-sticky"}
        assert moved_without_revocation(completed, topic) == []
        # Each join took two rebalances (revoke, then assign); the leave took one.
        assert len(completed) >= 1 + 2 + 2 + 1


def expected_eager(assignor: str, member_ids: list[str], topics: dict[str, int]) -> dict:
    """What Kafka's RangeAssignor / RoundRobinAssignor give members (sorted by member id)."""
    ordered = sorted(member_ids)
    result: dict[str, set[tuple[str, int]]] = {m: set() for m in ordered}
    if assignor == "range":
        for topic, count in sorted(topics.items()):
            share, extra = divmod(count, len(ordered))
            start = 0
            for i, m in enumerate(ordered):
                size = share + (1 if i < extra else 0)
                result[m].update((topic, p) for p in range(start, start + size))
                start += size
    else:
        every = [(t, p) for t, count in sorted(topics.items()) for p in range(count)]
        for i, tp in enumerate(every):
            result[ordered[i % len(ordered)]].add(tp)
    return {m: frozenset(tps) for m, tps in result.items()}


@pytest.mark.parametrize("assignor", ["range", "roundrobin"])
@pytest.mark.parametrize("leader", ["aiokafka", "kafka-python"])
def test_eager_assignors_of_the_python_clients(
    group_broker: EmbeddedBroker, members: Callable[..., Member], assignor: str, leader: str
) -> None:
    """aiokafka and kafka-python in one group, the leader (first to join) running its own
    client's eager assignor over two topics: the assignment is exactly Kafka's."""
    broker, group = group_broker, unique(f"g-{assignor}")
    topics = {unique("ea"): 3, unique("eb"): 3}
    for name, count in topics.items():
        create_topic(broker, name, count)
    classes = {
        "aiokafka": {"range": AioRange, "roundrobin": AioRoundRobin},
        "kafka-python": {"range": KpRange, "roundrobin": KpRoundRobin},
    }
    follower = "kafka-python" if leader == "aiokafka" else "aiokafka"
    started = []
    with event_log(broker, group) as log:
        for kind in (leader, follower):
            strategy = {"partition_assignment_strategy": (classes[kind][assignor],)}
            started.append(
                members(
                    kind, f"{assignor}-{kind}", broker.bootstrap, group, sorted(topics), **strategy
                )
            )
            count = len(started)
            wait_until(lambda c=count: stable_with(broker, group, c), f"{count} members")
            if count == 1:  # the leader owns everything before the follower comes
                wait_until(lambda: len(started[0].tps) == 6, "the leader assigned")
        first, second = started

        def settled() -> GroupView | None:
            view = stable_with(broker, group, 2)
            ids = {m.member_id for m in started}
            return view if view is not None and set(view.members) == ids else None

        view = wait_until(settled, "a stable group of the two members")
        assert view.protocol == assignor
        assert view.leader == first.member_id
        expected = expected_eager(assignor, [first.member_id, second.member_id], topics)
        wait_until(
            lambda: {m.member_id: m.tps for m in started} == expected,
            f"the {assignor} assignment {expected}",
        )
        last = log.completed()[-1]
        assert {
            m: frozenset((t, p) for t, ps in (a or {}).items() for p in ps)
            for m, a in last.assignments.items()
        } == expected


# -- 5. committed offsets and the group admin APIs ------------------------------------------


def confluent_commits(topic: str, low: int, high: int) -> Callable[[Consumer], None]:
    def commit(consumer: Consumer) -> None:
        sync = TopicPartition(topic, low, 2, "confluent-sync")
        consumer.commit(offsets=[sync], asynchronous=False)
        consumer.commit(offsets=[TopicPartition(topic, high, 3, "confluent-async")])

    return commit


def aiokafka_commits(topic: str, low: int, high: int) -> Callable[[AIOKafkaConsumer], Any]:
    async def commit(consumer: AIOKafkaConsumer) -> None:
        await consumer.commit({AioPartition(topic, low): AioOffset(2, "aiokafka-sync")})
        # "async": the commit runs while the consumer keeps polling.
        asyncio.get_running_loop().create_task(
            consumer.commit({AioPartition(topic, high): AioOffset(3, "aiokafka-async")})
        )

    return commit


def kafka_python_commits(topic: str, low: int, high: int) -> Callable[[KafkaConsumer], None]:
    def commit(consumer: KafkaConsumer) -> None:
        consumer.commit({KpPartition(topic, low): KpOffset(2, "kafka-python-sync", -1)})
        consumer.commit_async({KpPartition(topic, high): KpOffset(3, "kafka-python-async", -1)})

    return commit


def test_commits_with_metadata_round_trip_in_every_client(
    group_broker: EmbeddedBroker,
    members: Callable[..., Member],
    admin: AdminClient,
    kp_admin: KafkaAdminClient,
) -> None:
    """Sync and async commits with metadata from all three clients in one group; each
    client's committed() and the admin OffsetFetch read back every member's commits."""
    broker, topic, group = group_broker, unique("commits"), unique("g-commits")
    create_topic(broker, topic, 6)
    committers = {
        "confluent": confluent_commits,
        "aiokafka": aiokafka_commits,
        "kafka-python": kafka_python_commits,
    }
    with event_log(broker, group) as log:
        started = [
            members(kind, f"c-{kind}", broker.bootstrap, group, [topic]) for kind in committers
        ]
        wait_until(lambda: stable_with(broker, group, 3), "a stable group of three")
        wait_until(lambda: all(len(m.assignment) == 2 for m in started), "two partitions each")
        expected = {}
        for m in started:
            low, high = sorted(m.assignment)
            m.call(committers[m.kind](topic, low, high))
            expected[(topic, low)] = (2, f"{m.kind}-sync")
            expected[(topic, high)] = (3, f"{m.kind}-async")
        # confluent-kafka-python sends its metadata C string with the terminating NUL (the
        # broker keeps the bytes it got, as Kafka does); librdkafka drops it when reading back.
        on_the_wire = {
            tp: (offset, metadata + "\x00" if metadata.startswith("confluent") else metadata)
            for tp, (offset, metadata) in expected.items()
        }
        offsets_only = {tp: offset for tp, (offset, _) in expected.items()}
        wait_until(lambda: fetched(kp_admin, group) == on_the_wire, f"commits {on_the_wire}")
        assert admin_offsets(admin, group) == offsets_only
        assert {
            (e.topic, e.partition): (e.offset, e.metadata) for e in log.of(events.OffsetCommitted)
        } == on_the_wire

    every = range(6)

    def confluent_view(consumer: Consumer) -> dict[tuple[str, int], tuple[int, str | None]]:
        """Offsets, and metadata only where confluent-kafka committed it: librdkafka reads
        metadata as a C string, so other clients' metadata comes back with whatever bytes
        follow it in memory (sometimes not even UTF-8), which would make this test flaky."""
        got = consumer.committed([TopicPartition(topic, p) for p in every], timeout=10)
        return {
            (tp.topic, tp.partition): (
                tp.offset,
                tp.metadata
                if expected[(tp.topic, tp.partition)][1].startswith("confluent")
                else None,
            )
            for tp in got
        }

    async def aiokafka_view(consumer: AIOKafkaConsumer) -> dict[tuple[str, int], int]:
        return {(topic, p): await consumer.committed(AioPartition(topic, p)) for p in every}

    def kafka_python_view(consumer: KafkaConsumer) -> dict[tuple[str, int], tuple[int, str]]:
        got = {p: consumer.committed(KpPartition(topic, p), metadata=True) for p in every}
        return {(topic, p): (c.offset, c.metadata) for p, c in got.items()}

    by_kind = {m.kind: m for m in started}
    from_confluent = by_kind["confluent"].call(confluent_view)
    assert {tp: offset for tp, (offset, _) in from_confluent.items()} == offsets_only
    # Only NUL-terminated metadata (confluent-kafka's own) reads back exactly there.
    own = {tp: c for tp, c in from_confluent.items() if expected[tp][1].startswith("confluent")}
    assert own == {tp: c for tp, c in expected.items() if c[1].startswith("confluent")}
    assert by_kind["kafka-python"].call(kafka_python_view) == on_the_wire
    # aiokafka's committed() returns the offset only.
    assert by_kind["aiokafka"].call(aiokafka_view) == offsets_only


def test_simple_consumer_commits_for_a_group_that_never_joins(
    group_broker: EmbeddedBroker, admin: AdminClient, kp_admin: KafkaAdminClient
) -> None:
    """assign() without subscribe(): commits carry generation -1 and no member id, and the
    group exists only through its offsets (Empty, no protocol type, no members)."""
    broker, topic, group = group_broker, unique("simple"), unique("g-simple")
    create_topic(broker, topic, 2)
    with event_log(broker, group) as log:
        consumer = Consumer(
            {"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False}
        )
        try:
            consumer.assign([TopicPartition(topic, 0)])
            consumer.commit(offsets=[TopicPartition(topic, 0, 7, "simple")], asynchronous=False)
        finally:
            consumer.close()
        python = KafkaConsumer(
            bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False
        )
        try:
            python.assign([KpPartition(topic, 1)])
            python.commit({KpPartition(topic, 1): KpOffset(9, "also simple", -1)})
        finally:
            python.close()
        assert fetched(kp_admin, group) == {
            (topic, 0): (7, "simple\x00"),  # confluent-kafka-python's NUL, see above
            (topic, 1): (9, "also simple"),
        }
        assert admin_offsets(admin, group) == {(topic, 0): 7, (topic, 1): 9}
        assert [type(e) for e in log.all] == [events.OffsetCommitted, events.OffsetCommitted]
    description = describe(admin, group)
    assert (description.state, description.members) == (ConsumerGroupState.EMPTY, [])
    assert description.is_simple_consumer_group
    listing = listed(admin)[group]
    assert (listing.state, listing.is_simple_consumer_group) == (ConsumerGroupState.EMPTY, True)
    view = group_view(broker, group)
    assert view is not None and (view.state, view.generation, view.members) == ("Empty", 0, {})


def test_offset_delete_refused_while_subscribed(
    group_broker: EmbeddedBroker,
    members: Callable[..., Member],
    admin: AdminClient,
    kp_admin: KafkaAdminClient,
) -> None:
    """OffsetDelete: GROUP_SUBSCRIBED_TO_TOPIC for a topic an active member subscribes to,
    allowed for other topics, and for every topic once the group is Empty."""
    broker, group = group_broker, unique("g-offdel")
    subscribed, other = unique("sub"), unique("other")
    create_topic(broker, subscribed, 2)
    create_topic(broker, other, 1)
    member = members("confluent", "offdel", broker.bootstrap, group, [subscribed])
    wait_until(lambda: member.assignment == frozenset({0, 1}), "the member assigned")
    member.call(
        lambda c: c.commit(
            offsets=[
                TopicPartition(subscribed, 0, 4),
                TopicPartition(subscribed, 1, 5),
                TopicPartition(other, 0, 6),
            ],
            asynchronous=False,
        )
    )
    sub0, other0 = KpPartition(subscribed, 0), KpPartition(other, 0)
    result = kp_admin.delete_group_offsets(group, [sub0, other0])
    assert {tp: e.__name__ for tp, e in result.items()} == {
        sub0: "GroupSubscribedToTopicError",
        other0: "NoError",
    }
    assert admin_offsets(admin, group) == {(subscribed, 0): 4, (subscribed, 1): 5}
    member.stop()
    wait_until(lambda: (v := group_view(broker, group)) and v.state == "Empty", "an Empty group")
    result = kp_admin.delete_group_offsets(group, [sub0])
    assert {tp: e.__name__ for tp, e in result.items()} == {sub0: "NoError"}
    assert admin_offsets(admin, group) == {(subscribed, 1): 5}


def test_delete_groups_empty_non_empty_and_unknown(
    group_broker: EmbeddedBroker,
    members: Callable[..., Member],
    admin: AdminClient,
    kp_admin: KafkaAdminClient,
) -> None:
    """DeleteGroups answers per group: NON_EMPTY_GROUP while members remain,
    GROUP_ID_NOT_FOUND for an unknown id; an Empty group goes, with its offsets."""
    broker, topic = group_broker, unique("delgroups")
    create_topic(broker, topic, 1)
    active, emptied, unknown = unique("g-active"), unique("g-emptied"), unique("g-unknown")
    alive = members("confluent", "del-active", broker.bootstrap, active, [topic])
    leaver = members("kafka-python", "del-leaver", broker.bootstrap, emptied, [topic])
    wait_until(lambda: alive.assignment and leaver.assignment, "both groups assigned")
    commit(leaver, topic, {0: 1}, "gone soon")
    leaver.stop()
    wait_until(lambda: (v := group_view(broker, emptied)) and v.state == "Empty", "emptied")
    assert fetched(kp_admin, emptied) == {(topic, 0): (1, "gone soon")}
    with event_log(broker, emptied) as log:
        codes = delete_groups(admin, [active, emptied, unknown])
        assert [type(e) for e in log.all] == [events.GroupDeleted]
    assert codes == {
        active: KafkaError.NON_EMPTY_GROUP,
        emptied: 0,
        unknown: KafkaError.GROUP_ID_NOT_FOUND,
    }
    assert group_view(broker, emptied) is None
    assert admin_offsets(admin, emptied) == {}
    assert fetched(kp_admin, emptied) == {}
    assert emptied not in listed(admin)
    assert stable_with(broker, active, 1) is not None


def test_list_and_describe_groups_match_the_members(
    group_broker: EmbeddedBroker, members: Callable[..., Member], admin: AdminClient
) -> None:
    """ListGroups (filtered by state) and DescribeGroups agree with what the clients see:
    member ids, client ids, host "/127.0.0.1", assignments, protocol and state."""
    broker, topic = group_broker, unique("describe")
    create_topic(broker, topic, 4)
    stable, empty = unique("g-stable"), unique("g-empty")
    started = [
        members("confluent", "desc-confluent", broker.bootstrap, stable, [topic]),
        members("kafka-python", "desc-kafka-python", broker.bootstrap, stable, [topic]),
    ]
    gone = members("aiokafka", "desc-gone", broker.bootstrap, empty, [topic])
    wait_until(lambda: stable_with(broker, stable, 2), "a stable group of two")
    wait_until(lambda: all(len(m.assignment) == 2 for m in started), "two partitions each")
    wait_until(lambda: gone.assignment, "the other group assigned")
    gone.stop()
    wait_until(lambda: (v := group_view(broker, empty)) and v.state == "Empty", "an Empty group")

    assert set(listed(admin, {ConsumerGroupState.STABLE})) == {stable}
    assert set(listed(admin, {ConsumerGroupState.EMPTY})) == {empty}
    assert set(listed(admin, {ConsumerGroupState.PREPARING_REBALANCING})) == set()
    everything = listed(admin)
    assert {stable, empty} <= set(everything)
    assert everything[stable].state == ConsumerGroupState.STABLE
    assert not everything[stable].is_simple_consumer_group

    description = describe(admin, stable)
    assert description.state == ConsumerGroupState.STABLE
    assert description.partition_assignor == "range"
    assert not description.is_simple_consumer_group
    assert description.coordinator.port == int(broker.bootstrap.rsplit(":", 1)[1])
    described = {
        m.member_id: (
            m.client_id,
            m.host,
            frozenset(tp.partition for tp in m.assignment.topic_partitions),
        )
        for m in description.members
    }
    assert described == {m.member_id: (m.name, "/127.0.0.1", m.assignment) for m in started}
    emptied = describe(admin, empty)
    assert (emptied.state, emptied.members) == (ConsumerGroupState.EMPTY, [])


# -- 7. what `kafka-consumer-groups --describe` shows, from the protocol ----------------------


@dataclass(frozen=True)
class DescribeRow:
    """One line of `kafka-consumer-groups --describe` (None where the tool prints "-")."""

    topic: str
    partition: int
    current_offset: int | None
    log_end_offset: int
    lag: int | None
    consumer_id: str | None
    host: str | None
    client_id: str | None


def describe_rows(bootstrap: str, group: str, topic: str, partitions: int) -> list[DescribeRow]:
    """The tool's columns from FindCoordinator, DescribeGroups (assignments decoded with the
    consumer protocol), OffsetFetch and ListOffsets, as the tool computes them."""
    with RawClient(bootstrap, "describe-tool") as client:
        found = client.call(FIND_COORDINATOR, 4, {"key_type": 0, "coordinator_keys": [group]})
        [coordinator] = found.coordinators
        assert coordinator.error_code == ErrorCode.none
        assert f"{coordinator.host}:{coordinator.port}" == bootstrap
        described = client.call(
            DESCRIBE_GROUPS, 5, {"groups": [group], "include_authorized_operations": False}
        )
        [description] = described.groups
        assert description.error_code == ErrorCode.none
        owners = {}
        for m in description.members:
            for p in decode_assignment(m.member_assignment).get(topic, []):
                owners[p] = m
        fetch = {"groups": [{"group_id": group, "topics": None}], "require_stable": False}
        [fetched_group] = client.call(OFFSET_FETCH, 8, fetch).groups
        committed = {
            p.partition_index: p.committed_offset
            for t in fetched_group.topics
            if t.name == topic
            for p in t.partitions
        }
        wanted = [{"partition_index": p, "timestamp": LATEST} for p in range(partitions)]
        listed_offsets = client.call(
            LIST_OFFSETS,
            7,
            {
                "replica_id": -1,
                "isolation_level": 0,
                "topics": [{"name": topic, "partitions": wanted}],
            },
        )
        ends = {p.partition_index: p.offset for t in listed_offsets.topics for p in t.partitions}
    rows = []
    for p in range(partitions):
        current = committed.get(p)
        owner = owners.get(p)
        rows.append(
            DescribeRow(
                topic,
                p,
                current,
                ends[p],
                None if current is None else ends[p] - current,
                owner.member_id if owner else None,
                owner.client_host if owner else None,
                owner.client_id if owner else None,
            )
        )
    return rows


def test_consumer_groups_describe_columns_from_the_protocol(
    group_broker: EmbeddedBroker, members: Callable[..., Member], admin: AdminClient
) -> None:
    """CURRENT-OFFSET, LOG-END-OFFSET, LAG, CONSUMER-ID, HOST and CLIENT-ID of every partition
    of an active group, computed from the protocol, are what the members did."""
    broker, topic, group = group_broker, unique("cgdescribe"), unique("g-cgdescribe")
    create_topic(broker, topic, 4)
    for p in range(4):
        produce(broker.bootstrap, topic, [p], 3 + 2 * p)  # log end offsets 3, 5, 7, 9
    started = [
        members("confluent", "tool-confluent", broker.bootstrap, group, [topic]),
        members("kafka-python", "tool-kafka-python", broker.bootstrap, group, [topic]),
    ]
    wait_until(lambda: stable_with(broker, group, 2), "a stable group of two")
    wait_until(lambda: all(len(m.assignment) == 2 for m in started), "two partitions each")
    owner = {p: m for m in started for p in m.assignment}
    committed = {0: 3, 1: 2, 2: 1}  # partition 3: never committed
    for p, offset in committed.items():
        commit(owner[p], topic, {p: offset})
    rows = describe_rows(broker.bootstrap, group, topic, 4)
    ends = {0: 3, 1: 5, 2: 7, 3: 9}
    assert rows == [
        DescribeRow(
            topic,
            p,
            committed.get(p),
            ends[p],
            ends[p] - committed[p] if p in committed else None,
            owner[p].member_id,
            "/127.0.0.1",
            owner[p].name,
        )
        for p in range(4)
    ]
    # librdkafka's admin view of the same group agrees.
    description = describe(admin, group)
    assert {
        (m.member_id, m.client_id, m.host): sorted(
            tp.partition for tp in m.assignment.topic_partitions
        )
        for m in description.members
    } == {
        (r.consumer_id, r.client_id, r.host): [
            x.partition for x in rows if x.consumer_id == r.consumer_id
        ]
        for r in rows
    }
    assert admin_offsets(admin, group) == {(topic, p): o for p, o in committed.items()}
