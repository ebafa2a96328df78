"""What is known about the demo's consumer group, built from one stream of group events.

The events are the broker's own (localbroker.groups.events): on the embedded broker they come
straight from its GroupCoordinator; on any other cluster the demo's members, which see every
join, assignment and leave from the client side, report the same events (see
demo_client_events.py). `GroupPicture` applies them in order and keeps what a view needs:
the group's state and generation, who owns which partition, the committed offsets, and a
timeline of what happened, written for someone who has never seen a rebalance.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field

from localbroker.public import (
    GroupDeleted,
    GroupEmptied,
    GroupEvent,
    GroupState,
    MemberJoined,
    MemberLeft,
    OffsetCommitted,
    RebalanceCompleted,
    RebalanceStarted,
)

TIMELINE_LENGTH = 500
_MEMBER_ID = re.compile(
    r"(?P<name>[\w.-]+?)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
_LEAVE_REASONS = {
    "left": "left the group (LeaveGroup)",
    "expired": "expired: no heartbeat within session.timeout.ms",
    "not rejoined": "removed: did not rejoin in time",
    "not synced": "removed: did not sync in time",
    "fenced": "fenced by a newer instance",
}


def wall_ms() -> int:
    """Now, in epoch milliseconds: the clock of the broker's events."""
    return int(time.time() * 1000)


def member_name(member_id: str) -> str:
    """A member id is "<client.id>-<uuid>" (or "<group.instance.id>-<uuid>"): the name part."""
    match = _MEMBER_ID.fullmatch(member_id)
    return match.group("name") if match else member_id


def shorten_ids(text: str) -> str:
    """Member ids inside a broker's reason text, replaced by their names."""
    return _MEMBER_ID.sub(lambda m: m.group("name"), text)


def partition_list(partitions: list[int] | tuple[int, ...]) -> str:
    return " ".join(f"P{p}" for p in partitions) if partitions else "nothing"


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of the timeline. `kind` picks its colour: join, leave, expired, rebalance,
    stable, empty, action (what the presenter did) or resume (where a consumer starts)."""

    at_ms: int
    kind: str
    text: str


@dataclass(slots=True)
class GroupPicture:
    """The demo group as the events describe it (one group, one topic)."""

    group_id: str
    topic: str
    state: GroupState = GroupState.EMPTY
    generation: int = 0
    leader: str | None = None
    members: dict[str, str] = field(default_factory=dict)
    """member id -> name, for members currently in the group."""
    assignments: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """member id -> partitions of the topic, as of the last completed rebalance."""
    committed: dict[int, int] = field(default_factory=dict)
    timeline: deque[TimelineEntry] = field(default_factory=lambda: deque(maxlen=TIMELINE_LENGTH))
    events_applied: int = 0

    def owner_of(self, partition: int) -> str | None:
        """The member id that owns `partition`, or None (orphaned, or between generations)."""
        for member_id, partitions in self.assignments.items():
            if partition in partitions:
                return member_id
        return None

    def note(self, at_ms: int, kind: str, text: str) -> None:
        self.timeline.append(TimelineEntry(at_ms, kind, text))

    def apply(self, event: GroupEvent) -> None:
        if event.group_id != self.group_id:
            return
        self.events_applied += 1
        if isinstance(event, OffsetCommitted):
            if event.topic == self.topic:
                self.committed[event.partition] = event.offset
        elif isinstance(event, MemberJoined):
            self.members[event.member_id] = member_name(event.member_id)
            self.note(event.at_ms, "join", f"{member_name(event.member_id)} joined the group")
        elif isinstance(event, MemberLeft):
            self._member_left(event)
        elif isinstance(event, RebalanceStarted):
            self.state = GroupState.PREPARING_REBALANCE
            reason = shorten_ids(event.reason) if event.reason else "a member changed"
            ends = f" (generation {event.generation_id} ends)" if event.generation_id else ""
            self.note(event.at_ms, "rebalance", f"rebalance starts{ends}: {reason}")
        elif isinstance(event, RebalanceCompleted):
            self._completed(event)
        elif isinstance(event, GroupEmptied):
            self.state = GroupState.EMPTY
            self.generation = event.generation_id
            self.assignments.clear()
            self.leader = None
            self.note(event.at_ms, "empty", "group is empty (its committed offsets stay)")
        elif isinstance(event, GroupDeleted):
            self.state = GroupState.DEAD
            self.assignments.clear()
            self.members.clear()
            self.committed.clear()
            self.note(event.at_ms, "leave", "group deleted")

    def _member_left(self, event: MemberLeft) -> None:
        name = member_name(event.member_id)
        self.members.pop(event.member_id, None)
        orphaned = self.assignments.pop(event.member_id, ())
        kind = "expired" if event.reason == "expired" else "leave"
        text = f"{name} {_LEAVE_REASONS.get(event.reason, event.reason)}"
        if orphaned:
            text += f"; {partition_list(orphaned)} wait for a new owner"
        self.note(event.at_ms, kind, text)

    def _completed(self, event: RebalanceCompleted) -> None:
        self.state = GroupState.STABLE
        self.generation = event.generation_id
        self.leader = event.leader_id
        self.assignments = {}
        for member_id, topics in event.assignments.items():
            self.members.setdefault(member_id, member_name(member_id))
            self.assignments[member_id] = tuple(sorted((topics or {}).get(self.topic, [])))
        shares = " · ".join(
            f"{member_name(m)} ← {partition_list(ps)}" for m, ps in sorted(self.assignments.items())
        )
        leader = f" (leader {member_name(event.leader_id)})" if event.leader_id else ""
        self.note(
            event.at_ms,
            "stable",
            f"generation {event.generation_id} stable{leader}: {shares or 'no members'}",
        )
