"""What the rebalance demo pane draws, as plain frozen data: one row per consumer, one per
partition, the group's facts and its timeline. Built from the engine (demo_group.DemoGroup) in
one place, so the pane only lays it out and a snapshot test can draw fixed data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .demo_events import TimelineEntry, member_name

if TYPE_CHECKING:
    from .demo_group import DemoGroup

PALETTE_SIZE = 8
"""Consumers get colours 1..8 in the order they start ($kwb-consumer-1 ... in the themes)."""


@dataclass(frozen=True, slots=True)
class ConsumerRow:
    name: str
    colour: int
    """1..PALETTE_SIZE; 0 for a member the demo did not start (another client in the group)."""
    status: str
    """running, paused, joining, rebalancing, stopping, left, killed, expired, failed, external."""
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


def build_view(demo: DemoGroup, now: float) -> DemoView:
    picture = demo.picture
    colours: dict[str, int] = {}
    for index, name in enumerate(demo.members):
        colours[name] = index % PALETTE_SIZE + 1
    owners = {member_id: member_name(member_id) for member_id in picture.assignments}
    consumers = [_consumer_row(demo, name, colours[name], now) for name in demo.members]
    for member_id, name in sorted(picture.members.items()):
        if name not in demo.members:
            consumers.append(
                ConsumerRow(
                    name,
                    0,
                    "external",
                    picture.assignments.get(member_id, ()),
                    0,
                    None,
                    member_id == picture.leader,
                )
            )
    watcher = demo.watcher
    rows = []
    for partition in range(demo.partitions):
        owner_id = picture.owner_of(partition)
        owner = owners.get(owner_id) if owner_id else None
        member = demo.members.get(owner) if owner else None
        if owner is None:
            state = "rebalancing" if picture.state == "PreparingRebalance" else "orphaned"
        elif member is not None and member.status in ("killed", "left", "failed"):
            state = "orphaned"
        elif picture.state == "PreparingRebalance" or (
            member is not None and member.status in ("rebalancing", "joining")
        ):
            state = "rebalancing"
        elif member is not None and member.paused:
            state = "paused"
        else:
            state = "consuming"
        position = member.positions.get(partition) if member is not None else None
        committed = picture.committed.get(partition)
        log_end = watcher.log_end.get(partition, 0) if watcher else 0
        # The log end is polled; commits and positions are live. Never show them past it.
        log_end = max(log_end, committed or 0, position or 0)
        rows.append(
            PartitionRow(
                partition,
                owner,
                colours.get(owner, 0) if owner else 0,
                state,
                watcher.log_start.get(partition, 0) if watcher else 0,
                log_end,
                committed,
                position,
                tuple(watcher.lag_history.get(partition, ())) if watcher else (),
            )
        )
    feeder = demo.feeder
    return DemoView(
        demo.settings.group_id,
        demo.settings.topic,
        picture.state,
        picture.generation,
        demo.settings.session_timeout_ms,
        demo.source,
        tuple(consumers),
        tuple(rows),
        tuple(picture.timeline),
        demo.started_ms,
        feeder.rate if feeder is not None and feeder.running else None,
        demo.reprocessed,
        demo.running,
    )


def _consumer_row(demo: DemoGroup, name: str, colour: int, now: float) -> ConsumerRow:
    member = demo.members[name]
    picture = demo.picture
    in_group = member.member_id in picture.members
    status = member.status
    expires_in = None
    if status == "killed":
        if in_group and member.killed_at is not None:
            expires_in = max(demo.settings.session_timeout_ms / 1000 - (now - member.killed_at), 0)
        elif not in_group:
            status = "expired"
    partitions = picture.assignments.get(member.member_id, ()) if in_group else ()
    return ConsumerRow(
        name,
        colour,
        status,
        partitions,
        member.processed_count,
        member.processing_delay_ms,
        bool(member.member_id) and member.member_id == picture.leader,
        expires_in,
    )
