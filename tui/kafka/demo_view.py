"""What the rebalance demo pane draws, as plain frozen data: one row per consumer, one per
partition, the group's facts and its timeline. Built in one place from explicit inputs (the
group's picture, the roster of members, the log's offsets and the run's facts), not from the
engine, so the pane only lays it out, and a test can build or draw one from fixed data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from localbroker.public import GroupState

from .demo_events import GroupPicture, TimelineEntry, member_name
from .demo_member import DemoMember
from .demo_roster import Roster
from .demo_status import MemberStatus

PALETTE_SIZE = 8
"""Consumers get colours 1..8 in the order they start ($kwb-consumer-1 ... in the themes)."""


@dataclass(frozen=True, slots=True)
class ConsumerRow:
    name: str
    colour: int
    """1..PALETTE_SIZE; 0 for a member the demo did not start (another client in the group)."""
    status: MemberStatus
    partitions: tuple[int, ...]
    processed: int
    delay_ms: int | None
    leader: bool = False
    expires_in_s: float | None = None
    """For a killed consumer still in the group: when the broker should expire it."""


@dataclass(frozen=True, slots=True)
class PartitionRow:
    partition: int
    owner: str | None
    colour: int
    state: str
    """consuming, paused, orphaned (owner killed, gone, or none), rebalancing."""
    log_start: int
    log_end: int
    committed: int | None
    position: int | None
    lag_history: tuple[int, ...] = ()

    @property
    def lag(self) -> int:
        """Kafka's lag: log end offset minus the group's committed offset."""
        base = self.committed if self.committed is not None else self.log_start
        return max(self.log_end - base, 0)


@dataclass(frozen=True, slots=True)
class DemoView:
    group_id: str
    topic: str
    state: str
    """Kafka's name of the group's state (GroupState's value); "-" before the demo starts."""
    generation: int
    session_timeout_ms: int
    source: str
    """broker (the embedded broker's events) or client (what the consumers report)."""
    consumers: tuple[ConsumerRow, ...]
    partitions: tuple[PartitionRow, ...]
    timeline: tuple[TimelineEntry, ...]
    started_ms: int
    feed_rate: float | None
    """Records a second the producer writes; None while it is stopped."""
    reprocessed: int
    running: bool

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.partitions)


def idle_view(group_id: str, topic: str, session_timeout_ms: int, source: str) -> DemoView:
    """Before the demo starts."""
    return DemoView(
        group_id, topic, "-", 0, session_timeout_ms, source, (), (), (), 0, None, 0, False
    )


class LogOffsets(Protocol):
    """The demo topic's offsets as last polled (demo_feed.LogWatcher)."""

    @property
    def log_start(self) -> Mapping[int, int]: ...

    @property
    def log_end(self) -> Mapping[int, int]: ...

    @property
    def lag_history(self) -> Mapping[int, Iterable[int]]: ...


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the view shows of the demo run that is neither the group nor the log."""

    group_id: str
    topic: str
    partitions: int
    session_timeout_ms: int
    source: str
    started_ms: int
    feed_rate: float | None
    reprocessed: int
    running: bool


def build_view(
    run: RunFacts, picture: GroupPicture, roster: Roster, log: LogOffsets | None, now: float
) -> DemoView:
    colours = {member.name: index % PALETTE_SIZE + 1 for index, member in enumerate(roster)}
    owners = {member_id: member_name(member_id) for member_id in picture.assignments}
    consumers = [
        _consumer_row(member, colours[member.name], picture, run.session_timeout_ms, now)
        for member in roster
    ]
    for member_id, name in sorted(picture.members.items()):
        if name not in roster:
            consumers.append(
                ConsumerRow(
                    name,
                    0,
                    MemberStatus.EXTERNAL,
                    picture.assignments.get(member_id, ()),
                    0,
                    None,
                    member_id == picture.leader,
                )
            )
    rebalancing = picture.state is GroupState.PREPARING_REBALANCE
    rows = []
    for partition in range(run.partitions):
        owner_id = picture.owner_of(partition)
        owner = owners.get(owner_id) if owner_id else None
        member = roster.get(owner) if owner else None
        if owner is None:
            state = "rebalancing" if rebalancing else "orphaned"
        elif member is not None and member.status.gone:
            state = "orphaned"
        elif rebalancing or (
            member is not None and member.status in (MemberStatus.REBALANCING, MemberStatus.JOINING)
        ):
            state = "rebalancing"
        elif member is not None and member.paused:
            state = "paused"
        else:
            state = "consuming"
        position = member.positions.get(partition) if member is not None else None
        committed = picture.committed.get(partition)
        log_end = log.log_end.get(partition, 0) if log else 0
        # The log end is polled; commits and positions are live. Never show them past it.
        log_end = max(log_end, committed or 0, position or 0)
        rows.append(
            PartitionRow(
                partition,
                owner,
                colours.get(owner, 0) if owner else 0,
                state,
                log.log_start.get(partition, 0) if log else 0,
                log_end,
                committed,
                position,
                tuple(log.lag_history.get(partition, ())) if log else (),
            )
        )
    return DemoView(
        run.group_id,
        run.topic,
        picture.state.value,
        picture.generation,
        run.session_timeout_ms,
        run.source,
        tuple(consumers),
        tuple(rows),
        tuple(picture.timeline),
        run.started_ms,
        run.feed_rate,
        run.reprocessed,
        run.running,
    )


def _consumer_row(
    member: DemoMember, colour: int, picture: GroupPicture, session_timeout_ms: int, now: float
) -> ConsumerRow:
    in_group = member.member_id in picture.members
    status = member.status
    expires_in = None
    if status is MemberStatus.KILLED:
        if in_group and member.killed_at is not None:
            expires_in = max(session_timeout_ms / 1000 - (now - member.killed_at), 0)
        elif not in_group:
            status = MemberStatus.EXPIRED
    partitions = picture.assignments.get(member.member_id, ()) if in_group else ()
    return ConsumerRow(
        member.name,
        colour,
        status,
        partitions,
        member.processed_count,
        member.processing_delay_ms,
        bool(member.member_id) and member.member_id == picture.leader,
        expires_in,
    )
