"""The groups a coordinator knows, where their records go, and who hears of their changes.

Membership (coordinator.py) and committed offsets (offsets.py) follow separate rules over the
same groups. This registry is all the two share: neither holds the other, so each can be read
and tested alone, and every record either writes goes through `write` to the group's
`__consumer_offsets` partition.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Protocol

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import GroupState
from .events import GroupDeleted, GroupEvent
from .group import ClassicGroup
from .records import GroupKey, OffsetKey, encode_key

log = logging.getLogger(__name__)

Records = list[tuple[bytes, bytes | None]]


class GroupStorage(Protocol):
    """Where the coordinator's records go (the `__consumer_offsets` partition of the group)."""

    def write_group_records(
        self, group_id: str, records: list[tuple[bytes, bytes | None]]
    ) -> None: ...


class GroupRegistry:
    def __init__(self, storage: GroupStorage) -> None:
        self.groups: dict[str, ClassicGroup] = {}
        self._storage = storage
        self._listeners: list[Callable[[GroupEvent], None]] = []

    def get(self, group_id: str) -> ClassicGroup | None:
        return self.groups.get(group_id)

    def create(self, group_id: str, state_timestamp_ms: int = -1) -> ClassicGroup:
        group = self.groups[group_id] = ClassicGroup(
            group_id, state_timestamp_ms=state_timestamp_ms
        )
        return group

    # -- records ------------------------------------------------------------------------------

    def store(self, group_id: str, records: Records) -> None:
        """Append records that must be stored before anyone is told (committed offsets);
        KafkaError KAFKA_STORAGE_ERROR when the log directory cannot take them."""
        self._storage.write_group_records(group_id, records)

    def write(self, group_id: str, records: Records) -> None:
        """Append membership records and tombstones, best effort: while the log directory
        is offline (a full disk) the group lives on in memory, and only a restart would miss
        these records (members join again)."""
        try:
            self._storage.write_group_records(group_id, records)
        except KafkaError as exc:
            if exc.code != ErrorCode.kafka_storage_error:
                raise
            log.warning("records of group %s were not stored: %s", group_id, exc)

    def drop_offsets(self, group: ClassicGroup, partitions: Iterable[tuple[str, int]]) -> None:
        """Forget committed offsets and write their tombstones."""
        dropped = [tp for tp in partitions if group.offsets.pop(tp, None) is not None]
        if dropped:
            self.write(group.group_id, _offset_tombstones(group.group_id, dropped))

    def remove(self, group: ClassicGroup, now_ms: int) -> None:
        """Tombstone the group's offsets and metadata and forget it."""
        records = _offset_tombstones(group.group_id, list(group.offsets))
        records.append((encode_key(GroupKey(group.group_id)), None))
        self.write(group.group_id, records)
        group.transition(GroupState.DEAD, now_ms)
        del self.groups[group.group_id]
        self.emit(GroupDeleted(group.group_id, now_ms))

    # -- observers ----------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[GroupEvent], None]) -> Callable[[], None]:
        """Call `listener` with every GroupEvent; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def emit(self, event: GroupEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("group event listener failed on %s", event)


def _offset_tombstones(group_id: str, partitions: list[tuple[str, int]]) -> Records:
    return [
        (encode_key(OffsetKey(group_id, topic, partition)), None) for topic, partition in partitions
    ]
