"""Consumer-group lag over time: every group's lag sampled on a timer, kept in a bounded history.

Kafka keeps no history of lag: a group's lag is only ever "now" (log end offset minus
committed offset). The question people ask ("is it catching up or falling behind?") needs
the trend, so the workbench samples every consumer group (state, members, per-partition
committed offsets and log end offsets, from group_lag.py) and keeps the last few hundred
samples per group and per partition. The history is bounded so it can run all day, and it
lives outside any widget so it keeps growing while the Groups pane is out of view.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from .admin import KafkaAdmin
from .errors import KafkaToolError
from .group_lag import PartitionLag, consumer_groups, partition_lags
from .models import GroupInfo, GroupListing

CAPACITY = 600
"""Samples kept per series: ten minutes at one sample a second."""

PartitionKey = tuple[str, int]
"""A partition of a group's topics: (topic, partition)."""
_K = TypeVar("_K", str, PartitionKey)


@dataclass(frozen=True, slots=True)
class GroupLag:
    """One consumer group at one moment: how it is described and where each partition stands.

    `info` is None (and `error` says why) when the group could be listed but not described,
    e.g. because it was deleted between the two requests.
    """

    listing: GroupListing
    info: GroupInfo | None
    partitions: tuple[PartitionLag, ...] = ()
    error: str | None = None

    @property
    def group_id(self) -> str:
        return self.listing.group_id

    @property
    def state(self) -> str:
        return self.info.state if self.info is not None else self.listing.state

    @property
    def protocol(self) -> str:
        """The assignment strategy the group agreed on ("range", …); "" while it has none."""
        return self.info.protocol if self.info is not None else ""

    @property
    def member_count(self) -> int:
        return len(self.info.members) if self.info is not None else 0

    @property
    def total_lag(self) -> int | None:
        """The sum of the partitions' lags; None when no partition has a known lag."""
        lags = [p.lag for p in self.partitions if p.lag is not None]
        return sum(lags) if lags else None

    @property
    def topics(self) -> list[str]:
        """The topics the group has committed offsets for or is assigned, sorted."""
        return sorted({p.topic for p in self.partitions})

    def partition(self, topic: str, partition: int) -> PartitionLag | None:
        return next(
            (p for p in self.partitions if (p.topic, p.partition) == (topic, partition)), None
        )


@dataclass(frozen=True, slots=True)
class GroupsSample:
    """Every consumer group of the cluster at `taken_at` (time.monotonic() seconds)."""

    taken_at: float
    groups: tuple[GroupLag, ...]

    def group(self, group_id: str) -> GroupLag | None:
        return next((g for g in self.groups if g.group_id == group_id), None)

    def consumers_of(self, topic: str) -> list[tuple[str, int | None]]:
        """The groups with partitions of `topic` (committed or assigned), each with its
        lag on it (None where none is known), biggest lag first."""
        found = []
        for group in self.groups:
            mine = [p for p in group.partitions if p.topic == topic]
            if mine:
                lags = [p.lag for p in mine if p.lag is not None]
                found.append((group.group_id, sum(lags) if lags else None))
        return sorted(found, key=lambda g: (-(g[1] if g[1] is not None else -1), g[0]))

    def with_group(self, fresh: GroupLag, taken_at: float) -> GroupsSample:
        """This sample with one group read again at `taken_at` (after an action on it)."""
        groups = tuple(fresh if g.group_id == fresh.group_id else g for g in self.groups)
        return GroupsSample(taken_at, groups)


async def describe_lag(admin: KafkaAdmin, listing: GroupListing) -> GroupLag:
    """One group's description and partition lags; a failure is kept as the group's error."""
    try:
        info = await admin.describe_group(listing.group_id)
        lags = await partition_lags(admin, info, with_pending=True)
    except KafkaToolError as exc:
        return GroupLag(listing, None, (), str(exc))
    return GroupLag(listing, info, tuple(lags))


async def sample_groups(admin: KafkaAdmin) -> GroupsSample:
    """Every consumer group with its lag, the groups described concurrently."""
    listings = await consumer_groups(admin)
    groups = await asyncio.gather(*(describe_lag(admin, listing) for listing in listings))
    return GroupsSample(time.monotonic(), tuple(groups))


@dataclass(frozen=True, slots=True)
class LagPoint:
    """A lag at a moment; `lag` None where it was unknown (no committed offset yet)."""

    at: float
    lag: int | None


class LagHistory:
    """The last `capacity` lags of every group and of every partition of a group.

    A group that disappears from a sample (deleted, or expired) is forgotten with its
    partitions; a group whose description failed keeps its history and gets no point.
    """

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._groups: dict[str, deque[LagPoint]] = {}
        self._partitions: dict[str, dict[PartitionKey, deque[LagPoint]]] = {}

    def record(self, sample: GroupsSample) -> None:
        present = {g.group_id for g in sample.groups}
        for gone in set(self._groups) - present:
            self.forget(gone)
        for group in sample.groups:
            if group.info is None:
                continue
            self._series(self._groups, group.group_id).append(
                LagPoint(sample.taken_at, group.total_lag)
            )
            partitions = self._partitions.setdefault(group.group_id, {})
            current = {(p.topic, p.partition): p for p in group.partitions}
            for key in set(partitions) - set(current):
                del partitions[key]
            for key, lag in current.items():
                self._series(partitions, key).append(LagPoint(sample.taken_at, lag.lag))

    def _series(self, table: dict[_K, deque[LagPoint]], key: _K) -> deque[LagPoint]:
        series = table.get(key)
        if series is None:
            series = table[key] = deque(maxlen=self.capacity)
        return series

    def forget(self, group_id: str) -> None:
        self._groups.pop(group_id, None)
        self._partitions.pop(group_id, None)

    def clear(self) -> None:
        self._groups.clear()
        self._partitions.clear()

    def group(self, group_id: str) -> list[LagPoint]:
        """The group's total lag over time, oldest first."""
        return list(self._groups.get(group_id, ()))

    def partition(self, group_id: str, topic: str, partition: int) -> list[LagPoint]:
        """One partition's lag over time in the group, oldest first."""
        return list(self._partitions.get(group_id, {}).get((topic, partition), ()))

    def partitions(self, group_id: str) -> dict[PartitionKey, list[LagPoint]]:
        return {key: list(s) for key, s in sorted(self._partitions.get(group_id, {}).items())}

    def load(self, samples: Iterable[GroupsSample]) -> None:
        """Record several samples in order (a saved run, or fixed data for a picture)."""
        for sample in samples:
            self.record(sample)
