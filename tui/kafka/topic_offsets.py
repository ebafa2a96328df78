"""Where everything stands on a topic's partitions: log start offset, high watermark, and
each consumer group's committed offset, as one picture of "what an offset is".

Kafka has no request for "the groups reading this topic": each group's committed offsets
are fetched (OffsetFetch) and kept where they name the topic. Log start offsets move forward
with retention and DeleteRecords, high watermarks with every append, committed offsets with
every commit, so callers poll this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from localbroker.public import ListOffsetsTimestamp

from .admin import KafkaAdmin
from .errors import KafkaToolError
from .group_lag import consumer_groups


@dataclass(frozen=True, slots=True)
class GroupMark:
    """A group's committed offset on one partition."""

    group_id: str
    offset: int
    pending: bool = False
    """An open transaction carries offsets of the group for this partition."""


@dataclass(frozen=True, slots=True)
class PartitionRange:
    """One partition: records from `log_start` up to (not including) `high_watermark`."""

    partition: int
    log_start: int
    high_watermark: int
    marks: tuple[GroupMark, ...] = ()

    @property
    def records(self) -> int:
        return max(self.high_watermark - self.log_start, 0)

    @property
    def committed_marks(self) -> tuple[GroupMark, ...]:
        """The marks with a committed offset (not only a pending transaction's)."""
        return tuple(m for m in self.marks if m.offset >= 0)


@dataclass(frozen=True, slots=True)
class TopicOffsets:
    """A topic's partitions in order, and the groups with committed offsets on it (sorted)."""

    topic: str
    partitions: tuple[PartitionRange, ...]
    groups: tuple[str, ...]

    def partition(self, index: int) -> PartitionRange | None:
        return next((p for p in self.partitions if p.partition == index), None)


async def _committed_on(
    admin: KafkaAdmin, group_id: str, topic: str
) -> tuple[str, dict[int, GroupMark]]:
    """A group's committed offsets on `topic` by partition (-1 where only an open transaction
    has one); none if the group went away."""
    try:
        offsets = await admin.group_offsets(group_id)
        pending = await admin.pending_offsets(group_id)
    except KafkaToolError:
        return group_id, {}
    partitions = {p for t, p in offsets.keys() | pending if t == topic}
    return group_id, {
        p: GroupMark(
            group_id,
            offsets[(topic, p)].offset if (topic, p) in offsets else -1,
            (topic, p) in pending,
        )
        for p in partitions
    }


async def topic_offsets(
    admin: KafkaAdmin, topic: str, groups: Iterable[str] | None = None
) -> TopicOffsets:
    """Log range and committed offsets of every partition of `topic`, for `groups` (every
    consumer group when None); a topic that does not exist raises KafkaToolError."""
    (info,) = await admin.topics([topic])
    partitions = [(topic, p.partition) for p in info.partitions]
    if groups is None:
        group_ids = [g.group_id for g in await consumer_groups(admin)]
    else:
        group_ids = list(groups)
    starts, ends = await asyncio.gather(
        admin.list_offsets(partitions, ListOffsetsTimestamp.EARLIEST),
        admin.list_offsets(partitions, ListOffsetsTimestamp.LATEST),
    )
    committed = await asyncio.gather(*(_committed_on(admin, g, topic) for g in group_ids))
    by_group = {g: offsets for g, offsets in committed if offsets}
    ranges = tuple(
        PartitionRange(
            p,
            starts[(topic, p)][0],
            ends[(topic, p)][0],
            tuple(offsets[p] for _, offsets in sorted(by_group.items()) if p in offsets),
        )
        for _, p in partitions
    )
    return TopicOffsets(topic, ranges, tuple(sorted(by_group)))
