"""PartitionLog: offsets, reads, timestamps, retention, DeleteRecords, recovery and flushing.

The log is driven the way the produce and fetch handlers drive it (validate, append with the
broker's time, read by offset), with tiny segments so that rolls, retention and recovery
all happen within a few batches. Times are explicit `now_ms` values, never the clock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kio.schema.errors import ErrorCode

from localbroker.log.log_config import LogConfig
from localbroker.log.partition import AppendResult, LogError, PartitionLog, TimestampAndOffset
from localbroker.log.producer_state import ProducerStateError
from localbroker.records.batch import read_header, validate_produced
from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.reader import iter_records

T = 1_700_000_000_000  # record timestamps start here
NOW = T + 100_000  # the broker's clock in most tests
VALUE = 20  # bytes per record value: every test batch of 3 records has the same size


def batch_bytes(values: list[bytes], timestamps: list[int] | None = None, **kwargs: int) -> bytes:
    records = [
        NewRecord(v, timestamp=T if timestamps is None else timestamps[i])
        for i, v in enumerate(values)
    ]
    return build_batch(records, now_ms=NOW, **kwargs)


BATCH_SIZE = len(batch_bytes([b"x" * VALUE] * 3))


def produce(
    log: PartitionLog,
    values: list[bytes],
    timestamps: list[int] | None = None,
    now_ms: int = NOW,
    **kwargs: int,
) -> AppendResult:
    """Validate and append one batch, as the produce handler does."""
    data = batch_bytes(values, timestamps, **kwargs)
    return log.append(validate_produced(data, log.config.max_message_bytes), data, now_ms)


def produce_batches(log: PartitionLog, count: int, timestamps: list[int] | None = None) -> None:
    """`count` batches of 3 same-sized records; batch b's values are b"<b>-<i>" padded."""
    for b in range(count):
        values = [f"{b}-{i}".encode().ljust(VALUE, b".") for i in range(3)]
        ts = None if timestamps is None else [timestamps[b]] * 3
        produce(log, values, ts)


def value(offset: int) -> bytes:
    """The value produce_batches wrote at `offset`."""
    return f"{offset // 3}-{offset % 3}".encode().ljust(VALUE, b".")


def read_all(log: PartitionLog, start: int) -> list[tuple[int, bytes | None]]:
    """(offset, value) of every record from `start` to the high watermark, fetch by fetch."""
    out: list[tuple[int, bytes | None]] = []
    offset = start
    while offset < log.high_watermark:
        records = [r for r in iter_records(log.read(offset, 1 << 20)) if r.offset >= offset]
        assert records, f"no progress at offset {offset}"
        out += [(r.offset, r.value) for r in records]
        offset = records[-1].offset + 1
    return out


def files(directory: Path, suffix: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(suffix))


# Two test batches per segment: the third does not fit and rolls a new segment.
SMALL = LogConfig(segment_bytes=2 * BATCH_SIZE + BATCH_SIZE // 2)


@pytest.fixture
def open_logs() -> Iterator[list[PartitionLog]]:
    """Logs opened by a test; their files are closed at the end whatever happens."""
    logs: list[PartitionLog] = []
    yield logs
    for log in logs:
        for segment in log.segments:
            segment.close()


MakeLog = Callable[..., PartitionLog]


@pytest.fixture
def make_log(tmp_path: Path, open_logs: list[PartitionLog]) -> MakeLog:
    """Open the partition log in tmp_path (again, for recovery tests) with a config."""

    def make(
        config: LogConfig = SMALL,
        *,
        log_start_offset: int = 0,
        recovery_point: int = 0,
        clean_shutdown: bool = True,
    ) -> PartitionLog:
        log = PartitionLog(
            tmp_path / "t-0",
            "t",
            0,
            config,
            log_start_offset=log_start_offset,
            recovery_point=recovery_point,
            clean_shutdown=clean_shutdown,
            now_ms=NOW,
        )
        open_logs.append(log)
        return log

    return make


# -- appending and reading ------------------------------------------------------------------


def test_appends_roll_segments_and_read_back_in_order(make_log: MakeLog) -> None:
    log = make_log()
    results = [produce(log, [value(3 * b + i) for i in range(3)]) for b in range(10)]
    assert [(r.base_offset, r.last_offset) for r in results] == [
        (3 * b, 3 * b + 2) for b in range(10)
    ]
    assert all(r.log_append_time == -1 for r in results)
    assert [s.base_offset for s in log.segments] == [0, 6, 12, 18, 24]
    assert files(log.directory, ".log") == [f"{b:020d}.log" for b in (0, 6, 12, 18, 24)]
    assert log.log_end_offset == log.high_watermark == 30
    assert log.size_bytes == 10 * BATCH_SIZE
    assert read_all(log, 0) == [(o, value(o)) for o in range(30)]
    # One read never crosses a segment: it returns the rest of the segment holding the offset.
    assert len(log.read(6, 1 << 20)) == 2 * BATCH_SIZE
    assert len(log.read(9, 1 << 20)) == BATCH_SIZE


def test_stored_batches_carry_their_offset_and_leader_epoch(make_log: MakeLog) -> None:
    log = make_log()
    produce_batches(log, 3)
    data = log.read(3, 1 << 20)
    header = read_header(data)
    assert (header.base_offset, header.partition_leader_epoch) == (3, 0)
    assert data[16:] == batch_bytes([value(3 + i) for i in range(3)])[16:]


def test_read_from_the_middle_of_a_batch_returns_the_whole_batch(make_log: MakeLog) -> None:
    log = make_log()
    produce_batches(log, 4)
    for offset in (7, 8):
        data = log.read(offset, 1 << 20)
        assert read_header(data).base_offset == 6
        assert [r.offset for r in iter_records(data)] == [6, 7, 8, 9, 10, 11]


def test_offsets_outside_the_log_are_out_of_range(make_log: MakeLog) -> None:
    log = make_log()
    produce_batches(log, 4)
    for offset in (-1, 13):
        with pytest.raises(LogError) as caught:
            log.read(offset, 1 << 20)
        assert caught.value.code == ErrorCode.offset_out_of_range
        assert caught.value.message == f"offset {offset} is outside 0..12 of t-0"
    assert log.read(12, 1 << 20) == b""  # at the log end: nothing yet, not an error
    log.delete_records_before(5, NOW)
    with pytest.raises(LogError, match=r"offset 4 is outside 5\.\.12"):
        log.read(4, 1 << 20)
    assert read_header(log.read(5, 1 << 20)).base_offset == 3


def test_min_one_batch_and_max_bytes(make_log: MakeLog) -> None:
    """KIP-74: the first batch comes whole even above max_bytes; later ones may be cut."""
    log = make_log(LogConfig())
    produce_batches(log, 3)
    assert len(log.read(0, 10, min_one_batch=True)) == BATCH_SIZE
    assert log.read(0, 10, min_one_batch=False) == b""
    assert len(log.read(0, BATCH_SIZE, min_one_batch=False)) == BATCH_SIZE
    cut = log.read(0, BATCH_SIZE + 10, min_one_batch=True)
    assert len(cut) == BATCH_SIZE + 10
    assert [r.offset for r in iter_records(cut)] == [0, 1, 2]  # the partial batch is dropped
    assert len(log.read(4, 3 * BATCH_SIZE)) == 2 * BATCH_SIZE  # never past the high watermark


def test_invalid_timestamp_is_refused(make_log: MakeLog) -> None:
    log = make_log(LogConfig(message_timestamp_after_max_ms=1000))
    with pytest.raises(LogError, match=r"message\.timestamp\.after\.max\.ms=1000") as caught:
        produce(log, [b"future"], [NOW + 1001])
    assert caught.value.code == ErrorCode.invalid_timestamp
    assert log.log_end_offset == 0
    produce(log, [b"ok"], [NOW + 1000])
    assert log.log_end_offset == 1


def test_segment_ms_rolls_an_old_segment(make_log: MakeLog) -> None:
    now = int(time.time() * 1000)  # a new segment file's creation time is its mtime
    log = make_log(LogConfig(segment_ms=60_000))
    produce(log, [b"a"], [now], now_ms=now)
    produce(log, [b"b"], [now], now_ms=now + 1_000)
    produce(log, [b"c"], [now], now_ms=now + 120_000)
    assert [s.base_offset for s in log.segments] == [0, 2]


# -- timestamps -----------------------------------------------------------------------------


def timestamped_log(make_log: MakeLog) -> PartitionLog:
    """Batch b holds timestamps T+10b+5, T+10b, T+10b+9 (not in order within the batch);
    batch 1 also holds the largest timestamp of all at offset 4."""
    log = make_log()
    for b in range(6):
        stamps = [T + 10 * b + 5, T + 10 * b, T + 10 * b + 9]
        if b == 1:
            stamps[1] = T + 1000
        produce(log, [value(3 * b + i) for i in range(3)], stamps)
    return log


def test_offset_for_timestamp(make_log: MakeLog) -> None:
    log = timestamped_log(make_log)
    assert log.offset_for_timestamp(T - 50) == TimestampAndOffset(T + 5, 0)
    assert log.offset_for_timestamp(T + 5) == TimestampAndOffset(T + 5, 0)
    assert log.offset_for_timestamp(T + 6) == TimestampAndOffset(T + 9, 2)
    # The first record in offset order, not the one with the nearest timestamp.
    assert log.offset_for_timestamp(T + 10) == TimestampAndOffset(T + 15, 3)
    assert log.offset_for_timestamp(T + 16) == TimestampAndOffset(T + 1000, 4)
    assert log.offset_for_timestamp(T + 1000) == TimestampAndOffset(T + 1000, 4)
    assert log.offset_for_timestamp(T + 1001) is None
    log.delete_records_before(7, NOW)  # offsets 6 (T+25) and below are gone
    assert log.offset_for_timestamp(T) == TimestampAndOffset(T + 20, 7)
    assert log.offset_for_timestamp(T + 41) == TimestampAndOffset(T + 45, 12)


def test_max_timestamp(make_log: MakeLog) -> None:
    log = timestamped_log(make_log)
    assert log.max_timestamp() == TimestampAndOffset(T + 1000, 4)


def test_max_timestamp_of_an_empty_log(make_log: MakeLog) -> None:
    log = make_log()
    assert log.max_timestamp() is None
    assert log.offset_for_timestamp(0) is None


def test_log_append_time_replaces_client_timestamps(make_log: MakeLog) -> None:
    """With message.timestamp.type=LogAppendTime every record carries the broker's time, and
    timestamp lookups (ListOffsets) see those times, not the producer's."""
    log = make_log(LogConfig(message_timestamp_type="LogAppendTime"))
    first = produce(log, [b"a1", b"a2"], [T + 50, T + 60], now_ms=T + 100)
    second = produce(log, [b"b1"], [T + 10], now_ms=T + 200)
    assert (first.log_append_time, second.log_append_time) == (T + 100, T + 200)
    assert [(r.offset, r.timestamp) for r in iter_records(log.read(0, 1 << 20))] == [
        (0, T + 100),
        (1, T + 100),
        (2, T + 200),
    ]
    assert log.max_timestamp() == TimestampAndOffset(T + 200, 2)
    assert log.offset_for_timestamp(T + 150) == TimestampAndOffset(T + 200, 2)
    assert log.offset_for_timestamp(T + 100) == TimestampAndOffset(T + 100, 0)


def test_log_append_time_retention_counts_from_the_broker_time(make_log: MakeLog) -> None:
    """On a LogAppendTime topic a producer's old timestamps are replaced, so retention.ms
    counts from when the broker wrote the records: nothing here is an hour old yet."""
    config = LogConfig(
        segment_bytes=SMALL.segment_bytes,
        retention_ms=3_600_000,
        message_timestamp_type="LogAppendTime",
    )
    log = make_log(config)
    two_days_ago = NOW - 2 * 86_400_000
    produce_batches(log, 5, [two_days_ago] * 5)
    assert log.enforce_retention(NOW + 1000) == 0
    assert log.log_start_offset == 0
    assert read_all(log, 0) == [(o, value(o)) for o in range(15)]


# -- retention ------------------------------------------------------------------------------


def test_retention_by_size_deletes_whole_segments_from_the_oldest(make_log: MakeLog) -> None:
    log = make_log(LogConfig(segment_bytes=SMALL.segment_bytes, retention_bytes=4 * BATCH_SIZE + 1))
    produce_batches(log, 10)
    assert log.enforce_retention(NOW) == 2  # 10 batches -> 6 kept, at least retention.bytes
    assert [s.base_offset for s in log.segments] == [12, 18, 24]
    assert log.log_start_offset == 12
    assert files(log.directory, ".log") == [f"{b:020d}.log" for b in (12, 18, 24)]
    assert not (log.directory / f"{0:020d}.index").exists()
    assert read_all(log, 12) == [(o, value(o)) for o in range(12, 30)]
    assert log.enforce_retention(NOW) == 0


def test_retention_by_time_uses_the_largest_timestamp_of_a_segment(make_log: MakeLog) -> None:
    log = make_log(LogConfig(segment_bytes=SMALL.segment_bytes, retention_ms=1000))
    produce_batches(log, 10, [T + 100 * b for b in range(10)])
    # Deadline T+350: segments ending at T+100 and T+300 are past it, T+500 is not.
    assert log.enforce_retention(T + 1350) == 2
    assert log.log_start_offset == 12
    assert log.enforce_retention(T + 1350) == 0


def test_retention_can_empty_the_log_by_rolling(make_log: MakeLog) -> None:
    """When every segment is past retention, a new empty segment is rolled at the log end."""
    log = make_log(LogConfig(segment_bytes=SMALL.segment_bytes, retention_ms=1000))
    produce_batches(log, 5, [T] * 5)
    assert log.enforce_retention(T + 10_000) == 3
    assert [s.base_offset for s in log.segments] == [15]
    assert log.log_start_offset == log.log_end_offset == log.high_watermark == 15
    assert files(log.directory, ".log") == [f"{15:020d}.log"]
    assert log.read(15, 1 << 20) == b""
    with pytest.raises(LogError):
        log.read(14, 1 << 20)
    assert produce(log, [b"again"], [T + 10_000]).base_offset == 15


def test_retention_never_deletes_past_the_high_watermark(make_log: MakeLog) -> None:
    log = make_log(LogConfig(segment_bytes=SMALL.segment_bytes, retention_ms=0, flush_messages=1))
    produce_batches(log, 5, [T] * 5)
    assert log.high_watermark == 0
    assert log.enforce_retention(T + 10_000) == 0
    assert log.delete_records_before(-1, NOW) == 0  # -1 means "up to the high watermark"
    job = log.flush_job()
    assert job is not None
    job.run()
    log.flushed(job, NOW)
    assert log.high_watermark == 15
    assert log.enforce_retention(T + 10_000) == 3
    assert log.log_start_offset == 15


def test_compacted_topics_are_not_deleted_by_retention(make_log: MakeLog) -> None:
    log = make_log(
        LogConfig(
            segment_bytes=SMALL.segment_bytes,
            retention_ms=0,
            retention_bytes=0,
            cleanup_policy=("compact",),
        )
    )
    produce_batches(log, 5, [T] * 5)
    assert log.enforce_retention(T + 10_000) == 0
    assert len(log.segments) == 3


# -- DeleteRecords --------------------------------------------------------------------------


def test_delete_records_before(make_log: MakeLog) -> None:
    log = make_log()
    produce_batches(log, 10)
    assert log.delete_records_before(13, NOW) == 13
    assert [s.base_offset for s in log.segments] == [12, 18, 24]  # 12..17 still holds 13
    assert log.delete_records_before(4, NOW) == 13  # never moves back
    with pytest.raises(LogError) as caught:
        log.delete_records_before(31, NOW)
    assert caught.value.code == ErrorCode.offset_out_of_range
    assert caught.value.message == (
        "cannot delete records before offset 31: the high watermark of t-0 is 30"
    )
    assert log.delete_records_before(-1, NOW) == 30
    assert log.log_start_offset == log.log_end_offset == 30
    assert log.read(30, 100) == b""


# -- recovery -------------------------------------------------------------------------------


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


def test_unclean_reopen_truncates_a_torn_tail(make_log: MakeLog) -> None:
    log = make_log()
    produce_batches(log, 5)
    before = snapshot_of(log)
    last = log.segments[-1].path
    for segment in log.segments:  # a crash: files closed, nothing flushed or snapshotted
        segment.close()
    torn = batch_bytes([b"lost"], base_offset=15)
    with open(last, "ab") as file:
        file.write(torn[: len(torn) - 5])
    reopened = make_log(recovery_point=12, clean_shutdown=False)
    assert snapshot_of(reopened) == before
    assert os.path.getsize(last) == BATCH_SIZE
    assert produce(reopened, [b"after"]).base_offset == 15
    assert read_all(reopened, 15) == [(15, b"after")]


def test_corruption_in_an_unflushed_segment_drops_everything_after_it(make_log: MakeLog) -> None:
    log = make_log()
    produce_batches(log, 5)  # segments 0 (0..5), 6 (6..11), 12 (12..14)
    paths = [s.path for s in log.segments]
    for segment in log.segments:
        segment.close()
    with open(paths[1], "r+b") as file:  # damage the second batch of segment 6 (offsets 9..11)
        file.seek(BATCH_SIZE + 70)
        byte = file.read(1)
        file.seek(BATCH_SIZE + 70)
        file.write(bytes([byte[0] ^ 0x55]))
    reopened = make_log(recovery_point=6, clean_shutdown=False)
    assert [s.base_offset for s in reopened.segments] == [0, 6]
    assert reopened.log_end_offset == reopened.high_watermark == 9
    assert not paths[2].exists()
    assert read_all(reopened, 0) == [(o, value(o)) for o in range(9)]


def test_deleted_index_files_are_rebuilt(make_log: MakeLog) -> None:
    log = timestamped_log(make_log)
    before = snapshot_of(log)
    log.close()
    index_bytes = {p.name: p.read_bytes() for p in log.directory.glob("*index")}
    assert len(index_bytes) == 6  # .index and .timeindex for 3 segments
    for path in log.directory.glob("*index"):
        path.unlink()
    (log.directory / "00000000000000000006.log.deleted").write_bytes(b"leftover")
    reopened = make_log(recovery_point=18, clean_shutdown=True)
    assert snapshot_of(reopened) == before
    assert {p.name: p.read_bytes() for p in reopened.directory.glob("*index")} == index_bytes
    assert not (log.directory / "00000000000000000006.log.deleted").exists()


def test_idempotent_producer_state_survives_a_reopen(make_log: MakeLog) -> None:
    log = make_log()
    first = produce(log, [b"p0"], producer_id=7, producer_epoch=0, base_sequence=0)
    produce(log, [b"p1", b"p2"], producer_id=7, producer_epoch=0, base_sequence=1)
    log.close()
    reopened = make_log(recovery_point=3, clean_shutdown=True)
    again = produce(reopened, [b"p0"], producer_id=7, producer_epoch=0, base_sequence=0)
    assert again.duplicate
    assert (again.base_offset, again.last_offset) == (first.base_offset, first.last_offset)
    assert reopened.log_end_offset == 3
    with pytest.raises(ProducerStateError) as caught:
        produce(reopened, [b"gap"], producer_id=7, producer_epoch=0, base_sequence=5)
    assert caught.value.code == ErrorCode.out_of_order_sequence_number


# -- flush.messages -------------------------------------------------------------------------


def test_flush_mode_holds_the_high_watermark_until_fsynced(make_log: MakeLog) -> None:
    log = make_log(LogConfig(flush_messages=1))
    moves: list[int] = []
    log.add_listener(lambda: moves.append(log.high_watermark))
    result = produce(log, [b"durable"])
    assert result.base_offset == 0
    assert log.log_end_offset == 1
    assert log.high_watermark == 0
    assert log.read(0, 1 << 20) == b""  # not visible before the fsync
    job = log.flush_job()
    assert job is not None
    assert log.flush_job() is None  # one flush at a time
    # Appends during the flush are not covered by it.
    produce(log, [b"later"])
    job.run()
    log.flushed(job, NOW)
    assert log.high_watermark == 1
    assert log.recovery_point == 1
    assert [r.value for r in iter_records(log.read(0, 1 << 20))] == [b"durable"]
    second = log.flush_job()
    assert second is not None
    second.run()
    log.flushed(second, NOW)
    assert log.high_watermark == log.recovery_point == 2
    assert moves == [1, 2]
    assert log.flush_job() is None  # nothing new


def test_without_flush_messages_the_high_watermark_moves_at_once(make_log: MakeLog) -> None:
    log = make_log(LogConfig())
    produce(log, [b"a"])
    assert log.high_watermark == 1
    assert not log.flush_pending
