"""The classic group coordinator as a state machine, held to Kafka 4.0's rules.

/work/research/classic_groups_spec.md (read from Kafka 4.0's GroupMetadataManager) is the
reference; each test names the clause it checks. The coordinator is driven the way the
handlers and the broker's timer task drive it: method calls with an explicit `now_ms`,
callbacks for parked JoinGroup/SyncGroup requests and `poll(now_ms)` for timers, on a fake
clock. Storage is in memory and keeps every record, so the records can be decoded and
replayed into a fresh coordinator with `load`.
"""

from __future__ import annotations

import dataclasses
import io
import re
import struct
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import pytest
from kio.index import load_entity_schema
from kio.schema.consumer_protocol_assignment.v1.data import (
    ConsumerProtocolAssignment,
    TopicPartition,
)
from kio.schema.errors import ErrorCode
from kio.serial import entity_writer
from kio.static.constants import EntityType

from localbroker.groups.coordinator import GroupConfig, GroupCoordinator, JoinRequest
from localbroker.groups.events import (
    GroupDeleted,
    GroupEmptied,
    GroupEvent,
    MemberJoined,
    MemberLeft,
    OffsetCommitted,
    RebalanceCompleted,
    RebalanceStarted,
)
from localbroker.groups.group import ClassicGroup, JoinResult, Member, SyncResult
from localbroker.groups.offsets import CommitEntry
from localbroker.groups.records import (
    GroupKey,
    GroupValue,
    MemberValue,
    OffsetKey,
    OffsetValue,
    decode_group,
    decode_key,
    decode_offset,
    encode_key,
    encode_offset,
)
from localbroker.protocol.names import GroupState

T0 = 1_700_000_000_000  # the fake clock starts here
SESSION = 10_000
REBALANCE = 30_000
HOST = "/127.0.0.1"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
EMPTY = GroupState.EMPTY
PREPARING = GroupState.PREPARING_REBALANCE
COMPLETING = GroupState.COMPLETING_REBALANCE
STABLE = GroupState.STABLE
# offsets.retention.minutes shrunk to 100 s and checked on every poll
RETENTION = {"offsets_retention_ms": 100_000, "offsets_retention_check_interval_ms": 1}

R = TypeVar("R")
Records = list[tuple[bytes, bytes | None]]


# -- the "consumer" embedded protocol, as real clients encode it -------------------------


def subscription(*topics: str) -> bytes:
    """ConsumerProtocolSubscription v1 (int16 version prefix), as the Java consumer sends."""
    schema = load_entity_schema("consumer_protocol_subscription", 1, EntityType.data)
    out = io.BytesIO()
    entity_writer(schema)(out, schema(topics=topics, user_data=None, owned_partitions=()))
    return struct.pack(">h", 1) + out.getvalue()


def assignment(partitions: dict[str, list[int]]) -> bytes:
    """ConsumerProtocolAssignment v1 (int16 version prefix)."""
    value = ConsumerProtocolAssignment(
        assigned_partitions=tuple(
            TopicPartition(topic=topic, partitions=tuple(parts))
            for topic, parts in partitions.items()
        ),
        user_data=None,
    )
    out = io.BytesIO()
    entity_writer(ConsumerProtocolAssignment)(out, value)
    return struct.pack(">h", 1) + out.getvalue()


PROTOCOLS = [("range", subscription("t1"))]
CHANGED = [("range", subscription("t1", "t2"))]  # same protocol name, new metadata


# -- a coordinator on a fake clock -------------------------------------------------------


class MemoryStorage:
    """GroupStorage keeping every write in order, for decoding and replay."""

    def __init__(self, trace: list[str]) -> None:
        self.writes: list[tuple[str, Records]] = []
        self._trace = trace

    def write_group_records(self, group_id: str, records: Records) -> None:
        self.writes.append((group_id, list(records)))
        self._trace.append(f"write {group_id}")

    @property
    def records(self) -> Records:
        return [record for _, batch in self.writes for record in batch]

    def decoded(self, start: int = 0) -> list[tuple[Any, Any]]:
        """The records of writes[start:], decoded (None for a tombstone)."""
        out: list[tuple[Any, Any]] = []
        for _, batch in self.writes[start:]:
            for key_bytes, value_bytes in batch:
                key = decode_key(key_bytes)
                if value_bytes is None:
                    out.append((key, None))
                elif isinstance(key, OffsetKey):
                    out.append((key, decode_offset(value_bytes)))
                else:
                    out.append((key, decode_group(value_bytes)))
        return out


class Answer(Generic[R]):
    """The callback of one parked request: what the coordinator answered so far."""

    def __init__(
        self, trace: list[str], label: str, then: Callable[[R], None] | None = None
    ) -> None:
        self.results: list[R] = []
        self._trace = trace
        self._label = label
        self._then = then

    def __call__(self, result: R) -> None:
        self.results.append(result)
        self._trace.append(self._label)
        if self._then is not None:
            self._then(result)

    @property
    def done(self) -> bool:
        return bool(self.results)

    @property
    def value(self) -> R:
        assert len(self.results) == 1, f"{self._label} answered {self.results}"
        return self.results[0]


class Coord:
    """A GroupCoordinator on a fake clock; members are named by their client id and their
    member ids remembered from JoinGroup answers."""

    def __init__(self, **config: int) -> None:
        self.trace: list[str] = []
        self.storage = MemoryStorage(self.trace)
        # group.initial.rebalance.delay.ms=0 as in Kafka's shipped server.properties
        self.config = GroupConfig(**{"initial_rebalance_delay_ms": 0, **config})
        self.coordinator = GroupCoordinator(self.config, self.storage)
        self.offsets = self.coordinator.offsets
        self.events: list[GroupEvent] = []
        self.coordinator.subscribe(self.events.append)
        self.now = T0
        self.coordinator.poll(T0)  # the broker's timer task polls once as it starts
        self.ids: dict[str, str] = {}

    def at(self, ms: int) -> None:
        """Move the clock to T0 + ms and run the timers, as the broker's poll does."""
        assert T0 + ms >= self.now
        self.now = T0 + ms
        self.coordinator.poll(self.now)

    def group(self, group_id: str = "g") -> ClassicGroup:
        return self.coordinator.groups[group_id]

    def member(self, name: str, group_id: str = "g") -> Member:
        return self.group(group_id).members[self.ids[name]]

    def names(self, group_id: str = "g") -> set[str]:
        by_id = {member_id: name for name, member_id in self.ids.items()}
        return {by_id.get(m, m) for m in self.group(group_id).members}

    def id(self, name: str) -> str:
        return self.ids.get(name, name)

    def join(
        self,
        name: str,
        *,
        member_id: str | None = None,
        group_id: str = "g",
        instance: str | None = None,
        protocols: list[tuple[str, bytes]] | None = None,
        protocol_type: str = "consumer",
        version: int = 5,
        session: int = SESSION,
        rebalance: int = REBALANCE,
        client_id: str | None = None,
    ) -> Answer[JoinResult]:
        def remember(result: JoinResult) -> None:
            if result.error in (ErrorCode.none, ErrorCode.member_id_required):
                self.ids[name] = result.member_id

        request = JoinRequest(
            group_id=group_id,
            member_id=self.ids.get(name, "") if member_id is None else member_id,
            group_instance_id=instance,
            client_id=name if client_id is None else client_id,
            client_host=HOST,
            session_timeout_ms=session,
            rebalance_timeout_ms=rebalance,
            protocol_type=protocol_type,
            protocols=list(PROTOCOLS if protocols is None else protocols),
            api_version=version,
        )
        answer: Answer[JoinResult] = Answer(self.trace, f"join {name}", remember)
        self.coordinator.join(request, self.now, answer)
        return answer

    def add(self, name: str, **kwargs: Any) -> Answer[JoinResult]:
        """A new member; a dynamic v4+ member joins twice (KIP-394 MEMBER_ID_REQUIRED)."""
        self.ids.pop(name, None)
        first = self.join(name, **kwargs)
        if first.done and first.value.error == ErrorCode.member_id_required:
            return self.join(name, **kwargs)
        return first

    def stable(
        self,
        *names: str,
        group_id: str = "g",
        instances: dict[str, str] | None = None,
        sync: bool = True,
        **join_kwargs: Any,
    ) -> None:
        """Form a group of `names` (the first leads). One member: generation 1, more:
        generation 2 (they join while the leader's first generation completes). With `sync`
        the i-th member is assigned t1-i and the group is Stable, else CompletingRebalance."""
        instances = instances or {}
        first, *rest = names
        answers = {
            first: self.add(first, group_id=group_id, instance=instances.get(first), **join_kwargs)
        }
        if rest:
            for name in rest:
                answers[name] = self.add(
                    name, group_id=group_id, instance=instances.get(name), **join_kwargs
                )
            answers[first] = self.join(
                first, group_id=group_id, instance=instances.get(first), **join_kwargs
            )
        for name, answer in answers.items():
            assert answer.value.error == ErrorCode.none, (name, answer.results)
        assert self.group(group_id).state == COMPLETING
        if sync:
            for name in rest:
                self.sync(name, group_id=group_id, instance=instances.get(name))
            assigned = {name: assignment({"t1": [i]}) for i, name in enumerate(names)}
            self.sync(first, assigned, group_id=group_id, instance=instances.get(first))
            assert self.group(group_id).state == STABLE

    def sync(
        self,
        name: str,
        assignments: dict[str, bytes] | None = None,
        *,
        group_id: str = "g",
        generation: int | None = None,
        member_id: str | None = None,
        instance: str | None = None,
        protocol_type: str | None = None,
        protocol_name: str | None = None,
    ) -> Answer[SyncResult]:
        group = self.coordinator.groups.get(group_id)
        if generation is None:
            generation = group.generation_id if group is not None else 0
        answer: Answer[SyncResult] = Answer(self.trace, f"sync {name}")
        self.coordinator.sync(
            group_id,
            generation,
            self.id(name) if member_id is None else member_id,
            instance,
            protocol_type,
            protocol_name,
            {self.id(n): data for n, data in (assignments or {}).items()},
            self.now,
            answer,
        )
        return answer

    def heartbeat(
        self,
        name: str,
        *,
        group_id: str = "g",
        generation: int | None = None,
        member_id: str | None = None,
        instance: str | None = None,
    ) -> str:
        group = self.coordinator.groups.get(group_id)
        if generation is None:
            generation = group.generation_id if group is not None else 0
        member = self.id(name) if member_id is None else member_id
        return self.coordinator.heartbeat(group_id, generation, member, instance, self.now)

    def leave(self, *members: tuple[str, str | None], group_id: str = "g") -> tuple[str, list[str]]:
        """LeaveGroup of (member name or id, group instance id) identities."""
        identities = [(self.id(name), instance) for name, instance in members]
        return self.coordinator.leave(group_id, identities, self.now)

    def commit(
        self,
        generation: int,
        member: str = "",
        instance: str | None = None,
        *,
        entries: Iterable[CommitEntry] | None = None,
        group_id: str = "g",
        version: int = 9,
        expire: int = -1,
    ) -> list[str]:
        return self.offsets.commit(
            group_id,
            generation,
            self.id(member),
            instance,
            list([entry(0)] if entries is None else entries),
            self.now,
            version,
            expire,
        )

    def committed(self, group_id: str = "g") -> dict[tuple[str, int], OffsetValue | None]:
        return self.offsets.fetch(group_id, None)


def entry(partition: int, topic: str = "t1", offset: int = 42) -> CommitEntry:
    return CommitEntry(topic, partition, offset, -1, None)


def members_of(result: JoinResult) -> set[tuple[str, str | None, bytes]]:
    return set(result.members)


# -- JoinGroup: validation --------------------------------------------------------------


def test_join_checks_group_id_before_session_timeout() -> None:
    """§1.1 steps 2-3: "" is INVALID_GROUP_ID even with a bad session timeout too; the member
    id is echoed and no group is created."""
    c = Coord()
    answer = c.join("a", group_id="", member_id="m-1", session=1)
    assert answer.value == JoinResult(error=ErrorCode.invalid_group_id, member_id="m-1")
    answer = c.join("a", member_id="m-1", session=1)
    assert answer.value == JoinResult(error=ErrorCode.invalid_session_timeout, member_id="m-1")
    assert c.coordinator.groups == {}
    assert c.storage.writes == []


@pytest.mark.parametrize(
    ("session", "error"),
    [
        (5_999, ErrorCode.invalid_session_timeout),
        (6_000, ErrorCode.member_id_required),
        (1_800_000, ErrorCode.member_id_required),
        (1_800_001, ErrorCode.invalid_session_timeout),
    ],
)
def test_join_session_timeout_bounds(session: int, error: ErrorCode) -> None:
    """§1.1 step 3: group.min/max.session.timeout.ms (6000/1800000) are inclusive bounds; the
    rebalance timeout is not validated at all (0 passes)."""
    c = Coord()
    assert c.join("a", session=session, rebalance=0).value.error == error


@pytest.mark.parametrize(
    ("protocol_type", "protocols"),
    [("", [("range", b"")]), ("consumer", [])],
    ids=["empty-protocol-type", "no-protocols"],
)
def test_join_new_group_needs_a_protocol_type_and_protocols(
    protocol_type: str, protocols: list[tuple[str, bytes]]
) -> None:
    """§1.2 step 2: an Empty group supports a join only with a protocol type and at least one
    protocol; otherwise INCONSISTENT_GROUP_PROTOCOL with member_id "". (quirk §1.1 rule 8:
    the group created for the request stays behind, Empty.)"""
    c = Coord()
    answer = c.join("a", protocol_type=protocol_type, protocols=protocols)
    assert answer.value == JoinResult(error=ErrorCode.inconsistent_group_protocol, member_id="")
    group = c.group()
    assert (group.state, group.members, group.pending_members) == (EMPTY, {}, {})


def test_join_with_a_member_id_on_an_unknown_group() -> None:
    """§1.1 step 5: a known-looking member id for a group that does not exist is
    UNKNOWN_MEMBER_ID with the id echoed, and no group is created."""
    c = Coord()
    answer = c.join("a", member_id="a-1234")
    assert answer.value == JoinResult(error=ErrorCode.unknown_member_id, member_id="a-1234")
    assert c.coordinator.groups == {}
    assert c.storage.writes == []


def test_join_that_creates_a_group_writes_an_empty_group_record() -> None:
    """§1.1 rule 8 and §11 "When written" (a): a group created by a JoinGroup that produced
    no record itself (MEMBER_ID_REQUIRED, or an error such as INCONSISTENT_GROUP_PROTOCOL)
    gets one GroupMetadata record: protocolType "", generation 0, null protocol and leader,
    the creation time, no members."""
    c = Coord()
    assert c.join("a").value.error == ErrorCode.member_id_required
    assert (
        c.join("b", group_id="h", protocols=[]).value.error == ErrorCode.inconsistent_group_protocol
    )
    assert c.storage.decoded() == [
        (GroupKey("g"), GroupValue("", 0, None, None, T0, ())),
        (GroupKey("h"), GroupValue("", 0, None, None, T0, ())),
    ]


def test_join_protocols_must_match_the_group() -> None:
    """§1.2 step 2 and §1.4 step 2: the protocol type must be the group's and at least one
    protocol must be supported by every member; a new member gets member_id "", a known
    one its id echoed. The group does not move."""
    c = Coord()
    c.stable("a", "b")
    other = [("roundrobin", subscription("t1"))]
    assert c.join("n", protocol_type="connect").value == JoinResult(
        error=ErrorCode.inconsistent_group_protocol
    )
    assert c.join("n", protocols=other).value == JoinResult(
        error=ErrorCode.inconsistent_group_protocol
    )
    assert c.join("b", protocols=other).value == JoinResult(
        error=ErrorCode.inconsistent_group_protocol, member_id=c.ids["b"]
    )
    assert (c.group().state, c.group().generation_id, c.names()) == (STABLE, 2, {"a", "b"})


def test_sole_member_cannot_switch_to_an_unrelated_protocol() -> None:
    """§1.4 step 2 (quirk): the member's own current protocols count, so the only member of
    a group rejoining with a completely new protocol name is refused."""
    c = Coord()
    c.stable("a")
    answer = c.join("a", protocols=[("roundrobin", subscription("t1"))])
    assert answer.value == JoinResult(
        error=ErrorCode.inconsistent_group_protocol, member_id=c.ids["a"]
    )


def test_full_group_refuses_a_new_member_before_member_id_required() -> None:
    """§1.1 step 6 (acceptJoiningMember) comes before step 7: with group.max.size reached a
    Stable group answers a new v4+ member GROUP_MAX_SIZE_REACHED (member_id "") instead of
    handing it a member id."""
    c = Coord(max_size=1)
    c.stable("a")
    assert c.join("b").value == JoinResult(error=ErrorCode.group_max_size_reached, member_id="")
    assert (c.group().state, c.names(), c.group().pending_members) == (STABLE, {"a"}, {})


# -- JoinGroup: member ids and pending members (KIP-394) ---------------------------------


def test_dynamic_v4_member_first_gets_member_id_required() -> None:
    """§1.2 step 5: a v4+ dynamic member is given "<client id>-<uuid>" with
    MEMBER_ID_REQUIRED and becomes pending, not a member; joining with that id adds it."""
    c = Coord()
    first = c.join("app", version=4).value
    assert re.fullmatch(f"app-{UUID}", first.member_id)
    assert first == JoinResult(error=ErrorCode.member_id_required, member_id=first.member_id)
    group = c.group()
    assert (group.state, group.members, set(group.pending_members)) == (
        EMPTY,
        {},
        {first.member_id},
    )
    second = c.join("app", version=4).value
    assert (second.error, second.member_id) == (ErrorCode.none, first.member_id)
    assert (set(group.members), group.pending_members) == ({first.member_id}, {})


@pytest.mark.parametrize(
    ("version", "instance", "client_id", "pattern"),
    [
        (3, None, "app", f"app-{UUID}"),  # before KIP-394: added straight away
        (3, None, "", f"-{UUID}"),  # an empty client id still gets the dash
        (5, "inst-1", "app", f"inst-1-{UUID}"),  # static: never MEMBER_ID_REQUIRED
        (9, "inst-1", "app", f"inst-1-{UUID}"),
    ],
)
def test_member_ids_of_members_added_at_once(
    version: int, instance: str | None, client_id: str, pattern: str
) -> None:
    """§1.2 steps 3-5: dynamic ids are "<client id>-<uuid>", static ids
    "<group instance id>-<uuid>"; v2-3 and static members join in one round trip."""
    c = Coord()
    answer = c.join("m", version=version, instance=instance, client_id=client_id).value
    assert answer.error == ErrorCode.none
    assert re.fullmatch(pattern, answer.member_id)
    assert answer.leader_id == answer.member_id and answer.generation_id == 1


def test_pending_member_blocks_join_completion_until_it_joins() -> None:
    """§1.2 step 5 / §1.6: hasAllMembersJoined requires the pending set to be empty, so a
    rebalance waits for a member that was told MEMBER_ID_REQUIRED."""
    c = Coord()
    c.stable("a", "b")
    assert c.join("c").value.error == ErrorCode.member_id_required
    a, b = c.join("a"), c.join("b")  # the leader's rejoin starts the rebalance
    assert c.group().state == PREPARING
    assert not a.done and not b.done
    joined = c.join("c")
    assert [x.value.generation_id for x in (a, b, joined)] == [3, 3, 3]
    assert {m for m, _, _ in a.value.members} == {c.ids["a"], c.ids["b"], c.ids["c"]}


def test_pending_member_blocks_join_completion_until_its_session_timeout() -> None:
    """§1.2 step 5 / §5: a pending member that never comes back is dropped after the session
    timeout of its JoinGroup, and the rebalance then completes without it."""
    c = Coord()
    c.stable("a", "b")
    c.at(1_000)
    assert c.join("c", session=7_000).value.error == ErrorCode.member_id_required
    a, _ = c.join("a"), c.join("b")
    c.at(7_999)
    assert not a.done and set(c.group().pending_members) == {c.ids["c"]}
    c.at(8_000)
    assert (a.value.error, a.value.generation_id) == (ErrorCode.none, 3)
    assert {m for m, _, _ in a.value.members} == {c.ids["a"], c.ids["b"]}
    assert (c.group().state, c.group().pending_members) == (COMPLETING, {})


# -- JoinGroup: the initial rebalance delay ----------------------------------------------


def test_initial_rebalance_waits_for_the_delay() -> None:
    """§1.6 step 3: the first rebalance of an Empty group never completes early, even with
    every member joined; it completes when group.initial.rebalance.delay.ms has passed."""
    c = Coord(initial_rebalance_delay_ms=3_000)
    a = c.add("a", rebalance=10_000)
    assert not a.done and c.group().state == PREPARING
    c.at(2_999)
    assert not a.done
    c.at(3_000)
    assert (a.value.error, a.value.generation_id) == (ErrorCode.none, 1)


def test_initial_rebalance_delay_is_extended_in_steps_of_the_delay() -> None:
    """§1.6 "Initial delay extension": the join timer fires after the delay and, when a new
    member was added meanwhile, re-arms itself for min(delay, remaining). With delay 3000 and
    rebalance timeout 10000, a member joining at 1000 moves completion from 3000 to 6000."""
    c = Coord(initial_rebalance_delay_ms=3_000)
    a = c.add("a", rebalance=10_000)
    c.at(1_000)
    b = c.add("b", rebalance=10_000)
    c.at(3_000)
    assert not a.done
    c.at(5_999)
    assert not a.done, "the initial rebalance completed before its re-armed timer (6000)"
    c.at(6_000)
    assert [x.value.generation_id for x in (a, b)] == [1, 1]


def test_initial_rebalance_delay_is_capped_by_the_rebalance_timeout() -> None:
    """§1.6: however many members keep joining, the initial rebalance completes at the
    latest rebalance_timeout_ms after it started (3000, 6000, 9000, then 10000)."""
    c = Coord(initial_rebalance_delay_ms=3_000)
    a = c.add("a", rebalance=10_000)
    for i, at in enumerate([2_000, 4_000, 6_000, 8_000, 9_500]):
        c.at(at)
        c.add(f"m{i}", rebalance=10_000)
    c.at(9_999)
    assert not a.done
    c.at(10_000)
    assert (a.value.error, len(a.value.members)) == (ErrorCode.none, 6)


# -- JoinGroup: protocol, leader, rejoins -------------------------------------------------


def test_protocol_is_chosen_by_member_votes() -> None:
    """§1.7 selectProtocol: candidates are the protocols every member supports; each member
    votes for its first candidate; the most votes win."""
    c = Coord()
    sub = subscription("t1")
    a_protocols = [("range", sub), ("roundrobin", sub), ("sticky", sub)]
    c.add("a", protocols=a_protocols)
    b = c.add("b", protocols=[("roundrobin", sub), ("range", sub)])
    d = c.add("d", protocols=[("cooperative", sub), ("roundrobin", sub), ("range", sub)])
    a = c.join("a", protocols=a_protocols)
    for answer in (a, b, d):
        assert (answer.value.protocol_type, answer.value.protocol_name) == (
            "consumer",
            "roundrobin",
        )


def test_leader_gets_every_member_and_followers_none() -> None:
    """§1.7 step 6: the leader's JoinGroup answer lists every member with its group instance
    id and its metadata for the chosen protocol; followers get an empty list."""
    c = Coord()
    ta, tb = [("range", subscription("ta"))], [("range", subscription("tb"))]
    c.add("a", protocols=ta)
    b = c.add("b", instance="i-b", protocols=tb)
    a = c.join("a", protocols=ta)
    common = {"generation_id": 2, "protocol_type": "consumer", "protocol_name": "range"}
    assert dataclasses.replace(a.value, members=[]) == JoinResult(
        **common, leader_id=c.ids["a"], member_id=c.ids["a"]
    )
    assert members_of(a.value) == {
        (c.ids["a"], None, subscription("ta")),
        (c.ids["b"], "i-b", subscription("tb")),
    }
    assert b.value == JoinResult(**common, leader_id=c.ids["a"], member_id=c.ids["b"])


def test_rejoin_with_same_protocols_during_completing_rebalance_is_answered_at_once() -> None:
    """§1.4 step 5 CompletingRebalance, same protocols: immediate answer with the current
    generation (members only for the leader); nothing changes."""
    c = Coord()
    c.stable("a", "b", sync=False)
    follower = c.join("b").value
    assert follower == JoinResult(
        generation_id=2,
        protocol_type="consumer",
        protocol_name="range",
        leader_id=c.ids["a"],
        member_id=c.ids["b"],
    )
    assert len(c.join("a").value.members) == 2
    assert (c.group().state, c.group().generation_id) == (COMPLETING, 2)


def test_changed_protocols_during_completing_rebalance_restart_the_rebalance() -> None:
    """§1.4 step 5 CompletingRebalance, changed protocols / §1.6 step 1: the member is parked,
    every assignment is cleared and parked SyncGroups get REBALANCE_IN_PROGRESS."""
    c = Coord()
    c.stable("a", "b")
    c.join("b", protocols=CHANGED)
    c.join("a")  # generation 3 completes; the generation 2 assignments are still stored
    assert c.member("a").assignment == assignment({"t1": [0]})
    parked = c.sync("b")
    assert not parked.done
    leader = c.join("a", protocols=CHANGED)
    assert parked.value == SyncResult(error=ErrorCode.rebalance_in_progress)
    assert not leader.done and c.group().state == PREPARING
    assert [m.assignment for m in c.group().members.values()] == [b"", b""]


def test_stable_follower_rejoining_with_same_protocols_gets_the_current_generation() -> None:
    """§1.4 step 5 Stable: a follower with identical protocols is answered at once (members
    []) and the group stays Stable with its assignments."""
    c = Coord()
    c.stable("a", "b")
    assert c.join("b").value == JoinResult(
        generation_id=2,
        protocol_type="consumer",
        protocol_name="range",
        leader_id=c.ids["a"],
        member_id=c.ids["b"],
    )
    assert c.group().state == STABLE
    assert c.sync("b").value.assignment == assignment({"t1": [1]})


@pytest.mark.parametrize(
    ("who", "protocols"), [("a", PROTOCOLS), ("b", CHANGED)], ids=["leader", "changed"]
)
def test_leader_rejoin_or_changed_protocols_start_a_rebalance(
    who: str, protocols: list[tuple[str, bytes]]
) -> None:
    """§1.4 step 5 Stable: the leader rejoining (even unchanged) and a follower with changed
    protocols both start a rebalance; it completes when the other member rejoins."""
    c = Coord()
    c.stable("a", "b")
    answer = c.join(who, protocols=protocols)
    assert not answer.done and c.group().state == PREPARING
    assert c.heartbeat("a") == ErrorCode.rebalance_in_progress
    other = c.join("b" if who == "a" else "a")
    assert [answer.value.generation_id, other.value.generation_id] == [3, 3]


def test_join_completion_drops_dynamic_members_that_did_not_rejoin() -> None:
    """§1.6 / §1.7 step 2: the join completes after the rebalance timeout; dynamic members
    that did not rejoin are removed, static ones stay (listed to the leader, no answer)."""
    c = Coord()
    c.stable("a", "b", "s", instances={"s": "i-s"}, rebalance=5_000)
    c.at(1_000)
    n = c.add("n", rebalance=5_000)
    a = c.join("a", rebalance=5_000)
    c.at(5_999)  # b and s neither rejoin nor expire (session 10000)
    assert not a.done
    c.at(6_000)
    assert (a.value.error, a.value.generation_id, n.value.generation_id) == (ErrorCode.none, 3, 3)
    assert c.names() == {"a", "n", "s"}
    assert {m for m, _, _ in a.value.members} == {c.ids["a"], c.ids["n"], c.ids["s"]}
    assert MemberLeft("g", c.ids["b"], None, "not rejoined", T0 + 6_000) in c.events


def test_parked_member_outlives_its_session_and_leads_when_the_leader_does_not_rejoin() -> None:
    """§5: a member parked in JoinGroup is not expired; §1.7 step 4: a leader that did not
    rejoin is replaced by a member that did."""
    c = Coord()
    c.stable("a", "b")
    b = c.join("b", protocols=CHANGED)
    for at in range(5_000, 30_000, 5_000):
        c.at(at)
        assert c.heartbeat("a") == ErrorCode.rebalance_in_progress
    c.at(29_999)
    assert not b.done and c.names() == {"a", "b"}
    c.at(30_000)
    assert (b.value.leader_id, b.value.member_id) == (c.ids["b"], c.ids["b"])
    assert b.value.members == [(c.ids["b"], None, CHANGED[0][1])]
    assert c.names() == {"b"}


# -- static membership (KIP-345) --------------------------------------------------------


def test_static_member_rejoining_with_a_new_id_keeps_its_place_without_rebalance() -> None:
    """§1.5 Stable, selected protocol unchanged: the old member is replaced by a new id that
    keeps its assignment, a GroupMetadata record is written and no rebalance starts."""
    c = Coord()
    c.stable("a", "s", instances={"s": "i-s"})
    old = c.ids["s"]
    writes = len(c.storage.writes)
    c.at(1_000)
    answer = c.join("s", member_id="", instance="i-s").value
    new = answer.member_id
    assert re.fullmatch(f"i-s-{UUID}", new) and new != old
    assert answer == JoinResult(
        generation_id=2,
        protocol_type="consumer",
        protocol_name="range",
        leader_id=c.ids["a"],
        member_id=new,
    )
    group = c.group()
    assert (group.state, group.generation_id, group.static_members) == (STABLE, 2, {"i-s": new})
    assert set(group.members) == {c.ids["a"], new}
    [(key, value)] = c.storage.decoded(writes)
    assert (key, value.generation_id, value.leader_id) == (GroupKey("g"), 2, c.ids["a"])
    assert {m.member_id: m.assignment for m in value.members} == {
        c.ids["a"]: assignment({"t1": [0]}),
        new: assignment({"t1": [1]}),
    }
    assert c.sync("s").value == SyncResult(
        protocol_type="consumer", protocol_name="range", assignment=assignment({"t1": [1]})
    )
    assert not [e for e in c.events if isinstance(e, RebalanceStarted) and e.at_ms > T0]


@pytest.mark.parametrize("version", [5, 8, 9])
def test_static_leader_rejoining_with_a_new_id(version: int) -> None:
    """§1.5 step 4 Stable: from v9 (KIP-814) the new id is named leader, gets the member list
    and skip_assignment=true; before v9 the answer names the *old* leader id and no members,
    so the restarted leader acts as a follower. Either way SyncGroup returns the carried-over
    assignment (the request's assignments are ignored in Stable)."""
    c = Coord()
    c.stable("s", "b", instances={"s": "i-s"})
    old = c.ids["s"]
    answer = c.join("s", member_id="", instance="i-s", version=version).value
    new = answer.member_id
    common = {
        "generation_id": 2,
        "protocol_type": "consumer",
        "protocol_name": "range",
        "member_id": new,
    }
    if version >= 9:
        assert dataclasses.replace(answer, members=[]) == JoinResult(
            **common, leader_id=new, skip_assignment=True
        )
        assert members_of(answer) == {
            (new, "i-s", subscription("t1")),
            (c.ids["b"], None, subscription("t1")),
        }
    else:
        assert answer == JoinResult(**common, leader_id=old)
    assert c.group().leader_id == new
    assert c.sync("s", {"s": b"ignored"}).value.assignment == assignment({"t1": [0]})
    assert c.group().state == STABLE


def test_static_replacement_fences_the_old_members_parked_sync() -> None:
    """§1.5 step 1: the replaced member's parked SyncGroup is answered FENCED_INSTANCE_ID;
    in CompletingRebalance the replacement always starts a rebalance."""
    c = Coord()
    c.stable("a", "s", instances={"s": "i-s"}, sync=False)
    parked = c.sync("s", instance="i-s")
    old = c.ids["s"]
    answer = c.join("s", member_id="", instance="i-s")
    assert parked.value == SyncResult(error=ErrorCode.fenced_instance_id)
    assert not answer.done and c.group().state == PREPARING
    c.join("a")
    assert (answer.value.generation_id, answer.value.error) == (3, ErrorCode.none)
    assert answer.value.member_id != old


def test_static_replacement_fences_the_old_members_parked_join() -> None:
    """§1.5 step 1: the replaced member's parked JoinGroup is answered FENCED_INSTANCE_ID
    with member_id = the old id, leader "", no protocol, no members."""
    c = Coord()
    c.stable("a", "s", "b", instances={"s": "i-s"})
    c.join("b", protocols=CHANGED)  # rebalance
    parked = c.join("s", instance="i-s")
    old = c.ids["s"]
    answer = c.join("s", member_id="", instance="i-s")
    assert parked.value == JoinResult(error=ErrorCode.fenced_instance_id, member_id=old)
    a = c.join("a")
    new = answer.value.member_id
    assert (answer.value.error, answer.value.generation_id) == (ErrorCode.none, 3)
    assert {m for m, _, _ in a.value.members} == {c.ids["a"], c.ids["b"], new}


def test_static_rejoin_that_changes_the_selected_protocol_rebalances() -> None:
    """§1.5 step 4 Stable: when selectProtocol() would change, the replacement rebalances."""
    c = Coord()
    c.stable("s", instances={"s": "i-s"})
    sub = subscription("t1")
    answer = c.join(
        "s", member_id="", instance="i-s", protocols=[("roundrobin", sub), ("range", sub)]
    )
    result = answer.value
    assert (result.generation_id, result.protocol_name) == (2, "roundrobin")
    assert result.leader_id == result.member_id == c.group().leader_id


def test_stale_member_id_of_a_static_member_is_fenced() -> None:
    """§1.5 "FENCED_INSTANCE_ID summary": after a replacement the old member id with the
    instance id is fenced on JoinGroup, SyncGroup, Heartbeat, OffsetCommit and LeaveGroup;
    without the instance id it is merely unknown."""
    c = Coord()
    c.stable("a", "s", instances={"s": "i-s"})
    old = c.ids["s"]
    c.join("s", member_id="", instance="i-s")
    assert c.join("x", member_id=old, instance="i-s").value == JoinResult(
        error=ErrorCode.fenced_instance_id, member_id=old
    )
    assert c.sync(old, instance="i-s").value == SyncResult(error=ErrorCode.fenced_instance_id)
    assert c.heartbeat(old, instance="i-s") == ErrorCode.fenced_instance_id
    assert c.commit(2, old, "i-s") == [ErrorCode.fenced_instance_id]
    assert c.leave((old, "i-s")) == (ErrorCode.none, [ErrorCode.fenced_instance_id])
    assert c.heartbeat(old) == ErrorCode.unknown_member_id
    assert (c.group().state, c.names()) == (STABLE, {"a", "s"})


# -- SyncGroup ---------------------------------------------------------------------------


def test_sync_group_checks_in_kafkas_order() -> None:
    """§2.1: unknown group / Empty group / unknown member → UNKNOWN_MEMBER_ID; then the
    generation (ILLEGAL_GENERATION); then protocol type and name (INCONSISTENT_GROUP_PROTOCOL,
    None = not checked); only then PreparingRebalance → REBALANCE_IN_PROGRESS."""
    c = Coord()
    assert c.sync("x", group_id="nope", generation=0).value == SyncResult(
        error=ErrorCode.unknown_member_id
    )
    c.stable("e", group_id="e")
    c.leave(("e", None), group_id="e")
    assert c.group("e").state == EMPTY
    assert c.sync("e", group_id="e").value.error == ErrorCode.unknown_member_id

    c.stable("a", "b")
    assert c.sync("ghost", generation=7).value.error == ErrorCode.unknown_member_id
    assert (
        c.sync("a", generation=7, protocol_name="other").value.error == ErrorCode.illegal_generation
    )
    assert c.sync("a", protocol_type="connect").value.error == ErrorCode.inconsistent_group_protocol
    assert (
        c.sync("a", protocol_name="roundrobin").value.error == ErrorCode.inconsistent_group_protocol
    )
    assert (
        c.sync("a", protocol_type="consumer", protocol_name="range").value.error == ErrorCode.none
    )
    c.join("b", protocols=CHANGED)
    assert (
        c.sync("a", protocol_name="roundrobin").value.error == ErrorCode.inconsistent_group_protocol
    )
    assert c.sync("a").value == SyncResult(error=ErrorCode.rebalance_in_progress)


def test_followers_wait_for_the_leaders_assignment() -> None:
    """§2.2: followers' SyncGroups are parked until the leader's arrives; then every member
    gets its own assignment (members the leader left out get empty bytes, unknown ids are
    ignored) and the group is Stable."""
    c = Coord()
    c.stable("a", "b", "d", sync=False)
    b, d = c.sync("b"), c.sync("d")
    assert not b.done and not d.done and c.group().state == COMPLETING
    mine, yours = assignment({"t1": [0, 1]}), assignment({"t1": [2]})
    a = c.sync("a", {"a": mine, "b": yours, "ghost": b"x"})

    def ok(data: bytes) -> SyncResult:
        return SyncResult(protocol_type="consumer", protocol_name="range", assignment=data)

    assert (a.value, b.value, d.value) == (ok(mine), ok(yours), ok(b""))
    assert c.group().state == STABLE
    assert c.names() == {"a", "b", "d"}


def test_leader_sync_writes_the_group_before_answering() -> None:
    """§2.2 Leader: the GroupMetadata record (generation, protocol, leader, the time the group
    entered CompletingRebalance, members with subscription and assignment) is written before
    any SyncGroup is answered."""
    c = Coord()
    c.stable("a", "b", sync=False)
    c.at(500)
    c.sync("b")
    c.trace.clear()
    start = len(c.storage.writes)
    mine, yours = assignment({"t1": [0]}), assignment({"t1": [1]})
    c.sync("a", {"a": mine, "b": yours})
    assert c.trace[0] == "write g" and sorted(c.trace[1:]) == ["sync a", "sync b"]
    assert c.storage.decoded(start) == [
        (
            GroupKey("g"),
            GroupValue(
                "consumer",
                2,
                "range",
                c.ids["a"],
                T0,
                (
                    MemberValue(
                        c.ids["a"], None, "a", HOST, REBALANCE, SESSION, PROTOCOLS[0][1], mine
                    ),
                    MemberValue(
                        c.ids["b"], None, "b", HOST, REBALANCE, SESSION, PROTOCOLS[0][1], yours
                    ),
                ),
            ),
        )
    ]


def test_sync_in_stable_returns_the_current_assignment() -> None:
    """§2.3: in Stable SyncGroup answers the stored assignment; the request's assignments are
    ignored, also the leader's."""
    c = Coord()
    c.stable("a", "b")
    writes = len(c.storage.writes)
    assert c.sync("a", {"a": b"new", "b": b"new"}).value.assignment == assignment({"t1": [0]})
    assert c.sync("b").value.assignment == assignment({"t1": [1]})
    assert len(c.storage.writes) == writes


def test_sync_propagation_restarts_the_session_of_parked_followers() -> None:
    """§2.2 success ("reschedule heartbeat of each answered member") and §3 (sync propagation
    resets the session timer): a follower parked in SyncGroup for most of its session is not
    expired right after it gets its assignment."""
    c = Coord()
    c.stable("a", "b", sync=False)
    c.at(1_000)
    b = c.sync("b")
    c.at(9_000)
    c.sync("a", {"a": assignment({"t1": [0]}), "b": assignment({"t1": [1]})})
    assert b.value.error == ErrorCode.none
    c.at(15_000)
    c.heartbeat("a")  # a stays alive past 19000
    c.at(18_999)
    assert c.names() == {"a", "b"}, "b was expired less than a session after its assignment"
    c.at(19_000)
    assert c.names() == {"a"}


def test_parked_sync_answered_by_a_new_rebalance_restarts_the_session() -> None:
    """§1.6 step 1: members whose parked SyncGroup is answered REBALANCE_IN_PROGRESS get
    their heartbeat rescheduled, so they have a full session to rejoin."""
    c = Coord()
    c.stable("a", "b", sync=False)
    c.at(1_000)
    b = c.sync("b")
    c.at(9_000)
    c.join("a", protocols=CHANGED)
    assert b.value == SyncResult(error=ErrorCode.rebalance_in_progress)
    c.at(18_999)
    assert c.names() == {"a", "b"}, "b was expired before a session passed since its answer"


def test_members_that_never_sync_are_removed_once_stable() -> None:
    """§2.4 (Stable): a member that sent no SyncGroup within the rebalance timeout after the
    join completed is removed, even while heartbeating, and the group rebalances."""
    c = Coord()
    c.stable("a", "b", sync=False)
    c.sync("a", {"a": assignment({"t1": [0]})})
    for at in range(5_000, 30_000, 5_000):
        c.at(at)
        assert (c.heartbeat("a"), c.heartbeat("b")) == (ErrorCode.none, ErrorCode.none)
    c.at(29_999)
    assert c.names() == {"a", "b"}
    c.at(30_000)
    assert (c.names(), c.group().state) == ({"a"}, PREPARING)
    assert MemberLeft("g", c.ids["b"], None, "not synced", T0 + 30_000) in c.events


def test_leader_that_never_syncs_is_removed() -> None:
    """§2.4 (CompletingRebalance): the laggard leader is removed and the parked followers'
    SyncGroups are answered REBALANCE_IN_PROGRESS."""
    c = Coord()
    c.stable("a", "b", sync=False)
    b = c.sync("b")
    for at in range(5_000, 30_000, 5_000):
        c.at(at)
        assert c.heartbeat("a") == ErrorCode.none
    assert not b.done
    c.at(30_000)
    assert b.value == SyncResult(error=ErrorCode.rebalance_in_progress)
    assert (c.names(), c.group().state) == ({"b"}, PREPARING)


# -- Heartbeat and session expiry ---------------------------------------------------------


def test_heartbeat_answer_in_each_state() -> None:
    """§3: unknown group or pending member → UNKNOWN_MEMBER_ID; wrong generation →
    ILLEGAL_GENERATION; PreparingRebalance → REBALANCE_IN_PROGRESS; CompletingRebalance and
    Stable → NONE; after the group emptied → UNKNOWN_MEMBER_ID."""
    c = Coord()
    assert c.heartbeat("x", group_id="nope") == ErrorCode.unknown_member_id
    c.join("a")  # MEMBER_ID_REQUIRED
    assert c.heartbeat("a") == ErrorCode.unknown_member_id
    c.join("a")
    assert (c.group().state, c.heartbeat("a")) == (COMPLETING, ErrorCode.none)
    assert c.heartbeat("a", generation=0) == ErrorCode.illegal_generation
    c.add("b")
    assert (c.group().state, c.heartbeat("a", generation=1)) == (
        PREPARING,
        ErrorCode.rebalance_in_progress,
    )
    c.join("a")
    assert (c.group().state, c.heartbeat("a"), c.heartbeat("b")) == (
        COMPLETING,
        ErrorCode.none,
        ErrorCode.none,
    )
    c.sync("b")
    c.sync("a", {})
    assert (c.group().state, c.heartbeat("a")) == (STABLE, ErrorCode.none)
    c.leave(("a", None), ("b", None))
    assert (c.group().state, c.heartbeat("a")) == (EMPTY, ErrorCode.unknown_member_id)


def test_empty_group_id_is_invalid_for_sync_heartbeat_and_leave() -> None:
    """§2.1 step 3, §3 step 1, §4 step 1: the service layer rejects group id "" with
    INVALID_GROUP_ID (only OffsetCommit/OffsetFetch/DescribeGroups/DeleteGroups accept it)."""
    c = Coord()
    assert c.sync("m", group_id="", generation=0).value.error == ErrorCode.invalid_group_id
    assert c.heartbeat("m", group_id="", generation=0) == ErrorCode.invalid_group_id
    assert c.leave(("m", None), group_id="")[0] == ErrorCode.invalid_group_id


def test_session_expiry_removes_the_member_and_rebalances() -> None:
    """§5: a member that stops heartbeating is removed session_timeout_ms after its last
    heartbeat (here: its SyncGroup) and the group rebalances."""
    c = Coord()
    c.stable("a", "b")
    c.at(5_000)
    c.heartbeat("a")
    c.at(9_999)
    assert c.names() == {"a", "b"}
    c.at(10_000)
    assert (c.names(), c.group().state) == ({"a"}, PREPARING)
    assert MemberLeft("g", c.ids["b"], None, "expired", T0 + 10_000) in c.events
    assert c.heartbeat("a") == ErrorCode.rebalance_in_progress
    a = c.join("a")
    assert a.value.generation_id == 3 and a.value.members == [(c.ids["a"], None, PROTOCOLS[0][1])]


def test_new_member_parked_in_join_group_times_out_after_five_minutes() -> None:
    """§1.3 / §5: a new member's heartbeat timer is the 300000 ms new-member join timeout
    and, being new, it is expired even while its JoinGroup is parked."""
    c = Coord()
    c.stable("a", session=400_000, rebalance=600_000)
    n = c.add("n", session=400_000, rebalance=600_000)  # waits for a, up to 600000
    c.at(299_999)
    assert not n.done
    c.at(300_000)
    assert n.value == JoinResult(error=ErrorCode.unknown_member_id)
    assert c.names() == {"a"}


def test_expiry_of_the_last_member_empties_the_group() -> None:
    """§5 → §1.7 step 5: the group becomes Empty with generation+1 and a GroupMetadata record
    (protocol type kept, no protocol, leader or members)."""
    c = Coord()
    c.stable("a")
    writes = len(c.storage.writes)
    c.at(10_000)
    group = c.group()
    assert (group.state, group.generation_id, group.members) == (EMPTY, 2, {})
    assert (group.protocol_name, group.leader_id) == (None, None)
    assert c.storage.decoded(writes) == [
        (GroupKey("g"), GroupValue("consumer", 2, None, None, T0 + 10_000, ()))
    ]
    assert GroupEmptied("g", 2, T0 + 10_000) in c.events


# -- LeaveGroup --------------------------------------------------------------------------


def test_leave_unknown_group() -> None:
    """§4 step 2: top-level NONE and UNKNOWN_MEMBER_ID for every identity (v3+; the handler
    answers v0-2 with that single member's error, UNKNOWN_MEMBER_ID)."""
    c = Coord()
    assert c.leave(("m-1", None), ("", "i-1")) == (
        ErrorCode.none,
        [ErrorCode.unknown_member_id] * 2,
    )
    assert c.coordinator.groups == {}


def test_leave_answers_each_identity_in_order() -> None:
    """§4 step 4: known member → NONE; unknown id → UNKNOWN_MEMBER_ID; empty member id with
    a registered instance id removes that static member; unknown instance id →
    UNKNOWN_MEMBER_ID; a member id that is not the instance's → FENCED_INSTANCE_ID."""
    c = Coord()
    c.stable("a", "b", "s", "t", instances={"s": "i-s", "t": "i-t"})
    result = c.leave(("b", None), ("nobody", None), ("", "i-s"), ("", "i-none"), ("stale", "i-t"))
    assert result == (
        ErrorCode.none,
        [
            ErrorCode.none,
            ErrorCode.unknown_member_id,
            ErrorCode.none,
            ErrorCode.unknown_member_id,
            ErrorCode.fenced_instance_id,
        ],
    )
    assert (c.names(), c.group().static_members) == ({"a", "t"}, {"i-t": c.ids["t"]})
    assert c.group().state == PREPARING


def test_leaving_pending_member_lets_the_join_complete() -> None:
    """§4 step 4b: a pending member leaves with NONE; the rebalance it blocked completes."""
    c = Coord()
    c.stable("a", "b")
    c.join("c")  # MEMBER_ID_REQUIRED
    a, _ = c.join("a"), c.join("b")
    assert not a.done
    assert c.leave(("c", None)) == (ErrorCode.none, [ErrorCode.none])
    assert (a.value.generation_id, c.group().pending_members) == (3, {})


def test_leave_during_a_rebalance() -> None:
    """§4: a leaving member's parked JoinGroup is answered UNKNOWN_MEMBER_ID (member_id "");
    once every remaining member has rejoined the join completes."""
    c = Coord()
    c.stable("a", "b", "d")
    a, b = c.join("a"), c.join("b")
    assert c.leave(("b", None)) == (ErrorCode.none, [ErrorCode.none])
    assert b.value == JoinResult(error=ErrorCode.unknown_member_id)
    assert not a.done
    assert c.leave(("d", None)) == (ErrorCode.none, [ErrorCode.none])
    assert (a.value.generation_id, a.value.members) == (3, [(c.ids["a"], None, PROTOCOLS[0][1])])


def test_last_member_leaving_empties_the_group_with_a_new_generation() -> None:
    """§4 step 5: the join completes at once into Empty, generation+1, and the GroupMetadata
    record is written before LeaveGroup returns."""
    c = Coord()
    c.stable("a")
    writes = len(c.storage.writes)
    c.at(1_000)
    assert c.leave(("a", None)) == (ErrorCode.none, [ErrorCode.none])
    assert (c.group().state, c.group().generation_id) == (EMPTY, 2)
    assert c.storage.decoded(writes) == [
        (GroupKey("g"), GroupValue("consumer", 2, None, None, T0 + 1_000, ()))
    ]


# -- OffsetCommit ------------------------------------------------------------------------


def _empty(c: Coord) -> None:
    c.stable("a")
    c.leave(("a", None))  # Empty at generation 2


def _preparing(c: Coord) -> None:
    c.stable("a", "b")
    c.join("b", protocols=CHANGED)  # PreparingRebalance, generation 2


def _completing(c: Coord) -> None:
    c.stable("a", "b", sync=False)  # CompletingRebalance, generation 2


def _stable(c: Coord) -> None:
    c.stable("a", "b")  # Stable, generation 2


@pytest.mark.parametrize(
    ("build", "generation", "member", "instance", "error"),
    [
        (_empty, -1, "", None, ErrorCode.none),
        (_empty, -1, "anyone", None, ErrorCode.none),  # member and instance ids are ignored
        (_empty, -1, "", "i-x", ErrorCode.none),
        (_empty, 2, "a", None, ErrorCode.unknown_member_id),
        (_empty, 2, "", None, ErrorCode.unknown_member_id),
        (_preparing, 2, "a", None, ErrorCode.none),
        (_preparing, 1, "a", None, ErrorCode.illegal_generation),
        (_preparing, -1, "", None, ErrorCode.unknown_member_id),
        (_preparing, 2, "ghost", None, ErrorCode.unknown_member_id),
        (_completing, 2, "a", None, ErrorCode.rebalance_in_progress),
        (_completing, 1, "a", None, ErrorCode.illegal_generation),
        (_completing, -1, "", None, ErrorCode.unknown_member_id),
        (_stable, 2, "b", None, ErrorCode.none),
        (_stable, -1, "", None, ErrorCode.unknown_member_id),
        (_stable, -1, "a", None, ErrorCode.illegal_generation),
        (_stable, 2, "ghost", None, ErrorCode.unknown_member_id),
        (_stable, 2, "a", "i-unknown", ErrorCode.unknown_member_id),
    ],
)
def test_commit_validation_per_state(
    build: Callable[[Coord], None],
    generation: int,
    member: str,
    instance: str | None,
    error: ErrorCode,
) -> None:
    """§6.2 step 3 and the §13 table: which commits each group state accepts."""
    c = Coord()
    build(c)
    assert c.commit(generation, member, instance, entries=[entry(0), entry(1)]) == [error] * 2
    assert (("t1", 0) in c.committed()) == (error == ErrorCode.none)


@pytest.mark.parametrize(
    ("version", "error"),
    [
        (2, ErrorCode.illegal_generation),
        (8, ErrorCode.illegal_generation),
        (9, ErrorCode.group_id_not_found),
    ],
)
def test_commit_with_a_generation_to_an_unknown_group(version: int, error: ErrorCode) -> None:
    """§6.2 step 2: a generation-carrying commit to a missing group is ILLEGAL_GENERATION
    before v9, GROUP_ID_NOT_FOUND from v9; nothing is created or written."""
    c = Coord()
    assert c.commit(1, "m-1", version=version) == [error]
    assert (c.coordinator.groups, c.storage.writes) == ({}, [])


def test_simple_consumer_commit_creates_a_simple_group() -> None:
    """§6.2 step 2 / step 5: generation -1 creates an Empty group with no protocol type and
    no GroupMetadata record; group id "" is accepted; each offset is one OffsetCommit record
    (value v3: offset, leader epoch, metadata "" for null, commit time = now)."""
    c = Coord()
    c.at(1_000)
    entries = [CommitEntry("t1", 0, 42, 3, "meta"), CommitEntry("t1", 1, 7, -1, None)]
    assert c.commit(-1, entries=entries, group_id="") == [ErrorCode.none, ErrorCode.none]
    group = c.group("")
    assert (group.state, group.protocol_type, group.generation_id, group.members) == (
        EMPTY,
        None,
        0,
        {},
    )
    assert c.storage.decoded() == [
        (OffsetKey("", "t1", 0), OffsetValue(42, 3, "meta", T0 + 1_000)),
        (OffsetKey("", "t1", 1), OffsetValue(7, -1, "", T0 + 1_000)),
    ]
    assert [value[:2] for _, value in c.storage.records] == [b"\x00\x03", b"\x00\x03"]


def test_commit_with_a_retention_time_writes_an_expire_timestamp() -> None:
    """§6.2 step 5 / §11: an expire timestamp (v2-4 retention_time_ms) makes the value a v1
    record carrying it."""
    c = Coord()
    assert c.commit(-1, version=2, expire=T0 + 60_000) == [ErrorCode.none]
    [(key, value)] = c.storage.records
    assert value is not None and value[:2] == b"\x00\x01"
    assert decode_offset(value) == OffsetValue(42, -1, "", T0, T0 + 60_000)
    assert decode_key(key) == OffsetKey("g", "t1", 0)


def test_commit_metadata_limit_counts_utf16_code_units() -> None:
    """§6.2 step 5: metadata longer than offset.metadata.max.bytes (4096) in Java
    String.length() units is OFFSET_METADATA_TOO_LARGE for that partition only."""
    c = Coord()
    entries = [
        CommitEntry("t", 0, 1, -1, "é" * 4096),  # 8192 UTF-8 bytes, 4096 UTF-16 units
        CommitEntry("t", 1, 1, -1, "😀" * 2048),  # a surrogate pair each: 4096 units
        CommitEntry("t", 2, 1, -1, "😀" * 2048 + "a"),
        CommitEntry("t", 3, 1, -1, "a" * 4097),
    ]
    assert (
        c.commit(-1, entries=entries)
        == [ErrorCode.none, ErrorCode.none] + [ErrorCode.offset_metadata_too_large] * 2
    )
    assert [key.partition for key, _ in c.storage.decoded()] == [0, 1]
    assert c.offsets.fetch("g", [("t", 2)]) == {("t", 2): None}


def test_commit_keeps_a_stable_member_alive() -> None:
    """§6.2 step 4: an OffsetCommit in Stable reschedules the member's session."""
    c = Coord()
    c.stable("a")
    c.at(8_000)
    assert c.commit(1, "a") == [ErrorCode.none]
    c.at(17_999)
    assert (c.names(), c.group().state) == ({"a"}, STABLE)
    c.at(18_000)
    assert c.names() == set()


# -- OffsetFetch, OffsetDelete, DeleteGroups ----------------------------------------------


def test_fetch_committed_offsets() -> None:
    """§7: an unknown group is no error (every partition unset, None = all → nothing);
    known group: requested partitions in order (unset → None), or every stored offset."""
    c = Coord()
    assert c.offsets.fetch("nope", [("t1", 0)]) == {("t1", 0): None}
    assert c.offsets.fetch("nope", None) == {}
    c.commit(-1, entries=[CommitEntry("t1", 0, 5, 2, "x"), CommitEntry("t2", 3, 9, -1, None)])
    fetched = c.offsets.fetch("g", [("t2", 3), ("t1", 9)])
    assert list(fetched.items()) == [(("t2", 3), OffsetValue(9, -1, "", T0)), (("t1", 9), None)]
    assert c.committed() == {
        ("t1", 0): OffsetValue(5, 2, "x", T0),
        ("t2", 3): OffsetValue(9, -1, "", T0),
    }


def test_offset_delete_checks_and_tombstones() -> None:
    """§8: "" → INVALID_GROUP_ID; unknown group → GROUP_ID_NOT_FOUND; a non-consumer group
    with members → NON_EMPTY_GROUP; a consumer group refuses partitions of subscribed topics
    (GROUP_SUBSCRIBED_TO_TOPIC) and deletes the rest, with a tombstone only where an offset
    existed; an Empty group of any type deletes everything."""
    c = Coord()
    assert c.offsets.delete("", [("t1", 0)]) == (ErrorCode.invalid_group_id, [])
    assert c.offsets.delete("nope", [("t1", 0)]) == (ErrorCode.group_id_not_found, [])

    c.stable("k", group_id="connect", protocol_type="connect", protocols=[("v1", b"opaque")])
    assert c.offsets.delete("connect", [("t1", 0)]) == (ErrorCode.non_empty_group, [])

    c.stable("a", "b")  # subscribed to t1
    c.commit(2, "a", entries=[entry(0, "t1"), entry(0, "t2")])
    writes = len(c.storage.writes)
    assert c.offsets.delete("g", [("t1", 0), ("t2", 0), ("t2", 1)]) == (
        ErrorCode.none,
        [ErrorCode.group_subscribed_to_topic, ErrorCode.none, ErrorCode.none],
    )
    assert c.storage.decoded(writes) == [(OffsetKey("g", "t2", 0), None)]
    assert list(c.committed()) == [("t1", 0)]

    c.leave(("k", None), group_id="connect")
    c.commit(-1, group_id="connect")
    assert c.offsets.delete("connect", [("t1", 0)]) == (ErrorCode.none, [ErrorCode.none])
    assert c.committed("connect") == {}


UNDECODABLE = [b"\x00\x00\xff", b"\xff" * 64]  # truncated; a null (-1) topics array


@pytest.mark.parametrize("metadata", UNDECODABLE, ids=["truncated", "null-topics"])
def test_offset_delete_treats_undecodable_subscriptions_as_subscribed_to_everything(
    metadata: bytes,
) -> None:
    """§8: consumer protocol metadata that does not decode makes the subscription unknown,
    and isSubscribedToTopic is then true for every topic."""
    c = Coord()
    c.stable("a", protocols=[("range", metadata)])
    c.commit(1, "a", entries=[entry(0, "t9")])
    assert c.offsets.delete("g", [("t9", 0)]) == (
        ErrorCode.none,
        [ErrorCode.group_subscribed_to_topic],
    )


@pytest.mark.parametrize("metadata", UNDECODABLE, ids=["truncated", "null-topics"])
def test_undecodable_subscriptions_keep_a_stable_groups_offsets(metadata: bytes) -> None:
    """§9 step 2: a Stable consumer group whose subscriptions are unknown has no expiration
    condition, so the retention check keeps its offsets (and does not fail)."""
    c = Coord(**RETENTION)
    c.stable("a", protocols=[("range", metadata)], session=1_000_000)
    c.commit(1, "a", entries=[entry(0, "t9")])
    c.at(200_000)
    assert list(c.committed()) == [("t9", 0)]


def test_undecodable_assignment_bytes_do_not_break_sync() -> None:
    """§2.2: assignments are opaque bytes (here a non-consumer protocol); the leader's
    SyncGroup makes the group Stable and RebalanceCompleted names the assignment
    undescribable (None) rather than the coordinator raising."""
    c = Coord()
    c.add("k", protocol_type="connect", protocols=[("v1", b"meta")])
    opaque = b"\x00\x01" + b"\xff" * 8
    answer = c.sync("k", {"k": opaque})
    assert answer.value.assignment == opaque
    assert c.group().state == STABLE
    assert c.events[-1] == RebalanceCompleted("g", 1, "v1", c.ids["k"], {c.ids["k"]: None}, T0)


def test_offset_delete_during_a_rebalance_uses_the_previous_subscriptions() -> None:
    """§8: "During PreparingRebalance the previous generation's set is used" — a member that
    joined with protocols lacking the group's current one must not break OffsetDelete."""
    c = Coord()
    sub = subscription("t1")
    c.stable("a", "b", protocols=[("range", sub), ("roundrobin", sub)])
    c.add("n", protocols=[("roundrobin", subscription("t3"))])
    assert c.group().state == PREPARING
    assert c.commit(2, "a", entries=[entry(0, "t1"), entry(0, "t3")]) == [
        ErrorCode.none,
        ErrorCode.none,
    ]
    assert c.offsets.delete("g", [("t1", 0), ("t3", 0)]) == (
        ErrorCode.none,
        [ErrorCode.group_subscribed_to_topic, ErrorCode.none],
    )


def test_delete_group_only_when_empty() -> None:
    """§10 DeleteGroups: unknown → GROUP_ID_NOT_FOUND; live states → NON_EMPTY_GROUP; Empty
    (also a simple consumer's group) → tombstones for every offset and for the group."""
    c = Coord()
    c.stable("a")
    assert c.coordinator.delete_group("nope", c.now) == ErrorCode.group_id_not_found
    assert c.coordinator.delete_group("g", c.now) == ErrorCode.non_empty_group
    c.commit(1, "a", entries=[entry(0), entry(1)])
    c.leave(("a", None))
    writes = len(c.storage.writes)
    assert c.coordinator.delete_group("g", c.now) == ErrorCode.none
    assert "g" not in c.coordinator.groups
    assert c.storage.decoded(writes) == [
        (OffsetKey("g", "t1", 0), None),
        (OffsetKey("g", "t1", 1), None),
        (GroupKey("g"), None),
    ]
    assert c.events[-1] == GroupDeleted("g", T0)
    c.commit(-1, group_id="simple")
    assert c.coordinator.delete_group("simple", c.now) == ErrorCode.none
    assert "simple" not in c.coordinator.groups


# -- offset expiry (KIP-211) --------------------------------------------------------------


def test_offsets_of_an_empty_group_expire_from_when_it_became_empty() -> None:
    """§9 step 2 Empty: the retention clock starts when the group became Empty, not at the
    commit; when the last offset goes, the group goes too (offset + group tombstones)."""
    c = Coord(**RETENTION)
    c.stable("a")
    c.commit(1, "a")
    c.at(10_000)  # a's session ends: Empty from 10000
    assert c.group().state == EMPTY
    c.at(109_999)
    assert ("t1", 0) in c.committed()
    writes = len(c.storage.writes)
    c.at(110_000)
    assert "g" not in c.coordinator.groups
    assert c.storage.decoded(writes) == [(OffsetKey("g", "t1", 0), None), (GroupKey("g"), None)]
    assert c.events[-1] == GroupDeleted("g", T0 + 110_000)


def test_empty_group_without_offsets_is_deleted_at_the_next_check() -> None:
    """§9 step 5: an Empty group with no offsets disappears at the next retention check,
    with a GroupMetadata tombstone."""
    c = Coord(**RETENTION)
    c.stable("a")
    c.leave(("a", None))
    writes = len(c.storage.writes)
    c.at(1)
    assert c.coordinator.groups == {}
    assert c.storage.decoded(writes) == [(GroupKey("g"), None)]


def test_offsets_of_a_simple_group_expire_from_their_commit_time() -> None:
    """§9 step 2: a group without protocol type counts retention from each commit."""
    c = Coord(**RETENTION)
    c.commit(-1, entries=[entry(0)])
    c.at(40_000)
    c.commit(-1, entries=[entry(1)])
    c.at(99_999)
    assert list(c.committed()) == [("t1", 0), ("t1", 1)]
    writes = len(c.storage.writes)
    c.at(100_000)
    assert c.storage.decoded(writes) == [(OffsetKey("g", "t1", 0), None)]
    assert list(c.committed()) == [("t1", 1)]
    c.at(140_000)
    assert "g" not in c.coordinator.groups


def test_stable_consumer_group_keeps_offsets_of_subscribed_topics() -> None:
    """§9 step 2 Stable consumer group: only offsets of topics no member subscribes to expire,
    counted from their commit."""
    c = Coord(**RETENTION)
    c.stable("a", session=1_000_000)
    c.commit(1, "a", entries=[entry(0, "t1"), entry(0, "t2")])
    c.at(99_999)
    assert len(c.committed()) == 2
    c.at(100_000)
    assert (list(c.committed()), c.group().state) == ([("t1", 0)], STABLE)


def test_no_offset_expires_while_the_group_rebalances() -> None:
    """§9 step 2: PreparingRebalance/CompletingRebalance have no expiration condition."""
    c = Coord(**RETENTION)
    c.stable("a", "b", session=1_000_000, rebalance=1_000_000)
    c.commit(2, "a", entries=[entry(0, "t2")])
    c.join("b", protocols=CHANGED)
    c.at(200_000)
    assert c.group().state == PREPARING
    assert list(c.committed()) == [("t2", 0)]


def test_explicit_expire_timestamp_of_a_simple_group() -> None:
    """§9 step 3: an offset with an expire timestamp expires at that time, whatever the
    retention."""
    c = Coord(**RETENTION)
    c.commit(-1, version=2, expire=T0 + 5_000)
    c.at(4_999)
    assert ("t1", 0) in c.committed()
    c.at(5_000)
    assert "g" not in c.coordinator.groups


def test_explicit_expire_timestamp_does_not_expire_offsets_of_subscribed_topics() -> None:
    """§9 step 3: "Offsets of subscribed topics ... are never expired" — Kafka checks the
    group's expiration condition and subscription before the offset's expire timestamp."""
    c = Coord(**RETENTION)
    c.stable("a", session=1_000_000)
    c.commit(1, "a", version=4, expire=T0 + 5_000, entries=[entry(0, "t1"), entry(0, "t2")])
    c.at(5_000)
    assert list(c.committed()) == [("t1", 0)]


def test_forget_topic_tombstones_its_offsets_in_every_group() -> None:
    """§9 last bullet: deleting a topic writes tombstones for its offsets in all groups."""
    c = Coord()
    c.commit(-1, group_id="g1", entries=[entry(0, "t1"), entry(0, "t2")])
    c.commit(-1, group_id="g2", entries=[entry(3, "t1")])
    writes = len(c.storage.writes)
    c.offsets.forget_topic("t1")
    assert c.storage.decoded(writes) == [
        (OffsetKey("g1", "t1", 0), None),
        (OffsetKey("g2", "t1", 3), None),
    ]
    assert (list(c.committed("g1")), c.committed("g2")) == ([("t2", 0)], {})


# -- events --------------------------------------------------------------------------------


def test_events_of_a_group_lifecycle() -> None:
    """groups/events.py: join, sync, commit, a second member, its expiry, the last leave and
    the deletion are told in the order they happen."""
    c = Coord()
    c.add("a")
    c.sync("a", {"a": assignment({"t1": [1, 0]})})
    c.commit(1, "a", entries=[CommitEntry("t1", 0, 5, -1, "m")])
    c.add("b")
    c.join("a")
    c.sync("b")
    c.sync("a", {"a": assignment({"t1": [0]}), "b": b"\xff"})
    c.at(5_000)
    c.heartbeat("a")
    c.at(10_000)  # b's session ends
    c.leave(("a", None))
    c.coordinator.delete_group("g", c.now)
    a, b, t = c.ids["a"], c.ids["b"], T0 + 10_000
    events = [
        dataclasses.replace(e, reason="") if isinstance(e, RebalanceStarted) else e
        for e in c.events
    ]
    assert events == [
        MemberJoined("g", a, None, "a", HOST, T0),
        RebalanceStarted("g", 0, "", T0),
        RebalanceCompleted("g", 1, "range", a, {a: {"t1": [0, 1]}}, T0),
        OffsetCommitted("g", "t1", 0, 5, "m", T0),
        MemberJoined("g", b, None, "b", HOST, T0),
        RebalanceStarted("g", 1, "", T0),
        RebalanceCompleted("g", 2, "range", a, {a: {"t1": [0]}, b: None}, T0),
        MemberLeft("g", b, None, "expired", t),
        RebalanceStarted("g", 2, "", t),
        MemberLeft("g", a, None, "left", t),
        GroupEmptied("g", 3, t),
        GroupDeleted("g", t),
    ]


# -- persistence ----------------------------------------------------------------------------


def snapshot(coordinator: GroupCoordinator) -> dict[str, Any]:
    """What the records must carry for each group: identity, generation, members and
    their assignments, offsets (and, for an Empty group, since when it is Empty)."""
    out: dict[str, Any] = {}
    for group_id, g in coordinator.groups.items():
        protocol = g.protocol_name
        out[group_id] = {
            "state": g.state,
            "generation": g.generation_id,
            "protocol_type": g.protocol_type,
            "protocol": protocol,
            "leader": g.leader_id,
            "empty_since": g.state_timestamp_ms if g.state == EMPTY else None,
            "static": dict(g.static_members),
            "members": {
                m.member_id: (
                    m.group_instance_id,
                    m.client_id,
                    m.client_host,
                    m.rebalance_timeout_ms,
                    m.session_timeout_ms,
                    m.metadata(protocol) if protocol else None,
                    m.assignment,
                )
                for m in g.members.values()
            },
            "offsets": dict(g.offsets),
        }
    return out


def replay(records: Records, now_ms: int) -> GroupCoordinator:
    fresh = GroupCoordinator(GroupConfig(), MemoryStorage([]))
    fresh.load(records, now_ms)
    return fresh


def test_records_replay_into_the_same_groups() -> None:
    """§11 Loading: replaying every record written (GroupMetadata for syncs, a static
    replacement and an emptied group; offsets with and without expire timestamps; offset
    and group tombstones) rebuilds the same groups, members, assignments and offsets."""
    c = Coord()
    c.stable("a", "s", "b", instances={"s": "i-s"})
    c.at(1_000)
    c.join("s", member_id="", instance="i-s", session=12_000)  # replaced in place
    c.commit(2, "a", entries=[CommitEntry("t1", 0, 42, 3, "meta"), entry(0, "t2")])
    assert c.offsets.delete("g", [("t2", 0)]) == (ErrorCode.none, [ErrorCode.none])
    c.stable("x", group_id="e")
    c.commit(1, "x", group_id="e")
    c.leave(("x", None), group_id="e")  # Empty at generation 2, offsets kept
    c.commit(-1, group_id="simple", version=2, expire=T0 + 9_000_000)
    c.commit(-1, group_id="simple", entries=[entry(5, "gone")])
    c.offsets.forget_topic("gone")
    c.commit(-1, group_id="doomed")
    assert c.coordinator.delete_group("doomed", c.now) == ErrorCode.none

    expected = snapshot(c.coordinator)
    assert set(expected) == {"g", "e", "simple"}
    assert expected["g"]["state"] == STABLE and expected["e"]["state"] == EMPTY
    assert snapshot(replay(c.storage.records, c.now)) == expected


def test_a_replayed_group_serves_its_members() -> None:
    """§11 Loading: a group with members is Stable after replay; its members heartbeat and
    sync with their generation and get their assignments back."""
    c = Coord()
    c.stable("a", "b")
    fresh = replay(c.storage.records, c.now)
    assert fresh.groups["g"].state == STABLE
    assert fresh.heartbeat("g", 2, c.ids["a"], None, c.now) == ErrorCode.none
    answer: Answer[SyncResult] = Answer([], "sync b")
    fresh.sync("g", 2, c.ids["b"], None, "consumer", "range", {}, c.now, answer)
    assert answer.value.assignment == assignment({"t1": [1]})


def test_load_applies_tombstones_and_skips_unreadable_records() -> None:
    """§11: an offset record for an unknown group recreates a simple group; tombstones remove
    offsets and groups; a record with an unknown key version is skipped."""
    records: list[tuple[bytes | None, bytes | None]] = [
        (encode_key(OffsetKey("s", "t", 0)), encode_offset(OffsetValue(1, -1, "", T0))),
        (encode_key(OffsetKey("s", "t", 1)), encode_offset(OffsetValue(2, -1, "", T0 + 5))),
        (b"\x00\x07garbage", b"\x00\x00"),
        (None, b"no key"),
        (encode_key(OffsetKey("s", "t", 0)), None),
        (encode_key(OffsetKey("d", "t", 0)), encode_offset(OffsetValue(1, -1, "", T0))),
        (encode_key(OffsetKey("d", "t", 0)), None),
        (encode_key(GroupKey("d")), None),
    ]
    fresh = GroupCoordinator(GroupConfig(), MemoryStorage([]))
    fresh.load(records, T0 + 10)
    assert set(fresh.groups) == {"s"}
    group = fresh.groups["s"]
    assert (group.state, group.protocol_type, group.state_timestamp_ms) == (EMPTY, None, T0)
    assert group.offsets == {("t", 1): OffsetValue(2, -1, "", T0 + 5)}


def test_loading_one_partition_leaves_the_other_groups_as_they_are() -> None:
    """Cluster mode loads one `__consumer_offsets` partition when this broker comes to lead
    it: the groups it loads settle, a group of another partition mid-rebalance stays so."""
    moved = Coord()
    moved.stable("a", group_id="h")
    c = Coord()
    c.stable("x", group_id="other")
    parked = c.add("y", group_id="other")  # waits for x to join again
    assert not parked.done and c.group("other").state == PREPARING
    c.coordinator.load(moved.storage.records, c.now)
    assert c.group("h").state == STABLE
    assert c.group("other").state == PREPARING and not parked.done


def test_unloading_forgets_the_groups_and_sends_their_parked_members_away() -> None:
    """Kafka's onResignation: the groups of a partition this broker no longer leads are
    forgotten, and a JoinGroup parked in their rebalance gets NOT_COORDINATOR (its member
    finds the new coordinator); other partitions' groups stay."""
    c = Coord()
    c.stable("a")
    c.stable("x", group_id="other")
    parked = c.add("y", group_id="other")  # waits for x to join again
    assert not parked.done
    c.coordinator.unload(lambda group_id: group_id == "other")
    assert set(c.coordinator.groups) == {"g"}
    assert parked.value.error == ErrorCode.not_coordinator
