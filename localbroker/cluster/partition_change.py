"""A partition's next registration: PartitionChangeBuilder and PartitionRegistration.merge.

Every controller decision that touches a partition (a fenced or unfenced broker, an
AlterPartition, a preferred-leader election) names the ISR it wants and which brokers may
lead; `build_change` elects the leader the way Kafka does and returns the smallest
PartitionChangeRecord that gets there, or None when nothing changes. `merge` is how every
node applies that record, so the leader epoch rises exactly when the leader changes and the
partition epoch on every change.

As Kafka 4.1 with eligible leader replicas off and a metadata version past 3.6: an ISR
shrink alone does not raise the leader epoch (KAFKA-15021), and the ISR is never emptied:
when its last member goes, the partition loses its leader but keeps that member in the ISR,
so the broker that has every committed record leads again when it comes back. Replica
reassignment and leader recovery state are not modelled.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import Enum

from .partitions import NO_LEADER, PartitionRegistration
from .records import NO_LEADER_CHANGE, PartitionChangeRecord


class Election(Enum):
    """Kafka's PartitionChangeBuilder.Election."""

    ONLINE = "online"
    """Keep a leader that may still lead, else the first acceptable ISR member."""
    PREFERRED = "preferred"
    """The first replica when it is in the ISR and acceptable (ElectLeaders PREFERRED)."""
    UNCLEAN = "unclean"
    """As ONLINE, then any acceptable replica, the ISR cut to it: records may be lost."""


def build_change(
    topic_id: uuid.UUID,
    partition_id: int,
    current: PartitionRegistration,
    is_acceptable_leader: Callable[[int], bool],
    target_isr: tuple[int, ...] | None = None,
    election: Election = Election.ONLINE,
) -> PartitionChangeRecord | None:
    isr = current.isr if target_isr is None else target_isr
    leader, unclean = _elect(current, isr, is_acceptable_leader, election)
    new_leader = NO_LEADER_CHANGE if leader == current.leader else leader
    new_isr: tuple[int, ...] | None = None
    if unclean:
        new_isr = (leader,)
    elif isr and isr != current.isr:
        new_isr = isr
    if new_leader == NO_LEADER_CHANGE and new_isr is None:
        return None
    return PartitionChangeRecord(partition_id, topic_id, isr=new_isr, leader=new_leader)


def _elect(
    current: PartitionRegistration,
    isr: tuple[int, ...],
    is_acceptable_leader: Callable[[int], bool],
    election: Election,
) -> tuple[int, bool]:
    """The leader and whether it was elected uncleanly (electPreferredLeader, electAnyLeader)."""

    def valid(replica: int) -> bool:
        return replica in isr and is_acceptable_leader(replica)

    if election is Election.PREFERRED and valid(current.replicas[0]):
        return current.replicas[0], False
    if valid(current.leader):
        return current.leader, False
    clean = next((r for r in current.replicas if valid(r)), None)
    if clean is not None:
        return clean, False
    if election is Election.UNCLEAN:
        unclean = next((r for r in current.replicas if is_acceptable_leader(r)), None)
        if unclean is not None:
            return unclean, True
    return NO_LEADER, False


def merge(
    registration: PartitionRegistration, change: PartitionChangeRecord
) -> PartitionRegistration:
    leader_changed = change.leader != NO_LEADER_CHANGE
    return PartitionRegistration(
        replicas=registration.replicas if change.replicas is None else change.replicas,
        isr=registration.isr if change.isr is None else change.isr,
        leader=change.leader if leader_changed else registration.leader,
        leader_epoch=registration.leader_epoch + (1 if leader_changed else 0),
        partition_epoch=registration.partition_epoch + 1,
    )
