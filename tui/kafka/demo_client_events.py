"""The demo's members as a source of group events, for clusters whose broker cannot be
watched: what the consumers learn from the client side, told as the broker's own event types,
so the one GroupPicture serves both cases.

What each member knows: when it sends its JoinGroup (MemberJoined; RebalanceStarted if none is
under way), when a heartbeat says a rebalance has started (RebalanceStarted), what the leader
assigned (RebalanceCompleted, from the leader's SyncGroup), what it commits (OffsetCommitted)
and when it leaves (MemberLeft "left"). A member that vanished is noticed when a generation
completes without it: "expired" if the demo killed it (its session ran out), "not rejoined"
otherwise.

It reads the picture (to tell a rebalance already under way) and the roster (to tell a killed
member), and hands every event to `emit`; it keeps nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable

from localbroker.public import (
    GroupEmptied,
    GroupEvent,
    GroupState,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    OffsetCommitted,
    RebalanceCompleted,
    RebalanceStarted,
)

from .demo_events import GroupPicture, member_name, wall_ms
from .demo_member import DemoMember, MemberSettings
from .demo_roster import Roster
from .demo_status import MemberStatus


class ClientSideEvents:
    """Turns what the members learn into the broker's event types, as they learn it."""

    def __init__(
        self,
        settings: MemberSettings,
        picture: GroupPicture,
        roster: Roster,
        emit: Callable[[GroupEvent], None],
    ) -> None:
        self._group = settings.group_id
        self._topic = settings.topic
        self._assignor = settings.assignor
        self._picture = picture
        self._roster = roster
        self._emit = emit

    def joining(self, member: DemoMember) -> None:
        picture = self._picture
        if member.member_id not in picture.members:
            self._emit(
                MemberJoined(self._group, member.member_id, None, member.name, "", wall_ms())
            )
        if picture.state is not GroupState.PREPARING_REBALANCE:
            reason = f"{member.name} joined" if member.generation < 0 else f"{member.name} rejoins"
            self._emit(RebalanceStarted(self._group, picture.generation, reason, wall_ms()))

    def rebalance_noticed(self, member: DemoMember, reason: str) -> None:
        picture = self._picture
        if picture.state is not GroupState.PREPARING_REBALANCE:
            self._emit(
                RebalanceStarted(
                    self._group,
                    picture.generation,
                    f"{member.name}'s heartbeat answered {reason}",
                    wall_ms(),
                )
            )

    def joined(self, members: list[str]) -> None:
        """The leader's JoinGroup answer: `members`, every member id of the new generation."""
        for gone in [m for m in self._picture.members if m not in members]:
            owner = self._roster.get(member_name(gone))
            killed = owner is not None and owner.status is MemberStatus.KILLED
            reason = LeaveReason.EXPIRED if killed else LeaveReason.NOT_REJOINED
            self._emit(MemberLeft(self._group, gone, None, reason, wall_ms()))

    def assigned(self, member: DemoMember, assignments: dict[str, list[int]]) -> None:
        """The leader's SyncGroup: everyone's partitions in `member.generation`."""
        self._emit(
            RebalanceCompleted(
                self._group,
                member.generation,
                self._assignor,
                member.member_id,
                {m: {self._topic: ps} for m, ps in assignments.items()},
                wall_ms(),
            )
        )

    def committed(self, member: DemoMember, offsets: dict[int, int]) -> None:
        for partition, offset in offsets.items():
            self._emit(
                OffsetCommitted(self._group, self._topic, partition, offset, member.name, wall_ms())
            )

    def left(self, member: DemoMember) -> None:
        picture = self._picture
        if member.member_id in picture.members:
            self._emit(MemberLeft(self._group, member.member_id, None, LeaveReason.LEFT, wall_ms()))
        if not picture.members and picture.state is not GroupState.EMPTY:
            self._emit(GroupEmptied(self._group, picture.generation + 1, wall_ms()))
