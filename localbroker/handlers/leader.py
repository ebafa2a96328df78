"""Leadership checks for partition-level APIs, against the cluster view's registration of the
partition (one broker leads everything at epoch 0; in cluster mode the metadata image says).

The order is ReplicaManager.getPartitionOrException's and Partition.getLocalLog's: a broker
that is no replica of the partition answers NOT_LEADER_OR_FOLLOWER, then the client's leader
epoch is checked (KIP-320), then whether this broker leads, for the requests only a leader
serves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..cluster.partitions import NO_LEADER
from ..errors import KafkaError
from ..log.partition import LEADER_EPOCH
from ..protocol.names import OFFSETS_TOPIC
from .brokers import live_node

if TYPE_CHECKING:
    from ..state import BrokerState

NO_EPOCH = -1


def leader_epoch_error(
    current_leader_epoch: int, leader_epoch: int = LEADER_EPOCH
) -> ErrorCode | None:
    """KIP-320's check of the client's view of the leader epoch, or None when it is current
    (or the client named none)."""
    if current_leader_epoch in (NO_EPOCH, leader_epoch):
        return None
    if current_leader_epoch > leader_epoch:
        return ErrorCode.unknown_leader_epoch
    return ErrorCode.fenced_leader_epoch


def partition_error(
    state: BrokerState,
    topic: str,
    partition: int,
    current_leader_epoch: int = NO_EPOCH,
    *,
    require_leader: bool = True,
) -> ErrorCode | None:
    """Why this broker may not serve the partition, or None. `require_leader` is false for
    the reads a follower serves too (KIP-392: consumers' Fetch from v11)."""
    registration = state.cluster.partition(topic, partition)
    if registration is None:
        return ErrorCode.unknown_topic_or_partition
    if state.node_id not in registration.replicas:
        return ErrorCode.not_leader_or_follower
    error = leader_epoch_error(current_leader_epoch, registration.leader_epoch)
    if error is None and require_leader and registration.leader != state.node_id:
        return ErrorCode.not_leader_or_follower
    return error


class LeaderHints:
    """KIP-951: with NOT_LEADER_OR_FOLLOWER (and Fetch's FENCED_LEADER_EPOCH), Kafka tells the
    client the partition's current leader and epoch, and the leaders' endpoints once per
    response (`node_endpoints`), so it can move without a Metadata round trip
    (KafkaApis.getCurrentLeader)."""

    def __init__(self, state: BrokerState, listener: str) -> None:
        self._state = state
        self._listener = listener
        self._nodes: dict[int, dict[str, Any]] = {}

    def current_leader(self, topic: str, partition: int) -> dict[str, int]:
        """The partition's `current_leader` field; its leader's endpoint joins the response's
        `node_endpoints` when the leader is live on the client's listener."""
        registration = self._state.cluster.partition(topic, partition)
        if registration is None:
            return {"leader_id": NO_LEADER, "leader_epoch": NO_EPOCH}
        node = live_node(self._state, registration.leader, self._listener)
        if node is not None:
            self._nodes[registration.leader] = node
        return {"leader_id": registration.leader, "leader_epoch": registration.leader_epoch}

    @property
    def node_endpoints(self) -> list[dict[str, Any]]:
        return list(self._nodes.values())


def coordinates(state: BrokerState, group_id: str) -> bool:
    """Whether this broker is the group's coordinator: the leader of its `__consumer_offsets`
    partition. Kafka's coordinator runtime answers NOT_COORDINATOR for a group whose partition
    it has not loaded as leader. Before the offsets topic exists every group is this broker's:
    the topic is created on first use, here, as a single broker creates it."""
    if OFFSETS_TOPIC not in state.topics:
        return True
    partition = state.offsets_topic.partition_of(group_id)
    registration = state.cluster.partition(OFFSETS_TOPIC, partition)
    return registration is not None and registration.leader == state.node_id


def require_coordinator(state: BrokerState, group_id: str) -> None:
    """NOT_COORDINATOR for the whole request, for APIs answered by a top-level error alone."""
    if not coordinates(state, group_id):
        raise KafkaError(ErrorCode.not_coordinator)
