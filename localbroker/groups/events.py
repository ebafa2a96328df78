"""What the coordinator tells in-process observers (the workbench) as groups change.

Events are delivered synchronously on the broker's loop, in the order things happened, so a
view built from them never has to poll the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class MemberJoined:
    group_id: str
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class MemberLeft:
    """`reason` is "left" (LeaveGroup), "expired" (session timeout), "fenced" (replaced static
    member), "not rejoined" (missed the rebalance) or "not synced" (missed SyncGroup)."""

    group_id: str
    member_id: str
    group_instance_id: str | None
    reason: str
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
