"""Leaders and ISRs on the active controller: AlterPartition, ElectLeaders, and the changes
fencing or unfencing a broker makes (sans-IO).

Kafka's ReplicationControlManager (alterPartition, validateAlterPartitionData,
electLeader, generateLeaderAndIsrUpdates): each function reads the image and returns the
PartitionChangeRecords with the answers; partition_change.build_change elects.
`unclean_default` is the broker's unclean.leader.election.enable, which a topic's own
setting overrides.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..errors import KafkaError
from ..protocol.names import ErrorCode
from .image import MetadataImage
from .partition_change import Election, build_change, merge
from .partitions import NO_LEADER, PartitionRegistration
from .records import MetadataRecord


@dataclass(frozen=True, slots=True)
class IsrUpdate:
    """One partition of an AlterPartition request, from its leader."""

    topic_id: uuid.UUID
    partition: int
    leader_epoch: int
    partition_epoch: int
    new_isr: tuple[int, ...]
    broker_epochs: tuple[int, ...] = ()
    """Each new ISR member's broker epoch (AlterPartition v3+), -1 or none for unknown."""


@dataclass(frozen=True, slots=True)
class PartitionResult:
    topic_id: uuid.UUID
    partition: int
    error: ErrorCode = ErrorCode.none
    registration: PartitionRegistration | None = None
    """The registration once the records commit (None on error)."""


def election_for(image: MetadataImage, topic: str, unclean_default: bool) -> Election:
    setting = image.topic_config(topic).get("unclean.leader.election.enable")
    unclean = unclean_default if setting is None else setting == "true"
    return Election.UNCLEAN if unclean else Election.ONLINE


def leader_and_isr_updates(
    image: MetadataImage,
    which: Callable[[PartitionRegistration], bool],
    is_acceptable_leader: Callable[[int], bool],
    unclean_default: bool,
    target_isr: Callable[[PartitionRegistration], tuple[int, ...]] | None = None,
) -> list[MetadataRecord]:
    """generateLeaderAndIsrUpdates over the partitions `which` picks."""
    records: list[MetadataRecord] = []
    for topic, index, registration in image.partitions_of():
        if not which(registration):
            continue
        change = build_change(
            topic.topic_id,
            index,
            registration,
            is_acceptable_leader,
            target_isr=None if target_isr is None else target_isr(registration),
            election=election_for(image, topic.name, unclean_default),
        )
        if change is not None:
            records.append(change)
    return records


def alter_partition(
    image: MetadataImage, broker_id: int, updates: Sequence[IsrUpdate], unclean_default: bool
) -> tuple[list[MetadataRecord], list[PartitionResult]]:
    """AlterPartition from a leader whose broker epoch the caller has checked."""
    records: list[MetadataRecord] = []
    results: list[PartitionResult] = []
    for update in updates:
        error = _check_isr_update(image, broker_id, update)
        if error is not ErrorCode.none:
            results.append(PartitionResult(update.topic_id, update.partition, error))
            continue
        topic = image.topics_by_id[update.topic_id]
        current = topic.partitions[update.partition]
        change = build_change(
            update.topic_id,
            update.partition,
            current,
            image.is_active,
            target_isr=update.new_isr,
            election=election_for(image, topic.name, unclean_default),
        )
        if change is not None:
            records.append(change)
            current = merge(current, change)
        results.append(PartitionResult(update.topic_id, update.partition, registration=current))
    return records, results


def _check_isr_update(image: MetadataImage, broker_id: int, update: IsrUpdate) -> ErrorCode:
    """validateAlterPartitionData, in Kafka's order of checks."""
    topic = image.topics_by_id.get(update.topic_id)
    if topic is None:
        return ErrorCode.unknown_topic_id
    current = topic.partitions.get(update.partition)
    if current is None:
        return ErrorCode.unknown_topic_or_partition
    if (
        update.leader_epoch > current.leader_epoch
        or update.partition_epoch > current.partition_epoch
    ):
        return ErrorCode.not_controller  # the leader has seen a newer controller's work
    if update.leader_epoch < current.leader_epoch:
        return ErrorCode.fenced_leader_epoch
    if broker_id != current.leader:
        return ErrorCode.invalid_request
    if update.partition_epoch < current.partition_epoch:
        return ErrorCode.invalid_update_version
    new_isr = update.new_isr
    if len(set(new_isr)) != len(new_isr) or not set(new_isr) <= set(current.replicas):
        return ErrorCode.invalid_request
    if current.leader not in new_isr:
        return ErrorCode.invalid_request
    epochs = update.broker_epochs or (-1,) * len(new_isr)
    for member, epoch in zip(new_isr, epochs, strict=True):
        broker = image.brokers.get(member)
        if broker is None or broker.fenced or epoch not in (-1, broker.broker_epoch):
            return ErrorCode.ineligible_replica
    return ErrorCode.none


def elect_leaders(
    image: MetadataImage, election: Election, partitions: Iterable[tuple[str, int]]
) -> tuple[list[MetadataRecord], dict[tuple[str, int], KafkaError | None]]:
    """ElectLeaders, PREFERRED or UNCLEAN (ReplicationControlManager.electLeader).

    Each partition's answer is None on success. As Kafka, a PREFERRED election that
    changes the leader to another ISR member than the preferred one (the current leader
    being gone) succeeds too.
    """
    records: list[MetadataRecord] = []
    results: dict[tuple[str, int], KafkaError | None] = {}
    for name, index in partitions:
        topic = image.topics.get(name)
        current = None if topic is None else topic.partitions.get(index)
        if topic is None or current is None:
            missing = f"topic as {name}" if topic is None else f"partition as {name}-{index}"
            results[name, index] = KafkaError(
                ErrorCode.unknown_topic_or_partition, f"No such {missing}"
            )
            continue
        preferred = election is Election.PREFERRED
        if (preferred and current.leader == current.replicas[0]) or (
            not preferred and current.leader != NO_LEADER
        ):
            results[name, index] = KafkaError(ErrorCode.election_not_needed)
            continue
        change = build_change(topic.topic_id, index, current, image.is_active, election=election)
        if change is None:
            results[name, index] = KafkaError(
                ErrorCode.preferred_leader_not_available
                if preferred
                else ErrorCode.eligible_leaders_not_available
            )
            continue
        records.append(change)
        results[name, index] = None
    return records, results
