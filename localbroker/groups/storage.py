"""A coordinator's topic on disk (`__consumer_offsets`, `__transaction_state`): appending
the coordinator's records, replaying them at start-up, and keeping the topic small.

Both topics place a key (group id, transactional id) on a partition the same way
(`offsets_partition`, Kafka's `partitionFor` in both coordinators). A topic is compacted the
simple way a single coordinator allows: the coordinator holds the latest value of every key
in memory, so a partition that has grown past a threshold gets a fresh segment holding
exactly that state, and everything before it is dropped. A crash in between leaves the old
records followed by the snapshot, which replays to the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache

from ..log.partition import PartitionLog
from ..records.batch import read_header
from ..records.builder import NewRecord, build_batch
from ..records.reader import iter_records
from .group import ClassicGroup
from .records import (
    GroupKey,
    OffsetKey,
    encode_group,
    encode_key,
    encode_offset,
    offsets_partition,
)

Records = list[tuple[bytes, bytes | None]]
_RECORDS_PER_BATCH = 1000


@cache
def _partition_of(key: str, partitions: int) -> int:
    return offsets_partition(key, partitions)


def live_records(group: ClassicGroup) -> Records:
    """The records that reproduce `group` exactly: its metadata (if it ever had members) and
    one record per committed offset."""
    records: Records = []
    if group.protocol_type is not None:
        records.append((encode_key(GroupKey(group.group_id)), encode_group(group.to_record())))
    for (topic, partition), value in group.offsets.items():
        records.append(
            (encode_key(OffsetKey(group.group_id, topic, partition)), encode_offset(value))
        )
    return records


def group_records(groups: dict[str, ClassicGroup]) -> Iterator[tuple[str, Records]]:
    """Every group's live records, by group id (what compaction keeps of the offsets topic)."""
    for group in groups.values():
        yield group.group_id, live_records(group)


class CoordinatorTopic:
    """Reads and writes the partitions of a coordinator's topic through a partition lookup."""

    def __init__(
        self,
        partitions: Callable[[], int],
        partition_log: Callable[[int], PartitionLog | None],
        needs_flush: Callable[[PartitionLog, int], None],
        *,
        flush_every_append: bool = False,
    ) -> None:
        """`needs_flush(log, upto)` is told of appends the flush policy wants fsynced (every
        append with `flush_every_append`, including a compaction's snapshot)."""
        self._partitions = partitions
        self._partition_log = partition_log
        self._needs_flush = needs_flush
        self._flush_every_append = flush_every_append

    def partition_of(self, key: str) -> int:
        return _partition_of(key, self._partitions())

    def append(self, partition: int, records: Records, now_ms: int) -> None:
        partition_log = self._partition_log(partition)
        assert partition_log is not None, f"partition {partition} of a coordinator topic is missing"
        for start in range(0, len(records), _RECORDS_PER_BATCH):
            chunk = records[start : start + _RECORDS_PER_BATCH]
            batch = build_batch([NewRecord(value, key=key) for key, value in chunk], now_ms=now_ms)
            result = partition_log.append(read_header(batch), batch, now_ms)
            if partition_log.flush_pending or self._flush_every_append:
                self._needs_flush(partition_log, result.last_offset + 1)

    def replay(
        self, partitions: Iterable[int] | None = None
    ) -> Iterator[tuple[bytes | None, bytes | None]]:
        """Every record of `partitions` (default: all), oldest first within a partition (a
        damaged batch is reported by the log and skipped)."""
        for partition in range(self._partitions()) if partitions is None else partitions:
            partition_log = self._partition_log(partition)
            if partition_log is None:
                continue
            for batch in partition_log.stored_batches():
                for record in iter_records(batch):
                    if record.offset >= partition_log.log_start_offset:
                        yield record.key, record.value

    def compact(
        self,
        live: Callable[[], Iterable[tuple[str, Records]]],
        threshold_bytes: int,
        now_ms: int,
    ) -> int:
        """Rewrite partitions larger than `threshold_bytes` as a snapshot of the live state,
        `live()` giving each key's records; returns how many partitions were compacted."""
        compacted = 0
        for partition in range(self._partitions()):
            partition_log = self._partition_log(partition)
            if partition_log is None or partition_log.size_bytes <= threshold_bytes:
                continue
            if partition_log.high_watermark < partition_log.log_end_offset:
                continue  # an fsync is still pending; try again next time
            records = [
                record
                for key, key_records in live()
                if self.partition_of(key) == partition
                for record in key_records
            ]
            snapshot_start = partition_log.roll(now_ms).base_offset
            if records:
                self.append(partition, records, now_ms)
            partition_log.delete_records_before(snapshot_start, now_ms)
            compacted += 1
        return compacted
