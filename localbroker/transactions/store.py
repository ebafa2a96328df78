"""The durable transaction state: `__transaction_state`, as Kafka's coordinator keeps it.

Every change of a transactional id is one record (records.py) appended to the id's partition
(`offsets_partition`: Kafka's `Utils.abs(transactionalId.hashCode) %
transaction.state.log.num.partitions`, the partition FindCoordinator's answer stands for) and
fsynced before the change is answered or acted on; an expired id gets a tombstone. At
start-up the topic is replayed, the last record of each id winning. A single broker has no
replicas to make a write durable, which is why each one is fsynced (Kafka writes with acks=-1
instead).

The topic's growth is bounded the way `__consumer_offsets` is (see groups/storage.py): a
partition past `COMPACTION_BYTES` (internal_topics.py) is rewritten as the coordinator's live state.

Before this, localbroker kept the state in one JSON file (`LEGACY_FILE_NAME`); a data
directory that still has it is read once, its state written to the topic, and the file
removed (a crash in between writes the same state again at the next start).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..files import fsync, fsync_path
from ..groups.storage import CoordinatorTopic, Records
from ..internal_topics import COMPACTION_BYTES
from ..log.partition import PartitionLog
from .metadata import TransactionMetadata
from .records import TransactionRecordError, decode_key, decode_value, encode_key, encode_value

log = logging.getLogger(__name__)

LEGACY_FILE_NAME = "transaction-state.json"


def flush_now(partition_log: PartitionLog, now_ms: int) -> None:
    """fsync what was appended to `partition_log`, on the caller's thread."""
    job = partition_log.flush_job()
    try:
        if job is None:  # a worker thread is flushing older data: fsync the new records too
            fsync(partition_log.active.fd)
            return
        job.run()
    except OSError as exc:
        raise partition_log.flush_failed(exc) from exc
    partition_log.flushed(job, now_ms)


class TransactionLog:
    """The coordinator's `TransactionStore`, on the partitions of `__transaction_state`.

    `partitions` is the topic's partition count (0 before it exists), `ensure_topic`
    creates it on first use (as FindCoordinator does in Kafka), `partition_log` finds a
    partition's log; `written(log, upto)` is told of every append once fsynced (cluster mode
    waits for the ISR to hold it too).
    """

    def __init__(
        self,
        partitions: Callable[[], int],
        ensure_topic: Callable[[], object],
        partition_log: Callable[[int], PartitionLog | None],
        clock: Callable[[], int],
        written: Callable[[PartitionLog, int], None] = lambda _log, _upto: None,
    ) -> None:
        self._ensure_topic = ensure_topic
        self._clock = clock
        self._written = written
        self.topic = CoordinatorTopic(
            partitions, partition_log, self._flushed, flush_every_append=True
        )

    def _flushed(self, partition_log: PartitionLog, upto: int) -> None:
        flush_now(partition_log, self._clock())
        self._written(partition_log, upto)

    def write(self, metadata: TransactionMetadata) -> None:
        self._append([(metadata.transactional_id, encode_value(metadata))])

    def remove(self, transactional_ids: list[str]) -> None:
        self._append([(transactional_id, None) for transactional_id in transactional_ids])

    def _append(self, changes: list[tuple[str, bytes | None]]) -> None:
        self._ensure_topic()
        by_partition: dict[int, Records] = {}
        for transactional_id, value in changes:
            partition = self.topic.partition_of(transactional_id)
            by_partition.setdefault(partition, []).append((encode_key(transactional_id), value))
        now_ms = self._clock()
        for partition, records in by_partition.items():
            self.topic.append(partition, records, now_ms)

    def replay(self, partitions: Iterable[int] | None = None) -> list[TransactionMetadata]:
        """The latest state of every transactional id `partitions` (default: all) hold (a
        record that cannot be read is reported and skipped)."""
        latest: dict[str, TransactionMetadata | None] = {}
        for key, value in self.topic.replay(partitions):
            try:
                if key is None:
                    raise TransactionRecordError("a record without a key")
                transactional_id = decode_key(key)
                latest[transactional_id] = (
                    None if value is None else decode_value(transactional_id, value)
                )
            except TransactionRecordError as exc:
                log.error("skipping a __transaction_state record: %s", exc)
        return [metadata for metadata in latest.values() if metadata is not None]

    def compact(
        self, transactions: Iterable[TransactionMetadata], threshold_bytes: int = COMPACTION_BYTES
    ) -> int:
        """Shrink partitions past `threshold_bytes` to the live state of their ids."""

        def live() -> Iterator[tuple[str, Records]]:
            for metadata in transactions:
                key = encode_key(metadata.transactional_id)
                yield metadata.transactional_id, [(key, encode_value(metadata))]

        return self.topic.compact(live, threshold_bytes, self._clock())

    def migrate(self, data_dir: Path) -> None:
        """Move the state of a data directory written before the topic into the topic."""
        path = data_dir / LEGACY_FILE_NAME
        if not path.exists():
            return
        document = json.loads(path.read_text())
        if document.get("version") != 1:
            raise ValueError(f"{path}: unknown version {document.get('version')}")
        transactions = [TransactionMetadata.from_json(t) for t in document["transactions"]]
        for metadata in transactions:
            self.write(metadata)
        path.unlink()
        fsync_path(data_dir)
        log.info(
            "moved the state of %d transactional id(s) from %s to __transaction_state",
            len(transactions),
            path,
        )
