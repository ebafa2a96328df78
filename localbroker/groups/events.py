"""What the coordinator tells observers (the workbench) as groups change.

Events are delivered synchronously on the broker's loop, in the order things happened, so a
view built from them never has to poll the wire. An observer in another process (the
workbench runs its broker as a child) gets them as JSON lines: `event_to_json` and
`event_from_json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class MemberJoined:
    group_id: str
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    at_ms: int


class LeaveReason(StrEnum):
    """Why a member is no longer in its group."""

    LEFT = "left"
    """It sent LeaveGroup."""
    EXPIRED = "expired"
    """No heartbeat within session.timeout.ms."""
    FENCED = "fenced"
    """A static member restarted under the same group.instance.id and took its place."""
    NOT_REJOINED = "not rejoined"
    """It did not rejoin before the rebalance's join phase ended."""
    NOT_SYNCED = "not synced"
    """It did not send SyncGroup before the rebalance timed out."""
    GROUP_FULL = "group full"
    """Its rejoin would have taken the group past group.max.size."""


@dataclass(frozen=True, slots=True)
class MemberLeft:
    group_id: str
    member_id: str
    group_instance_id: str | None
    reason: LeaveReason
    at_ms: int


@dataclass(frozen=True, slots=True)
class RebalanceStarted:
    group_id: str
    generation_id: int
    reason: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class RebalanceCompleted:
    """The leader's assignment was applied: the group is Stable at `generation_id`.

    `assignments` maps member id to {topic: [partitions]} for the consumer protocol (empty
    for members assigned nothing, None where the bytes are not a consumer assignment).
    """

    group_id: str
    generation_id: int
    protocol_name: str | None
    leader_id: str | None
    assignments: dict[str, dict[str, list[int]] | None] = field(default_factory=dict)
    at_ms: int = 0


@dataclass(frozen=True, slots=True)
class GroupEmptied:
    """The last member left: the group is Empty (its offsets remain)."""

    group_id: str
    generation_id: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class OffsetCommitted:
    group_id: str
    topic: str
    partition: int
    offset: int
    metadata: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class GroupDeleted:
    group_id: str
    at_ms: int


GroupEvent: TypeAlias = (
    MemberJoined
    | MemberLeft
    | RebalanceStarted
    | RebalanceCompleted
    | GroupEmptied
    | OffsetCommitted
    | GroupDeleted
)


_KINDS: dict[str, type[GroupEvent]] = {
    kind.__name__: kind
    for kind in (
        MemberJoined,
        MemberLeft,
        RebalanceStarted,
        RebalanceCompleted,
        GroupEmptied,
        OffsetCommitted,
        GroupDeleted,
    )
}


def event_to_json(event: GroupEvent) -> dict[str, Any]:
    """`event` as a JSON object, for an observer in another process (the workbench, whose
    broker runs as its child): its type's name under "event", then its fields."""
    return {"event": type(event).__name__, **asdict(event)}


def event_from_json(record: Mapping[str, Any]) -> GroupEvent:
    """The event `event_to_json` wrote; KeyError or ValueError for anything else."""
    kind = _KINDS[record["event"]]
    values = {f.name: record[f.name] for f in fields(kind)}
    if kind is MemberLeft:
        values["reason"] = LeaveReason(values["reason"])
    return kind(**values)
