"""`__transaction_state` on real partition logs: each change one record in the id's partition,
replayed to the latest state; tombstones; compaction keeps the live state; the JSON file of
earlier localbroker versions moved into the topic once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localbroker.groups.records import offsets_partition
from localbroker.log.log_config import LogConfig
from localbroker.log.partition import PartitionLog
from localbroker.protocol.names import TRANSACTION_STATE_TOPIC, TransactionState
from localbroker.records.reader import iter_records
from localbroker.transactions.metadata import PendingOffset, TransactionMetadata
from localbroker.transactions.records import decode_key
from localbroker.transactions.store import LEGACY_FILE_NAME, TransactionLog

PARTITIONS = 5
NOW = 1_700_000_000_000


class Harness:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.created = 0
        self.logs: dict[int, PartitionLog] = {}
        self.store = TransactionLog(
            lambda: len(self.logs), self.ensure_topic, self.logs.get, lambda: NOW
        )

    def ensure_topic(self) -> None:
        if not self.logs:
            self.created += 1
            for p in range(PARTITIONS):
                self.logs[p] = PartitionLog(
                    self.directory / f"{TRANSACTION_STATE_TOPIC}-{p}",
                    TRANSACTION_STATE_TOPIC,
                    p,
                    LogConfig(cleanup_policy=("compact",)),
                    now_ms=NOW,
                )

    def ids_in(self, partition: int) -> list[str]:
        return [
            decode_key(record.key)
            for batch in self.logs[partition].stored_batches()
            for record in iter_records(batch)
            if record.key is not None
        ]


def metadata(transactional_id: str, epoch: int, **changes: Any) -> TransactionMetadata:
    return TransactionMetadata(transactional_id, 4000, 60_000, producer_epoch=epoch, **changes)


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_nothing_is_created_until_the_first_change(harness: Harness) -> None:
    assert harness.store.replay() == []
    assert harness.created == 0
    harness.store.write(metadata("tx", 0))
    assert harness.created == 1


def test_each_change_goes_to_the_ids_partition_and_the_last_one_wins(harness: Harness) -> None:
    ongoing = metadata(
        "tx",
        1,
        state=TransactionState.ONGOING,
        partitions={("t", 0), ("t", 1)},
        offsets={"g": {("t", 0): PendingOffset(7, 1, "m")}},
        start_ms=NOW,
    )
    harness.store.write(metadata("tx", 0))
    harness.store.write(ongoing)
    harness.store.write(metadata("other", 3))
    partition = offsets_partition("tx", PARTITIONS)
    assert harness.ids_in(partition).count("tx") == 2
    latest = {m.transactional_id: m for m in harness.store.replay()}
    assert latest["tx"] == ongoing
    assert latest["other"].producer_epoch == 3
    assert harness.logs[partition].recovery_point == harness.logs[partition].log_end_offset


def test_a_removed_id_is_a_tombstone(harness: Harness) -> None:
    harness.store.write(metadata("gone", 0))
    harness.store.write(metadata("kept", 0))
    harness.store.remove(["gone"])
    assert [m.transactional_id for m in harness.store.replay()] == ["kept"]


def test_compaction_keeps_the_live_state_and_drops_history(harness: Harness) -> None:
    for epoch in range(50):
        harness.store.write(metadata("busy", epoch))
    harness.store.write(metadata("quiet", 0))
    live = harness.store.replay()
    partition = offsets_partition("busy", PARTITIONS)
    before = harness.logs[partition].size_bytes
    assert harness.store.compact(live, threshold_bytes=1000) >= 1
    assert harness.logs[partition].size_bytes < before / 5
    assert harness.ids_in(partition).count("busy") == 1
    compacted = harness.logs[partition]
    assert compacted.recovery_point == compacted.log_end_offset  # the snapshot is fsynced
    assert harness.store.replay() == live


def test_the_json_file_of_earlier_versions_moves_into_the_topic(harness: Harness) -> None:
    legacy = {
        "transactional_id": "legacy",
        "producer_id": 4000,
        "producer_epoch": 3,
        "last_producer_epoch": 2,
        "previous_producer_id": -1,
        "timeout_ms": 60000,
        "state": "PrepareCommit",
        "partitions": [["t", 0], ["t", 1]],
        "offsets": {"g": [["t", 0, 9, 2, "m"]]},
        "start_ms": NOW - 5,
        "last_update_ms": NOW,
    }
    path = harness.directory / LEGACY_FILE_NAME
    path.write_text(json.dumps({"version": 1, "transactions": [legacy]}))
    harness.store.migrate(harness.directory)
    assert not path.exists()
    [moved] = harness.store.replay()
    assert moved == TransactionMetadata(
        "legacy",
        4000,
        60000,
        producer_epoch=3,
        state=TransactionState.PREPARE_COMMIT,
        partitions={("t", 0), ("t", 1)},
        offsets={"g": {("t", 0): PendingOffset(9, 2, "m")}},
        start_ms=NOW - 5,
        last_update_ms=NOW,
    )
    harness.store.migrate(harness.directory)  # nothing left to move
    assert harness.store.replay() == [moved]
