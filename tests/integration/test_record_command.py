"""A record copied as a kcat command (tui/kafka/record_command.py), run by the real kcat
against localbroker: the record it writes is the one copied (issue 14, point 7)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from confluent_kafka import Consumer, TopicPartition

from tui.embedded import EmbeddedBroker
from tui.kafka.connection import from_properties
from tui.kafka.record_command import kcat_command
from tui.kafka.tail import TailRecord

pytestmark = pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is not installed")

RECORD = TailRecord(
    "orders", 2, 41, 0, 0, b"order 'seven'", b'{"note": "it\'s $HOME & `x`"}',
    (("source", b"web app"), ("trace", b"t=1")),
)  # fmt: skip


def last_record(bootstrap: str, topic: str, partition: int) -> tuple[object, ...]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "check"})
    try:
        consumer.assign([TopicPartition(topic, partition, 0)])
        message = consumer.poll(15)
        assert message is not None and message.error() is None
        return message.key(), message.value(), message.headers()
    finally:
        consumer.close()


def test_the_command_writes_the_record_it_was_copied_from(broker: EmbeddedBroker) -> None:
    broker.call(lambda: broker.state.create_topic("orders", 3))
    command = kcat_command(RECORD, from_properties(broker.bootstrap, {}))
    subprocess.run(["sh", "-c", command], check=True, timeout=30, capture_output=True)
    assert last_record(broker.bootstrap, "orders", 2) == (
        RECORD.key,
        RECORD.value,
        [("source", b"web app"), ("trace", b"t=1")],
    )


def test_binary_or_multi_line_records_are_refused_with_the_reason() -> None:
    connection = from_properties("localhost:9092", {})
    with pytest.raises(ValueError, match="binary"):
        kcat_command(RECORD._replace(value=b"\xff\x00"), connection)
    with pytest.raises(ValueError, match="spans lines"):
        kcat_command(RECORD._replace(value=b"a\nb"), connection)
    with pytest.raises(ValueError, match="tombstone"):
        kcat_command(RECORD._replace(value=None), connection)
