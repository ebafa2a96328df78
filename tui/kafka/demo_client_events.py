"""The demo's members as a source of group events, for clusters whose broker cannot be
watched: what the consumers learn from the client side, told as the broker's own event types,
so the one GroupPicture serves both cases.

What each member knows: when it sends its JoinGroup (MemberJoined; RebalanceStarted if none is
under way), when a heartbeat says a rebalance has started (RebalanceStarted), what the leader
assigned (RebalanceCompleted, from the leader's SyncGroup), what it commits (OffsetCommitted)
and when it leaves (MemberLeft "left"). A member that vanished is noticed when a generation
completes without it: "expired" if the demo killed it (its session ran out), "not rejoined"
otherwise. The observer also keeps the engine's ledger of processed offsets, whatever the
source of events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localbroker.public import (
    GroupEmptied,
    GroupEvent,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    OffsetCommitted,
    RebalanceCompleted,
    RebalanceStarted,
)

from .demo_events import member_name, wall_ms

if TYPE_CHECKING:
    from .demo_group import DemoGroup
    from .demo_member import DemoMember


class ClientSideEvents:
    """The members' observer: keeps the engine's ledger, and on a cluster whose broker events
    cannot be seen, turns what the members learn into the broker's event types."""

    def __init__(self, demo: DemoGroup) -> None:
        self._demo = demo

    @property
    def _reporting(self) -> bool:
        return self._demo.source == "client"

    def _emit(self, event: GroupEvent) -> None:
        if self._reporting:
            self._demo.apply(event)

    def joining(self, member: DemoMember) -> None:
        picture = self._demo.picture
        group = self._demo.settings.group_id
        if member.member_id not in picture.members:
            self._emit(MemberJoined(group, member.member_id, None, member.name, "", wall_ms()))
        if picture.state != "PreparingRebalance":
            reason = f"{member.name} joined" if member.generation < 0 else f"{member.name} rejoins"
            self._emit(RebalanceStarted(group, picture.generation, reason, wall_ms()))

    def rebalance_noticed(self, member: DemoMember, reason: str) -> None:
        picture = self._demo.picture
        if picture.state != "PreparingRebalance":
            self._emit(
                RebalanceStarted(
                    self._demo.settings.group_id,
                    picture.generation,
                    f"{member.name}'s heartbeat answered {reason}",
                    wall_ms(),
                )
            )

    def joined(self, member: DemoMember, members: list[str] | None) -> None:
        if members is None:
            return
        picture = self._demo.picture
        for gone in [m for m in picture.members if m not in members]:
            owner = self._demo.members.get(member_name(gone))
            reason = (
                LeaveReason.EXPIRED
                if owner is not None and owner.status == "killed"
                else LeaveReason.NOT_REJOINED
            )
            self._emit(MemberLeft(self._demo.settings.group_id, gone, None, reason, wall_ms()))

    def assigned(
        self, member: DemoMember, assignments: dict[str, list[int]] | None, starts: dict[int, int]
    ) -> None:
        if assignments is not None:
            topic = self._demo.settings.topic
            self._emit(
                RebalanceCompleted(
                    self._demo.settings.group_id,
                    member.generation,
                    self._demo.settings.assignor,
                    member.member_id,
                    {m: {topic: ps} for m, ps in assignments.items()},
                    wall_ms(),
                )
            )
        self._demo.record_assigned(member, starts)

    def processed(self, member: DemoMember, partition: int, offset: int) -> None:
        self._demo.record_processed(partition, offset)

    def committed(self, member: DemoMember, offsets: dict[int, int]) -> None:
        for partition, offset in offsets.items():
            self._emit(
                OffsetCommitted(
                    self._demo.settings.group_id,
                    self._demo.settings.topic,
                    partition,
                    offset,
                    member.name,
                    wall_ms(),
                )
            )

    def left(self, member: DemoMember) -> None:
        group = self._demo.settings.group_id
        picture = self._demo.picture
        if member.member_id in picture.members:
            self._emit(MemberLeft(group, member.member_id, None, LeaveReason.LEFT, wall_ms()))
        if self._reporting and not picture.members and picture.state != "Empty":
            self._emit(GroupEmptied(group, picture.generation + 1, wall_ms()))
        self._demo.version += 1

    def failed(self, member: DemoMember, message: str) -> None:
        self._demo.report_error(message)
