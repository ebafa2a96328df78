"""CreateTopics, CreatePartitions and DeleteTopics on the active controller (sans-IO).

The records and per-topic answers Kafka's ReplicationControlManager gives (createTopic,
createPartitions, deleteTopics), with its error codes and messages. Checks that need the
broker's own configuration (topic names, config names and values, authorisation) stay with
the request handlers, which call these only for topics that passed them.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import KafkaError
from ..protocol.names import ConfigResourceType, ErrorCode
from .image import MetadataImage
from .placement import check_manual_assignment, place_replicas
from .records import ConfigRecord, MetadataRecord, PartitionRecord, RemoveTopicRecord, TopicRecord


@dataclass(frozen=True, slots=True)
class NewTopic:
    """CreateTopics' CreatableTopic: -1 asks for the broker's default."""

    name: str
    num_partitions: int = -1
    replication_factor: int = -1
    assignments: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    """Manual assignments, partition index to replicas; then both counts must be -1."""
    configs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TopicResult:
    name: str
    error: ErrorCode = ErrorCode.none
    message: str | None = None
    topic_id: uuid.UUID | None = None
    num_partitions: int = -1
    replication_factor: int = -1


@dataclass(frozen=True, slots=True)
class TopicDefaults:
    """The broker settings a CreateTopics with -1 counts falls back on."""

    num_partitions: int = 1
    """num.partitions"""
    replication_factor: int = 1
    """default.replication.factor"""


def create_topics(
    image: MetadataImage,
    topics: Sequence[NewTopic],
    defaults: TopicDefaults,
    rng: random.Random,
    new_topic_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> tuple[list[MetadataRecord], list[TopicResult]]:
    """Records creating each topic that can be created, and an answer for every topic."""
    records: list[MetadataRecord] = []
    results: list[TopicResult] = []
    for topic in topics:
        if topic.name in image.topics:
            results.append(
                TopicResult(
                    topic.name,
                    ErrorCode.topic_already_exists,
                    f"Topic '{topic.name}' already exists.",
                )
            )
            continue
        topic_id = new_topic_id()
        try:
            partitions = _partition_records(
                image, topic_id, 0, _new_assignment(image, topic, defaults, rng)
            )
        except KafkaError as e:
            results.append(TopicResult(topic.name, e.code, e.message))
            continue
        records.append(TopicRecord(topic.name, topic_id))
        records.extend(
            ConfigRecord(ConfigResourceType.TOPIC, topic.name, name, value)
            for name, value in sorted(topic.configs.items())
        )
        records.extend(partitions)
        results.append(
            TopicResult(
                topic.name,
                topic_id=topic_id,
                num_partitions=len(partitions),
                replication_factor=len(partitions[0].replicas),
            )
        )
    return records, results


def create_partitions(
    image: MetadataImage,
    name: str,
    count: int,
    assignments: Sequence[tuple[int, ...]] | None,
    rng: random.Random,
) -> list[MetadataRecord]:
    """PartitionRecords taking topic `name` to `count` partitions (createPartitions)."""
    topic = image.topics.get(name)
    if topic is None:
        raise KafkaError(
            ErrorCode.unknown_topic_or_partition, "This server does not host this topic-partition."
        )
    existing = len(topic.partitions)
    if count == existing:
        raise KafkaError(
            ErrorCode.invalid_partitions, f"Topic already has {existing} partition(s)."
        )
    if count < existing:
        raise KafkaError(
            ErrorCode.invalid_partitions,
            f"The topic {name} currently has {existing} partition(s); "
            f"{count} would not be an increase.",
        )
    additional = count - existing
    replication_factor = len(topic.partitions[0].replicas)
    if assignments is None:
        replicas = place_replicas(image.brokers.values(), additional, replication_factor, rng)
    elif len(assignments) != additional:
        raise KafkaError(
            ErrorCode.invalid_replica_assignment,
            f"Attempted to add {additional} additional partition(s), but only "
            f"{len(assignments)} assignment(s) were specified.",
        )
    else:
        replicas = list(assignments)
        for replica_set in replicas:
            check_manual_assignment(replica_set, image.brokers, replication_factor)
    return list[MetadataRecord](_partition_records(image, topic.topic_id, existing, replicas))


def delete_topics(
    image: MetadataImage, names: Sequence[str]
) -> tuple[list[MetadataRecord], list[TopicResult]]:
    records: list[MetadataRecord] = []
    results: list[TopicResult] = []
    for name in names:
        topic = image.topics.get(name)
        if topic is None:
            results.append(
                TopicResult(
                    name,
                    ErrorCode.unknown_topic_or_partition,
                    "This server does not host this topic-partition.",
                )
            )
            continue
        records.append(RemoveTopicRecord(topic.topic_id))
        results.append(TopicResult(name, topic_id=topic.topic_id))
    return records, results


def _new_assignment(
    image: MetadataImage, topic: NewTopic, defaults: TopicDefaults, rng: random.Random
) -> list[tuple[int, ...]]:
    if topic.assignments:
        if topic.replication_factor != -1:
            raise KafkaError(
                ErrorCode.invalid_request,
                "A manual partition assignment was specified, but replication "
                "factor was not set to -1.",
            )
        if topic.num_partitions != -1:
            raise KafkaError(
                ErrorCode.invalid_request,
                "A manual partition assignment was specified, but numPartitions was not set to -1.",
            )
        replication_factor: int | None = None
        for replicas in topic.assignments.values():
            check_manual_assignment(replicas, image.brokers, replication_factor)
            replication_factor = len(replicas)
        if sorted(topic.assignments) != list(range(len(topic.assignments))):
            raise KafkaError(
                ErrorCode.invalid_replica_assignment,
                "partitions should be a consecutive 0-based integer sequence",
            )
        return [topic.assignments[i] for i in range(len(topic.assignments))]
    if topic.replication_factor < -1 or topic.replication_factor == 0:
        raise KafkaError(
            ErrorCode.invalid_replication_factor,
            "Replication factor must be larger than 0, or -1 to use the default value.",
        )
    if topic.num_partitions < -1 or topic.num_partitions == 0:
        raise KafkaError(
            ErrorCode.invalid_partitions,
            "Number of partitions was set to an invalid non-positive value.",
        )
    return place_replicas(
        image.brokers.values(),
        defaults.num_partitions if topic.num_partitions == -1 else topic.num_partitions,
        defaults.replication_factor if topic.replication_factor == -1 else topic.replication_factor,
        rng,
    )


def _partition_records(
    image: MetadataImage, topic_id: uuid.UUID, first: int, assignments: Sequence[tuple[int, ...]]
) -> list[PartitionRecord]:
    """A PartitionRecord per assignment: the ISR is its unfenced replicas, led by the first.

    Kafka answers a partition none of whose replicas is unfenced with
    INVALID_REPLICA_ASSIGNMENT for a manual assignment and INVALID_REPLICATION_FACTOR for
    a placed one (the placer never leads with a fenced broker, so only a manual one can).
    """
    records = []
    for offset, replicas in enumerate(assignments):
        isr = tuple(r for r in replicas if r in image.brokers and not image.brokers[r].fenced)
        if not isr:
            raise KafkaError(
                ErrorCode.invalid_replica_assignment,
                "All brokers specified in the manual partition assignment for partition "
                f"{first + offset} are fenced or in controlled shutdown.",
            )
        records.append(
            PartitionRecord(
                partition_id=first + offset,
                topic_id=topic_id,
                replicas=replicas,
                isr=isr,
                leader=isr[0],
                leader_epoch=0,
                partition_epoch=0,
            )
        )
    return records
