"""Helpers of the transaction tests: `__transaction_state` of a stopped broker's data directory,
opened in the test's process the way the broker opens it, to read the transaction state the
broker stored or to store a state by hand (as a crash at a chosen moment would have left it);
and what read_committed and read_uncommitted consumers read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, TopicPartition
from waiting import wait_until

from localbroker.log.log_config import LogConfig
from localbroker.log.partition import PartitionLog
from localbroker.protocol.names import TRANSACTION_STATE_TOPIC
from localbroker.transactions.metadata import TransactionMetadata
from localbroker.transactions.store import TransactionLog

READ_TIMEOUT = 20.0


@contextmanager
def transaction_log(data_dir: Path) -> Iterator[TransactionLog]:
    """The topic's partitions, recovered as after an unclean stop, closed on exit."""
    logs = {}
    for directory in data_dir.glob(f"{TRANSACTION_STATE_TOPIC}-*"):
        partition = int(directory.name.rsplit("-", 1)[1])
        logs[partition] = PartitionLog(
            directory, TRANSACTION_STATE_TOPIC, partition, LogConfig(), clean_shutdown=False
        )
    try:
        yield TransactionLog(lambda: len(logs), lambda: None, logs.get, lambda: 0)
    finally:
        for partition_log in logs.values():
            partition_log.close()


def stored_transactions(data_dir: Path) -> dict[str, TransactionMetadata]:
    """Each transactional id's state as the broker would load it."""
    with transaction_log(data_dir) as stored:
        return {metadata.transactional_id: metadata for metadata in stored.replay()}


def read_values(bootstrap: str, isolation: str, topic: str, partitions: int) -> list[str]:
    """Every value a consumer of `isolation` reads from the start to the end of each partition
    (the last stable offset for read_committed), partition by partition in offset order."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{isolation}",
            "isolation.level": isolation,
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "fetch.wait.max.ms": 50,
        }
    )
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        by_partition: dict[int, list[str]] = {p: [] for p in range(partitions)}
        at_end: set[int] = set()

        def all_read() -> bool:
            message = consumer.poll(0.2)
            if message is None:
                return False
            error = message.error()
            if error is not None:
                assert error.code() == KafkaError._PARTITION_EOF, error
                at_end.add(message.partition())
            else:
                by_partition[message.partition()].append(message.value().decode())
            return len(at_end) == partitions

        wait_until(all_read, f"a {isolation} consumer reading {topic} to its end", READ_TIMEOUT)
        return [value for p in range(partitions) for value in by_partition[p]]
    finally:
        consumer.close()
