"""The metadata image: records applied in log order, and what each batch changed."""

from __future__ import annotations

import uuid

import pytest

from localbroker.cluster.image import MetadataImage, PartitionChange
from localbroker.cluster.partitions import NO_LEADER, BrokerRegistration, PartitionRegistration
from localbroker.cluster.records import (
    BrokerRegistrationChangeRecord,
    ConfigRecord,
    FencingChange,
    MetadataRecord,
    MetadataRecordError,
    PartitionChangeRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    RemoveTopicRecord,
    TopicRecord,
    UnregisterBrokerRecord,
)
from localbroker.cluster.view import ClusterView
from localbroker.protocol.names import ConfigResourceType, SecurityProtocol
from localbroker.security.listeners import Endpoint

ORDERS = uuid.UUID(int=1)
PLAINTEXT = Endpoint("PLAINTEXT", SecurityProtocol.PLAINTEXT, "127.0.0.1", 9092)


def register(broker_id: int, epoch: int) -> RegisterBrokerRecord:
    return RegisterBrokerRecord(broker_id, uuid.UUID(int=broker_id), epoch, (PLAINTEXT,), None)


def image_with_orders() -> MetadataImage:
    image = MetadataImage()
    image.apply(
        0,
        [
            register(0, 0),
            register(1, 1),
            TopicRecord("orders", ORDERS),
            PartitionRecord(0, ORDERS, (0, 1), (0, 1), 0, 0, 0),
            PartitionRecord(1, ORDERS, (1, 0), (1, 0), 1, 0, 0),
        ],
    )
    return image


def test_brokers_are_registered_fenced_and_live_once_unfenced() -> None:
    image = MetadataImage()
    view: ClusterView = image
    image.apply(0, [register(1, 0), register(0, 1)])
    assert view.live_brokers() == []
    image.apply(2, [BrokerRegistrationChangeRecord(1, 0, FencingChange.UNFENCE)])
    assert view.live_brokers() == [BrokerRegistration(1, 0, (PLAINTEXT,), None, fenced=False)]
    image.apply(3, [BrokerRegistrationChangeRecord(0, 1, FencingChange.UNFENCE)])
    assert [b.broker_id for b in view.live_brokers()] == [0, 1]
    image.apply(4, [BrokerRegistrationChangeRecord(1, 0, FencingChange.FENCE)])
    assert [b.broker_id for b in view.live_brokers()] == [0]
    image.apply(5, [UnregisterBrokerRecord(0, 1)])
    assert image.brokers.keys() == {1}
    assert image.last_offset == 5


def test_a_batch_reports_each_partition_before_and_after() -> None:
    image = MetadataImage()
    delta = image.apply(
        0,
        [
            TopicRecord("orders", ORDERS),
            PartitionRecord(0, ORDERS, (0, 1), (0, 1), 0, 0, 0),
            PartitionChangeRecord(0, ORDERS, isr=(1,), leader=1),
        ],
    )
    assert delta.created_topics == ["orders"]
    assert delta.partitions == {
        ("orders", 0): PartitionChange("orders", 0, None, image.partition("orders", 0))
    }
    assert image.partition("orders", 0) == PartitionRegistration((0, 1), (1,), 1, 1, 1)
    assert image.partition("orders", 1) is None
    assert image.partition("payments", 0) is None


@pytest.mark.parametrize(
    ("change", "after"),
    [
        # Kafka's PartitionRegistration.merge: the leader epoch rises with the leader only,
        # the partition epoch with every change.
        (PartitionChangeRecord(0, ORDERS, isr=(0,)), PartitionRegistration((0, 1), (0,), 0, 0, 1)),
        (
            PartitionChangeRecord(0, ORDERS, leader=1),
            PartitionRegistration((0, 1), (0, 1), 1, 1, 1),
        ),
        (
            PartitionChangeRecord(0, ORDERS, leader=NO_LEADER, isr=(0,)),
            PartitionRegistration((0, 1), (0,), NO_LEADER, 1, 1),
        ),
        (
            PartitionChangeRecord(0, ORDERS, replicas=(1, 0)),
            PartitionRegistration((1, 0), (0, 1), 0, 0, 1),
        ),
    ],
)
def test_a_partition_change_merges_as_kafka_merges_it(
    change: PartitionChangeRecord, after: PartitionRegistration
) -> None:
    image = image_with_orders()
    delta = image.apply(5, [change])
    assert image.partition("orders", 0) == after
    assert delta.partitions[("orders", 0)].old == PartitionRegistration((0, 1), (0, 1), 0, 0, 0)
    assert image.partition("orders", 1) == PartitionRegistration((1, 0), (1, 0), 1, 0, 0)


def test_removing_a_topic_removes_its_partitions_and_configs() -> None:
    image = image_with_orders()
    image.apply(5, [ConfigRecord(ConfigResourceType.TOPIC, "orders", "retention.ms", "1")])
    assert image.topic_config("orders") == {"retention.ms": "1"}
    delta = image.apply(6, [RemoveTopicRecord(ORDERS)])
    assert delta.removed_topics == ["orders"]
    assert {k: v.new for k, v in delta.partitions.items()} == {
        ("orders", 0): None,
        ("orders", 1): None,
    }
    assert image.topics == {} and image.topics_by_id == {}
    assert image.topic_config("orders") == {}
    image.apply(7, [TopicRecord("orders", uuid.UUID(int=2))])  # the name is free again


def test_configs_are_set_and_deleted() -> None:
    image = MetadataImage()
    image.apply(0, [ConfigRecord(ConfigResourceType.BROKER, "", "log.retention.ms", "5")])
    assert image.configs == {(ConfigResourceType.BROKER, ""): {"log.retention.ms": "5"}}
    image.apply(1, [ConfigRecord(ConfigResourceType.BROKER, "", "log.retention.ms", None)])
    assert image.configs == {}


def test_producer_id_blocks_only_move_forward() -> None:
    image = MetadataImage()
    image.apply(0, [ProducerIdsRecord(0, 0, 1000)])
    assert image.next_producer_id == 1000
    with pytest.raises(MetadataRecordError, match="back to 1000 from 1000"):
        image.apply(1, [ProducerIdsRecord(0, 0, 1000)])


@pytest.mark.parametrize(
    ("offset", "record", "message"),
    [
        (4, TopicRecord("payments", uuid.UUID(int=3)), "offset 4 is not after 4"),
        (5, TopicRecord("orders", uuid.UUID(int=3)), "topic orders is already in the image"),
        (5, TopicRecord("payments", ORDERS), "already in the image"),
        (5, PartitionRecord(0, uuid.UUID(int=3), (0,), (0,), 0, 0, 0), "is not in the image"),
        (5, PartitionChangeRecord(2, ORDERS, leader=0), "orders-2, which has no PartitionRecord"),
        (5, BrokerRegistrationChangeRecord(0, 7, FencingChange.FENCE), "broker 0 epoch 7"),
        (5, UnregisterBrokerRecord(2, 0), "broker 2 epoch 0 is not registered"),
        (5, RemoveTopicRecord(uuid.UUID(int=3)), "is not in the image"),
    ],
)
def test_a_record_that_does_not_fit_the_image_is_refused(
    offset: int, record: MetadataRecord, message: str
) -> None:
    """A node that skipped it would serve from an image its peers do not have."""
    image = image_with_orders()
    with pytest.raises(MetadataRecordError, match=message):
        image.apply(offset, [record])


def test_a_topic_created_and_removed_in_one_batch_changes_no_partition() -> None:
    image = MetadataImage()
    delta = image.apply(
        0,
        [
            TopicRecord("orders", ORDERS),
            PartitionRecord(0, ORDERS, (0,), (0,), 0, 0, 0),
            RemoveTopicRecord(ORDERS),
        ],
    )
    assert delta.partitions == {}
    assert (delta.created_topics, delta.removed_topics) == (["orders"], ["orders"])
