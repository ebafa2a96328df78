"""`ClusterView`: what the request handlers ask about the cluster beyond this broker's topics.

A single broker leads every partition it has, in leader epoch 0, and is the only broker
and the controller; in cluster mode the answers come from the metadata image the
controller quorum replicates. Handlers ask the view and never assume which of the two they
run in, so that Metadata, Produce, Fetch, ListOffsets, OffsetForLeaderEpoch,
FindCoordinator and DescribeCluster are written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .partitions import BrokerRegistration, PartitionRegistration


class ClusterView(Protocol):
    @property
    def controller_id(self) -> int:
        """The active controller's node id (-1 while the quorum has no leader)."""
        ...

    def live_brokers(self) -> Sequence[BrokerRegistration]:
        """Registered, unfenced brokers, by broker id."""
        ...

    def partition(self, topic: str, partition: int) -> PartitionRegistration | None:
        """The partition's registration; None for a partition the cluster does not have."""
        ...
