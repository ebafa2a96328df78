"""One classic group and its members: the state the coordinator's rules act on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kio.schema.errors import ErrorCode

from ..protocol.consumer_protocol import subscribed_topics
from ..protocol.names import CONSUMER_PROTOCOL_TYPE, GroupState
from .records import GroupValue, MemberValue, OffsetValue


@dataclass(slots=True)
class JoinResult:
    error: ErrorCode = ErrorCode.none
    generation_id: int = -1
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str = ""
    member_id: str = ""
    members: list[tuple[str, str | None, bytes]] = field(default_factory=list)
    skip_assignment: bool = False


@dataclass(slots=True)
class SyncResult:
    error: ErrorCode = ErrorCode.none
    protocol_type: str | None = None
    protocol_name: str | None = None
    assignment: bytes = b""


JoinCallback = Callable[[JoinResult], None]
SyncCallback = Callable[[SyncResult], None]


@dataclass(eq=False, slots=True)
class Member:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    join_callback: JoinCallback | None = None
    sync_callback: SyncCallback | None = None
    heartbeat_deadline_ms: int = 0
    is_new: bool = False

    @property
    def awaiting_response(self) -> bool:
        return self.join_callback is not None or self.sync_callback is not None

    def metadata(self, protocol_name: str) -> bytes:
        for name, metadata in self.protocols:
            if name == protocol_name:
                return metadata
        raise KeyError(protocol_name)

    def matches(self, protocols: list[tuple[str, bytes]]) -> bool:
        return self.protocols == protocols

    def vote(self, candidates: set[str]) -> str:
        """The member's most preferred protocol among those every member supports."""
        return next(name for name, _ in self.protocols if name in candidates)

    def respond_join(self, result: JoinResult) -> None:
        callback, self.join_callback = self.join_callback, None
        if callback is not None:
            callback(result)

    def respond_sync(self, result: SyncResult) -> None:
        callback, self.sync_callback = self.sync_callback, None
        if callback is not None:
            callback(result)

    def to_record(self, protocol_name: str | None) -> MemberValue:
        subscription = self.metadata(protocol_name) if protocol_name else b""
        return MemberValue(
            self.member_id,
            self.group_instance_id,
            self.client_id,
            self.client_host,
            self.rebalance_timeout_ms,
            self.session_timeout_ms,
            subscription,
            self.assignment,
        )


@dataclass(eq=False, slots=True)
class ClassicGroup:
    group_id: str
    state: GroupState = GroupState.EMPTY
    generation_id: int = 0
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str | None = None
    state_timestamp_ms: int = -1
    members: dict[str, Member] = field(default_factory=dict)
    static_members: dict[str, str] = field(default_factory=dict)
    pending_members: dict[str, int] = field(default_factory=dict)
    pending_sync: set[str] = field(default_factory=set)
    offsets: dict[tuple[str, int], OffsetValue] = field(default_factory=dict)
    join_deadline_ms: int | None = None
    sync_deadline_ms: int | None = None
    initial_remaining_ms: int | None = None
    new_member_added: bool = False
    subscribed: set[str] | None = field(default_factory=set)
    """Topics the members subscribe to, as of the last join completion (None: unknown)."""

    # -- state ----------------------------------------------------------------------------

    def transition(self, state: GroupState, now_ms: int) -> None:
        self.state = state
        self.state_timestamp_ms = now_ms

    @property
    def is_empty(self) -> bool:
        return not self.members

    def all_members_joined(self) -> bool:
        return not self.pending_members and all(
            m.join_callback is not None for m in self.members.values()
        )

    def validate_member(self, member_id: str, group_instance_id: str | None) -> ErrorCode | None:
        """Kafka's validateMember: None, UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID."""
        if group_instance_id is not None:
            current = self.static_members.get(group_instance_id)
            if current is None:
                return ErrorCode.unknown_member_id
            if current != member_id:
                return ErrorCode.fenced_instance_id
        return None if member_id in self.members else ErrorCode.unknown_member_id

    @property
    def max_rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    # -- protocols ------------------------------------------------------------------------

    def candidate_protocols(self, extra: list[tuple[str, bytes]] | None = None) -> set[str]:
        """Protocols every member (and a joining member's `extra` list) supports."""
        sets = [{name for name, _ in m.protocols} for m in self.members.values()]
        if extra is not None:
            sets.append({name for name, _ in extra})
        return set.intersection(*sets) if sets else set()

    def supports(self, protocol_type: str, protocols: list[tuple[str, bytes]]) -> bool:
        if self.is_empty:
            return bool(protocol_type) and bool(protocols)
        return protocol_type == self.protocol_type and bool(self.candidate_protocols(protocols))

    def select_protocol(self) -> str:
        """Kafka's vote: each member votes for its favourite candidate; most votes wins."""
        candidates = self.candidate_protocols()
        votes: dict[str, int] = {}
        for member in self.members.values():
            choice = member.vote(candidates)
            votes[choice] = votes.get(choice, 0) + 1
        return max(votes, key=lambda name: votes[name])

    def compute_subscribed_topics(self) -> set[str] | None:
        """Topics the members subscribe to under the consumer protocol (empty set for other
        protocols or no members, None when a subscription does not decode)."""
        if not self.members:
            return set()
        if self.protocol_type != CONSUMER_PROTOCOL_TYPE or self.protocol_name is None:
            return set()
        topics: set[str] = set()
        for member in self.members.values():
            decoded = subscribed_topics(member.metadata(self.protocol_name))
            if decoded is None:
                return None
            topics.update(decoded)
        return topics

    # -- persistence ----------------------------------------------------------------------

    def to_record(self) -> GroupValue:
        return GroupValue(
            self.protocol_type or "",
            self.generation_id,
            self.protocol_name,
            self.leader_id,
            self.state_timestamp_ms,
            tuple(m.to_record(self.protocol_name) for m in self.members.values()),
        )

    def describe_members(self) -> list[dict[str, Any]]:
        """DescribeGroups members: metadata only once Stable, the stored assignment always."""
        stable = self.state == GroupState.STABLE and self.protocol_name is not None
        return [
            {
                "member_id": m.member_id,
                "group_instance_id": m.group_instance_id,
                "client_id": m.client_id,
                "client_host": m.client_host,
                "member_metadata": m.metadata(self.protocol_name)
                if stable and self.protocol_name
                else b"",
                "member_assignment": m.assignment,
            }
            for m in self.members.values()
        ]
