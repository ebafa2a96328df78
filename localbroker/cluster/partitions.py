"""What the cluster's metadata says about one partition and one broker.

Kafka's controller keeps a `PartitionRegistration` per partition (replicas, ISR, leader,
leader epoch, partition epoch) and a `BrokerRegistration` per broker; brokers act on them.
These are the shapes every part of cluster mode shares: the metadata image builds them from
the metadata log, the replica manager takes a partition's role from them, and the request
handlers answer Metadata, Produce and Fetch by them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..security.listeners import Endpoint

NO_LEADER = -1
"""A partition's leader when none of its ISR is alive (Kafka's LeaderConstants.NO_LEADER)."""


@dataclass(frozen=True, slots=True)
class PartitionRegistration:
    replicas: tuple[int, ...]
    """Every replica's broker id, the preferred leader first; during a reassignment the
    target replicas, then those being removed (Kafka's PartitionRegistration.replicas)."""
    isr: tuple[int, ...]
    """The in-sync replicas: those that hold every record up to the high watermark."""
    leader: int
    """The broker id of the leader, or NO_LEADER."""
    leader_epoch: int
    """Raised each time the leader changes; stamped on the batches the leader appends."""
    partition_epoch: int
    """Raised on every change of this registration (AlterPartition's optimistic lock)."""
    removing_replicas: tuple[int, ...] = ()
    """Replicas a reassignment under way takes away once the target replicas are in sync."""
    adding_replicas: tuple[int, ...] = ()
    """Replicas a reassignment under way adds: followers until they join the ISR."""

    @property
    def reassigning(self) -> bool:
        """Whether a reassignment is under way (Kafka's isReassignmentInProgress)."""
        return bool(self.removing_replicas or self.adding_replicas)

    @property
    def offline(self) -> bool:
        return self.leader == NO_LEADER


@dataclass(frozen=True, slots=True)
class BrokerRegistration:
    broker_id: int
    broker_epoch: int
    """The metadata log offset of the broker's registration (Kafka's broker epoch)."""
    endpoints: tuple[Endpoint, ...]
    """Each listener clients and brokers reach this broker on."""
    rack: str | None
    fenced: bool
    """A fenced broker leads nothing and is left out of Metadata's broker list."""

    def endpoint(self, listener: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.name == listener), None)
