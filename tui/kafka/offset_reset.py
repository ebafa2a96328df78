"""Moving a consumer group's committed offsets: Kafka's reset scenarios, and deleting them.

What kafka-consumer-groups.sh --reset-offsets and --delete-offsets do, as plain data for
`kwb groups` and the workbench: the new offsets worked out as ConsumerGroupCommand does
(clamped to the log's range, the log end where a timestamp finds nothing, refused while the
group has members), then committed if asked; per-partition results of an OffsetDelete.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kio.schema.errors import ErrorCode

from localbroker.public import ApiKey, GroupState, ListOffsetsTimestamp

from .admin import KafkaAdmin
from .errors import KafkaToolError
from .group_lag import log_offsets
from .models import CommittedOffset, TopicPartition, TopicSelection

INACTIVE = (GroupState.EMPTY, GroupState.DEAD)
"""The states in which a group's offsets may be reset (no member would overwrite them)."""


def tp_name(tp: TopicPartition) -> str:
    """A partition as Kafka's TopicPartition.toString() writes it: `test-0`."""
    return f"{tp[0]}-{tp[1]}"


async def group_state(admin: KafkaAdmin, group_id: str) -> str:
    """The group's state; a group that does not exist is Dead (its offsets can be set)."""
    try:
        return (await admin.describe_group(group_id)).state
    except KafkaToolError as exc:
        if exc.code == ErrorCode.group_id_not_found:
            return GroupState.DEAD
        raise


# -- reset targets and notes ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToEarliest:
    """The log start offset."""


@dataclass(frozen=True, slots=True)
class ToLatest:
    """The log end offset."""


@dataclass(frozen=True, slots=True)
class ToCurrent:
    """The committed offset (the log end where there is none)."""


@dataclass(frozen=True, slots=True)
class ToOffset:
    """This offset, clamped to the log's range."""

    offset: int


@dataclass(frozen=True, slots=True)
class ShiftBy:
    """The committed offset plus `delta` (which may be negative), clamped."""

    delta: int


@dataclass(frozen=True, slots=True)
class ToTimestamp:
    """The first offset at or after this time (epoch ms); the log end where there is none."""

    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class ByDuration:
    """The first offset at or after now minus `duration`."""

    duration: timedelta


@dataclass(frozen=True, slots=True)
class FromPlan:
    """Offsets given per group (as an exported CSV plan gives them), clamped."""

    offsets: Mapping[str, Mapping[TopicPartition, int]]


ResetTarget = (
    ToEarliest | ToLatest | ToCurrent | ToOffset | ShiftBy | ToTimestamp | ByDuration | FromPlan
)


@dataclass(frozen=True, slots=True)
class Clamped:
    """A requested offset outside the log, moved to its start or end (`offset`)."""

    partition: TopicPartition
    requested: int
    offset: int
    above: bool


@dataclass(frozen=True, slots=True)
class EmptyPartition:
    """A timestamp found no record in the partition, so its log end is taken."""

    partition: TopicPartition


ResetNote = Clamped | EmptyPartition
NoteSink = Callable[[ResetNote], None]


def _ignore(_note: ResetNote) -> None:
    pass


@dataclass(frozen=True, slots=True)
class GroupReset:
    """A reset of one group: the new offsets, or none where its state refuses a reset."""

    group_id: str
    state: str
    offsets: dict[TopicPartition, int]
    executed: bool

    @property
    def refused(self) -> bool:
        return self.state not in INACTIVE


async def reset_group(
    admin: KafkaAdmin,
    group_id: str,
    target: ResetTarget,
    scope: Sequence[TopicSelection] | None,
    *,
    execute: bool,
    on_note: NoteSink = _ignore,
) -> GroupReset:
    """Work out (and with `execute`, commit) a group's new offsets, unless it has members.

    `scope` None means every partition the group has committed offsets for. Notes (offsets
    clamped, empty partitions) go to `on_note` as they come, before any later failure.
    """
    state = await group_state(admin, group_id)
    if state not in INACTIVE:
        return GroupReset(group_id, state, {}, executed=False)
    offsets = await plan_reset(admin, group_id, target, scope, on_note)
    if execute and offsets:
        await admin.commit_group_offsets(group_id, offsets)
    return GroupReset(group_id, state, offsets, executed=execute)


async def plan_reset(
    admin: KafkaAdmin,
    group_id: str,
    target: ResetTarget,
    scope: Sequence[TopicSelection] | None,
    on_note: NoteSink = _ignore,
) -> dict[TopicPartition, int]:
    """Kafka's prepareOffsetsToReset for one inactive group."""
    committed = await admin.group_offsets(group_id)
    if isinstance(target, FromPlan):
        if group_id not in target.offsets:
            raise KafkaToolError(f"No reset plan for group {group_id} found")
        return await _clamp_to_log(admin, dict(target.offsets[group_id]), on_note)
    partitions = await _partitions(admin, scope, committed)
    match target:
        case ToOffset(offset):
            return await _clamp_to_log(admin, dict.fromkeys(partitions, offset), on_note)
        case ToEarliest():
            return await _log_offsets_or_fail(
                admin, partitions, ListOffsetsTimestamp.EARLIEST, "starting offset"
            )
        case ToLatest():
            return await _log_offsets_or_fail(
                admin, partitions, ListOffsetsTimestamp.LATEST, "ending offset"
            )
        case ShiftBy(delta):
            return await _clamp_to_log(admin, _shifted(partitions, committed, delta), on_note)
        case ToTimestamp(timestamp):
            return await _offsets_at(admin, partitions, timestamp, on_note)
        case ByDuration(duration):
            since = datetime.now(UTC) - duration
            return await _offsets_at(admin, partitions, int(since.timestamp() * 1000), on_note)
        case ToCurrent():  # the committed offset, or the log end where there is none
            without = [tp for tp in partitions if tp not in committed]
            ends = await _log_offsets_or_fail(
                admin, without, ListOffsetsTimestamp.LATEST, "ending offset"
            )
            return {tp: committed[tp].offset if tp in committed else ends[tp] for tp in partitions}
    raise TypeError(f"not a reset target: {target!r}")


async def _partitions(
    admin: KafkaAdmin,
    scope: Sequence[TopicSelection] | None,
    committed: Mapping[TopicPartition, CommittedOffset],
) -> list[TopicPartition]:
    if scope is None:
        return sorted(committed)
    chosen: list[TopicPartition] = []
    whole = [s.topic for s in scope if s.partitions is None]
    for selection in scope:
        chosen += [(selection.topic, p) for p in selection.partitions or ()]
    if whole:
        for info in await admin.topics(sorted(set(whole)), include_internal=True):
            chosen += [(info.name, p.partition) for p in info.partitions]
    return list(dict.fromkeys(chosen))


def _shifted(
    partitions: list[TopicPartition],
    committed: Mapping[TopicPartition, CommittedOffset],
    delta: int,
) -> dict[TopicPartition, int]:
    requested = {}
    for tp in partitions:
        if tp not in committed:
            raise KafkaToolError(
                f"Cannot shift offset for partition {tp_name(tp)} since there is no"
                " current committed offset"
            )
        requested[tp] = committed[tp].offset + delta
    return requested


async def _clamp_to_log(
    admin: KafkaAdmin, requested: dict[TopicPartition, int], on_note: NoteSink
) -> dict[TopicPartition, int]:
    """Kafka's checkOffsetsRange: offsets outside the log move to its start or end."""
    starts = await log_offsets(admin, requested, ListOffsetsTimestamp.EARLIEST)
    ends = await log_offsets(admin, requested, ListOffsetsTimestamp.LATEST)
    result = {}
    for tp, offset in requested.items():
        start, end = starts.get(tp), ends.get(tp)
        if end is None:
            raise KafkaToolError(f"Error getting ending offset of topic partition: {tp_name(tp)}")
        if offset > end:
            on_note(Clamped(tp, offset, end, above=True))
            offset = end
        elif start is not None and offset < start:
            on_note(Clamped(tp, offset, start, above=False))
            offset = start
        result[tp] = offset
    return result


async def _log_offsets_or_fail(
    admin: KafkaAdmin, partitions: list[TopicPartition], spec: int, what: str
) -> dict[TopicPartition, int]:
    """ListOffsets for `spec`; a partition that does not exist fails, naming `what`."""
    found = await log_offsets(admin, partitions, spec)
    missing = [tp for tp in partitions if found.get(tp) is None]
    if missing:
        raise KafkaToolError(f"Error getting {what} of topic partition: {tp_name(missing[0])}")
    return {tp: int(found[tp] or 0) for tp in partitions}


async def _offsets_at(
    admin: KafkaAdmin, partitions: list[TopicPartition], timestamp: int, on_note: NoteSink
) -> dict[TopicPartition, int]:
    """The first offset at or after `timestamp`; the log end where there is none (as Kafka)."""
    found = await _log_offsets_or_fail(admin, partitions, timestamp, "offset by timestamp")
    empty = [tp for tp in partitions if found[tp] == -1]
    for tp in empty:
        on_note(EmptyPartition(tp))
    ends = await _log_offsets_or_fail(admin, empty, ListOffsetsTimestamp.LATEST, "ending offset")
    return {tp: ends.get(tp, found[tp]) for tp in partitions}


# -- deleting offsets ---------------------------------------------------------------------------


async def delete_offsets(
    admin: KafkaAdmin, group_id: str, scope: Sequence[TopicSelection]
) -> dict[TopicPartition, ErrorCode]:
    """OffsetDelete of the partitions `scope` names: an error code per partition, and
    (topic, -1) for a named topic that does not exist, as Kafka's tool reports it."""
    statuses: dict[TopicPartition, ErrorCode] = {}
    partitions: list[TopicPartition] = []
    existing = {t.name: t for t in await admin.topics(include_internal=True)}
    for selection in scope:
        topic = selection.topic
        if selection.partitions is not None:
            partitions += [(topic, p) for p in selection.partitions]
        elif topic in existing:
            partitions += [(topic, p.partition) for p in existing[topic].partitions]
        else:
            statuses[(topic, -1)] = ErrorCode.unknown_topic_or_partition
    by_topic: dict[str, list[int]] = defaultdict(list)
    for topic, partition in dict.fromkeys(partitions):
        by_topic[topic].append(partition)
    response = await admin.send(
        ApiKey.OFFSET_DELETE,
        {
            "group_id": group_id,
            "topics": [
                {"name": t, "partitions": [{"partition_index": p} for p in ps]}
                for t, ps in by_topic.items()
            ],
        },
        node=await admin.coordinator(group_id),
    )
    if response.error_code != ErrorCode.none:  # every partition failed, and that comes first
        return dict.fromkeys(partitions, ErrorCode(response.error_code)) | statuses
    for t in response.topics:
        for p in t.partitions:
            statuses[(t.name, p.partition_index)] = ErrorCode(p.error_code)
    return statuses
