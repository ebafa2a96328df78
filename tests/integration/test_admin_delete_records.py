"""KafkaAdmin.delete_records (DeleteRecords) against localbroker, checked with confluent-kafka.

The workbench's offsets view moves a partition's log start offset with it; these tests check
the new low watermarks it returns, what a real client sees afterwards, and that Kafka's
refusals come back as one readable line.
"""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from tui.embedded import EmbeddedBroker
from tui.kafka.admin import KafkaAdmin
from tui.kafka.connection import from_properties
from tui.kafka.errors import KafkaToolError

pytestmark = pytest.mark.timeout(60)


def produce(bootstrap: str, topic: str, counts: dict[int, int]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for partition, count in counts.items():
        for i in range(count):
            producer.produce(topic, value=b"r%d" % i, partition=partition)
    assert producer.flush(10) == 0


def watermarks(bootstrap: str, topic: str, partition: int) -> tuple[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks"})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        return int(low), int(high)
    finally:
        consumer.close()


async def test_delete_records_moves_log_start_offsets(broker: EmbeddedBroker) -> None:
    broker.call(lambda: broker.state.create_topic("events", 2))
    produce(broker.bootstrap, "events", {0: 10, 1: 6})
    async with KafkaAdmin(from_properties(broker.bootstrap, {})) as admin:
        moved = await admin.delete_records({("events", 0): 4, ("events", 1): -1})
    assert moved == {("events", 0): 4, ("events", 1): 6}, "-1 means the high watermark"
    assert watermarks(broker.bootstrap, "events", 0) == (4, 10)
    assert watermarks(broker.bootstrap, "events", 1) == (6, 6)


async def test_refusals_are_one_readable_line(broker: EmbeddedBroker) -> None:
    broker.call(lambda: broker.state.create_topic("events", 1))
    produce(broker.bootstrap, "events", {0: 3})
    async with KafkaAdmin(from_properties(broker.bootstrap, {})) as admin:
        with pytest.raises(KafkaToolError, match=r"events-0: OFFSET_OUT_OF_RANGE"):
            await admin.delete_records({("events", 0): 99})
        with pytest.raises(KafkaToolError, match="topic events has no partition 5"):
            await admin.delete_records({("events", 5): 1})
    assert watermarks(broker.bootstrap, "events", 0) == (0, 3), "nothing moved"
