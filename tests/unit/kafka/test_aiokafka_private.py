"""aiokafka's private parts (the clients' `_client`, its record batch reader), used only in
tui/kafka/aiokafka_private.py, checked against the installed aiokafka: an upgrade that moves
them fails here, by name."""

from __future__ import annotations

import inspect
import logging

import aiokafka.producer.sender
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError, NotLeaderForPartitionError

from localbroker.public import iter_records
from localbroker.records.builder import NewRecord, build_batch
from tui.kafka.aiokafka_private import (
    RETRY_WARNINGS,
    SENDER_LOGGER,
    batch_records,
    client_of,
    error_name,
    producer_retries,
)


async def test_aiokafka_clients_keep_their_client_where_the_adapter_looks() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:9")
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:9")
    try:
        assert isinstance(client_of(admin), AIOKafkaClient)
        assert isinstance(client_of(consumer), AIOKafkaClient)
    finally:
        await admin.close()
        await consumer.stop()


def test_the_batch_reader_reads_what_localbroker_reads() -> None:
    records = [
        NewRecord(b"v1", b"k1", (("h", b"x"),), 1_700_000_000_000),
        NewRecord(b"v2", None, (), 1_700_000_000_005),
    ]
    for codec in (0, 1, 4):  # none, gzip, zstd
        batch = build_batch(records, now_ms=0, base_offset=40, compression=codec)
        expected = [(r.offset, r.timestamp, r.key, r.value) for r in iter_records(batch)]
        read = [(r.offset, r.timestamp, r.key, r.value) for r in batch_records(batch)]
        assert read == expected
        assert expected == [
            (40, 1_700_000_000_000, b"k1", b"v1"),
            (41, 1_700_000_000_005, None, b"v2"),
        ]
        assert [list(r.headers) for r in batch_records(batch)] == [[("h", b"x")], []]


def test_the_producer_still_logs_its_retries_as_the_listener_expects() -> None:
    """The failover demo counts the producer's retries from these warnings: an aiokafka that
    words them otherwise, or logs them elsewhere, fails here."""
    source = inspect.getsource(aiokafka.producer.sender)
    for warning in RETRY_WARNINGS:
        assert f'"{warning}"' in source.replace('"\n                        "', "")
    assert aiokafka.producer.sender.log.name == SENDER_LOGGER


def test_retries_are_told_by_kafkas_error_name() -> None:
    told: list[str] = []
    logger = logging.getLogger(SENDER_LOGGER)
    with producer_retries(told.append):
        logger.warning(RETRY_WARNINGS[1], "orders-0", NotLeaderForPartitionError)
        logger.warning(RETRY_WARNINGS[0], KafkaConnectionError("closed"))
        logger.warning("Something else: %s", NotLeaderForPartitionError)
    logger.warning(RETRY_WARNINGS[0], KafkaConnectionError("after the block"))
    assert told == ["NOT_LEADER_OR_FOLLOWER", "KafkaConnectionError"]
    assert error_name(NotLeaderForPartitionError()) == "NOT_LEADER_OR_FOLLOWER"
