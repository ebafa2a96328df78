"""PartitionLog: offsets, reads, timestamps, retention, DeleteRecords and flushing.

The log is driven the way the produce and fetch handlers drive it (validate, append with the
broker's time, read by offset), with tiny segments so that rolls, retention and recovery
all happen within a few batches. Times are explicit `now_ms` values, never the clock.
"""

from __future__ import annotations

import time

import pytest
from kio.schema.errors import ErrorCode
from partition_logs import (
    BATCH_SIZE,
    NOW,
    SMALL,
    MakeLog,
    T,
    batch_bytes,
    files,
    produce,
    produce_batches,
    read_all,
    timestamped_log,
    value,
)

from localbroker.log.errors import InvalidTimestamps, LogError
from localbroker.log.log_config import LogConfig
from localbroker.log.partition import TimestampAndOffset
from localbroker.records.batch import read_header
from localbroker.records.reader import iter_records

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
    with pytest.raises(InvalidTimestamps) as caught:
        produce(log, [b"now", b"future"], [NOW, NOW + 1001])
    assert caught.value.code == ErrorCode.invalid_timestamp
    assert caught.value.record_errors == [
        (
            1,
            f"Timestamp {NOW + 1001} of message with offset 1 is out of range. The timestamp"
            f" should be within [{NOW - 2**63 + 1}, {NOW + 1000}]",
        )
    ]
    assert log.log_end_offset == 0
    produce(log, [b"ok"], [NOW + 1000])
    assert log.log_end_offset == 1


def test_a_record_older_than_the_batch_start_is_refused(make_log: MakeLog) -> None:
    """The batch header tells the first and the greatest create time, not the least: Kafka
    checks each record, so a record older than message.timestamp.before.max.ms in the middle
    of a batch is refused too."""
    log = make_log(LogConfig(message_timestamp_before_max_ms=1000))
    with pytest.raises(InvalidTimestamps) as caught:
        produce(log, [b"a", b"old", b"c"], [NOW, NOW - 1001, NOW])
    assert [index for index, _ in caught.value.record_errors] == [1]
    assert log.log_end_offset == 0


def test_segment_ms_rolls_an_old_segment(make_log: MakeLog) -> None:
    now = int(time.time() * 1000)  # a new segment file's creation time is its mtime
    log = make_log(LogConfig(segment_ms=60_000))
    produce(log, [b"a"], [now], now_ms=now)
    produce(log, [b"b"], [now], now_ms=now + 1_000)
    produce(log, [b"c"], [now], now_ms=now + 120_000)
    assert [s.base_offset for s in log.segments] == [0, 2]


# -- timestamps -----------------------------------------------------------------------------


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


def test_retention_frees_space_even_when_rolling_fails(make_log: MakeLog) -> None:
    """On a full disk the new segment cannot be made (here its name is taken by a
    directory, which fails the same way); the older segments still go."""
    log = make_log(LogConfig(segment_bytes=SMALL.segment_bytes, retention_ms=1000))
    produce_batches(log, 5, [T] * 5)
    (log.directory / f"{15:020d}.log").mkdir()
    assert log.enforce_retention(T + 10_000) == 2
    assert [s.base_offset for s in log.segments] == [12]
    assert read_all(log, 12) == [(o, value(o)) for o in range(12, 15)]


def test_a_roll_without_a_producer_snapshot_goes_on(make_log: MakeLog) -> None:
    log = make_log()
    produce_batches(log, 2)
    (log.directory / f"{6:020d}.snapshot.tmp").mkdir()  # the snapshot cannot be written
    produce_batches(log, 1)
    assert [s.base_offset for s in log.segments] == [0, 6]
    assert read_all(log, 6) == [(6 + i, value(i)) for i in range(3)]


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
    log = make_log()
    produce_batches(log, 5, [T] * 5)  # keyless, so written before the topic turns compacted
    log.config = LogConfig(
        segment_bytes=SMALL.segment_bytes,
        retention_ms=0,
        retention_bytes=0,
        cleanup_policy=("compact",),
    )
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
