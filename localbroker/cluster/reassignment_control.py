"""AlterPartitionReassignments and ListPartitionReassignments on the active controller
(sans-IO).

Kafka's ReplicationControlManager.alterPartitionReassignments: each partition's answer is
its own (an error for one does not stop the others), and each accepted one is at most one
PartitionChangeRecord, built by partition_change.build_change from the image: a move
starts with the target replicas added (reassignment.Assignment.moving) and completes in the
same record when the ISR already holds them (a reordering of the same replicas), otherwise
with the AlterPartition that brings the last of them into the ISR. Replicas None cancels
the move under way (the replicas before it come back). The checks and messages are
Kafka's; as in Kafka, a target broker must be registered, fenced or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import KafkaError
from ..protocol.names import ErrorCode
from .image import MetadataImage
from .partition_change import Election, build_change
from .partition_control import election_for
from .partitions import PartitionRegistration
from .placement import check_manual_assignment
from .reassignment import Assignment
from .records import MetadataRecord

TopicPartition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class ReassignmentTarget:
    """One partition of an AlterPartitionReassignments request."""

    topic: str
    partition: int
    replicas: tuple[int, ...] | None
    """The replicas to move to; None cancels the reassignment under way."""
    allow_replication_factor_change: bool = True
    """AllowReplicationFactorChange (v1, KIP-860): False refuses a move to more or fewer
    replicas."""


def unknown_topic(name: str) -> KafkaError:
    return KafkaError(ErrorCode.unknown_topic_or_partition, f"Unable to find a topic named {name}.")


def unknown_partition(name: str, partition: int) -> KafkaError:
    return KafkaError(
        ErrorCode.unknown_topic_or_partition, f"Unable to find partition {name}:{partition}."
    )


def no_reassignment() -> KafkaError:
    """Without a message: Kafka's is the error's own, which ApiError.fromThrowable leaves
    out of the answer."""
    return KafkaError(ErrorCode.no_reassignment_in_progress)


def alter_reassignments(
    image: MetadataImage, targets: Sequence[ReassignmentTarget], unclean_default: bool
) -> tuple[list[MetadataRecord], list[KafkaError | None]]:
    """The records and each target's answer (None: accepted), in the targets' order."""
    records: list[MetadataRecord] = []
    answers: list[KafkaError | None] = []
    for target in targets:
        try:
            record = _alter(image, target, unclean_default)
        except KafkaError as exc:
            answers.append(exc)
            continue
        if record is not None:
            records.append(record)
        answers.append(None)
    return records, answers


def _alter(
    image: MetadataImage, target: ReassignmentTarget, unclean_default: bool
) -> MetadataRecord | None:
    topic = image.topics.get(target.topic)
    if topic is None:
        raise unknown_topic(target.topic)
    current = topic.partitions.get(target.partition)
    if current is None:
        raise unknown_partition(target.topic, target.partition)
    if target.replicas is None:
        return _cancel(image, target, current, unclean_default)
    check_manual_assignment(target.replicas, image.brokers, None)
    if not target.allow_replication_factor_change:
        _check_same_replication_factor(current, target.replicas)
    return build_change(
        topic.topic_id,
        target.partition,
        current,
        image.is_active,
        target=Assignment.moving(current.replicas, target.replicas),
    )


def _check_same_replication_factor(
    current: PartitionRegistration, replicas: tuple[int, ...]
) -> None:
    """validatePartitionReplicationFactorUnchanged: against the target of a move under way."""
    now = set(current.replicas) | set(current.adding_replicas)
    factor = len(now - set(current.removing_replicas))
    if factor != len(replicas):
        raise KafkaError(
            ErrorCode.invalid_replication_factor,
            f"The replication factor is changed from {factor} to {len(replicas)}",
        )


def _cancel(
    image: MetadataImage,
    target: ReassignmentTarget,
    current: PartitionRegistration,
    unclean_default: bool,
) -> MetadataRecord | None:
    """cancelPartitionReassignment: back to the replicas before the move."""
    if not current.reassigning:
        raise no_reassignment()
    election = election_for(image, target.topic, unclean_default)
    replicas, isr, unclean = Assignment.of(current).reverted(current.isr)
    if unclean and election is not Election.UNCLEAN:
        raise KafkaError(
            ErrorCode.invalid_replica_assignment,
            f"Unable to revert partition assignment for {target.topic}:{target.partition}"
            " because it would require an unclean leader election.",
        )
    return build_change(
        image.topics[target.topic].topic_id,
        target.partition,
        current,
        image.is_active,
        target_isr=isr,
        election=election,
        target=replicas,
    )


def list_reassignments(
    image: MetadataImage, wanted: Iterable[tuple[str, Iterable[int]]] | None
) -> dict[str, dict[int, PartitionRegistration]]:
    """The partitions under reassignment among `wanted` (topic, partition ids), or all of
    them (None), by topic: unknown topics and partitions, and those not moving, left out."""
    if wanted is None:
        wanted = [(name, topic.partitions) for name, topic in sorted(image.topics.items())]
    listed: dict[str, dict[int, PartitionRegistration]] = {}
    for name, indexes in wanted:
        topic = image.topics.get(name)
        if topic is None:
            continue
        for index in indexes:
            registration = topic.partitions.get(index)
            if registration is not None and registration.reassigning:
                listed.setdefault(name, {})[index] = registration
    return listed
