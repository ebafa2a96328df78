"""A record copied as a kcat or `kwb produce` command (tui/kafka/record_command.py), run by
the real kcat and kwb against localbroker: the record it writes is the one copied (issue 14,
point 7)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from tui.embedded import EmbeddedBroker
from tui.kafka.connection import Connection, from_properties
from tui.kafka.record_command import kcat_command, kwb_produce_command
from tui.kafka.tail import TailRecord

needs_kcat = pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is not installed")

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


@needs_kcat
def test_the_command_writes_the_record_it_was_copied_from(broker: EmbeddedBroker) -> None:
    broker.call(lambda: broker.state.create_topic("orders", 3))
    command = kcat_command(RECORD, from_properties(broker.bootstrap, {}))
    subprocess.run(["sh", "-c", command], check=True, timeout=30, capture_output=True)
    assert last_record(broker.bootstrap, "orders", 2) == (
        RECORD.key,
        RECORD.value,
        [("source", b"web app"), ("trace", b"t=1")],
    )


def test_the_kwb_command_writes_the_record_it_was_copied_from(broker: EmbeddedBroker) -> None:
    """kwb produce has no partition flag (Kafka's console producer has none): the key's hash
    picks the partition, so the record is looked for in every partition."""
    broker.call(lambda: broker.state.create_topic("orders", 1))
    record = RECORD._replace(value=b'{"note": "a\ttab, a comma: and $HOME"}')
    command = kwb_produce_command(record, from_properties(broker.bootstrap, {}))
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # the venv's kwb
    env = {**os.environ, "PATH": path}
    subprocess.run(["sh", "-c", command], check=True, timeout=60, capture_output=True, env=env)
    assert last_record(broker.bootstrap, "orders", 0) == (
        record.key,
        record.value,
        [("source", b"web app"), ("trace", b"t=1")],
    )


@pytest.mark.parametrize("command", [kcat_command, kwb_produce_command])
def test_binary_or_multi_line_records_are_refused_with_the_reason(
    command: Callable[[TailRecord, Connection], str],
) -> None:
    connection = from_properties("localhost:9092", {})
    with pytest.raises(ValueError, match="binary"):
        command(RECORD._replace(value=b"\xff\x00"), connection)
    with pytest.raises(ValueError, match="spans lines"):
        command(RECORD._replace(value=b"a\nb"), connection)
    with pytest.raises(ValueError, match="spans lines"):
        command(RECORD._replace(value=b"a\rb"), connection)
    with pytest.raises(ValueError, match="tombstone"):
        command(RECORD._replace(value=None), connection)


def test_what_the_console_producer_would_split_is_refused() -> None:
    connection = from_properties("localhost:9092", {})
    with pytest.raises(ValueError, match=r"key\.separator"):
        kwb_produce_command(RECORD._replace(key=b"a\tb"), connection)
    with pytest.raises(ValueError, match="separators"):
        kwb_produce_command(RECORD._replace(headers=(("a,b", b"x"),)), connection)
    with pytest.raises(ValueError, match="separators"):
        kwb_produce_command(RECORD._replace(headers=(("a", b"x,y"),)), connection)
    with pytest.raises(ValueError, match="null"):
        kwb_produce_command(RECORD._replace(headers=(("a", None),)), connection)
