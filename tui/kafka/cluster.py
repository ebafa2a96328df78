"""A live view of a cluster for the workbench: snapshots taken every second, with reconnects.

`ClusterMonitor.run` polls the cluster (topics, partitions, earliest and latest offsets,
sizes on disk) and hands each `ClusterSnapshot` to a callback; when the cluster is
unreachable it reports the status and retries with a growing pause, so a UI built on it
shows "reconnecting" instead of failing. No Textual here: the TUI subscribes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from localbroker.public import IsolationLevel, ListOffsetsTimestamp

from .admin import KafkaAdmin
from .connection import Connection
from .errors import KafkaToolError
from .models import ClusterInfo

POLL_SECONDS = 1.0
BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True, slots=True)
class PartitionStats:
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    earliest: int
    latest: int
    size_bytes: int | None
    stable: int = -1
    """The last stable offset: below it every transaction has ended (read_committed
    consumers read up to here); `latest` while none is open, -1 when unknown."""

    @property
    def records(self) -> int:
        return max(self.latest - self.earliest, 0)


@dataclass(frozen=True, slots=True)
class TopicStats:
    name: str
    topic_id: str
    internal: bool
    replication_factor: int
    partitions: tuple[PartitionStats, ...]
    rate: float = 0.0
    """Records per second appended, from the last two snapshots."""

    @property
    def records(self) -> int:
        return sum(p.records for p in self.partitions)

    @property
    def latest_total(self) -> int:
        return sum(p.latest for p in self.partitions)

    @property
    def size_bytes(self) -> int | None:
        sizes = [p.size_bytes for p in self.partitions]
        return None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)


@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    taken_at: float
    cluster: ClusterInfo
    topics: tuple[TopicStats, ...]
    api_versions: dict[int, tuple[int, int]] = field(default_factory=dict)

    def topic(self, name: str) -> TopicStats | None:
        return next((t for t in self.topics if t.name == name), None)


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    connected: bool
    message: str


async def take_snapshot(admin: KafkaAdmin, previous: ClusterSnapshot | None) -> ClusterSnapshot:
    """One consistent-enough picture of the cluster (offsets, sizes, rates)."""
    cluster = await admin.cluster()
    topics = await admin.topics(include_internal=True)
    # A partition without a leader (a broker down on a multi-broker cluster) has no offsets
    # to ask for; asking node -1 would fail the whole snapshot, so it shows no records.
    partitions = [(t.name, p.partition) for t in topics for p in t.partitions if p.leader >= 0]
    earliest, latest, stable = await asyncio.gather(
        admin.list_offsets(partitions, ListOffsetsTimestamp.EARLIEST),
        admin.list_offsets(partitions, ListOffsetsTimestamp.LATEST),
        admin.list_offsets(partitions, ListOffsetsTimestamp.LATEST, IsolationLevel.READ_COMMITTED),
    )
    try:
        sizes: dict[tuple[str, int], int] | None = await admin.log_dir_sizes()
    except KafkaToolError:
        sizes = None  # a cluster may refuse DescribeLogDirs (authorization)
    versions = previous.api_versions if previous is not None else await admin.api_versions()
    taken_at = time.monotonic()
    stats = []
    for topic in topics:
        partition_stats = tuple(
            PartitionStats(
                p.partition,
                p.leader,
                p.replicas,
                p.isr,
                earliest.get((topic.name, p.partition), (0, -1))[0],
                latest.get((topic.name, p.partition), (0, -1))[0],
                None if sizes is None else sizes.get((topic.name, p.partition), 0),
                stable.get((topic.name, p.partition), (-1, -1))[0],
            )
            for p in topic.partitions
        )
        stat = TopicStats(
            topic.name, topic.topic_id, topic.internal, topic.replication_factor, partition_stats
        )
        before = previous.topic(topic.name) if previous is not None else None
        elapsed = taken_at - previous.taken_at if previous is not None else 0.0
        if before is not None and elapsed > 0:
            appended = stat.latest_total - before.latest_total
            stat = TopicStats(
                stat.name,
                stat.topic_id,
                stat.internal,
                stat.replication_factor,
                stat.partitions,
                max(appended, 0) / elapsed,
            )
        stats.append(stat)
    return ClusterSnapshot(taken_at, cluster, tuple(stats), versions)


class ClusterMonitor:
    """Polls a cluster until cancelled, reporting snapshots and connection status."""

    def __init__(self, connection: Connection, interval: float = POLL_SECONDS) -> None:
        self.connection = connection
        self.interval = interval
        self.admin: KafkaAdmin | None = None
        self._wake = asyncio.Event()

    def refresh(self) -> None:
        """Take the next snapshot now (after the user changed something)."""
        self._wake.set()

    async def run(
        self,
        on_snapshot: Callable[[ClusterSnapshot], None],
        on_status: Callable[[ConnectionStatus], None],
    ) -> None:
        attempt = 0
        while True:
            try:
                async with KafkaAdmin(self.connection) as admin:
                    self.admin = admin
                    attempt = 0
                    on_status(
                        ConnectionStatus(True, f"connected to {self.connection.bootstrap_servers}")
                    )
                    previous = None
                    while True:
                        previous = await take_snapshot(admin, previous)
                        on_snapshot(previous)
                        self._wake.clear()
                        try:
                            async with asyncio.timeout(self.interval):
                                await self._wake.wait()
                        except TimeoutError:
                            pass
            except (KafkaToolError, OSError) as exc:
                self.admin = None
                pause = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
                attempt += 1
                on_status(ConnectionStatus(False, f"{exc} — retrying in {pause:.0f}s"))
                await asyncio.sleep(pause)
