"""Recovery at start-up (loader.py) and damage found later (segments.py), on real files.

A log is written through PartitionLog, closed cleanly (`close`) or left as a crash leaves it
(files closed, nothing flushed or snapshotted), damaged with plain file writes, and opened
again with a recovery point and clean-shutdown flag as the LogManager passes them. What a
client can observe is compared: reads by offset, the errors they answer, the log end.
"""

from __future__ import annotations

import logging
import os
import struct
from pathlib import Path

import pytest
from file_damage import flip_bits
from kio.schema.errors import ErrorCode
from partition_logs import (
    BATCH_SIZE,
    NOW,
    SMALL,
    MakeLog,
    T,
    batch_bytes,
    produce,
    produce_batches,
    read_all,
    timestamped_log,
    value,
)

from localbroker.log.errors import LogError
from localbroker.log.log_config import LogConfig
from localbroker.log.partition import PartitionLog
from localbroker.log.producer_state import ProducerStateError
from localbroker.records.reader import iter_records


def snapshot_of(log: PartitionLog) -> dict[str, object]:
    """Everything a client can observe about the log."""
    return {
        "bases": [s.base_offset for s in log.segments],
        "leo": log.log_end_offset,
        "hw": log.high_watermark,
        "lso": log.log_start_offset,
        "size": log.size_bytes,
        "reads": [log.read(o, 1 << 20) for o in range(log.log_start_offset, log.log_end_offset)],
        "times": [log.offset_for_timestamp(T + t) for t in range(0, 80, 3)],
        "max": log.max_timestamp(),
    }


def crash(log: PartitionLog) -> None:
    """Leave the files as a SIGKILL leaves them: closed, nothing flushed or snapshotted."""
    for segment in log.segments:
        segment.close()


def written(make_log: MakeLog, *, clean: bool = True) -> list[Path]:
    """Segment files 0 (offsets 0..5), 6 (6..11) and 12 (12..14) of a log closed cleanly,
    or left as a crash leaves it."""
    log = make_log()
    produce_batches(log, 5)
    paths = [s.path for s in log.segments]
    if clean:
        log.close()
    else:
        crash(log)
    return paths


def corrupt(log: PartitionLog, offset: int) -> int:
    """The code a read of `offset` answers with (it must be refused)."""
    with pytest.raises(LogError) as refused:
        log.read(offset, 1 << 20)
    return int(refused.value.code)


def readable(log: PartitionLog, offsets: range) -> list[tuple[int, bytes | None]]:
    """(offset, value) of the record each offset of `offsets` is fetched at."""
    return [
        next((r.offset, r.value) for r in iter_records(log.read(o, 1 << 20)) if r.offset == o)
        for o in offsets
    ]


# -- clean and unclean reopening ------------------------------------------------------------


def test_clean_reopen_gives_the_same_log(make_log: MakeLog) -> None:
    log = timestamped_log(make_log)
    log.delete_records_before(4, NOW)
    before = snapshot_of(log)
    log.close()
    index_bytes = {p.name: p.read_bytes() for p in log.directory.glob("*index")}
    reopened = make_log(log_start_offset=4, recovery_point=18, clean_shutdown=True)
    assert snapshot_of(reopened) == before
    assert {p.name: p.read_bytes() for p in reopened.directory.glob("*index")} == index_bytes
    assert produce(reopened, [b"next"], [T + 70]).base_offset == 18
    assert read_all(reopened, 17)[-1] == (18, b"next")


def test_unclean_reopen_truncates_a_torn_tail(
    make_log: MakeLog, caplog: pytest.LogCaptureFixture
) -> None:
    log = make_log()
    produce_batches(log, 5)
    before = snapshot_of(log)
    last = log.segments[-1].path
    crash(log)
    torn = batch_bytes([b"lost"], base_offset=15)
    with open(last, "ab") as file:
        file.write(torn[: len(torn) - 5])
    reopened = make_log(recovery_point=12, clean_shutdown=False)
    assert snapshot_of(reopened) == before
    assert os.path.getsize(last) == BATCH_SIZE
    assert f"truncating {last} at byte {BATCH_SIZE} (offset 15): dropped" in caplog.text
    assert produce(reopened, [b"after"]).base_offset == 15
    assert read_all(reopened, 15) == [(15, b"after")]


def test_unclean_reopen_checks_the_last_batch_even_when_the_index_loads(
    make_log: MakeLog,
) -> None:
    """After a crash the active segment is re-read whatever its index says: a last batch
    whose CRC fails is a torn write and is cut, never served."""
    log = make_log()
    produce_batches(log, 5)  # segments 0, 6 and 12 (offsets 12..14)
    log.active.write_indexes()  # the index of the active segment loads
    last = log.active.path
    crash(log)
    flip_bits(last, BATCH_SIZE - 10, 0x55)  # inside the records of the last batch
    reopened = make_log(recovery_point=12, clean_shutdown=False)
    assert reopened.log_end_offset == reopened.high_watermark == 12
    assert os.path.getsize(last) == 0
    assert produce(reopened, [b"again"]).base_offset == 12


# -- damage below the recovery point --------------------------------------------------------


def test_damage_in_a_segment_keeps_every_later_segment(
    make_log: MakeLog, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad batch in an older segment costs its own offsets only, whatever the recovery
    point; the segments after it are kept and served."""
    paths = written(make_log, clean=False)
    flip_bits(paths[1], BATCH_SIZE + 70, 0x55)  # the second batch of segment 6: offsets 9..11
    reopened = make_log(recovery_point=6, clean_shutdown=False)
    assert [s.base_offset for s in reopened.segments] == [0, 6, 12]
    assert all(path.exists() for path in paths)
    assert reopened.log_end_offset == reopened.high_watermark == 15
    assert readable(reopened, range(9)) == [(o, value(o)) for o in range(9)]
    assert {corrupt(reopened, o) for o in (9, 10, 11)} == {ErrorCode.corrupt_message}
    assert read_all(reopened, 12) == [(o, value(o)) for o in range(12, 15)]
    assert (
        f"bytes {BATCH_SIZE}..{2 * BATCH_SIZE - 1} of {paths[1]} are damaged (CRC mismatch):"
        " offsets 9..11 cannot be read" in caplog.text
    )


def test_a_segment_cut_in_half_after_a_clean_stop_costs_only_its_lost_offsets(
    make_log: MakeLog, caplog: pytest.LogCaptureFixture
) -> None:
    """`truncate -s <half>` of an old segment: its indexes no longer fit, it is scanned, the
    offsets it lost are reported, and every later segment is kept."""
    paths = written(make_log)
    os.truncate(paths[1], BATCH_SIZE + BATCH_SIZE // 2)
    reopened = make_log(recovery_point=15, clean_shutdown=True)
    assert reopened.log_end_offset == 15
    assert readable(reopened, range(9)) == [(o, value(o)) for o in range(9)]
    assert {corrupt(reopened, o) for o in (9, 10, 11)} == {ErrorCode.corrupt_message}
    assert read_all(reopened, 12) == [(o, value(o)) for o in range(12, 15)]
    assert os.path.getsize(paths[1]) == BATCH_SIZE + BATCH_SIZE // 2, "the file was changed"
    assert f"{paths[1]} are damaged (truncated batch): offsets 9..11" in caplog.text


def test_garbage_after_the_last_batch_of_an_old_segment_loses_nothing(
    make_log: MakeLog, caplog: pytest.LogCaptureFixture
) -> None:
    paths = written(make_log)
    with open(paths[0], "ab") as file:
        file.write(b"garbage " * 40)
    reopened = make_log(recovery_point=15, clean_shutdown=True)
    assert read_all(reopened, 0) == [(o, value(o)) for o in range(15)]
    assert f"of {paths[0]} are damaged (invalid batch header); they hold no offset" in (caplog.text)


def test_a_damaged_base_offset_does_not_stop_the_start(make_log: MakeLog) -> None:
    """The base offset is outside the CRC: a garbage one must be seen as damage, not put in
    the index (where it overflowed the 32-bit relative offset)."""
    log = make_log(LogConfig(segment_bytes=SMALL.segment_bytes, index_interval_bytes=0))
    produce_batches(log, 5)
    middle = log.segments[1].path
    log.close()
    with open(middle, "r+b") as file:
        file.seek(BATCH_SIZE)
        file.write(struct.pack(">q", 2**40))
    middle.with_suffix(".index").unlink()
    reopened = make_log(recovery_point=15, clean_shutdown=True)
    assert readable(reopened, range(9)) == [(o, value(o)) for o in range(9)]
    assert {corrupt(reopened, o) for o in (9, 10, 11)} == {ErrorCode.corrupt_message}
    assert read_all(reopened, 12) == [(o, value(o)) for o in range(12, 15)]


def test_a_bit_flipped_while_down_is_found_when_first_read(
    make_log: MakeLog, caplog: pytest.LogCaptureFixture
) -> None:
    """A clean start trusts indexes that fit, as Kafka does; the damaged batch is caught
    by its CRC the first time it is read, reported, and never served."""
    middle = written(make_log)[1]
    flip_bits(middle, 70, 0x55)  # the first batch of segment 6: offsets 6..8
    reopened = make_log(recovery_point=15, clean_shutdown=True)
    assert "damaged" not in caplog.text
    assert readable(reopened, range(3, 6)) == [(o, value(o)) for o in range(3, 6)]
    assert corrupt(reopened, 6) == ErrorCode.corrupt_message
    assert f"bytes 0..{BATCH_SIZE - 1} of {middle} are damaged (CRC mismatch)" in caplog.text
    assert {corrupt(reopened, o) for o in (7, 8)} == {ErrorCode.corrupt_message}
    assert read_all(reopened, 9) == [(o, value(o)) for o in range(9, 15)]


def test_a_deleted_segment_costs_its_offsets_only(
    make_log: MakeLog, caplog: pytest.LogCaptureFixture
) -> None:
    paths = written(make_log)
    paths[1].unlink()
    reopened = make_log(recovery_point=15, clean_shutdown=True)
    assert [s.base_offset for s in reopened.segments] == [0, 12]
    assert not paths[1].with_suffix(".index").exists(), "the orphaned index stays"
    assert {corrupt(reopened, o) for o in range(6, 12)} == {ErrorCode.corrupt_message}
    assert readable(reopened, range(6)) == [(o, value(o)) for o in range(6)]
    assert read_all(reopened, 12) == [(o, value(o)) for o in range(12, 15)]
    assert "without offsets 6..11" in caplog.text


@pytest.mark.parametrize("damage", ["cut", "deleted"])
def test_flushed_offsets_lost_at_the_end_are_never_given_out_again(
    make_log: MakeLog, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    """Records up to the recovery point were fsynced and acknowledged; if the last segment
    no longer holds them, the log goes on after them instead of reusing their offsets."""
    last = written(make_log)[-1]
    if damage == "cut":
        os.truncate(last, BATCH_SIZE // 2)
    else:
        last.unlink()
    caplog.set_level(logging.ERROR)
    reopened = make_log(recovery_point=15, clean_shutdown=True)
    assert reopened.log_end_offset == 15
    assert {corrupt(reopened, o) for o in (12, 13, 14)} == {ErrorCode.corrupt_message}
    assert produce(reopened, [b"next"]).base_offset == 15
    assert read_all(reopened, 15) == [(15, b"next")]
    assert "offsets 12..14 were flushed (the recovery point is 15)" in caplog.text


def test_a_recovery_point_past_an_intact_log_is_only_capped(make_log: MakeLog) -> None:
    log = make_log()
    produce_batches(log, 2)
    log.close()
    reopened = make_log(recovery_point=40, clean_shutdown=True)
    assert reopened.log_end_offset == 6
    assert produce(reopened, [b"next"]).base_offset == 6


# -- indexes and producer state ---------------------------------------------------------------


def test_deleted_index_files_are_rebuilt(make_log: MakeLog) -> None:
    log = timestamped_log(make_log)
    before = snapshot_of(log)
    log.close()
    index_bytes = {p.name: p.read_bytes() for p in log.directory.glob("*index")}
    assert len(index_bytes) == 9  # .index, .timeindex and .txnindex for 3 segments
    for path in log.directory.glob("*index"):
        path.unlink()
    (log.directory / "00000000000000000006.log.deleted").write_bytes(b"leftover")
    reopened = make_log(recovery_point=18, clean_shutdown=True)
    assert snapshot_of(reopened) == before
    assert {p.name: p.read_bytes() for p in reopened.directory.glob("*index")} == index_bytes
    assert not (log.directory / "00000000000000000006.log.deleted").exists()


@pytest.mark.parametrize("clean", [True, False])
def test_idempotent_producer_state_survives_a_reopen(make_log: MakeLog, clean: bool) -> None:
    """After a clean stop the state comes from the snapshot at the log end (the last batch,
    as Kafka keeps it); after a crash, from the batches after the last snapshot (here there
    is none: no roll happened)."""
    log = make_log()
    produce(log, [b"p0"], producer_id=7, producer_epoch=0, base_sequence=0)
    first = produce(log, [b"p1", b"p2"], producer_id=7, producer_epoch=0, base_sequence=1)
    if clean:
        log.close()
    else:
        crash(log)
        assert not list(log.directory.glob("*.snapshot"))
    reopened = make_log(recovery_point=0 if not clean else 3, clean_shutdown=clean)
    again = produce(reopened, [b"p1", b"p2"], producer_id=7, producer_epoch=0, base_sequence=1)
    assert again.duplicate
    assert (again.base_offset, again.last_offset) == (first.base_offset, first.last_offset)
    assert reopened.log_end_offset == 3
    with pytest.raises(ProducerStateError) as caught:
        produce(reopened, [b"gap"], producer_id=7, producer_epoch=0, base_sequence=5)
    assert caught.value.code == ErrorCode.out_of_order_sequence_number


def test_a_json_snapshot_of_older_localbrokers_leaves_the_state_to_the_log(
    make_log: MakeLog,
) -> None:
    """Data directories written before snapshots took Kafka's format hold JSON ones: they are
    set aside and the batches rebuild the state, so idempotent producers go on."""
    log = make_log()
    first = produce(log, [b"p0"], producer_id=7, producer_epoch=0, base_sequence=0)
    produce(log, [b"p1", b"p2"], producer_id=7, producer_epoch=0, base_sequence=1)
    log.close()
    [snapshot] = log.directory.glob("*.snapshot")
    snapshot.write_text('{"version": 2, "crc": 0, "producers": []}')
    reopened = make_log(recovery_point=3)
    again = produce(reopened, [b"p0"], producer_id=7, producer_epoch=0, base_sequence=0)
    assert again.duplicate and again.base_offset == first.base_offset
    assert (
        produce(reopened, [b"p3"], producer_id=7, producer_epoch=0, base_sequence=3).base_offset
        == 3
    )
