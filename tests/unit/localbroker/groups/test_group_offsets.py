"""Committed offsets on their own: GroupOffsets needs only a GroupRegistry (the groups, where
their records go, who hears of changes), not the membership coordinator."""

from __future__ import annotations

from kio.schema.errors import ErrorCode

from localbroker.errors import KafkaError
from localbroker.groups.events import GroupDeleted, GroupEvent, OffsetCommitted
from localbroker.groups.offsets import CommitEntry, GroupOffsets, OffsetsConfig
from localbroker.groups.records import GroupKey, OffsetKey, decode_key, decode_offset
from localbroker.groups.registry import GroupRegistry
from localbroker.protocol.names import GroupState

NOW = 1_700_000_000_000
Records = list[tuple[bytes, bytes | None]]


class Written:
    """GroupStorage that keeps what was written, decoded."""

    def __init__(self) -> None:
        self.records: list[tuple[str, object, int | None]] = []

    def write_group_records(self, group_id: str, records: Records) -> None:
        for key_bytes, value_bytes in records:
            key = decode_key(key_bytes)
            offset = decode_offset(value_bytes).offset if value_bytes is not None else None
            self.records.append((group_id, key, offset))


def offsets(retention_ms: int = 60_000) -> tuple[GroupOffsets, GroupRegistry, Written, list]:
    storage = Written()
    registry = GroupRegistry(storage)
    events: list[GroupEvent] = []
    registry.subscribe(events.append)
    return (
        GroupOffsets(registry, OffsetsConfig(retention_ms=retention_ms)),
        registry,
        storage,
        events,
    )


def commit(offsets: GroupOffsets, *entries: tuple[str, int, int], at: int = NOW) -> list:
    return offsets.commit(
        "g", -1, "", None, [CommitEntry(t, p, o, -1, None) for t, p, o in entries], at, 8
    )


def test_a_simple_consumers_commit_creates_its_group_writes_and_tells() -> None:
    group_offsets, registry, storage, events = offsets()
    assert commit(group_offsets, ("a", 0, 5), ("b", 1, 7)) == [ErrorCode.none] * 2
    group = registry.get("g")
    assert group is not None and group.state is GroupState.EMPTY
    assert storage.records == [("g", OffsetKey("g", "a", 0), 5), ("g", OffsetKey("g", "b", 1), 7)]
    assert [e for e in events if isinstance(e, OffsetCommitted)] == [
        OffsetCommitted("g", "a", 0, 5, "", NOW),
        OffsetCommitted("g", "b", 1, 7, "", NOW),
    ]


def test_forgetting_a_topic_tombstones_only_its_offsets() -> None:
    group_offsets, _, storage, _ = offsets()
    commit(group_offsets, ("a", 0, 5), ("b", 1, 7), ("a", 2, 9))
    del storage.records[:]
    group_offsets.forget_topic("a")
    assert storage.records == [
        ("g", OffsetKey("g", "a", 0), None),
        ("g", OffsetKey("g", "a", 2), None),
    ]
    assert group_offsets.fetch("g", None).keys() == {("b", 1)}


def test_expiry_removes_an_empty_group_through_the_registry() -> None:
    group_offsets, registry, storage, events = offsets(retention_ms=1_000)
    commit(group_offsets, ("a", 0, 5))
    group_offsets.expire(NOW + 999)
    assert registry.get("g") is not None
    group_offsets.expire(NOW + 1_000)
    assert registry.get("g") is None
    assert storage.records[-2:] == [
        ("g", OffsetKey("g", "a", 0), None),
        ("g", GroupKey("g"), None),
    ]
    assert events[-1] == GroupDeleted("g", NOW + 1_000)


class FullDisk(Written):
    """GroupStorage on a log directory that takes no writes (a full disk)."""

    def write_group_records(self, group_id: str, records: Records) -> None:
        raise KafkaError(ErrorCode.kafka_storage_error, "No space left on device")


def test_a_commit_that_cannot_be_stored_is_not_committed() -> None:
    """Kafka answers NOT_COORDINATOR when the offsets cannot be appended; the client finds
    the coordinator again and retries. Nothing may look committed meanwhile."""
    storage = FullDisk()
    registry = GroupRegistry(storage)
    events: list[GroupEvent] = []
    registry.subscribe(events.append)
    group_offsets = GroupOffsets(registry, OffsetsConfig(retention_ms=60_000))
    assert commit(group_offsets, ("a", 0, 5), ("b", 1, 7)) == [ErrorCode.not_coordinator] * 2
    assert group_offsets.fetch("g", None) == {}
    assert not [e for e in events if isinstance(e, OffsetCommitted)]
    group_offsets.forget_topic("a")  # tombstones are best effort: no exception


def test_a_commit_keeps_the_clients_own_commit_timestamp() -> None:
    """OffsetCommit v1 carries one per partition; Kafka 3.9 stores it (-1: the broker's now)."""
    group_offsets, registry, _, _ = offsets()
    entries = [CommitEntry("a", 0, 5, -1, None, 1234), CommitEntry("a", 1, 6, -1, None)]
    assert group_offsets.commit("g", -1, "", None, entries, NOW, 1) == [ErrorCode.none] * 2
    group = registry.get("g")
    assert group is not None
    assert group.offsets[("a", 0)].commit_timestamp == 1234
    assert group.offsets[("a", 1)].commit_timestamp == NOW
