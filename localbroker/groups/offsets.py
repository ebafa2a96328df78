"""Committed offsets of every group: commits, fetches, deletes and KIP-211 expiry.

Offsets belong to a `ClassicGroup` (a simple consumer's group has no members and no protocol
type). Validation follows Kafka 4.0's classic rules; every change leaves as a
`__consumer_offsets` record (a tombstone for a removal) through the group registry, the one
thing these rules share with the membership rules of coordinator.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import CONSUMER_PROTOCOL_TYPE, GroupState
from .events import OffsetCommitted
from .group import ClassicGroup
from .records import OffsetKey, OffsetValue, decode_offset, encode_key, encode_offset
from .registry import GroupRegistry, Records

GROUP_ID_NOT_FOUND_VERSION = 9


@dataclass(frozen=True, slots=True)
class OffsetsConfig:
    retention_ms: int = 7 * 24 * 3600 * 1000
    """offsets.retention.minutes, in milliseconds."""
    metadata_max_bytes: int = 4096
    """offset.metadata.max.bytes"""


@dataclass(frozen=True, slots=True)
class CommitEntry:
    topic: str
    partition: int
    offset: int
    leader_epoch: int
    metadata: str | None
    commit_timestamp: int = -1
    """The client's own commit time (OffsetCommit v1); -1: the broker's clock."""


class GroupOffsets:
    def __init__(self, registry: GroupRegistry, config: OffsetsConfig) -> None:
        self._registry = registry
        self._config = config

    # -- OffsetCommit ---------------------------------------------------------------------

    def commit(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        group_instance_id: str | None,
        entries: list[CommitEntry],
        now_ms: int,
        api_version: int,
        expire_timestamp: int = -1,
    ) -> list[ErrorCode]:
        """Commit offsets of existing partitions; one error code per entry."""
        group = self._registry.get(group_id)
        error = self._commit_error(group, api_version, generation_id, member_id, group_instance_id)
        if error is not None:
            return [error] * len(entries)
        if group is None:
            group = self._registry.create(group_id, state_timestamp_ms=now_ms)
        member = group.members.get(member_id)
        if member is not None and group.state in (
            GroupState.STABLE,
            GroupState.PREPARING_REBALANCE,
        ):
            member.heartbeat_deadline_ms = now_ms + member.session_timeout_ms
        limit = self._config.metadata_max_bytes
        errors: list[ErrorCode] = []
        values: dict[tuple[str, int], OffsetValue] = {}
        for entry in entries:
            metadata = entry.metadata or ""
            if len(metadata.encode("utf-16-le")) // 2 > limit:  # Java counts UTF-16 units
                errors.append(ErrorCode.offset_metadata_too_large)
                continue
            committed_at = entry.commit_timestamp if entry.commit_timestamp != -1 else now_ms
            values[(entry.topic, entry.partition)] = OffsetValue(
                entry.offset, entry.leader_epoch, metadata, committed_at, expire_timestamp
            )
            errors.append(ErrorCode.none)
        try:
            self._store(group, values)
        except KafkaError as exc:
            if exc.code != ErrorCode.kafka_storage_error:
                raise
            # Not stored, so not committed; Kafka answers NOT_COORDINATOR, and the
            # client finds the coordinator again and retries.
            return [ErrorCode.not_coordinator] * len(entries)
        for entry, result in zip(entries, errors, strict=True):
            if result == ErrorCode.none:
                self._registry.emit(
                    OffsetCommitted(
                        group_id,
                        entry.topic,
                        entry.partition,
                        entry.offset,
                        entry.metadata or "",
                        now_ms,
                    )
                )
        return errors

    def _store(self, group: ClassicGroup, values: dict[tuple[str, int], OffsetValue]) -> None:
        if not values:
            return
        records: Records = [
            (encode_key(OffsetKey(group.group_id, topic, partition)), encode_offset(value))
            for (topic, partition), value in values.items()
        ]
        self._registry.store(group.group_id, records)
        group.offsets.update(values)

    def commit_transactional(self, group_id: str, entries: list[CommitEntry], now_ms: int) -> None:
        """Offsets a transaction committed (TxnOffsetCommit, then EndTxn COMMIT): checked when
        they were staged, stored now, the group created if it is gone, as Kafka's
        completePendingTxnOffsetCommit does."""
        group = self._registry.get(group_id) or self._registry.create(
            group_id, state_timestamp_ms=now_ms
        )
        values = {
            (e.topic, e.partition): OffsetValue(
                e.offset, e.leader_epoch, e.metadata or "", now_ms, -1
            )
            for e in entries
        }
        self._store(group, values)

    def transactional_commit_error(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        group_instance_id: str | None,
    ) -> ErrorCode | None:
        """TxnOffsetCommit's member checks (Kafka's validateTransactionalOffsetCommit):
        OffsetCommit's, except that a commit without a member id is accepted from anyone
        and the group's rebalance does not matter."""
        group = self._registry.get(group_id)
        if group is None:
            return None if generation_id < 0 else ErrorCode.illegal_generation
        return self._commit_error(
            group, GROUP_ID_NOT_FOUND_VERSION, generation_id, member_id, group_instance_id, True
        )

    def _commit_error(
        self,
        group: ClassicGroup | None,
        api_version: int,
        generation_id: int,
        member_id: str,
        group_instance_id: str | None,
        transactional: bool = False,
    ) -> ErrorCode | None:
        if group is None:
            if generation_id < 0:
                return None  # a simple consumer's first commit creates its group
            if api_version >= GROUP_ID_NOT_FOUND_VERSION:
                return ErrorCode.group_id_not_found
            return ErrorCode.illegal_generation
        if group.state == GroupState.DEAD:
            return ErrorCode.coordinator_not_available
        if generation_id < 0 and group.state == GroupState.EMPTY:
            return None
        if generation_id >= 0 or member_id or group_instance_id is not None:
            error = group.validate_member(member_id, group_instance_id)
            if error is not None:
                return error
            if generation_id != group.generation_id:
                return ErrorCode.illegal_generation
        elif not transactional:
            return ErrorCode.unknown_member_id
        if group.state == GroupState.COMPLETING_REBALANCE and not transactional:
            return ErrorCode.rebalance_in_progress
        return None

    # -- OffsetFetch and OffsetDelete -----------------------------------------------------

    def fetch(
        self, group_id: str, partitions: list[tuple[str, int]] | None
    ) -> dict[tuple[str, int], OffsetValue | None]:
        """Committed offsets of `partitions` (None: every partition with a committed offset)."""
        group = self._registry.get(group_id)
        committed = group.offsets if group is not None else {}
        if partitions is None:
            return dict(committed)
        return {tp: committed.get(tp) for tp in partitions}

    def delete(
        self, group_id: str, partitions: list[tuple[str, int]]
    ) -> tuple[ErrorCode, list[ErrorCode]]:
        """OffsetDelete: top-level error and one error per partition."""
        if not group_id:
            return ErrorCode.invalid_group_id, []
        group = self._registry.get(group_id)
        if group is None or group.state == GroupState.DEAD:
            return ErrorCode.group_id_not_found, []
        subscribed: set[str] | None = set()
        if group.state != GroupState.EMPTY:
            if group.protocol_type != CONSUMER_PROTOCOL_TYPE:
                return ErrorCode.non_empty_group, []
            subscribed = group.subscribed
        errors = []
        removed = []
        for topic, partition in partitions:
            if subscribed is None or topic in subscribed:
                errors.append(ErrorCode.group_subscribed_to_topic)
                continue
            removed.append((topic, partition))
            errors.append(ErrorCode.none)
        self._registry.drop_offsets(group, removed)
        return ErrorCode.none, errors

    # -- expiry and cleanup ---------------------------------------------------------------

    def _expiry_base(self, group: ClassicGroup) -> Callable[[str, OffsetValue], int | None]:
        """When each offset's retention clock started (KIP-211), or None if it cannot expire."""
        if group.protocol_type is None:
            return lambda topic, value: value.commit_timestamp  # a simple consumer's group
        if group.state == GroupState.EMPTY:
            started = group.state_timestamp_ms
            return lambda topic, value: started if started >= 0 else value.commit_timestamp
        if group.state == GroupState.STABLE and group.protocol_type == CONSUMER_PROTOCOL_TYPE:
            subscribed = group.subscribed
            if subscribed is not None:
                return lambda topic, value: None if topic in subscribed else value.commit_timestamp
        return lambda topic, value: None

    def expire(self, now_ms: int) -> None:
        """Drop expired offsets, and Empty groups left without any (offsets.retention.minutes)."""
        retention = self._config.retention_ms
        for group in list(self._registry.groups.values()):
            base_of = self._expiry_base(group)
            expired = []
            for (topic, partition), value in group.offsets.items():
                base = base_of(topic, value)
                if base is None:
                    continue
                if value.expire_timestamp >= 0:
                    if now_ms >= value.expire_timestamp:
                        expired.append((topic, partition))
                elif now_ms - base >= retention:
                    expired.append((topic, partition))
            self._registry.drop_offsets(group, expired)
            if not group.offsets and group.state == GroupState.EMPTY:
                self._registry.remove(group, now_ms)

    def forget_topic(self, topic: str) -> None:
        """A deleted topic's committed offsets go with it, as in Kafka."""
        for group in self._registry.groups.values():
            self._registry.drop_offsets(group, [tp for tp in group.offsets if tp[0] == topic])

    def load(self, key: OffsetKey, value_bytes: bytes | None) -> None:
        """Replay one offset record (a record for an unknown group creates a simple group)."""
        group = self._registry.get(key.group_id)
        if value_bytes is None:
            if group is not None:
                group.offsets.pop((key.topic, key.partition), None)
            return
        if group is None:
            group = self._registry.create(key.group_id)
        value = decode_offset(value_bytes)
        group.offsets[(key.topic, key.partition)] = value
        if group.state_timestamp_ms < 0:
            group.state_timestamp_ms = value.commit_timestamp
