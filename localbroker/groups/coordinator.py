"""The classic group coordinator as a state machine: requests and the clock in, callbacks,
records and events out.

Nothing here does I/O or knows asyncio. Handlers call `join`, `sync`, ... with the current
time and a callback for requests that wait (JoinGroup and SyncGroup park until the group's
rebalance gets there); the broker calls `poll(now_ms)` at `next_deadline()` to expire
sessions, finish rebalances and expire offsets. Durable state leaves through `storage`
as `__consumer_offsets` records; observers get `GroupEvent`s. The rules and error codes are
those of Kafka's classic protocol (KIP-394 member ids, KIP-345 static membership).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kio.schema.errors import ErrorCode

from ..protocol.consumer_protocol import assigned_partitions
from ..protocol.names import GroupState
from .events import (
    GroupEmptied,
    GroupEvent,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    RebalanceCompleted,
    RebalanceStarted,
)
from .group import (
    ClassicGroup,
    JoinCallback,
    JoinResult,
    Member,
    SyncCallback,
    SyncResult,
)
from .offsets import GroupOffsets, OffsetsConfig
from .records import (
    GroupKey,
    GroupValue,
    OffsetKey,
    RecordFormatError,
    decode_group,
    decode_key,
    encode_group,
    encode_key,
)
from .registry import GroupRegistry, GroupStorage

log = logging.getLogger(__name__)

NO_GENERATION = -1
# Kafka's CLASSIC_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS: how long a new member may wait in JoinGroup.
NEW_MEMBER_JOIN_TIMEOUT_MS = 300_000
UNKNOWN_MEMBER = ""
MEMBER_ID_REQUIRED_VERSION = 4
SKIP_ASSIGNMENT_VERSION = 9


@dataclass(frozen=True, slots=True)
class GroupConfig:
    min_session_timeout_ms: int = 6000
    max_session_timeout_ms: int = 1_800_000
    initial_rebalance_delay_ms: int = 3000
    max_size: int = 2**31 - 1
    offsets_retention_ms: int = 7 * 24 * 3600 * 1000
    offsets_retention_check_interval_ms: int = 600_000
    offset_metadata_max_bytes: int = 4096


@dataclass(frozen=True, slots=True)
class JoinRequest:
    group_id: str
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    api_version: int
    reason: str | None = None


class GroupCoordinator:
    def __init__(self, config: GroupConfig, storage: GroupStorage) -> None:
        self.config = config
        self._registry = GroupRegistry(storage)
        self.offsets = GroupOffsets(
            self._registry,
            OffsetsConfig(config.offsets_retention_ms, config.offset_metadata_max_bytes),
        )
        self._next_offset_expiry_ms = 0

    @property
    def groups(self) -> dict[str, ClassicGroup]:
        """Every group by id (read them; change them only through the coordinator's calls)."""
        return self._registry.groups

    def subscribe(self, listener: Callable[[GroupEvent], None]) -> Callable[[], None]:
        """Call `listener` with every GroupEvent; returns a function that unsubscribes."""
        return self._registry.subscribe(listener)

    # -- JoinGroup ------------------------------------------------------------------------

    def join(self, request: JoinRequest, now_ms: int, respond: JoinCallback) -> None:
        error = self._validate_join(request)
        if error is not None:
            respond(JoinResult(error=error, member_id=request.member_id))
            return
        group = self.groups.get(request.group_id)
        created = group is None
        if group is None:
            if request.member_id != UNKNOWN_MEMBER:
                respond(JoinResult(error=ErrorCode.unknown_member_id, member_id=request.member_id))
                return
            group = self._registry.create(request.group_id)
            group.state_timestamp_ms = now_ms
        if created:
            self._persist_empty_group(group, now_ms)
        if not self._accepts(group, request.member_id):
            if request.member_id in group.members:
                self._remove_member(
                    group, group.members[request.member_id], LeaveReason.GROUP_FULL, now_ms
                )
            group.pending_members.pop(request.member_id, None)
            respond(JoinResult(error=ErrorCode.group_max_size_reached))
            return
        if group.state == GroupState.DEAD:
            respond(
                JoinResult(error=ErrorCode.coordinator_not_available, member_id=request.member_id)
            )
            return
        if not group.supports(request.protocol_type, request.protocols):
            respond(
                JoinResult(error=ErrorCode.inconsistent_group_protocol, member_id=request.member_id)
            )
            return
        if request.member_id == UNKNOWN_MEMBER:
            self._join_new_member(group, request, now_ms, respond)
        else:
            self._join_existing_member(group, request, now_ms, respond)
        self._maybe_complete_join(group, now_ms)

    def _accepts(self, group: ClassicGroup, member_id: str) -> bool:
        """Kafka's acceptJoiningMember: room under group.max.size for this join?"""
        limit = self.config.max_size
        if group.state in (GroupState.EMPTY, GroupState.DEAD):
            return True
        if group.state == GroupState.PREPARING_REBALANCE:
            member = group.members.get(member_id)
            waiting = sum(1 for m in group.members.values() if m.join_callback is not None)
            return (member is not None and member.join_callback is not None) or waiting < limit
        return member_id in group.members or len(group.members) < limit

    def _persist_empty_group(self, group: ClassicGroup, now_ms: int) -> None:
        """A JoinGroup that creates a group records it at once, as Kafka does."""
        empty = GroupValue("", 0, None, None, now_ms)
        self._registry.write(
            group.group_id, [(encode_key(GroupKey(group.group_id)), encode_group(empty))]
        )

    def _validate_join(self, request: JoinRequest) -> ErrorCode | None:
        if not request.group_id:
            return ErrorCode.invalid_group_id
        if not (
            self.config.min_session_timeout_ms
            <= request.session_timeout_ms
            <= self.config.max_session_timeout_ms
        ):
            return ErrorCode.invalid_session_timeout
        return None

    def _new_member_id(self, request: JoinRequest) -> str:
        prefix = request.group_instance_id or request.client_id
        return f"{prefix}-{uuid.uuid4()}"

    def _join_new_member(
        self, group: ClassicGroup, request: JoinRequest, now_ms: int, respond: JoinCallback
    ) -> None:
        instance_id = request.group_instance_id
        if instance_id is not None and instance_id in group.static_members:
            self._replace_static_member(group, request, now_ms, respond)
            return
        member_id = self._new_member_id(request)
        if instance_id is None and request.api_version >= MEMBER_ID_REQUIRED_VERSION:
            group.pending_members[member_id] = now_ms + request.session_timeout_ms
            respond(JoinResult(error=ErrorCode.member_id_required, member_id=member_id))
            return
        self._add_member_and_rebalance(group, request, member_id, now_ms, respond)

    def _join_existing_member(
        self, group: ClassicGroup, request: JoinRequest, now_ms: int, respond: JoinCallback
    ) -> None:
        member_id = request.member_id
        if member_id in group.pending_members:
            del group.pending_members[member_id]
            self._add_member_and_rebalance(group, request, member_id, now_ms, respond)
            return
        error = group.validate_member(member_id, request.group_instance_id)
        if error is not None:
            respond(JoinResult(error=error, member_id=member_id))
            return
        member = group.members[member_id]
        state = group.state
        if state == GroupState.PREPARING_REBALANCE:
            self._update_member(member, request, respond)
        elif state == GroupState.COMPLETING_REBALANCE:
            if member.matches(request.protocols):
                member.join_callback = respond
                member.respond_join(self._join_result(group, member))
            else:
                self._update_member(member, request, respond)
                self._prepare_rebalance(group, now_ms, f"member {member_id} changed protocols")
        elif state == GroupState.STABLE:
            if member_id == group.leader_id or not member.matches(request.protocols):
                self._update_member(member, request, respond)
                reason = request.reason or f"member {member_id} rejoined"
                self._prepare_rebalance(group, now_ms, reason)
            else:
                member.join_callback = respond
                member.respond_join(self._join_result(group, member))
        else:
            respond(JoinResult(error=ErrorCode.unknown_member_id, member_id=member_id))
        member.heartbeat_deadline_ms = now_ms + member.session_timeout_ms

    def _update_member(self, member: Member, request: JoinRequest, respond: JoinCallback) -> None:
        member.protocols = request.protocols
        member.rebalance_timeout_ms = request.rebalance_timeout_ms
        member.session_timeout_ms = request.session_timeout_ms
        member.join_callback = respond

    def _add_member_and_rebalance(
        self,
        group: ClassicGroup,
        request: JoinRequest,
        member_id: str,
        now_ms: int,
        respond: JoinCallback,
    ) -> None:
        member = Member(
            member_id,
            request.group_instance_id,
            request.client_id,
            request.client_host,
            request.rebalance_timeout_ms,
            request.session_timeout_ms,
            request.protocol_type,
            list(request.protocols),
            join_callback=respond,
            is_new=True,
            heartbeat_deadline_ms=now_ms + NEW_MEMBER_JOIN_TIMEOUT_MS,
        )
        if group.is_empty:
            group.protocol_type = request.protocol_type
        group.members[member_id] = member
        if member.group_instance_id is not None:
            group.static_members[member.group_instance_id] = member_id
        if group.leader_id is None:
            group.leader_id = member_id
        self._registry.emit(
            MemberJoined(
                group.group_id,
                member_id,
                member.group_instance_id,
                member.client_id,
                member.client_host,
                now_ms,
            )
        )
        if group.state != GroupState.PREPARING_REBALANCE:
            self._prepare_rebalance(group, now_ms, request.reason or f"{member_id} joined")
        elif group.initial_remaining_ms is not None:
            group.new_member_added = True

    def _replace_static_member(
        self, group: ClassicGroup, request: JoinRequest, now_ms: int, respond: JoinCallback
    ) -> None:
        """KIP-345: a static member restarted with a new member id takes its old place."""
        instance_id = request.group_instance_id
        assert instance_id is not None
        old_id = group.static_members[instance_id]
        old = group.members.pop(old_id)
        old_leader = group.leader_id
        new_id = self._new_member_id(request)
        old.respond_join(JoinResult(error=ErrorCode.fenced_instance_id, member_id=old_id))
        old.respond_sync(SyncResult(error=ErrorCode.fenced_instance_id))
        member = Member(
            new_id,
            instance_id,
            old.client_id,
            old.client_host,
            request.rebalance_timeout_ms,
            request.session_timeout_ms,
            request.protocol_type,
            list(request.protocols),
            assignment=old.assignment,
            join_callback=respond,
            heartbeat_deadline_ms=now_ms + old.session_timeout_ms,
        )
        group.members[new_id] = member
        group.static_members[instance_id] = new_id
        if group.leader_id == old_id:
            group.leader_id = new_id
        group.pending_sync.discard(old_id)
        self._registry.emit(
            MemberLeft(group.group_id, old_id, instance_id, LeaveReason.FENCED, now_ms)
        )
        self._registry.emit(
            MemberJoined(
                group.group_id, new_id, instance_id, member.client_id, member.client_host, now_ms
            )
        )
        if group.state == GroupState.STABLE and group.select_protocol() == group.protocol_name:
            # No rebalance: the member gets the current generation and, at SyncGroup, its old
            # assignment. From v9 a rejoining leader is told to skip assigning (KIP-814); older
            # versions name the previous leader id, so the new leader acts as a follower.
            self._persist_group(group)
            result = self._join_result(group, member)
            if request.api_version >= SKIP_ASSIGNMENT_VERSION:
                result.skip_assignment = new_id == group.leader_id
            else:
                result.leader_id = old_leader or ""
                result.members = []
            member.respond_join(result)
        elif group.state != GroupState.PREPARING_REBALANCE:
            self._prepare_rebalance(group, now_ms, f"static member {instance_id} rejoined")

    def _join_result(self, group: ClassicGroup, member: Member) -> JoinResult:
        assert group.protocol_name is not None
        is_leader = member.member_id == group.leader_id
        return JoinResult(
            generation_id=group.generation_id,
            protocol_type=group.protocol_type,
            protocol_name=group.protocol_name,
            leader_id=group.leader_id or "",
            member_id=member.member_id,
            members=[
                (m.member_id, m.group_instance_id, m.metadata(group.protocol_name))
                for m in group.members.values()
            ]
            if is_leader
            else [],
        )

    # -- rebalancing ----------------------------------------------------------------------

    def _prepare_rebalance(self, group: ClassicGroup, now_ms: int, reason: str) -> None:
        if group.state == GroupState.COMPLETING_REBALANCE:
            for member in group.members.values():
                member.assignment = b""
                if member.sync_callback is not None:
                    member.heartbeat_deadline_ms = now_ms + member.session_timeout_ms
                member.respond_sync(SyncResult(error=ErrorCode.rebalance_in_progress))
        group.pending_sync.clear()
        group.sync_deadline_ms = None
        if group.state == GroupState.EMPTY:
            delay = self.config.initial_rebalance_delay_ms
            group.initial_remaining_ms = max(group.max_rebalance_timeout_ms - delay, 0)
            group.new_member_added = False
            group.join_deadline_ms = now_ms + delay
        else:
            group.initial_remaining_ms = None
            group.join_deadline_ms = now_ms + group.max_rebalance_timeout_ms
        if group.state != GroupState.PREPARING_REBALANCE:
            group.transition(GroupState.PREPARING_REBALANCE, now_ms)
            self._registry.emit(
                RebalanceStarted(group.group_id, group.generation_id, reason, now_ms)
            )

    def _join_deadline_passed(self, group: ClassicGroup, now_ms: int) -> None:
        """The join timer fired. In the initial rebalance, members that arrived during the
        last delay buy another one, until the rebalance timeout is used up
        (InitialDelayedJoin); otherwise the join phase ends now."""
        remaining = group.initial_remaining_ms
        deadline = group.join_deadline_ms
        if remaining is not None and deadline is not None and group.new_member_added and remaining:
            delay = self.config.initial_rebalance_delay_ms
            group.new_member_added = False
            group.join_deadline_ms = deadline + min(delay, remaining)
            group.initial_remaining_ms = max(remaining - delay, 0)
            if group.join_deadline_ms > now_ms:
                return
        self._complete_join(group, now_ms)

    def _maybe_complete_join(self, group: ClassicGroup, now_ms: int) -> None:
        """Finish the join phase when everyone is in; the initial one only when its delay
        is over (at once with group.initial.rebalance.delay.ms=0)."""
        if group.state != GroupState.PREPARING_REBALANCE:
            return
        if group.initial_remaining_ms is not None:
            if group.join_deadline_ms is not None and now_ms >= group.join_deadline_ms:
                self._join_deadline_passed(group, now_ms)
            return
        if group.all_members_joined():
            self._complete_join(group, now_ms)

    def _complete_join(self, group: ClassicGroup, now_ms: int) -> None:
        """End the join phase: drop dynamic members that did not rejoin (static ones stay,
        KIP-345), start the next generation and answer every parked JoinGroup."""
        for member in [
            m
            for m in group.members.values()
            if m.join_callback is None and m.group_instance_id is None
        ]:
            self._remove_member(group, member, LeaveReason.NOT_REJOINED, now_ms)
        joined = [m for m in group.members.values() if m.join_callback is not None]
        if group.members and not joined:
            group.join_deadline_ms = now_ms + group.max_rebalance_timeout_ms
            return
        group.join_deadline_ms = None
        group.initial_remaining_ms = None
        group.generation_id += 1
        if group.is_empty:
            group.protocol_name = None
            group.leader_id = None
            group.subscribed = set()
            group.transition(GroupState.EMPTY, now_ms)
            self._persist_group(group)
            self._registry.emit(GroupEmptied(group.group_id, group.generation_id, now_ms))
            return
        leader = group.members.get(group.leader_id or "")
        if leader is None or leader.join_callback is None:
            group.leader_id = joined[0].member_id
        group.protocol_name = group.select_protocol()
        group.subscribed = group.compute_subscribed_topics()
        group.transition(GroupState.COMPLETING_REBALANCE, now_ms)
        group.pending_sync = set(group.members)
        group.sync_deadline_ms = now_ms + group.max_rebalance_timeout_ms
        for member in group.members.values():
            member.is_new = False
            member.heartbeat_deadline_ms = now_ms + member.session_timeout_ms
            member.respond_join(self._join_result(group, member))

    def _remove_member(
        self, group: ClassicGroup, member: Member, reason: LeaveReason, now_ms: int
    ) -> None:
        group.members.pop(member.member_id, None)
        if member.group_instance_id is not None:
            group.static_members.pop(member.group_instance_id, None)
        group.pending_sync.discard(member.member_id)
        if group.leader_id == member.member_id:
            group.leader_id = next(iter(group.members), None)
        member.respond_join(JoinResult(error=ErrorCode.unknown_member_id))
        member.respond_sync(SyncResult(error=ErrorCode.unknown_member_id))
        self._registry.emit(
            MemberLeft(group.group_id, member.member_id, member.group_instance_id, reason, now_ms)
        )

    def _rebalance_after_removal(self, group: ClassicGroup, now_ms: int, reason: str) -> None:
        if group.state in (GroupState.STABLE, GroupState.COMPLETING_REBALANCE):
            self._prepare_rebalance(group, now_ms, reason)
        self._maybe_complete_join(group, now_ms)

    # -- SyncGroup --------------------------------------------------------------------------

    def sync(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        group_instance_id: str | None,
        protocol_type: str | None,
        protocol_name: str | None,
        assignments: dict[str, bytes],
        now_ms: int,
        respond: SyncCallback,
    ) -> None:
        if not group_id:
            respond(SyncResult(error=ErrorCode.invalid_group_id))
            return
        group = self.groups.get(group_id)
        error = self._member_error(group, member_id, group_instance_id, generation_id)
        if (
            error is None
            and group is not None
            and (
                (protocol_type is not None and protocol_type != group.protocol_type)
                or (protocol_name is not None and protocol_name != group.protocol_name)
            )
        ):
            error = ErrorCode.inconsistent_group_protocol
        if error is not None or group is None:
            respond(SyncResult(error=error or ErrorCode.unknown_member_id))
            return
        member = group.members[member_id]
        member.heartbeat_deadline_ms = now_ms + member.session_timeout_ms
        if group.state == GroupState.PREPARING_REBALANCE:
            respond(SyncResult(error=ErrorCode.rebalance_in_progress))
        elif group.state == GroupState.COMPLETING_REBALANCE:
            member.sync_callback = respond
            group.pending_sync.discard(member_id)
            if member_id == group.leader_id:
                self._apply_assignment(group, assignments, now_ms)
        elif group.state == GroupState.STABLE:
            group.pending_sync.discard(member_id)
            respond(
                SyncResult(
                    protocol_type=group.protocol_type,
                    protocol_name=group.protocol_name,
                    assignment=member.assignment,
                )
            )
        else:
            respond(SyncResult(error=ErrorCode.unknown_member_id))

    def _apply_assignment(
        self, group: ClassicGroup, assignments: dict[str, bytes], now_ms: int
    ) -> None:
        for member in group.members.values():
            member.assignment = assignments.get(member.member_id, b"")
        self._persist_group(group)
        group.transition(GroupState.STABLE, now_ms)
        for member in group.members.values():
            if member.sync_callback is not None:
                member.heartbeat_deadline_ms = now_ms + member.session_timeout_ms
            member.respond_sync(
                SyncResult(
                    protocol_type=group.protocol_type,
                    protocol_name=group.protocol_name,
                    assignment=member.assignment,
                )
            )
        self._registry.emit(
            RebalanceCompleted(
                group.group_id,
                group.generation_id,
                group.protocol_name,
                group.leader_id,
                {m.member_id: assigned_partitions(m.assignment) for m in group.members.values()},
                now_ms,
            )
        )

    # -- Heartbeat and LeaveGroup ---------------------------------------------------------

    def heartbeat(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        group_instance_id: str | None,
        now_ms: int,
    ) -> ErrorCode:
        if not group_id:
            return ErrorCode.invalid_group_id
        group = self.groups.get(group_id)
        error = self._member_error(group, member_id, group_instance_id, generation_id)
        if error is not None or group is None:
            return error or ErrorCode.unknown_member_id
        member = group.members[member_id]
        member.heartbeat_deadline_ms = now_ms + member.session_timeout_ms
        if group.state == GroupState.PREPARING_REBALANCE:
            return ErrorCode.rebalance_in_progress
        return ErrorCode.none

    def leave(
        self, group_id: str, members: list[tuple[str, str | None]], now_ms: int
    ) -> tuple[ErrorCode, list[ErrorCode]]:
        """Remove members (member id, instance id); top-level error and one error each."""
        if not group_id:
            return ErrorCode.invalid_group_id, []
        group = self.groups.get(group_id)
        if group is None:
            return ErrorCode.none, [ErrorCode.unknown_member_id] * len(members)
        if group.state == GroupState.DEAD:
            return ErrorCode.coordinator_not_available, []
        errors = []
        removed = []
        for member_id, instance_id in members:
            if member_id == UNKNOWN_MEMBER:
                member_id = group.static_members.get(instance_id or "", UNKNOWN_MEMBER)
                if member_id == UNKNOWN_MEMBER:
                    errors.append(ErrorCode.unknown_member_id)
                    continue
            elif member_id in group.pending_members:
                del group.pending_members[member_id]
                errors.append(ErrorCode.none)
                continue
            else:
                error = group.validate_member(member_id, instance_id)
                if error is not None:
                    errors.append(error)
                    continue
            self._remove_member(group, group.members[member_id], LeaveReason.LEFT, now_ms)
            removed.append(member_id)
            errors.append(ErrorCode.none)
        if removed:
            self._rebalance_after_removal(group, now_ms, f"{', '.join(removed)} left the group")
        elif group.state == GroupState.PREPARING_REBALANCE:
            self._maybe_complete_join(group, now_ms)
        return ErrorCode.none, errors

    def _member_error(
        self,
        group: ClassicGroup | None,
        member_id: str,
        group_instance_id: str | None,
        generation_id: int,
    ) -> ErrorCode | None:
        """Checks shared by SyncGroup and Heartbeat, in Kafka's order."""
        if group is None:
            return ErrorCode.unknown_member_id
        if group.state == GroupState.DEAD:
            return ErrorCode.coordinator_not_available
        error = group.validate_member(member_id, group_instance_id)
        if error is not None:
            return error
        if generation_id != group.generation_id:
            return ErrorCode.illegal_generation
        return None

    # -- timers -----------------------------------------------------------------------------

    def next_deadline(self) -> int | None:
        deadlines = [self._next_offset_expiry_ms]
        for group in self.groups.values():
            if group.join_deadline_ms is not None:
                deadlines.append(group.join_deadline_ms)
            if group.sync_deadline_ms is not None and group.pending_sync:
                deadlines.append(group.sync_deadline_ms)
            deadlines.extend(group.pending_members.values())
            deadlines.extend(
                m.heartbeat_deadline_ms for m in group.members.values() if not m.awaiting_response
            )
        return min(deadlines)

    def poll(self, now_ms: int) -> None:
        """Expire sessions, finish due rebalances and expire old offsets."""
        for group in list(self.groups.values()):
            self._expire_members(group, now_ms)
            if (
                group.state == GroupState.PREPARING_REBALANCE
                and group.join_deadline_ms is not None
                and now_ms >= group.join_deadline_ms
            ):
                self._join_deadline_passed(group, now_ms)
            if (
                group.sync_deadline_ms is not None
                and now_ms >= group.sync_deadline_ms
                and group.pending_sync
            ):
                laggards = [group.members[m] for m in group.pending_sync if m in group.members]
                for member in laggards:
                    self._remove_member(group, member, LeaveReason.NOT_SYNCED, now_ms)
                group.sync_deadline_ms = None
                self._rebalance_after_removal(group, now_ms, "members missed SyncGroup")
        if now_ms >= self._next_offset_expiry_ms:
            self._next_offset_expiry_ms = now_ms + self.config.offsets_retention_check_interval_ms
            self.offsets.expire(now_ms)

    def _expire_members(self, group: ClassicGroup, now_ms: int) -> None:
        for member_id, deadline in list(group.pending_members.items()):
            if now_ms >= deadline:
                del group.pending_members[member_id]
                self._maybe_complete_join(group, now_ms)
        expired = [
            m
            for m in group.members.values()
            if (m.is_new or not m.awaiting_response) and now_ms >= m.heartbeat_deadline_ms
        ]
        for member in expired:
            self._remove_member(group, member, LeaveReason.EXPIRED, now_ms)
        if expired:
            names = ", ".join(m.member_id for m in expired)
            self._rebalance_after_removal(group, now_ms, f"session of {names} expired")

    # -- listing, describing, deleting ----------------------------------------------------

    def list_groups(self, states: Iterable[str] = ()) -> list[ClassicGroup]:
        wanted = {s.lower() for s in states}
        return [
            g
            for g in self.groups.values()
            if g.state != GroupState.DEAD and (not wanted or g.state.value.lower() in wanted)
        ]

    def delete_group(self, group_id: str, now_ms: int) -> ErrorCode:
        """DeleteGroups: only an Empty group (or a simple consumer's) can be deleted."""
        group = self.groups.get(group_id)
        if group is None or group.state == GroupState.DEAD:
            return ErrorCode.group_id_not_found
        if group.state != GroupState.EMPTY:
            return ErrorCode.non_empty_group
        self._registry.remove(group, now_ms)
        return ErrorCode.none

    # -- persistence --------------------------------------------------------------------------

    def _persist_group(self, group: ClassicGroup) -> None:
        self._registry.write(
            group.group_id,
            [(encode_key(GroupKey(group.group_id)), encode_group(group.to_record()))],
        )

    def load(self, records: Iterable[tuple[bytes | None, bytes | None]], now_ms: int) -> None:
        """Rebuild groups and offsets from `__consumer_offsets` records, oldest first (all
        partitions' at a single broker's start, one partition's when this broker comes to
        lead it); the groups of other partitions are left as they are."""
        loaded: set[str] = set()
        for key_bytes, value_bytes in records:
            if key_bytes is None:
                continue
            try:
                key = decode_key(key_bytes)
                if isinstance(key, OffsetKey):
                    self.offsets.load(key, value_bytes)
                else:
                    self._load_group(key.group_id, value_bytes, now_ms)
                loaded.add(key.group_id)
            except RecordFormatError as exc:
                log.warning("skipping an unreadable __consumer_offsets record: %s", exc)
        for group in [self.groups[g] for g in loaded if g in self.groups]:
            if group.members:
                group.transition(GroupState.STABLE, group.state_timestamp_ms)
            group.subscribed = group.compute_subscribed_topics()

    def unload(self, belongs: Callable[[str], bool]) -> None:
        """Forget the groups `belongs` to a partition this broker no longer leads (Kafka's
        removeGroupsForPartition): requests parked in a rebalance get NOT_COORDINATOR, so
        their members find the new coordinator, which loads the groups from the log."""
        for group_id in [g for g in self.groups if belongs(g)]:
            group = self.groups.pop(group_id)
            for member in group.members.values():
                member.respond_join(
                    JoinResult(error=ErrorCode.not_coordinator, member_id=member.member_id)
                )
                member.respond_sync(SyncResult(error=ErrorCode.not_coordinator))

    def _load_group(self, group_id: str, value_bytes: bytes | None, now_ms: int) -> None:
        if value_bytes is None:
            self.groups.pop(group_id, None)
            return
        value = decode_group(value_bytes)
        group = self._registry.get(group_id) or self._registry.create(group_id)
        group.protocol_type = value.protocol_type or None
        group.generation_id = value.generation_id
        group.protocol_name = value.protocol_name
        group.leader_id = value.leader_id
        group.state_timestamp_ms = value.state_timestamp if value.state_timestamp >= 0 else now_ms
        group.members = {}
        group.static_members = {}
        for m in value.members:
            protocols = [(value.protocol_name, m.subscription)] if value.protocol_name else []
            group.members[m.member_id] = Member(
                m.member_id,
                m.group_instance_id,
                m.client_id,
                m.client_host,
                m.rebalance_timeout_ms,
                m.session_timeout_ms,
                value.protocol_type,
                protocols,
                assignment=m.assignment,
                heartbeat_deadline_ms=now_ms + m.session_timeout_ms,
            )
            if m.group_instance_id is not None:
                group.static_members[m.group_instance_id] = m.member_id
        group.state = GroupState.EMPTY
