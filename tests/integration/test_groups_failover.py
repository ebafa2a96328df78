"""Consumer groups over time: members that leave cleanly, die without a word (SIGKILL),
restart as static members or get fenced; a broker restarting under its groups (SIGTERM and
SIGKILL); the coordinator's answers to members that are stale, unknown or early (raw
requests: the clients hide these codes); and the in-process event stream that records a
group's life.

Killed members are real clients in their own process (`Victim`), so nothing can send a
LeaveGroup for them. Members, waits and views are shared with test_groups.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from brokers import BrokerProcess
from confluent_kafka import ConsumerGroupState, KafkaError
from confluent_kafka.admin import AdminClient, NewTopic
from group_members import (
    GROUP_BROKER,
    HEARTBEAT,
    JOIN_GROUP,
    LEAVE_GROUP,
    SYNC_GROUP,
    EventLog,
    Got,
    Member,
    Ownership,
    all_consumed,
    assignment_bytes,
    commit,
    commit_error,
    create_topic,
    decode_assignment,
    describe,
    event_log,
    fence,
    fetched,
    group_view,
    join_request,
    listed,
    member_request,
    produce,
    stable_with,
    start_members,
    unique,
    value_of,
)
from kafka import KafkaAdminClient
from kio.schema.errors import ErrorCode
from waiting import TIMEOUT, polling, wait_until
from wire import RawClient, request_body

from localbroker.groups import events
from tui.embedded import EmbeddedBroker

# A consumer in its own process. argv: client bootstrap group topic session_ms. It prints one
# JSON line per record, assignment change and finished commit; stdin lines are commits to
# make, as {"partition": offset} (synchronous, from the poll loop). kafka-python logs its
# connections, joins and assignments (INFO) to stderr, which a failed wait shows.
VICTIM = r"""
import json, logging, sys, threading, queue
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(threadName)s %(name)s %(message)s")
kind, bootstrap, group, topic, session_ms = sys.argv[1:6]
commands = queue.Queue()
read = lambda: [commands.put(json.loads(line)) for line in sys.stdin]
threading.Thread(target=read, daemon=True).start()

def say(**what):
    print(json.dumps(what), flush=True)

if kind == "confluent":
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "client.id": "victim",
        "session.timeout.ms": int(session_ms), "heartbeat.interval.ms": 250,
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "partition.assignment.strategy": "range",
    })
    consumer.subscribe([topic])
    def poll():
        m = consumer.poll(0.1)
        return [] if m is None or m.error() else [(m.partition(), m.offset())]
    def assigned():
        return sorted(p.partition for p in consumer.assignment())
    def member_id():
        return consumer.memberid()
    def commit(offsets):
        partitions = [TopicPartition(topic, p, o) for p, o in offsets]
        consumer.commit(offsets=partitions, asynchronous=False)
else:
    from kafka import KafkaConsumer, TopicPartition
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.structs import OffsetAndMetadata
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, client_id="victim",
        session_timeout_ms=int(session_ms), heartbeat_interval_ms=250,
        auto_offset_reset="earliest", enable_auto_commit=False,
        partition_assignment_strategy=(RangePartitionAssignor,),
    )
    consumer.subscribe([topic])
    consumer.topics()  # before the first join: group_members.KafkaPythonMember says why
    def poll():
        batches = consumer.poll(timeout_ms=100)
        return [(tp.partition, m.offset) for tp, ms in batches.items() for m in ms]
    def assigned():
        return sorted(tp.partition for tp in consumer.assignment())
    def member_id():
        return consumer._coordinator._generation.member_id
    def commit(offsets):
        consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(o, "", -1)
                         for p, o in offsets})

last = None
while True:
    for partition, offset in poll():
        say(record=[partition, offset])
    now = assigned()
    if now != last:
        last = now
        say(assigned=now, member_id=member_id())
    while not commands.empty():
        offsets = [(int(p), o) for p, o in commands.get().items()]
        commit(offsets)
        say(committed=offsets)
"""


class Victim:
    """A consumer in a child process, killed with SIGKILL: no LeaveGroup, no last commit."""

    def __init__(self, kind: str, bootstrap: str, group: str, topic: str, session_ms: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", VICTIM, kind, bootstrap, group, topic, str(session_ms)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lock = threading.Lock()
        self.lines: list[dict[str, Any]] = []
        self._log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_log, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.lines.append(json.loads(line))

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._lock:
                self._log.append(line)

    def story(self) -> str:
        """The end of what the victim's client logged: where it got to, and what stopped it."""
        with self._lock:
            return "".join(self._log[-200:])

    def wait_until(
        self, predicate: Callable[[], object], what: str, timeout: float = TIMEOUT
    ) -> None:
        """`wait_until`, but failing at once if the victim has exited, and showing its log
        when it fails: a victim that never gets there then says why (its start, its joins)."""
        pauses = polling(what, timeout, showing=self.story)
        while not predicate():
            if self.process.poll() is not None:
                code = self.process.returncode
                raise AssertionError(f"the victim exited ({code}) before {what}:\n{self.story()}")
            time.sleep(next(pauses))

    def said(self, key: str) -> list[Any]:
        with self._lock:
            return [line for line in self.lines if key in line]

    @property
    def assignment(self) -> frozenset[int]:
        assigned = self.said("assigned")
        return frozenset(assigned[-1]["assigned"]) if assigned else frozenset()

    @property
    def member_id(self) -> str:
        assigned = self.said("assigned")
        return assigned[-1]["member_id"] if assigned else ""

    def records(self) -> list[tuple[int, int]]:
        return [tuple(line["record"]) for line in self.said("record")]

    def commit(self, offsets: dict[int, int]) -> None:
        assert self.process.stdin is not None
        before = len(self.said("committed"))
        self.process.stdin.write(json.dumps(offsets) + "\n")
        self.process.stdin.flush()
        self.wait_until(
            lambda: len(self.said("committed")) > before, f"the victim to commit {offsets}"
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(TIMEOUT)
        assert self.process.stdin is not None
        self.process.stdin.close()


@pytest.fixture
def group_broker(start_broker: Callable[..., EmbeddedBroker]) -> EmbeddedBroker:
    return start_broker(GROUP_BROKER)


@pytest.fixture
def members() -> Iterator[Callable[..., Member]]:
    yield from start_members()


@pytest.fixture
def cleanup() -> Iterator[list[Callable[[], None]]]:
    """Things to stop at the end (victims, brokers, event logs), newest first. Tests that
    stop a broker this way ask for it before `members`, so members close while it is up."""
    stops: list[Callable[[], None]] = []
    yield stops
    for stop in reversed(stops):
        stop()


def events_of(broker: EmbeddedBroker, group: str, cleanup: list[Callable[[], None]]) -> EventLog:
    log = EventLog(broker, group)
    cleanup.append(log.close)
    return log


def pairs(records: list[Got]) -> list[tuple[int, int]]:
    return sorted((g.partition, g.offset) for g in records)


def assert_resumed(
    after: list[Got], partition: int, offsets: range, log: EventLog, since: int
) -> None:
    """The records read after a failover are exactly `offsets` of `partition`, once. A client
    may rebalance again on its own (more than one generation after `since`) and then re-read
    them from the same committed offset, but never anything before it."""
    expected = [(partition, o) for o in offsets]
    assert all(g.value == value_of(g.partition, g.offset) for g in after)
    generations = [e.generation_id for e in log.completed() if e.generation_id > since]
    if len(generations) == 1:
        assert pairs(after) == expected
    else:
        assert sorted(set(pairs(after))) == expected, generations


# -- 2. failover --------------------------------------------------------------------------------


def test_clean_leave_hands_partitions_over_from_the_last_commit(
    group_broker: EmbeddedBroker,
    members: Callable[..., Member],
    cleanup: list[Callable[[], None]],
) -> None:
    """An aiokafka member commits part of its partition and closes (LeaveGroup): the
    confluent-kafka and kafka-python survivors rebalance at once (long before its 30 s
    session would end) and read exactly the records after its commit, once."""
    broker, topic, group = group_broker, unique("leave"), unique("g-leave")
    create_topic(broker, topic, 3)
    log = events_of(broker, group, cleanup)
    args = (broker.bootstrap, group, [topic])
    leaver = members("aiokafka", "leaver", *args, session_timeout_ms=30_000)
    survivors = [
        members("confluent", "survivor-confluent", *args),
        members("kafka-python", "survivor-kafka-python", *args),
    ]
    everyone = [leaver, *survivors]
    wait_until(lambda: stable_with(broker, group, 3), "a stable group of three")
    wait_until(lambda: all(len(m.assignment) == 1 for m in everyone), "one partition each")
    produce(broker.bootstrap, topic, range(3), 10)
    wait_until(lambda: len(all_consumed(everyone)) == 30, "all 30 records consumed")
    assert pairs(all_consumed(everyone)) == [(p, o) for p in range(3) for o in range(10)]
    [leaving] = leaver.assignment
    commit(leaver, topic, {leaving: 6})
    for survivor in survivors:  # the survivors are done with their own partitions
        commit(survivor, topic, dict.fromkeys(survivor.assignment, 10))
    seen = {m.name: len(m.records) for m in survivors}
    leaver_id, generation = leaver.member_id, log.completed()[-1].generation_id
    leaver.stop()
    wait_until(
        lambda: frozenset().union(*(m.assignment for m in survivors)) == frozenset(range(3)),
        "the survivors to own all three partitions",
        timeout=15,  # half the leaver's session timeout: only its LeaveGroup can make this
    )
    wait_until(lambda: sum(len(m.records) for m in survivors) - sum(seen.values()) >= 4, "4 more")
    wait_until(lambda: stable_with(broker, group, 2), "a stable group of two")
    after = [g for m in survivors for g in m.records[seen[m.name] :]]
    assert_resumed(after, leaving, range(6, 10), log, generation)
    assert [(e.member_id, e.reason) for e in log.of(events.MemberLeft)] == [(leaver_id, "left")]


@pytest.mark.parametrize("victim_kind", ["confluent", "kafka-python"])
def test_killed_member_expires_and_the_survivor_resumes_from_its_commit(
    group_broker: EmbeddedBroker,
    members: Callable[..., Member],
    cleanup: list[Callable[[], None]],
    victim_kind: str,
) -> None:
    """A member in another process commits part of its partition and is SIGKILLed: after its
    session timeout the coordinator expires it, and the survivor takes the partition over from
    the committed offset: nothing lost, only the uncommitted records read again."""
    broker, topic, group = group_broker, unique("kill"), unique("g-kill")
    create_topic(broker, topic, 2)
    log = events_of(broker, group, cleanup)
    victim = Victim(victim_kind, broker.bootstrap, group, topic, 2000)
    cleanup.append(victim.kill)
    # The victim is a new interpreter: its imports, connection and first join took over the
    # 20 s default once in CI, with two test workers on two cores.
    victim.wait_until(
        lambda: victim.assignment == frozenset({0, 1}),
        "the victim to own both partitions",
        timeout=60,
    )
    survivor = members("kafka-python", "survivor", broker.bootstrap, group, [topic])
    victim.wait_until(
        lambda: len(survivor.assignment) == 1 and len(victim.assignment) == 1,
        "one partition each",
    )
    wait_until(lambda: stable_with(broker, group, 2), "a stable group of two")
    produce(broker.bootstrap, topic, range(2), 10)
    [kept] = survivor.assignment
    [lost] = victim.assignment
    victim.wait_until(lambda: len(victim.records()) == 10, "the victim to read its partition")
    wait_until(lambda: len(survivor.records) == 10, "the survivor to read its partition")
    assert sorted(victim.records()) == [(lost, o) for o in range(10)]
    commit(survivor, topic, {kept: 10})
    victim.commit({lost: 4})  # acknowledged before the kill
    victim_id, generation = victim.member_id, log.completed()[-1].generation_id
    victim.kill()
    wait_until(lambda: survivor.assignment == frozenset({0, 1}), "the survivor to take over")
    wait_until(lambda: len(survivor.records) >= 16, "the survivor to read 6 more records")
    wait_until(lambda: stable_with(broker, group, 1), "a stable group of one")
    assert_resumed(survivor.records[10:], lost, range(4, 10), log, generation)
    left = log.of(events.MemberLeft)
    assert [(e.member_id, e.reason) for e in left] == [(victim_id, "expired")]


# -- 4. static membership -------------------------------------------------------------------


def test_static_member_restart_keeps_generation_and_partitions(
    group_broker: EmbeddedBroker, members: Callable[..., Member]
) -> None:
    """KIP-345: a static member that closes (librdkafka sends no LeaveGroup for it) and comes
    back within its session keeps its partitions, and the group does not rebalance: same
    generation, the other member keeps consuming its partitions untouched."""
    broker, topic, group = group_broker, unique("static"), unique("g-static")
    create_topic(broker, topic, 4)
    ownership = Ownership()

    def static(name: str, instance: str) -> Member:
        return members(
            "confluent",
            name,
            broker.bootstrap,
            group,
            [topic],
            ownership,
            **{"group.instance.id": instance, "session.timeout.ms": 6000},
        )

    a = static("static-a", "instance-a")
    b = static("static-b", "instance-b")
    before = wait_until(lambda: stable_with(broker, group, 2), "a stable group of two")
    # Each client hears of the second generation in its own time: until both have, the
    # first member can still hold all four partitions while the second already has two.
    wait_until(
        lambda: a.assignment and b.assignment and not a.assignment & b.assignment,
        "both members assigned, apart",
    )
    a_parts, b_parts, old_a_id = a.assignment, b.assignment, a.member_id
    assert a_parts | b_parts == frozenset(range(4)) and not a_parts & b_parts
    assert {m.group_instance_id for m in before.members.values()} == {"instance-a", "instance-b"}
    history_before = list(ownership.history)
    with event_log(broker, group) as log:
        a.stop()  # a static member's close leaves no LeaveGroup behind
        still = group_view(broker, group)
        assert still is not None
        assert (still.state, still.generation) == ("Stable", before.generation)
        assert old_a_id in still.members
        again = static("static-a-again", "instance-a")
        wait_until(lambda: again.assignment == a_parts, f"the restarted member to own {a_parts}")
        after = group_view(broker, group)
        assert after is not None
        assert (after.state, after.generation) == ("Stable", before.generation)
        assert again.member_id != old_a_id and again.member_id in after.members
        assert after.members[again.member_id].group_instance_id == "instance-a"
        assert b.assignment == b_parts
        kinds = [type(e).__name__ for e in log.all]
        assert "RebalanceStarted" not in kinds and "RebalanceCompleted" not in kinds
        [left] = log.of(events.MemberLeft)
        assert (left.member_id, left.reason) == (old_a_id, "fenced")
    # b was never asked to give anything up.
    b_changes = [h for h in ownership.history[len(history_before) :] if h[0] == b.name]
    assert b_changes == []


def test_duplicate_static_instance_fences_the_first(
    group_broker: EmbeddedBroker, members: Callable[..., Member]
) -> None:
    """A second consumer joining with a group.instance.id already in use takes its place;
    the first hears FENCED_INSTANCE_ID on its next heartbeat, a fatal error in librdkafka."""
    broker, topic, group = group_broker, unique("fence"), unique("g-fence")
    create_topic(broker, topic, 2)
    config = {"group.instance.id": "the-instance", "session.timeout.ms": 6000}
    first = members("confluent", "fence-1", broker.bootstrap, group, [topic], **config)
    wait_until(lambda: first.assignment == frozenset({0, 1}), "the first member assigned")
    generation = wait_until(lambda: stable_with(broker, group, 1), "a stable group").generation
    second = members("confluent", "fence-2", broker.bootstrap, group, [topic], **config)
    wait_until(lambda: second.assignment == frozenset({0, 1}), "the second member assigned")
    fatal = wait_until(
        lambda: [e for e in first.errors if e.code() == KafkaError._FATAL],
        "a fatal error on the first member",
    )
    # librdkafka's error_cb reports _FATAL carrying the broker's FENCED_INSTANCE_ID.
    fenced = KafkaError(KafkaError.FENCED_INSTANCE_ID).str()
    assert fenced in fatal[0].str(), fatal[0].str()
    view = stable_with(broker, group, 1)
    assert view is not None and view.generation == generation
    assert list(view.members) == [second.member_id]


# -- 6. broker restarts -------------------------------------------------------------------------


TAG = "restart\x00"  # commit metadata as confluent-kafka-python sends it (see test_groups.py)


def consume_with_new_member(
    members: Callable[..., Member], bootstrap: str, group: str, topic: str, expected: int
) -> list[tuple[int, int]]:
    """Join `group` with a fresh confluent member, read `expected` records, then a fence
    record after them on each partition (so that nothing read twice can still arrive),
    commit its positions with metadata and leave; what it read, the fences included."""
    member = members("confluent", unique("restart"), bootstrap, group, [topic])
    wait_until(lambda: member.assignment == frozenset({0, 1}), "the member assigned")
    wait_until(lambda: len(member.records) >= expected, f"{expected} records")
    ends: dict[int, int] = {}
    for p, o in pairs(member.records):
        ends[p] = max(ends.get(p, 0), o + 1)
    fence(bootstrap, topic, ends, [member])
    assert all(g.value == value_of(g.partition, g.offset) for g in member.records)
    got = pairs(member.records)
    commit(member, topic, {p: o + 1 for p, o in ends.items()}, "restart")
    member.stop()
    return got


def produce_to(bootstrap: str, topic: str, offsets: dict[int, range]) -> None:
    """Produce the records that will get `offsets` in each partition."""
    for partition, wanted in offsets.items():
        produce(bootstrap, topic, [partition], len(wanted), wanted.start)


def offsets_of(broker: BrokerProcess, group: str) -> dict[tuple[str, int], tuple[int, str]]:
    kp_admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10_000)
    try:
        return fetched(kp_admin, group)
    finally:
        kp_admin.close()


def restarted(broker: BrokerProcess, cleanup: list[Callable[[], None]]) -> BrokerProcess:
    again = BrokerProcess(broker.data_dir, broker.overrides, broker.port).start()
    cleanup.append(again.kill)
    return again


def test_committed_offsets_and_groups_survive_sigterm_and_sigkill(
    tmp_path: Path, cleanup: list[Callable[[], None]], members: Callable[..., Member]
) -> None:
    """Commit, stop the broker (SIGTERM, then SIGKILL), start it on the same directory and
    port: the group is still listed and described, its offsets are intact, and a new member
    of the group resumes exactly after the committed records."""
    broker = BrokerProcess(tmp_path / "data", GROUP_BROKER).start()
    cleanup.append(broker.kill)
    topic, group = unique("restart"), unique("g-restart")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    [future] = admin.create_topics([NewTopic(topic, 2, 1)], request_timeout=10).values()
    future.result(TIMEOUT)
    produce_to(broker.bootstrap, topic, {0: range(6), 1: range(4)})
    first = consume_with_new_member(members, broker.bootstrap, group, topic, 10)
    # each read once, then the fences at 6 and 4
    assert first == [(0, o) for o in range(6 + 1)] + [(1, o) for o in range(4 + 1)]

    assert broker.terminate() == 0
    broker = restarted(broker, cleanup)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    listing = listed(admin)[group]
    assert (listing.state, listing.is_simple_consumer_group) == (ConsumerGroupState.EMPTY, False)
    description = describe(admin, group)
    assert (description.state, description.members) == (ConsumerGroupState.EMPTY, [])
    assert offsets_of(broker, group) == {(topic, 0): (7, TAG), (topic, 1): (5, TAG)}
    produce_to(broker.bootstrap, topic, {0: range(7, 9), 1: range(5, 8)})
    second = consume_with_new_member(members, broker.bootstrap, group, topic, 5)
    assert second == [(0, 7), (0, 8), (0, 9), (1, 5), (1, 6), (1, 7), (1, 8)]  # fences 9 and 8

    broker.kill()  # SIGKILL: the commits above were acknowledged, so they must survive
    broker = restarted(broker, cleanup)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    assert group in listed(admin)
    assert offsets_of(broker, group) == {(topic, 0): (10, TAG), (topic, 1): (9, TAG)}
    produce_to(broker.bootstrap, topic, {0: range(10, 11), 1: range(9, 10)})
    third = consume_with_new_member(members, broker.bootstrap, group, topic, 2)
    assert third == [(0, 10), (0, 11), (1, 9), (1, 10)]  # fences 11 and 10


def test_live_member_rides_through_a_broker_restart(
    tmp_path: Path, cleanup: list[Callable[[], None]], members: Callable[..., Member]
) -> None:
    """The group's membership is persisted too: a consumer that stays up while the broker
    restarts (SIGTERM) reconnects into the same group as the same member, without a
    rebalance, and goes on with the records produced after the restart and nothing else."""
    broker = BrokerProcess(tmp_path / "data", GROUP_BROKER).start()
    cleanup.append(broker.kill)
    topic, group = unique("ride"), unique("g-ride")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    [future] = admin.create_topics([NewTopic(topic, 2, 1)], request_timeout=10).values()
    future.result(TIMEOUT)
    config = {"session.timeout.ms": 10_000, "reconnect.backoff.max.ms": 500}
    member = members("confluent", "rider", broker.bootstrap, group, [topic], **config)
    wait_until(lambda: member.assignment == frozenset({0, 1}), "the member assigned")
    produce_to(broker.bootstrap, topic, {0: range(3), 1: range(3)})
    wait_until(lambda: len(member.records) == 6, "6 records")
    commit(member, topic, {0: 3, 1: 3})
    member_id, history = member.member_id, len(member.ownership.history)

    assert broker.terminate() == 0
    broker = restarted(broker, cleanup)
    produce_to(broker.bootstrap, topic, {0: range(3, 5), 1: range(3, 4)})
    wait_until(lambda: len(member.records) >= 9, "3 records produced after the restart")
    fence(broker.bootstrap, topic, {0: 5, 1: 4}, [member])
    assert pairs(member.records[6:]) == [(0, 3), (0, 4), (0, 5), (1, 3), (1, 4)]  # fences 5, 4
    description = describe(AdminClient({"bootstrap.servers": broker.bootstrap}), group)
    assert description.state == ConsumerGroupState.STABLE
    assert [m.member_id for m in description.members] == [member_id]
    assert member.member_id == member_id
    assert member.ownership.history[history:] == []  # never revoked: no rebalance


# -- 8. error codes the clients hide -----------------------------------------------------------


def test_membership_error_codes(group_broker: EmbeddedBroker) -> None:
    """KIP-394 MEMBER_ID_REQUIRED, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
    REBALANCE_IN_PROGRESS (Heartbeat while preparing, OffsetCommit while completing) and a
    stale generation's OffsetCommit, over raw JoinGroup/SyncGroup/Heartbeat/OffsetCommit."""
    broker, topic, group = group_broker, unique("errors"), unique("g-errors")
    create_topic(broker, topic, 1)
    with RawClient(broker.bootstrap, "raw-a") as a, RawClient(broker.bootstrap, "raw-b") as b:
        first = a.call(JOIN_GROUP, 5, join_request(group, topics=[topic]))
        assert first.error_code == ErrorCode.member_id_required
        assert first.member_id.startswith("raw-a-") and first.generation_id == -1
        a_id = first.member_id
        joined = a.call(JOIN_GROUP, 5, join_request(group, a_id, topics=[topic]))
        assert (joined.error_code, joined.generation_id, joined.leader) == (ErrorCode.none, 1, a_id)
        assert [m.member_id for m in joined.members] == [a_id]
        mine = assignment_bytes({topic: [0]})
        synced = a.call(
            SYNC_GROUP,
            3,
            member_request(group, 1, a_id, assignments=[{"member_id": a_id, "assignment": mine}]),
        )
        assert (synced.error_code, synced.assignment) == (ErrorCode.none, mine)

        def heartbeat(generation: int, member: str, group_id: str = group) -> ErrorCode:
            return a.call(HEARTBEAT, 3, member_request(group_id, generation, member)).error_code

        def sync(generation: int, member: str, group_id: str = group) -> ErrorCode:
            request = member_request(group_id, generation, member, assignments=[])
            return a.call(SYNC_GROUP, 3, request).error_code

        assert heartbeat(1, a_id) == ErrorCode.none
        assert heartbeat(1, a_id, "no-such-group") == ErrorCode.unknown_member_id
        assert sync(1, a_id, "no-such-group") == ErrorCode.unknown_member_id
        assert heartbeat(1, "raw-a-stranger") == ErrorCode.unknown_member_id
        assert sync(1, "raw-a-stranger") == ErrorCode.unknown_member_id
        assert heartbeat(2, a_id) == ErrorCode.illegal_generation
        assert sync(7, a_id) == ErrorCode.illegal_generation
        assert commit_error(a, group, 1, a_id, topic) == ErrorCode.none

        # b joins: the group prepares a rebalance and b's JoinGroup waits for a to rejoin.
        b_first = b.call(JOIN_GROUP, 5, join_request(group, topics=[topic]))
        assert b_first.error_code == ErrorCode.member_id_required
        b_id = b_first.member_id
        parked = b.send(request_body(JOIN_GROUP, 5, join_request(group, b_id, topics=[topic])))
        wait_until(
            lambda: (v := group_view(broker, group)) and v.state == "PreparingRebalance",
            "a rebalance in preparation",
        )
        assert heartbeat(1, a_id) == ErrorCode.rebalance_in_progress
        assert commit_error(a, group, 1, a_id, topic) == ErrorCode.none  # still generation 1
        rejoined = a.call(JOIN_GROUP, 5, join_request(group, a_id, topics=[topic]))
        b_joined = b.recv(JOIN_GROUP, 5, parked)
        assert (rejoined.error_code, rejoined.generation_id, rejoined.leader) == (
            ErrorCode.none,
            2,
            a_id,
        )
        assert sorted(m.member_id for m in rejoined.members) == sorted([a_id, b_id])
        assert (b_joined.error_code, b_joined.generation_id, b_joined.members) == (
            ErrorCode.none,
            2,
            (),
        )
        # CompletingRebalance: commits wait for the assignment, heartbeats are fine (Kafka 4.0).
        assert commit_error(a, group, 2, a_id, topic) == ErrorCode.rebalance_in_progress
        assert heartbeat(2, a_id) == ErrorCode.none
        assert heartbeat(1, a_id) == ErrorCode.illegal_generation
        parked = b.send(request_body(SYNC_GROUP, 3, member_request(group, 2, b_id, assignments=[])))
        everyone = [
            {"member_id": a_id, "assignment": mine},
            {"member_id": b_id, "assignment": assignment_bytes({topic: []})},
        ]
        synced = a.call(SYNC_GROUP, 3, member_request(group, 2, a_id, assignments=everyone))
        assert (synced.error_code, synced.assignment) == (ErrorCode.none, mine)
        b_synced = b.recv(SYNC_GROUP, 3, parked)
        assert (b_synced.error_code, b_synced.assignment) == (
            ErrorCode.none,
            assignment_bytes({topic: []}),
        )
        assert commit_error(a, group, 1, a_id, topic) == ErrorCode.illegal_generation
        assert commit_error(a, group, 2, a_id, topic) == ErrorCode.none
        assert commit_error(a, group, 2, "raw-a-stranger", topic) == ErrorCode.unknown_member_id
        left = a.call(
            LEAVE_GROUP,
            3,
            {
                "group_id": group,
                "members": [
                    {"member_id": a_id, "group_instance_id": None},
                    {"member_id": b_id, "group_instance_id": None},
                ],
            },
        )
        assert [m.error_code for m in left.members] == [ErrorCode.none, ErrorCode.none]
    view = group_view(broker, group)
    assert view is not None and (view.state, view.generation, view.members) == ("Empty", 3, {})


def test_join_group_request_validation(group_broker: EmbeddedBroker) -> None:
    """JoinGroup refusals: INVALID_SESSION_TIMEOUT outside [group.min.session.timeout.ms,
    group.max.session.timeout.ms], INVALID_GROUP_ID for "", UNKNOWN_MEMBER_ID for a member id
    the group never gave out; before v4 a new member joins without MEMBER_ID_REQUIRED."""
    broker, group = group_broker, unique("g-validate")
    with RawClient(broker.bootstrap, "raw-v") as client:
        for session_ms in (999, 1_800_001):
            response = client.call(JOIN_GROUP, 5, join_request(group, session_ms=session_ms))
            assert (response.error_code, response.member_id) == (
                ErrorCode.invalid_session_timeout,
                "",
            )
        response = client.call(JOIN_GROUP, 5, join_request(""))
        assert response.error_code == ErrorCode.invalid_group_id
        response = client.call(JOIN_GROUP, 5, join_request(group, "raw-v-made-up"))
        assert (response.error_code, response.member_id) == (
            ErrorCode.unknown_member_id,
            "raw-v-made-up",
        )
        assert group_view(broker, group) is None  # nothing above created the group
        for session_ms in (1000, 1_800_000):  # the bounds themselves are accepted
            edge = unique("g-edge")
            response = client.call(JOIN_GROUP, 5, join_request(edge, session_ms=session_ms))
            assert response.error_code == ErrorCode.member_id_required
        old = client.call(JOIN_GROUP, 3, join_request(group))
        assert (old.error_code, old.generation_id, old.leader) == (
            ErrorCode.none,
            1,
            old.member_id,
        )
        assert old.member_id.startswith("raw-v-")


# -- 9. the in-process event stream ------------------------------------------------------------


def test_group_events_tell_join_leave_commit_and_expiry(
    group_broker: EmbeddedBroker, members: Callable[..., Member]
) -> None:
    """broker.state.subscribe_groups() sees a group's life in order: joins, rebalances with
    their generations and assignments, a clean leave ("left"), a commit, a member that stops
    heartbeating ("expired") and the last member leaving (Empty)."""
    broker, topic, group = group_broker, unique("events"), unique("g-events")
    create_topic(broker, topic, 2)
    with event_log(broker, group) as log:
        a = members("confluent", "ev-a", broker.bootstrap, group, [topic])
        wait_until(lambda: a.assignment == frozenset({0, 1}), "a owning both partitions")
        b = members("kafka-python", "ev-b", broker.bootstrap, group, [topic])
        wait_until(lambda: len(a.assignment) == len(b.assignment) == 1, "one partition each")
        b_id = b.member_id
        b.stop()
        wait_until(lambda: a.assignment == frozenset({0, 1}), "a owning both again")
        commit(a, topic, {1: 5})
        # A raw member joins as a follower, then stops heartbeating: its session expires.
        with RawClient(broker.bootstrap, "ev-raw") as raw:
            first = raw.call(JOIN_GROUP, 5, join_request(group, topics=[topic], session_ms=1500))
            raw_id = first.member_id
            joined = raw.call(
                JOIN_GROUP, 5, join_request(group, raw_id, topics=[topic], session_ms=1500)
            )
            assert joined.error_code == ErrorCode.none
            synced = raw.call(
                SYNC_GROUP, 3, member_request(group, joined.generation_id, raw_id, assignments=[])
            )
            assert synced.error_code == ErrorCode.none
            raw_partitions = decode_assignment(synced.assignment)[topic]
            assert len(raw_partitions) == 1
            wait_until(
                lambda: [e for e in log.of(events.MemberLeft) if e.member_id == raw_id],
                "the raw member's session to expire",
            )
        wait_until(lambda: a.assignment == frozenset({0, 1}), "a owning both once more")
        a_id = a.member_id
        a.stop()
        wait_until(lambda: log.of(events.GroupEmptied), "the group to become Empty")
        story = [
            (type(e).__name__, getattr(e, "member_id", None), getattr(e, "generation_id", None))
            for e in log.all
        ]
        assignments = [
            {m: parts[topic] if parts else [] for m, parts in e.assignments.items()}
            for e in log.completed()
        ]
        reasons = [(e.member_id, e.reason) for e in log.of(events.MemberLeft)]
        [committed] = log.of(events.OffsetCommitted)
    assert story == [
        ("MemberJoined", a_id, None),
        ("RebalanceStarted", None, 0),
        ("RebalanceCompleted", None, 1),
        ("MemberJoined", b_id, None),
        ("RebalanceStarted", None, 1),
        ("RebalanceCompleted", None, 2),
        ("MemberLeft", b_id, None),
        ("RebalanceStarted", None, 2),
        ("RebalanceCompleted", None, 3),
        ("OffsetCommitted", None, None),
        ("MemberJoined", raw_id, None),
        ("RebalanceStarted", None, 3),
        ("RebalanceCompleted", None, 4),
        ("MemberLeft", raw_id, None),
        ("RebalanceStarted", None, 4),
        ("RebalanceCompleted", None, 5),
        ("MemberLeft", a_id, None),
        ("RebalanceStarted", None, 5),
        ("GroupEmptied", None, 6),
    ]
    assert reasons == [(b_id, "left"), (raw_id, "expired"), (a_id, "left")]
    b_partitions = [p for p in (0, 1) if assignments[1][a_id] != [p]]
    assert assignments == [
        {a_id: [0, 1]},
        {a_id: [p for p in (0, 1) if p not in b_partitions], b_id: b_partitions},
        {a_id: [0, 1]},
        {a_id: [p for p in (0, 1) if p not in raw_partitions], raw_id: raw_partitions},
        {a_id: [0, 1]},
    ]
    assert (committed.topic, committed.partition, committed.offset, committed.metadata) == (
        topic,
        1,
        5,
        "",
    )
    [completed] = [e for e in log.completed() if e.generation_id == 1]
    assert (completed.protocol_name, completed.leader_id) == ("range", a_id)
