"""`__transaction_state` of a stopped broker's data directory, opened in the test's process the
way the broker opens it, to read the transaction state the broker stored or to store a state
by hand (as a crash at a chosen moment would have left it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from localbroker.log.log_config import LogConfig
from localbroker.log.partition import PartitionLog
from localbroker.protocol.names import TRANSACTION_STATE_TOPIC
from localbroker.transactions.metadata import TransactionMetadata
from localbroker.transactions.store import TransactionLog


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
