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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import KafkaError
from ..protocol.names import ErrorCode
from .elections import ElectionResults, RequestedPartitions, election_results
from .image import MetadataImage
from .partition_change import Election, build_change, merge
from .partitions import NO_LEADER, PartitionRegistration
from .records import MetadataRecord, PartitionChangeRecord


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
    election: Election | None = None,
) -> list[MetadataRecord]:
    """generateLeaderAndIsrUpdates over the partitions `which` picks, each elected as its
    topic's unclean.leader.election.enable says unless `election` is given."""
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
            election=election or election_for(image, topic.name, unclean_default),
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
        if current.leader != broker_id:  # the ISR completed a reassignment that moved it
            results.append(
                PartitionResult(update.topic_id, update.partition, ErrorCode.new_leader_elected)
            )
            continue
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


def elect_leader(
    name: str,
    index: int,
    topic_exists: bool,
    current: PartitionRegistration | None,
    election: Election,
    change: Callable[[PartitionRegistration], PartitionChangeRecord | None],
) -> PartitionChangeRecord | KafkaError:
    """One partition of ElectLeaders, PREFERRED or UNCLEAN (ReplicationControlManager
    .electLeader): the record `change` builds for it, or why there is none, with Kafka's
    messages. As Kafka, a PREFERRED election that moves the leadership to another ISR member
    than the preferred replica (the current leader being gone) succeeds too."""
    if current is None:
        missing = f"partition as {name}-{index}" if topic_exists else f"topic as {name}"
        return KafkaError(ErrorCode.unknown_topic_or_partition, f"No such {missing}")
    preferred = election is Election.PREFERRED
    if (preferred and current.leader == current.replicas[0]) or (
        not preferred and current.leader != NO_LEADER
    ):
        return KafkaError(
            ErrorCode.election_not_needed, "Leader election not needed for topic partition."
        )
    record = change(current)
    if record is not None:
        return record
    if preferred:
        return KafkaError(
            ErrorCode.preferred_leader_not_available, "The preferred leader was not available."
        )
    return KafkaError(
        ErrorCode.eligible_leaders_not_available,
        "Eligible topic partition leaders are not available.",
    )


def elect_leaders(
    image: MetadataImage, election: Election, requested: RequestedPartitions
) -> tuple[list[MetadataRecord], ElectionResults]:
    """ElectLeaders on the controller: the records electing the partitions asked for (all
    of them for None), and each one's answer."""
    records: list[MetadataRecord] = []

    def elect(name: str, index: int) -> KafkaError | None:
        topic = image.topics.get(name)
        current = None if topic is None else topic.partitions.get(index)
        answer = elect_leader(
            name,
            index,
            topic is not None,
            current,
            election,
            lambda p: build_change(
                image.topics[name].topic_id, index, p, image.is_active, election=election
            ),
        )
        if isinstance(answer, KafkaError):
            return answer
        records.append(answer)
        return None

    def every_partition() -> dict[str, list[int]]:
        return {topic.name: sorted(topic.partitions) for topic in image.topics.values()}

    return records, election_results(requested, every_partition, elect)


def imbalanced(image: MetadataImage) -> bool:
    """Whether a partition is led by another replica than its preferred one, or by none
    (ReplicationControlManager.arePartitionLeadersImbalanced)."""
    return any(p.leader != p.replicas[0] for _, _, p in image.partitions_of())


def balance_partition_leaders(image: MetadataImage, max_elections: int) -> list[MetadataRecord]:
    """Preferred-replica elections for imbalanced partitions, at most `max_elections`
    (maybeTriggerLeaderChangeForPartitionsWithoutPreferredLeader): the preferred replica
    leads again where it is in the ISR and unfenced."""
    records = leader_and_isr_updates(
        image,
        lambda p: p.leader != p.replicas[0],
        image.is_active,
        unclean_default=False,
        election=Election.PREFERRED,
    )
    return records[:max_elections]
