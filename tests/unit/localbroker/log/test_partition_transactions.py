"""Transactions in one partition log: markers, the last stable offset, the aborted ranges a
read_committed fetch is told, and all of it rebuilt from the log when it is opened again."""

from __future__ import annotations

import pytest
from kio.schema.errors import ErrorCode
from partition_logs import NOW, MakeLog

from localbroker.log.partition import PartitionLog
from localbroker.log.producer_state import ProducerStateError
from localbroker.log.transactions import AbortedTransaction, batches_below
from localbroker.records.batch import TRANSACTIONAL_BIT, read_header
from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.control import ControlRecordType, marker_type
from localbroker.records.reader import iter_records

TXN_A, TXN_B, PLAIN = 100, 200, 300


def produce(log: PartitionLog, pid: int, sequence: int, count: int = 2) -> int:
    """Append `count` records of producer `pid` (transactional unless PLAIN); the base offset."""
    batch = build_batch(
        [NewRecord(b"%d-%d" % (pid, n)) for n in range(count)],
        now_ms=NOW,
        attributes=0 if pid == PLAIN else TRANSACTIONAL_BIT,
        producer_id=pid,
        producer_epoch=0,
        base_sequence=sequence,
    )
    return log.append(read_header(batch), batch, NOW).base_offset


def test_an_open_transaction_holds_back_the_last_stable_offset(make_log: MakeLog) -> None:
    log = make_log()
    produce(log, PLAIN, 0)
    first = produce(log, TXN_A, 0)
    produce(log, PLAIN, 2)
    assert (log.last_stable_offset, log.high_watermark) == (first, 6)
    marker = log.append_marker(TXN_A, 0, True, NOW)
    assert marker.base_offset == 6
    assert log.last_stable_offset == log.high_watermark == 7
    assert log.aborted_transactions(0, 7) == []


def test_an_abort_is_recorded_with_its_range(make_log: MakeLog) -> None:
    log = make_log()
    first_a = produce(log, TXN_A, 0)
    first_b = produce(log, TXN_B, 0)
    produce(log, TXN_A, 2)
    abort_a = log.append_marker(TXN_A, 0, False, NOW).base_offset
    assert log.last_stable_offset == first_b  # B still open
    log.append_marker(TXN_B, 0, True, NOW)
    assert log.aborted_transactions(0, log.high_watermark) == [
        AbortedTransaction(TXN_A, first_a, abort_a, first_b)
    ]
    assert log.aborted_transactions(abort_a + 1, log.high_watermark) == []


def test_markers_are_kafkas_control_batches(make_log: MakeLog) -> None:
    log = make_log()
    produce(log, TXN_A, 0)
    offset = log.append_marker(TXN_A, 3, False, NOW).base_offset
    stored = log.read(offset, 1000)
    header = read_header(stored)
    assert header.is_control and header.is_transactional
    assert (header.producer_id, header.producer_epoch, header.base_sequence) == (TXN_A, 3, -1)
    assert marker_type(stored) == ControlRecordType.ABORT
    (record,) = iter_records(stored)
    assert (record.key, record.value) == (b"\x00\x00\x00\x00", b"\x00\x00\x00\x00\x00\x00")


def test_a_marker_for_no_open_transaction_changes_nothing(make_log: MakeLog) -> None:
    """A decided end finished again after a restart writes its markers a second time."""
    log = make_log()
    first = produce(log, TXN_A, 0)
    abort = log.append_marker(TXN_A, 0, False, NOW).base_offset
    log.append_marker(TXN_A, 0, False, NOW)
    assert log.aborted_transactions(0, log.high_watermark) == [
        AbortedTransaction(TXN_A, first, abort, abort + 1)
    ]


def test_state_is_rebuilt_when_the_log_is_opened_again(make_log: MakeLog) -> None:
    log = make_log()
    first_a = produce(log, TXN_A, 0)
    abort_a = log.append_marker(TXN_A, 0, False, NOW).base_offset
    first_b = produce(log, TXN_B, 0)
    log.close()
    again = make_log()
    assert again.aborted_transactions(0, again.high_watermark) == [
        AbortedTransaction(TXN_A, first_a, abort_a, abort_a + 1)
    ]
    assert again.last_stable_offset == first_b
    # the producer may go on after the restart: its marker still ends its transaction
    produce(again, TXN_B, 2)
    again.append_marker(TXN_B, 0, True, NOW)
    assert again.last_stable_offset == again.high_watermark


def test_the_epoch_of_a_fencing_marker_refuses_the_old_producer(make_log: MakeLog) -> None:
    log = make_log()
    produce(log, TXN_A, 0)
    log.append_marker(TXN_A, 1, False, NOW)
    zombie = build_batch(
        [NewRecord(b"late")],
        now_ms=NOW,
        attributes=TRANSACTIONAL_BIT,
        producer_id=TXN_A,
        producer_epoch=0,
        base_sequence=2,
    )
    with pytest.raises(ProducerStateError) as refused:
        log.append(read_header(zombie), zombie, NOW)
    assert refused.value.code == ErrorCode.invalid_producer_epoch


def test_a_marker_older_than_the_last_is_refused(make_log: MakeLog) -> None:
    """Kafka's checks of a marker written by WriteTxnMarkers: a coordinator epoch below the
    producer's last marker's (kept across a reopen) is TRANSACTION_COORDINATOR_FENCED, a
    producer epoch below its last write's INVALID_PRODUCER_EPOCH; neither is written."""
    log = make_log()
    produce(log, TXN_A, 0)
    log.append_marker(TXN_A, 0, False, NOW, coordinator_epoch=5)
    log.close()
    log = make_log()

    def refused(epoch: int, coordinator_epoch: int) -> ErrorCode:
        end = log.log_end_offset
        with pytest.raises(ProducerStateError) as refusal:
            log.append_marker(TXN_A, epoch, True, NOW, coordinator_epoch=coordinator_epoch)
        assert log.log_end_offset == end
        return refusal.value.code

    assert refused(0, 4) == ErrorCode.transaction_coordinator_fenced
    log.append_marker(TXN_A, 1, True, NOW, coordinator_epoch=5)
    assert refused(0, 5) == ErrorCode.invalid_producer_epoch


def test_retention_forgets_aborted_ranges_it_deleted(make_log: MakeLog) -> None:
    log = make_log()
    produce(log, TXN_A, 0)
    abort = log.append_marker(TXN_A, 0, False, NOW).base_offset
    produce(log, PLAIN, 0)
    log.delete_records_before(abort + 1, NOW)
    assert log.aborted_transactions(0, log.high_watermark) == []


def test_a_read_is_cut_at_the_first_batch_from_the_limit(make_log: MakeLog) -> None:
    log = make_log()
    produce(log, PLAIN, 0)
    open_at = produce(log, TXN_A, 0)
    data = log.read(0, 10_000)
    kept = batches_below(data, open_at)
    assert [r.offset for r in iter_records(kept)] == [0, 1]
    assert batches_below(data, 0) == b""
    assert batches_below(data, log.high_watermark) == data


def test_the_producer_goes_on_in_sequence_after_its_marker(make_log: MakeLog) -> None:
    """A marker carries no sequence: the producer's next transaction continues its own."""
    log = make_log()
    produce(log, TXN_A, 0)
    log.append_marker(TXN_A, 0, True, NOW)
    assert produce(log, TXN_A, 2) == 3


def test_the_last_stable_offset_never_falls_below_the_log_start(make_log: MakeLog) -> None:
    """DeleteRecords past an open transaction's first batch: read_committed consumers read
    from the new log start, not from an offset that no longer exists."""
    log = make_log()
    produce(log, TXN_A, 0)
    produce(log, PLAIN, 0)
    produce(log, TXN_A, 2)
    log.delete_records_before(3, NOW)
    assert log.last_stable_offset == 3


def test_a_damaged_marker_is_not_trusted_when_the_log_is_opened(make_log: MakeLog) -> None:
    """After an unclean stop the batches past the recovery point are read again: a marker
    whose bytes no longer match its CRC ends nothing (and stops nothing)."""
    log = make_log()
    first = produce(log, TXN_A, 0)
    marker = log.append_marker(TXN_A, 0, False, NOW).base_offset
    log.close()
    segment_file = next(log.directory.glob("*.log"))
    data = bytearray(segment_file.read_bytes())
    data[-1] ^= 0x01  # the marker's last byte: its coordinator epoch
    segment_file.write_bytes(bytes(data))
    again = make_log(clean_shutdown=False)
    assert again.aborted_transactions(0, marker + 1) == []
    assert again.last_stable_offset == first
