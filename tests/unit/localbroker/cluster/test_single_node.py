"""The single-node cluster view: this broker alone, the controller, leading every partition it
has at epoch 0 with itself as the only replica and the whole ISR."""

from __future__ import annotations

from localbroker.cluster.partitions import PartitionRegistration
from localbroker.cluster.single_node import SingleNodeView
from localbroker.metadata.store import TopicRecord, new_topic_id
from localbroker.protocol.names import SecurityProtocol
from localbroker.security.listeners import Endpoint

PLAINTEXT = Endpoint("PLAINTEXT", SecurityProtocol.PLAINTEXT, "127.0.0.1", 9092)


def test_every_partition_of_a_topic_is_led_by_this_broker_at_epoch_0() -> None:
    topics = {"orders": TopicRecord("orders", new_topic_id(), 2)}
    view = SingleNodeView(3, dict, topics)
    led = PartitionRegistration(
        replicas=(3,), isr=(3,), leader=3, leader_epoch=0, partition_epoch=0
    )
    assert view.partition("orders", 0) == led
    assert view.partition("orders", 1) == led
    assert not led.offline


def test_a_partition_the_broker_does_not_have_is_none() -> None:
    topics = {"orders": TopicRecord("orders", new_topic_id(), 2)}
    view = SingleNodeView(3, dict, topics)
    assert view.partition("orders", 2) is None
    assert view.partition("orders", -1) is None
    assert view.partition("payments", 0) is None


def test_topics_and_endpoints_are_read_as_they_are_now() -> None:
    """Listeners are advertised once bound and topics come and go: the view is read through."""
    topics: dict[str, TopicRecord] = {}
    advertised: dict[str, Endpoint] = {}
    view = SingleNodeView(3, lambda: advertised, topics)
    topics["orders"] = TopicRecord("orders", new_topic_id(), 1)
    advertised = {"PLAINTEXT": PLAINTEXT}  # as LocalBroker replaces them once bound
    assert view.partition("orders", 0) is not None
    (broker,) = view.live_brokers()
    assert (broker.broker_id, broker.fenced, broker.rack) == (3, False, None)
    assert broker.endpoint("PLAINTEXT") == PLAINTEXT
    assert broker.endpoint("SSL") is None
    assert view.controller_id == 3
