"""CreateTopics, CreatePartitions and DeleteTopics on the controller, with Kafka's answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from localbroker.cluster.partitions import PartitionRegistration
from localbroker.cluster.records import ConfigRecord, PartitionRecord, TopicRecord
from localbroker.cluster.topic_control import NewTopic, TopicDefaults
from localbroker.errors import KafkaError
from localbroker.protocol.names import ConfigResourceType, ErrorCode

Make = Callable[..., Any]


def test_a_created_topic_is_its_record_then_its_configs_then_its_partitions(
    cluster_of: Make,
) -> None:
    """ReplicationControlManager.createTopic: "ConfigRecords go after TopicRecord but
    before PartitionRecord(s)"; each ISR is the replicas that are not fenced, led by the
    first of them, in leader and partition epoch 0."""
    cluster = cluster_of(3)
    cluster.heartbeat(0, want_fence=True)
    topic = NewTopic("orders", assignments={0: (0, 1), 1: (2, 0)}, configs={"retention.ms": "9"})
    result = cluster.controller.create_topics([topic])
    (answer,) = result.response
    assert (answer.error, answer.num_partitions, answer.replication_factor) == (
        ErrorCode.none,
        2,
        2,
    )
    topic_id = answer.topic_id
    assert result.records == [
        TopicRecord("orders", topic_id),
        ConfigRecord(ConfigResourceType.TOPIC, "orders", "retention.ms", "9"),
        PartitionRecord(0, topic_id, (0, 1), (1,), 1, 0, 0),
        PartitionRecord(1, topic_id, (2, 0), (2,), 2, 0, 0),
    ]
    cluster.commit(result)
    assert cluster.image.topic_config("orders") == {"retention.ms": "9"}
    assert cluster.part("orders", 1) == PartitionRegistration((2, 0), (2,), 2, 0, 0)


def test_placed_partitions_lead_on_every_broker_and_defaults_fill_in(cluster_of: Make) -> None:
    cluster = cluster_of(3, topic_defaults=TopicDefaults(num_partitions=6, replication_factor=2))
    cluster.commit(cluster.controller.create_topics([NewTopic("orders")]))
    partitions = [cluster.part("orders", p) for p in range(6)]
    assert sorted(p.leader for p in partitions) == [0, 0, 1, 1, 2, 2]
    assert all(p.isr == p.replicas and len(set(p.replicas)) == 2 for p in partitions)


@pytest.mark.parametrize(
    ("topic", "error", "message"),
    [
        (NewTopic("taken"), ErrorCode.topic_already_exists, "Topic 'taken' already exists."),
        (
            NewTopic("t", replication_factor=0),
            ErrorCode.invalid_replication_factor,
            "Replication factor must be larger than 0, or -1 to use the default value.",
        ),
        (
            NewTopic("t", num_partitions=-3),
            ErrorCode.invalid_partitions,
            "Number of partitions was set to an invalid non-positive value.",
        ),
        (
            NewTopic("t", replication_factor=4),
            ErrorCode.invalid_replication_factor,
            "Unable to replicate the partition 4 time(s): The target replication factor of 4 "
            "cannot be reached because only 3 broker(s) are registered.",
        ),
        (
            NewTopic("t", replication_factor=2, assignments={0: (0, 1)}),
            ErrorCode.invalid_request,
            "A manual partition assignment was specified, but replication factor was not set "
            "to -1.",
        ),
        (
            NewTopic("t", num_partitions=1, assignments={0: (0, 1)}),
            ErrorCode.invalid_request,
            "A manual partition assignment was specified, but numPartitions was not set to -1.",
        ),
        (
            NewTopic("t", assignments={0: (0, 7)}),
            ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes broker 7, but no such broker is registered.",
        ),
        (
            NewTopic("t", assignments={0: (1, 1)}),
            ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes the broker 1 more than once.",
        ),
        (
            NewTopic("t", assignments={0: ()}),
            ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes an empty replica list.",
        ),
        (
            NewTopic("t", assignments={0: (0, 1), 1: (1,)}),
            ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes a partition with 1 replica(s), but this "
            "is not consistent with previous partitions, which have 2 replica(s).",
        ),
        (
            NewTopic("t", assignments={0: (0,), 2: (1,)}),
            ErrorCode.invalid_replica_assignment,
            "partitions should be a consecutive 0-based integer sequence",
        ),
        (
            NewTopic("t", assignments={0: (0,), 1: (2,)}),
            ErrorCode.invalid_replica_assignment,
            "All brokers specified in the manual partition assignment for partition 1 are "
            "fenced or in controlled shutdown.",
        ),
    ],
)
def test_a_topic_kafka_would_not_create_is_answered_as_kafka_does(
    cluster_of: Make, topic: NewTopic, error: ErrorCode, message: str
) -> None:
    """ReplicationControlManager.createTopics / createTopic /
    validateManualPartitionAssignment; the other topics of the request are still created."""
    cluster = cluster_of(3)
    cluster.create("taken", (0,))
    cluster.heartbeat(2, want_fence=True)
    result = cluster.controller.create_topics([topic, NewTopic("fine", num_partitions=1)])
    refused, created = result.response
    assert (refused.error, refused.message, refused.topic_id) == (error, message, None)
    assert created.error is ErrorCode.none
    assert [type(r) for r in result.records] == [TopicRecord, PartitionRecord]


def test_partitions_are_added_with_the_topics_replication_factor(cluster_of: Make) -> None:
    cluster = cluster_of(3)
    cluster.create("orders", (0, 1))
    cluster.commit(cluster.controller.create_partitions("orders", 3))
    assert [len(cluster.part("orders", p).replicas) for p in range(3)] == [2, 2, 2]
    cluster.commit(cluster.controller.create_partitions("orders", 4, [(2, 1)]))
    assert cluster.part("orders", 3) == PartitionRegistration((2, 1), (2, 1), 2, 0, 0)


@pytest.mark.parametrize(
    ("name", "count", "assignments", "error", "message"),
    [
        (
            "x",
            2,
            None,
            ErrorCode.unknown_topic_or_partition,
            "This server does not host this topic-partition.",
        ),
        ("orders", 1, None, ErrorCode.invalid_partitions, "Topic already has 1 partition(s)."),
        (
            "orders",
            0,
            None,
            ErrorCode.invalid_partitions,
            "The topic orders currently has 1 partition(s); 0 would not be an increase.",
        ),
        (
            "orders",
            3,
            [(0, 1)],
            ErrorCode.invalid_replica_assignment,
            "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.",
        ),
        (
            "orders",
            2,
            [(0,)],
            ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes a partition with 1 replica(s), but this "
            "is not consistent with previous partitions, which have 2 replica(s).",
        ),
    ],
)
def test_partitions_kafka_would_not_add_are_refused(
    cluster_of: Make,
    name: str,
    count: int,
    assignments: list[tuple[int, ...]] | None,
    error: ErrorCode,
    message: str,
) -> None:
    """ReplicationControlManager.createPartitions."""
    cluster = cluster_of(2)
    cluster.create("orders", (0, 1))
    with pytest.raises(KafkaError) as refused:
        cluster.controller.create_partitions(name, count, assignments)
    assert (refused.value.code, refused.value.message) == (error, message)


def test_a_deleted_topic_is_gone_and_an_unknown_one_answered(cluster_of: Make) -> None:
    cluster = cluster_of(1)
    topic_id = cluster.create("orders", (0,))
    answers = cluster.commit(cluster.controller.delete_topics(["orders", "x"]))
    assert [(a.name, a.error, a.topic_id) for a in answers] == [
        ("orders", ErrorCode.none, topic_id),
        ("x", ErrorCode.unknown_topic_or_partition, None),
    ]
    assert cluster.image.topics == {}
