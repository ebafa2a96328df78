"""A picture of a cluster for the workbench: topics, partitions, earliest and latest
offsets, sizes on disk and produce rates (`take_snapshot`), as frozen data the UI reads.

cluster_monitor.py takes one every second; no Textual here: the TUI subscribes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from dataclasses import dataclass, field

from localbroker.public import (
    CLUSTER_METADATA_TOPIC,
    ApiKey,
    IsolationLevel,
    ListOffsetsTimestamp,
)

from .admin import KafkaAdmin
from .errors import KafkaToolError, raise_for
from .models import ClusterInfo


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
    records: int = field(init=False, compare=False)
    latest_total: int = field(init=False, compare=False)
    size_bytes: int | None = field(init=False, compare=False)
    """The sums over the partitions, added up once: the Topics pane sorts, filters and
    draws by them at each key (10,000 partitions behind 1,000 rows)."""

    def __post_init__(self) -> None:
        sizes = [p.size_bytes for p in self.partitions]
        size = None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)
        object.__setattr__(self, "records", sum(p.records for p in self.partitions))
        object.__setattr__(self, "latest_total", sum(p.latest for p in self.partitions))
        object.__setattr__(self, "size_bytes", size)


@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    taken_at: float
    cluster: ClusterInfo
    topics: tuple[TopicStats, ...]
    api_versions: dict[int, tuple[int, int]] = field(default_factory=dict)
    _by_name: dict[str, TopicStats] = field(init=False, repr=False, compare=False)
    """`topic`'s index: each snapshot looks up every topic of the one before (for rates),
    which a scan would make quadratic (a million comparisons with 1,000 topics)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {t.name: t for t in self.topics})

    def topic(self, name: str) -> TopicStats | None:
        return self._by_name.get(name)


async def take_snapshot(admin: KafkaAdmin, previous: ClusterSnapshot | None) -> ClusterSnapshot:
    """One consistent-enough picture of the cluster (offsets, sizes, rates)."""
    cluster, topics = await admin.cluster_and_topics()
    leaders = {(t.name, p.partition): p.leader for t in topics for p in t.partitions}
    earliest, latest, stable = await _offsets(admin, leaders)
    try:
        sizes: dict[tuple[str, int], int] | None = await admin.log_dir_sizes(
            b.node_id for b in cluster.brokers
        )
    except KafkaToolError:
        sizes = None  # a cluster may refuse DescribeLogDirs (authorization)
    versions = previous.api_versions if previous is not None else await admin.api_versions()
    if ApiKey.DESCRIBE_QUORUM in versions:
        # Refused (it needs DESCRIBE on the cluster): Metadata's word stands.
        with contextlib.suppress(KafkaToolError):
            cluster = dataclasses.replace(cluster, controller_id=await active_controller(admin))
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
            stat = dataclasses.replace(stat, rate=max(appended, 0) / elapsed)
        stats.append(stat)
    return ClusterSnapshot(taken_at, cluster, tuple(stats), versions)


Offsets = dict[tuple[str, int], tuple[int, int]]


async def _offsets(
    admin: KafkaAdmin, leaders: dict[tuple[str, int], int]
) -> tuple[Offsets, Offsets, Offsets]:
    """Each partition's earliest, latest and last stable offsets, asked of its leader.

    A partition without a leader (a broker down on a multi-broker cluster) has none to ask
    for, and neither has one whose leader cannot be reached: a broker killed a moment ago is
    still named leader until the controller fences it (broker.session.timeout.ms, 9 s on
    Kafka). Their partitions show no records; the rest of the snapshot stands."""
    by_leader: dict[int, list[tuple[str, int]]] = {}
    for partition, leader in leaders.items():
        if leader >= 0:
            by_leader.setdefault(leader, []).append(partition)

    async def of(partitions: list[tuple[str, int]]) -> tuple[Offsets, Offsets, Offsets]:
        return await asyncio.gather(
            admin.list_offsets(partitions, ListOffsetsTimestamp.EARLIEST, leaders=leaders),
            admin.list_offsets(partitions, ListOffsetsTimestamp.LATEST, leaders=leaders),
            admin.list_offsets(
                partitions,
                ListOffsetsTimestamp.LATEST,
                IsolationLevel.READ_COMMITTED,
                leaders=leaders,
            ),
        )

    answers = await asyncio.gather(
        *(of(partitions) for partitions in by_leader.values()), return_exceptions=True
    )
    earliest: Offsets = {}
    latest: Offsets = {}
    stable: Offsets = {}
    for answer in answers:
        if isinstance(answer, KafkaToolError):
            continue  # its leader is out of reach
        if isinstance(answer, BaseException):
            raise answer
        earliest.update(answer[0])
        latest.update(answer[1])
        stable.update(answer[2])
    return earliest, latest, stable


METADATA_PARTITION = {"partition_index": 0}
"""KRaft's metadata log is the one partition of __cluster_metadata."""


async def active_controller(admin: KafkaAdmin) -> int:
    """The active controller, as `kafka-metadata-quorum.sh describe --status` names it: the
    leader of the metadata quorum (DescribeQuorum, which a broker forwards to the
    controllers). In KRaft, Metadata's and DescribeCluster's controller_id is no answer:
    Kafka names a random live broker there (KafkaApis: getRandomAliveBrokerId), since
    clients cannot reach the controllers; it would move at every snapshot."""
    response = await admin.send(
        ApiKey.DESCRIBE_QUORUM,
        {
            "topics": [
                {"topic_name": CLUSTER_METADATA_TOPIC, "partitions": [{"partition_index": 0}]}
            ]
        },
    )
    raise_for(response.error_code, getattr(response, "error_message", None), "DescribeQuorum")
    partition = response.topics[0].partitions[0]
    raise_for(partition.error_code, getattr(partition, "error_message", None), "DescribeQuorum")
    return int(partition.leader_id)
