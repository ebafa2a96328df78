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
so the broker that has every committed record leads again when it comes back. Leader
recovery state is not modelled.

A change may also set the replicas (`target`, a reassignment's start or its cancelling),
and every change completes a reassignment under way once its ISR holds the target
replicas (reassignment.py): the removed replicas leave the replicas and the ISR, and a
leader among them gives way. A change that takes replicas away raises the leader epoch even
when the leader stays, so that the leader's followers and clients learn of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import Enum

from .partitions import NO_LEADER, PartitionRegistration
from .reassignment import Assignment
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
    target: Assignment | None = None,
) -> PartitionChangeRecord | None:
    isr = current.isr if target_isr is None else target_isr
    assignment = Assignment.of(current) if target is None else target
    if (done := assignment.completed(isr)) is not None:
        assignment, isr = done
    leader, unclean = _elect(current, assignment.replicas, isr, is_acceptable_leader, election)
    new_leader = NO_LEADER_CHANGE if leader == current.leader else leader
    if new_leader == NO_LEADER_CHANGE and not set(current.replicas) <= set(assignment.replicas):
        new_leader = current.leader  # replicas removed: a new leader epoch all the same
    new_isr: tuple[int, ...] | None = None
    if unclean:
        new_isr = (leader,)
    elif isr and isr != current.isr:
        new_isr = isr
    change = PartitionChangeRecord(
        partition_id,
        topic_id,
        isr=new_isr,
        leader=new_leader,
        replicas=_changed(assignment.replicas, current.replicas),
        removing_replicas=_changed(assignment.removing, current.removing_replicas),
        adding_replicas=_changed(assignment.adding, current.adding_replicas),
    )
    return None if change == PartitionChangeRecord(partition_id, topic_id) else change


def _changed(wanted: tuple[int, ...], current: tuple[int, ...]) -> tuple[int, ...] | None:
    return None if wanted == current else wanted


def _elect(
    current: PartitionRegistration,
    replicas: tuple[int, ...],
    isr: tuple[int, ...],
    is_acceptable_leader: Callable[[int], bool],
    election: Election,
) -> tuple[int, bool]:
    """The leader among `replicas` and whether it was elected uncleanly
    (electPreferredLeader, electAnyLeader)."""

    def valid(replica: int) -> bool:
        return replica in isr and is_acceptable_leader(replica)

    if election is Election.PREFERRED and valid(replicas[0]):
        return replicas[0], False
    if valid(current.leader):
        return current.leader, False
    clean = next((r for r in replicas if valid(r)), None)
    if clean is not None:
        return clean, False
    if election is Election.UNCLEAN:
        unclean = next((r for r in replicas if is_acceptable_leader(r)), None)
        if unclean is not None:
            return unclean, True
    return NO_LEADER, False


def merge(
    registration: PartitionRegistration, change: PartitionChangeRecord
) -> PartitionRegistration:
    leader_changed = change.leader != NO_LEADER_CHANGE
    return PartitionRegistration(
        replicas=_or(change.replicas, registration.replicas),
        isr=_or(change.isr, registration.isr),
        leader=change.leader if leader_changed else registration.leader,
        leader_epoch=registration.leader_epoch + (1 if leader_changed else 0),
        partition_epoch=registration.partition_epoch + 1,
        removing_replicas=_or(change.removing_replicas, registration.removing_replicas),
        adding_replicas=_or(change.adding_replicas, registration.adding_replicas),
    )


def _or(changed: tuple[int, ...] | None, kept: tuple[int, ...]) -> tuple[int, ...]:
    return kept if changed is None else changed
