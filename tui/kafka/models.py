"""What the access layer returns: plain, frozen descriptions of cluster state."""

from __future__ import annotations

from dataclasses import dataclass, field

from localbroker.public import ConfigSource

TopicPartition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class TopicSelection:
    """A topic and some of its partitions (`partitions` None: all of them), as tools name
    them on their command lines (`orders`, `orders:0,2`)."""

    topic: str
    partitions: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class BrokerNode:
    node_id: int
    host: str
    port: int
    rack: str | None = None


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    cluster_id: str | None
    controller_id: int
    brokers: tuple[BrokerNode, ...]


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    partition: int
    leader: int
    leader_epoch: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    offline: tuple[int, ...] = ()
    elr: tuple[int, ...] | None = None
    """Eligible leader replicas (KIP-966); None where the broker did not say (Metadata)."""
    last_known_elr: tuple[int, ...] | None = None
    reassignment: Reassignment | None = None
    """The move under way (ListPartitionReassignments); None when none is listed."""

    @property
    def replication_factor(self) -> int:
        """As kafka-topics counts it: while a move is under way (one of the replicas is
        being added or removed), the replicas less those being added."""
        moving = self.reassignment
        if moving is None or not set(self.replicas) & {*moving.adding, *moving.removing}:
            return len(self.replicas)
        return len(self.replicas) - len(moving.adding)


@dataclass(frozen=True, slots=True)
class Reassignment:
    """A partition's replicas being added and removed by a reassignment."""

    adding: tuple[int, ...]
    removing: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TopicInfo:
    name: str
    topic_id: str
    internal: bool
    partitions: tuple[PartitionInfo, ...]

    @property
    def replication_factor(self) -> int:
        return self.partitions[0].replication_factor if self.partitions else 0


@dataclass(frozen=True, slots=True)
class ConfigInfo:
    name: str
    value: str | None
    source: ConfigSource
    read_only: bool = False
    sensitive: bool = False
    synonyms: tuple[tuple[str, str | None, ConfigSource], ...] = ()
    documentation: str | None = None

    @property
    def is_default(self) -> bool:
        return self.source == ConfigSource.DEFAULT_CONFIG


@dataclass(frozen=True, slots=True)
class GroupListing:
    group_id: str
    state: str
    protocol_type: str
    group_type: str = "classic"


@dataclass(frozen=True, slots=True)
class MemberInfo:
    member_id: str
    instance_id: str | None
    client_id: str
    host: str
    assignment: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GroupInfo:
    group_id: str
    state: str
    protocol_type: str
    protocol: str
    members: tuple[MemberInfo, ...]


@dataclass(frozen=True, slots=True)
class CommittedOffset:
    offset: int
    metadata: str = ""
    leader_epoch: int = -1


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """The offsets ListOffsets reports for one partition."""

    earliest: int
    latest: int
