"""Idempotent-producer state: duplicates, sequence and epoch rules, snapshots, expiry.

`ProducerState` is driven with real batch headers (from `build_batch`), calling `check`
before and `update` after each append exactly as PartitionLog does, so the rules checked
here are the ones a producer retrying over a flaky connection meets.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
from kio.schema.errors import ErrorCode

from localbroker.log.producer_state import (
    MAX_CACHED_BATCHES,
    BatchMetadata,
    ProducerEntry,
    ProducerState,
    ProducerStateError,
)
from localbroker.records.batch import BatchHeader, read_header
from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.control import COORDINATOR_EPOCH, build_marker

NOW = 1_700_000_000_000
PID = 4000
MAX_SEQUENCE = 2**31 - 1


def header(sequence: int, count: int = 1, epoch: int = 0, pid: int = PID) -> BatchHeader:
    records = [NewRecord(b"v")] * count
    return read_header(
        build_batch(
            records, now_ms=NOW, producer_id=pid, producer_epoch=epoch, base_sequence=sequence
        )
    )


class Log:
    """The part of PartitionLog that feeds producer state: offsets assigned in order."""

    def __init__(self, state: ProducerState) -> None:
        self.state = state
        self.end = 0

    def append(self, batch: BatchHeader) -> BatchMetadata | None:
        """The original batch for a duplicate, else None after appending it."""
        duplicate = self.state.check(batch, self.end)
        if duplicate is not None:
            return duplicate
        self.state.update(batch, self.end)
        self.end += batch.record_count
        return None


@pytest.fixture
def log(tmp_path: Path) -> Log:
    return Log(ProducerState(tmp_path))


def refused(log: Log, batch: BatchHeader) -> ProducerStateError:
    with pytest.raises(ProducerStateError) as caught:
        log.append(batch)
    return caught.value


def test_first_batch_of_an_unknown_producer_is_accepted_at_any_sequence(log: Log) -> None:
    """A producer whose state expired keeps its sequence numbers; Kafka accepts them."""
    assert log.append(header(17, count=3)) is None
    entry = log.state.entries[PID]
    assert (entry.epoch, entry.last_sequence, entry.last_offset) == (0, 19, 2)


def test_in_sequence_batches_are_appended(log: Log) -> None:
    for sequence in (0, 2, 5):
        assert log.append(header(sequence, count=3 if sequence == 2 else 2)) is None
    assert log.end == 7
    assert log.state.entries[PID].last_sequence == 6


def test_retry_of_any_of_the_last_five_batches_is_a_duplicate(log: Log) -> None:
    """Kafka caches a producer's last five batches: a retry of any of them is answered with
    the original's offsets; a retry of the sixth-newest is no longer recognised."""
    for sequence in range(0, 14, 2):  # seven batches of two records
        log.append(header(sequence, count=2))
    for n, sequence in enumerate(range(4, 14, 2)):
        duplicate = log.append(header(sequence, count=2))
        assert duplicate == BatchMetadata(sequence, sequence + 1, 4 + 2 * n, 5 + 2 * n, NOW)
    assert refused(log, header(2, count=2)).code == ErrorCode.out_of_order_sequence_number
    assert log.end == 14  # nothing was appended again


def test_retry_older_than_the_cache_is_out_of_order(log: Log) -> None:
    for sequence in range(0, 12, 2):  # six batches: the first falls out of the cache
        log.append(header(sequence, count=2))
    error = refused(log, header(0, count=2))
    assert error.code == ErrorCode.out_of_order_sequence_number
    assert "0 (incoming) after 11 (last written)" in error.message


def test_same_first_sequence_with_another_length_is_not_a_duplicate(log: Log) -> None:
    log.append(header(0, count=2))
    assert refused(log, header(0, count=3)).code == ErrorCode.out_of_order_sequence_number


def test_sequence_gap_is_out_of_order(log: Log) -> None:
    log.append(header(0, count=2))
    error = refused(log, header(3))
    assert error.code == ErrorCode.out_of_order_sequence_number
    assert error.message == (
        f"out of order sequence number for producer {PID} at offset 2:"
        " 3 (incoming) after 1 (last written)"
    )
    assert log.end == 2


def test_epoch_bump_restarts_sequences_at_zero(log: Log) -> None:
    log.append(header(0, count=3))
    assert log.append(header(0, epoch=1)) is None
    entry = log.state.entries[PID]
    assert (entry.epoch, entry.last_sequence, len(entry.batches)) == (1, 0, 1)
    # A retry from the old epoch is no longer a duplicate: that epoch is fenced.
    error = refused(log, header(0, count=3, epoch=0))
    assert error.code == ErrorCode.invalid_producer_epoch
    assert error.message == (
        f"epoch of producer {PID} at offset 4 is 0, smaller than the last seen epoch 1"
    )


def test_epoch_bump_with_a_nonzero_sequence_is_out_of_order(log: Log) -> None:
    log.append(header(0))
    error = refused(log, header(5, epoch=1))
    assert error.code == ErrorCode.out_of_order_sequence_number
    assert "invalid sequence number 5 for new epoch 1" in error.message


def test_sequence_wraps_after_the_largest_int(log: Log) -> None:
    log.append(header(MAX_SEQUENCE - 2, count=3))  # ends exactly at 2**31-1
    assert log.state.entries[PID].last_sequence == MAX_SEQUENCE
    assert log.append(header(0, count=2)) is None
    assert log.state.entries[PID].last_sequence == 1


def test_a_batch_spanning_the_wrap(log: Log) -> None:
    log.append(header(MAX_SEQUENCE - 4, count=3))
    spanning = header(MAX_SEQUENCE - 1, count=4)  # sequences 2**31-2, 2**31-1, 0, 1
    assert spanning.last_sequence == 1
    assert log.append(spanning) is None
    assert log.append(header(2)) is None
    assert log.append(header(MAX_SEQUENCE - 1, count=4)) is not None  # still a duplicate


def test_producers_are_independent(log: Log) -> None:
    log.append(header(0, pid=1))
    log.append(header(40, pid=2))
    assert log.append(header(1, pid=1)) is None
    assert log.append(header(41, pid=2)) is None
    assert refused(log, header(43, pid=2)).code == ErrorCode.out_of_order_sequence_number


def test_remove_before_forgets_producers_whose_last_write_was_deleted(log: Log) -> None:
    log.append(header(0, pid=1, count=5))  # offsets 0..4
    log.append(header(0, pid=2, count=5))  # offsets 5..9
    log.state.remove_before(5)
    assert set(log.state.entries) == {2}
    log.state.remove_before(9)
    assert set(log.state.entries) == {2}
    log.state.remove_before(10)
    assert log.state.entries == {}


def test_expire(log: Log) -> None:
    log.append(header(0, pid=1))
    log.state.expire(NOW + 999, expiration_ms=1000)
    assert set(log.state.entries) == {1}
    log.state.expire(NOW + 1000, expiration_ms=1000)
    assert log.state.entries == {}


def test_replay_rebuilds_without_checks(tmp_path: Path) -> None:
    state = ProducerState(tmp_path)
    batches = []
    for base, sequence in ((0, 0), (1, 1), (2, 7)):
        data = build_batch(
            [NewRecord(b"v")],
            now_ms=NOW,
            base_offset=base,
            producer_id=PID,
            producer_epoch=0,
            base_sequence=sequence,
        )
        batches.append((read_header(data), partial(bytes, data)))
    plain = build_batch([NewRecord(b"no pid")], now_ms=NOW, base_offset=3)
    state.replay([*batches, (read_header(plain), partial(bytes, plain))])
    assert set(state.entries) == {PID}
    assert state.entries[PID].last_sequence == 7
    assert state.entries[PID].last_offset == 2


# -- snapshots ------------------------------------------------------------------------------


def test_snapshot_round_trip(tmp_path: Path, log: Log) -> None:
    """A snapshot keeps each producer's epoch and last batch, as Kafka's does: enough to
    answer a retry of that batch and to check the next sequence."""
    for sequence in range(7):
        log.append(header(sequence))
    log.append(header(0, pid=99, epoch=3, count=2))
    log.state.write_snapshot(log.end)
    assert (tmp_path / f"{log.end:020d}.snapshot").exists()
    loaded = ProducerState(tmp_path)
    assert loaded.load_latest_snapshot(log.end) == log.end
    assert {pid: list(e.batches) for pid, e in loaded.entries.items()} == {
        PID: [BatchMetadata(6, 6, 6, 6, NOW)],
        99: [BatchMetadata(0, 1, 7, 8, NOW)],
    }
    assert loaded.entries[99].epoch == 3
    assert loaded.entries[PID].last_timestamp == NOW
    assert loaded.entries[PID].batches.maxlen == MAX_CACHED_BATCHES
    restored = Log(loaded)
    restored.end = log.end
    assert restored.append(header(6)) == BatchMetadata(6, 6, 6, 6, NOW)
    assert restored.append(header(0, pid=99, epoch=3, count=2)) == BatchMetadata(0, 1, 7, 8, NOW)
    assert refused(restored, header(8)).code == ErrorCode.out_of_order_sequence_number
    assert restored.append(header(7)) is None


def test_a_marker_sets_the_coordinator_epoch_which_a_snapshot_keeps(
    tmp_path: Path, log: Log
) -> None:
    """DescribeProducers reports the coordinator epoch of the producer's last marker (-1
    before one), as Kafka's ProducerStateEntry keeps it; a marker of transaction version 2
    carries the bumped epoch, which the producer's next batch starts again from 0 with."""
    log.append(header(0))
    assert log.state.entries[PID].coordinator_epoch == -1
    marker = build_marker(PID, 1, True, COORDINATOR_EPOCH, NOW)
    log.state.update(read_header(marker), log.end, COORDINATOR_EPOCH)
    log.end += 1
    assert (log.state.entries[PID].coordinator_epoch, log.state.entries[PID].epoch) == (0, 1)
    assert log.append(header(0, epoch=1)) is None
    log.state.write_snapshot(log.end)
    loaded = ProducerState(tmp_path)
    loaded.load_latest_snapshot(log.end)
    assert loaded.entries[PID].coordinator_epoch == COORDINATOR_EPOCH


def test_snapshot_of_a_batch_spanning_the_sequence_wrap(tmp_path: Path, log: Log) -> None:
    log.append(header(MAX_SEQUENCE - 1, count=4))  # sequences 2**31-2 .. 1
    log.state.write_snapshot(log.end)
    loaded = ProducerState(tmp_path)
    loaded.load_latest_snapshot(log.end)
    assert list(loaded.entries[PID].batches) == [BatchMetadata(MAX_SEQUENCE - 1, 1, 0, 3, NOW)]


def test_a_producer_without_batches_keeps_its_epoch(tmp_path: Path) -> None:
    state = ProducerState(tmp_path)
    state.entries[5] = ProducerEntry(5, epoch=2, last_timestamp=NOW)
    state.write_snapshot(0)
    loaded = ProducerState(tmp_path)
    loaded.load_latest_snapshot(0)
    assert loaded.entries == {5: ProducerEntry(5, epoch=2, last_timestamp=NOW)}


def test_a_json_snapshot_of_older_localbrokers_is_replaced_by_the_log(
    tmp_path: Path, log: Log, caplog: pytest.LogCaptureFixture
) -> None:
    """Before Kafka's format, snapshots were JSON ('{"' reads as version 31522): deleted
    with a warning, so the state is rebuilt from the batches, as Kafka does without one."""
    old = tmp_path / f"{3:020d}.snapshot"
    old.write_text(json.dumps({"version": 2, "crc": 0, "producers": []}))
    loaded = ProducerState(tmp_path)
    assert loaded.load_latest_snapshot(10) is None
    assert not old.exists()
    assert "Snapshot contained an unknown file version 31522" in caplog.text


def test_only_the_two_newest_snapshots_are_kept(tmp_path: Path, log: Log) -> None:
    for offset in (10, 20, 30, 40):
        log.state.write_snapshot(offset)
    assert log.state.snapshot_offsets() == [30, 40]


def test_snapshot_past_the_log_end_is_discarded(tmp_path: Path, log: Log) -> None:
    """After an unclean shutdown the log may end before the newest snapshot."""
    log.append(header(0))
    log.state.write_snapshot(1)
    log.append(header(1))
    log.state.write_snapshot(2)
    loaded = ProducerState(tmp_path)
    assert loaded.load_latest_snapshot(1) == 1
    assert loaded.entries[PID].last_sequence == 0
    assert loaded.snapshot_offsets() == [1]


def test_unreadable_snapshot_falls_back_to_an_older_one(tmp_path: Path, log: Log) -> None:
    log.append(header(0))
    log.state.write_snapshot(1)
    (tmp_path / f"{5:020d}.snapshot").write_text("{not json")
    (tmp_path / f"{6:020d}.snapshot").write_text(json.dumps({"version": 1}))
    (tmp_path / "junk.snapshot").write_text("ignored")
    loaded = ProducerState(tmp_path)
    assert loaded.load_latest_snapshot(10) == 1
    assert set(loaded.entries) == {PID}
    assert loaded.snapshot_offsets() == [1]


def test_no_snapshot(tmp_path: Path) -> None:
    state = ProducerState(tmp_path)
    state.entries[1] = ProducerEntry(1)
    assert state.load_latest_snapshot(100) is None
    assert state.entries == {}


def test_delete_snapshots(tmp_path: Path, log: Log) -> None:
    log.state.write_snapshot(3)
    log.state.delete_snapshots()
    assert list(tmp_path.glob("*.snapshot")) == []
