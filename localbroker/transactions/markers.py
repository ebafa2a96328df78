"""Carrying out a decided transaction end on a single broker: one marker per partition, in
partition order.

Kafka's coordinator sends WriteTxnMarkers to each partition leader; a single broker leads
every partition, so the markers are appended directly (a cluster sends them:
cluster/txn_markers.py). A partition whose topic was deleted meanwhile has nothing left to
end.
"""

from __future__ import annotations

from collections.abc import Callable

from ..groups.offsets import CommitEntry
from ..log.partition import PartitionLog
from .coordinator import Completion

Written = list[tuple[PartitionLog, int]]
"""Each log a marker went to, with the offset after it (what a flush must cover)."""


def write_markers(
    completion: Completion, log_of: Callable[[str, int], PartitionLog | None], now_ms: int
) -> Written:
    written = []
    for topic, partition in sorted(completion.partitions):
        partition_log = log_of(topic, partition)
        if partition_log is None:
            continue
        result = partition_log.append_marker(
            completion.producer_id, completion.producer_epoch, completion.commit, now_ms
        )
        written.append((partition_log, result.last_offset + 1))
    return written


def committed_offsets(completion: Completion) -> dict[str, list[CommitEntry]]:
    """The offsets a committed transaction gives each group (none for an abort)."""
    if not completion.commit:
        return {}
    return {
        group: [
            CommitEntry(topic, partition, o.offset, o.leader_epoch, o.metadata)
            for (topic, partition), o in sorted(offsets.items())
        ]
        for group, offsets in completion.offsets.items()
        if offsets
    }
