"""`.txnindex` files (Kafka's AbortedTxn entries) and open transactions in producer state
snapshots: written as transactions end and segments roll, used when the log is opened again
instead of reading its batches, rebuilt when missing or damaged, deleted with their segment."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from partition_logs import NOW, MakeLog

from localbroker.log.partition import PartitionLog
from localbroker.log.producer_snapshot import decode
from localbroker.log.txn_index import AbortedTransaction
from localbroker.records.batch import TRANSACTIONAL_BIT, read_header
from localbroker.records.builder import NewRecord, build_batch

TXN_A, TXN_B = 100, 200
ENTRY = struct.Struct(">hqqqq")  # AbortedTxn: version, producer id, first, last, LSO


def produce(log: PartitionLog, pid: int, sequence: int, count: int = 3) -> int:
    batch = build_batch(
        [NewRecord(b"x" * 40) for _ in range(count)],
        now_ms=NOW,
        attributes=TRANSACTIONAL_BIT,
        producer_id=pid,
        producer_epoch=0,
        base_sequence=sequence,
    )
    return log.append(read_header(batch), batch, NOW).base_offset


def entry_bytes(aborted: AbortedTransaction) -> bytes:
    return ENTRY.pack(
        0,
        aborted.producer_id,
        aborted.first_offset,
        aborted.last_offset,
        aborted.last_stable_offset,
    )


def index_of(log: PartitionLog, offset: int) -> Path:
    """The .txnindex of the segment holding `offset`."""
    return log.segments[log.segments.floor(offset)].txn_index.path


def aborted_log(make_log: MakeLog) -> tuple[PartitionLog, AbortedTransaction]:
    """A log of several segments with A aborted while B is open, B then committed."""
    log = make_log()
    first_a = produce(log, TXN_A, 0)
    first_b = produce(log, TXN_B, 0)
    produce(log, TXN_A, 3)
    abort = log.append_marker(TXN_A, 0, False, NOW).base_offset
    log.append_marker(TXN_B, 0, True, NOW)
    produce(log, TXN_A, 6)  # a later transaction, still open
    assert len(log.segments) > 2
    return log, AbortedTransaction(TXN_A, first_a, abort, first_b)


def test_an_abort_appends_kafkas_entry_to_the_index_of_the_markers_segment(
    make_log: MakeLog,
) -> None:
    log, aborted = aborted_log(make_log)
    marker_index = index_of(log, aborted.last_offset)
    assert marker_index.read_bytes() == entry_bytes(aborted)
    others = [s.txn_index.path for s in log.segments if s.txn_index.path != marker_index]
    assert others and all(path.read_bytes() == b"" for path in others)


def test_a_clean_reopen_takes_aborts_from_the_indexes_and_open_ones_from_the_snapshot(
    make_log: MakeLog,
) -> None:
    """No batch is read: an index entry changed while the log was closed is what the log
    reports (the batches say otherwise), and the open transaction comes from the snapshot."""
    log, aborted = aborted_log(make_log)
    open_at = log.last_stable_offset
    log.close()
    [snapshot] = [p for p in log.directory.glob("*.snapshot") if int(p.stem) == log.log_end_offset]
    entries = {e.producer_id: e.current_txn_first_offset for e in decode(snapshot.read_bytes())}
    assert entries == {TXN_A: open_at, TXN_B: -1}
    changed = AbortedTransaction(TXN_A, aborted.first_offset + 1, aborted.last_offset, 0)
    index_of(log, aborted.last_offset).write_bytes(entry_bytes(changed))
    again = make_log()
    assert again.aborted_transactions(0, again.high_watermark) == [changed]
    assert again.last_stable_offset == open_at


DAMAGES: dict[str, Callable[[Path], None]] = {
    "missing": lambda path: path.unlink(),
    "cut": lambda path: path.write_bytes(path.read_bytes()[:20]),
    "unknown version": lambda path: path.write_bytes(b"\x00\x07" + path.read_bytes()[2:]),
    "outside its segment": lambda path: path.write_bytes(ENTRY.pack(0, TXN_A, 0, 10**9, 0)),
}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("clean", [True, False])
def test_a_missing_or_damaged_index_is_rebuilt_from_the_batches(
    make_log: MakeLog, damage: str, clean: bool
) -> None:
    log, aborted = aborted_log(make_log)
    open_at = log.last_stable_offset
    log.close()
    path = index_of(log, aborted.last_offset)
    kept = path.read_bytes()
    DAMAGES[damage](path)
    again = make_log(clean_shutdown=clean, recovery_point=0 if not clean else log.log_end_offset)
    assert again.aborted_transactions(0, again.high_watermark) == [aborted]
    assert again.last_stable_offset == open_at
    assert path.read_bytes() == kept


def test_an_unclean_stop_that_tore_the_marker_leaves_no_entry_for_it(make_log: MakeLog) -> None:
    """The marker's batch was cut short by the crash (a torn write): it is dropped, and so is
    its index entry; the transaction is open again."""
    log = make_log()
    first = produce(log, TXN_A, 0)
    marker = log.append_marker(TXN_A, 0, False, NOW)
    segment = log.active
    for s in log.segments:
        s.flush()  # as a crash leaves it: no snapshot at the log end, no clean close
    segment_file, index = segment.path, segment.txn_index.path
    assert index.read_bytes() != b""
    with open(segment_file, "r+b") as cut:
        cut.truncate(segment_file.stat().st_size - 5)
    again = make_log(clean_shutdown=False)
    assert again.log_end_offset == marker.base_offset
    assert again.aborted_transactions(0, again.high_watermark) == []
    assert again.last_stable_offset == first
    assert index.read_bytes() == b""


def test_indexes_go_with_their_segments(make_log: MakeLog) -> None:
    log, _ = aborted_log(make_log)
    doomed = [s.txn_index.path for s in log.segments[:-1]]
    log.delete_records_before(log.high_watermark, NOW)
    assert not any(path.exists() for path in doomed)
    orphan = log.directory / "00000000000000000777.txnindex"
    orphan.write_bytes(b"")
    log.close()
    make_log()
    assert not orphan.exists()
