"""The log cleaner on real segment files: what survives a round, what a crash in a swap
leaves, and which logs are due. Times are explicit (the cleaner's clock is given)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from kio.schema.errors import ErrorCode

from localbroker.log.cleaner import Throttler
from localbroker.log.cleaner_manager import CleanerSettings, LogCleaner
from localbroker.log.cleaner_swap import swap_steps
from localbroker.log.errors import InvalidRecords
from localbroker.log.log_config import LogConfig
from localbroker.log.manager import LogManager
from localbroker.log.partition import PartitionLog
from localbroker.log.segment import Segment
from localbroker.records.batch import read_header, validate_produced
from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.reader import iter_records

NOW = 1_700_000_000_000
COMPACT = LogConfig(segment_bytes=400, cleanup_policy=("compact",), min_cleanable_dirty_ratio=0.01)
Pairs = list[tuple[bytes | None, bytes | None]]


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[LogManager]:
    logs = LogManager(tmp_path / "data")
    logs.load([("t", 0, COMPACT)], NOW)
    yield logs
    if logs.logs:
        logs.abandon()


def put(log: PartitionLog, pairs: Pairs, now: int = NOW, **fields: int) -> None:
    records = build_batch([NewRecord(v, k) for k, v in pairs], now_ms=now, **fields)
    log.append(validate_produced(records, 1 << 20), records, now)


def contents(log: PartitionLog) -> list[tuple[int, bytes | None, bytes | None]]:
    return [
        (r.offset, r.key, r.value) for batch in log.stored_batches() for r in iter_records(batch)
    ]


def clean(logs: LogManager, now: int = NOW, **kwargs: object) -> bool:
    cleaner = LogCleaner(logs, CleanerSettings, clock=lambda: now, **kwargs)  # type: ignore[arg-type]
    return asyncio.run(cleaner.clean_filthiest())


def fill(log: PartitionLog, rounds: int = 6) -> None:
    """Keys k0..k2 written again and again, rolling several segments."""
    for i in range(rounds):
        put(log, [(b"k%d" % (j % 3), b"v%d-%d" % (i, j)) for j in range(3)])


def test_a_round_keeps_the_latest_record_of_each_key_at_its_offset(
    manager: LogManager,
) -> None:
    log = manager.logs[("t", 0)]
    fill(log, 12)
    active_before = log.active
    assert clean(manager)
    survivors = contents(log)
    cleaned = [s for s in survivors if s[0] < active_before.base_offset]
    keys = [key for _, key, _ in cleaned]
    assert len(keys) == len(set(keys)), survivors  # one record per key below the active one
    latest = {key: (offset, value) for offset, key, value in survivors}
    assert latest == {
        b"k%d" % j: (33 + j, b"v11-%d" % j) for j in range(3)
    }  # the newest of each key, at the offset it was written at
    assert log.active is active_before and log.log_end_offset == 36


def test_a_tombstone_stays_for_delete_retention_ms_then_goes(manager: LogManager) -> None:
    log = manager.logs[("t", 0)]
    put(log, [(b"gone", b"x")])
    fill(log)
    put(log, [(b"gone", None)])
    fill(log, 3)  # the tombstone leaves the active segment

    def gone() -> list[bytes | None]:
        return [v for _, k, v in contents(log) if k == b"gone"]

    assert clean(manager)
    assert gone() == [None]
    fill(log, 3)
    assert clean(manager, NOW + COMPACT.delete_retention_ms - 1)
    assert gone() == [None]  # within delete.retention.ms of its first cleaning
    fill(log, 3)
    assert clean(manager, NOW + COMPACT.delete_retention_ms)
    assert gone() == []


def test_records_without_a_key_are_refused_as_kafka_refuses_them(manager: LogManager) -> None:
    log = manager.logs[("t", 0)]
    with pytest.raises(InvalidRecords) as refused:
        put(log, [(b"k", b"v"), (None, b"v")])
    assert refused.value.code == ErrorCode.invalid_record
    assert refused.value.record_errors == [
        (1, "Compacted topic cannot accept message without key in topic partition t-0.")
    ]
    assert refused.value.message == (
        "One or more records have been rejected due to 1 record errors in total, and only"
        " showing the first three errors at most: [RecordError(batchIndex=1,"
        " message='Compacted topic cannot accept message without key in topic partition"
        " t-0.')]"
    )


def test_aborted_records_go_and_their_marker_waits(manager: LogManager) -> None:
    log = manager.logs[("t", 0)]
    put(log, [(b"a", b"kept")])
    txn = {"producer_id": 7, "producer_epoch": 0, "attributes": 0x10}
    put(log, [(b"a", b"aborted"), (b"b", b"aborted")], base_sequence=0, **txn)
    log.append_marker(7, 0, False, NOW)
    fill(log)
    assert clean(manager)
    values = [v for _, _, v in contents(log)]
    assert b"aborted" not in values  # and the map never took "a" from the aborted batch:
    assert b"kept" in values
    # The emptied batch stays (it carries producer 7's last sequence), so the marker does,
    # and the cleaned segment's .txnindex lists its transaction as Kafka's cleanedIndex does.
    assert [b for b in log.stored_batches() if b[22] & 0x20]
    (segment,) = [s for s in log.segments if s.base_offset <= 3 < s.next_offset]
    assert segment.txn_index.path.name.endswith(".txnindex")  # the swap's suffix is gone
    indexed = segment.txn_index.read(segment.base_offset, segment.next_offset)
    assert indexed is not None
    assert [(t.producer_id, t.first_offset, t.last_offset) for t in indexed] == [(7, 1, 3)]


@pytest.mark.parametrize("steps", range(6))
def test_a_crash_at_any_step_of_a_swap_leaves_the_old_or_the_cleaned_log(
    tmp_path: Path, steps: int
) -> None:
    logs = LogManager(tmp_path / "data")
    logs.load([("t", 0, COMPACT)], NOW)
    log = logs.logs[("t", 0)]
    fill(log)
    before = contents(log)
    shutil.copytree(tmp_path / "data", tmp_path / "copy")

    class Crash(Exception):
        pass

    def crashing(log_: PartitionLog, cleaned: Segment, old: list[Segment]) -> bool:
        for step in swap_steps(log_, cleaned, old)[:steps]:
            step()
        raise Crash

    with pytest.raises(Crash):
        clean(logs, swap=crashing)
    logs.abandon()
    recovered = LogManager(tmp_path / "data")
    recovered.load([("t", 0, COMPACT)], NOW)
    after = contents(recovered.logs[("t", 0)])
    recovered.close()
    # The same round done in full on a copy: the other consistent outcome.
    whole = LogManager(tmp_path / "copy")
    whole.load([("t", 0, COMPACT)], NOW)
    assert clean(whole)
    cleaned = contents(whole.logs[("t", 0)])
    whole.close()
    assert after in (before, cleaned), (steps, after)
    leftovers = [p.name for p in (tmp_path / "data" / "t-0").iterdir()]
    assert not [n for n in leftovers if n.endswith((".cleaned", ".swap", ".deleted"))]


def test_min_compaction_lag_and_dirty_ratio_hold_a_log_back(tmp_path: Path) -> None:
    lagging = LogConfig(
        segment_bytes=400, cleanup_policy=("compact",), min_compaction_lag_ms=60_000
    )
    logs = LogManager(tmp_path / "data")
    logs.load([("t", 0, lagging)], NOW)
    fill(logs.logs[("t", 0)])
    assert not clean(logs, NOW + 1000)  # every record is younger than the lag
    assert clean(logs, NOW + 61_000)
    logs.close()


def test_a_rewritten_batch_keeps_its_offsets_and_producer_fields(manager: LogManager) -> None:
    log = manager.logs[("t", 0)]
    put(log, [(b"a", b"1"), (b"b", b"1")], producer_id=3, producer_epoch=0, base_sequence=0)
    put(log, [(b"b", b"2")], producer_id=3, producer_epoch=0, base_sequence=2)
    fill(log)
    assert clean(manager)
    first = read_header(next(log.stored_batches()))
    assert (first.base_offset, first.last_offset_delta, first.record_count) == (0, 1, 1)
    assert (first.producer_id, first.base_sequence) == (3, 0)
    assert contents(log)[0] == (0, b"a", b"1")


def test_max_compaction_lag_cleans_a_log_below_the_dirty_ratio(tmp_path: Path) -> None:
    never_by_ratio = LogConfig(
        segment_bytes=400,
        cleanup_policy=("compact",),
        min_cleanable_dirty_ratio=1.0,
        max_compaction_lag_ms=60_000,
    )
    logs = LogManager(tmp_path / "data")
    logs.load([("t", 0, never_by_ratio)], NOW)
    log = logs.logs[("t", 0)]
    fill(log)
    assert not clean(logs, NOW + 1000)
    assert clean(logs, NOW + 61_000)  # the first dirty record is older than the lag
    checkpoint = (tmp_path / "data" / "cleaner-offset-checkpoint").read_text()
    # Kafka's format; the next round starts after the last offset mapped, below the active
    assert checkpoint.splitlines() == ["0", "1", f"t 0 {log.active.base_offset}"]
    logs.close()


def test_offsets_compacted_away_are_no_damage_after_a_restart(tmp_path: Path) -> None:
    """A cleaned segment may end before the next one starts, or be empty: after a restart
    those offsets are gaps a fetch moves past, not lost data (CORRUPT_MESSAGE)."""
    one_batch_each = LogConfig(
        segment_bytes=14, cleanup_policy=("compact",), min_cleanable_dirty_ratio=0.01
    )
    logs = LogManager(tmp_path / "data")
    logs.load([("t", 0, one_batch_each)], NOW)
    fill(logs.logs[("t", 0)])
    assert clean(logs)
    before = contents(logs.logs[("t", 0)])
    logs.close()
    reopened = LogManager(tmp_path / "data")
    reopened.load([("t", 0, one_batch_each)], NOW)
    log = reopened.logs[("t", 0)]
    try:
        assert contents(log) == before
        for offset in range(log.log_end_offset):
            log.read(offset, 1 << 20)  # no CORRUPT_MESSAGE
    finally:
        reopened.close()


def test_the_throttler_keeps_the_cleaners_io_to_its_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttler = Throttler(1000.0, clock=lambda: now[0], sleep=sleep)
    throttler.throttle(500)
    now[0] += 0.2
    throttler.throttle(500)
    assert slept == [0.5, pytest.approx(0.3)]  # 1000 bytes take a second at 1000 B/s
    assert now[0] == pytest.approx(1.0)


def test_a_cleaned_segment_with_gaps_is_trusted_after_a_clean_restart(tmp_path: Path) -> None:
    """Gaps inside a cleaned segment are no reason to scan it again (its indexes fit), and
    reads of its unverified bytes accept base offsets that jump."""
    sparse_index = LogConfig(
        segment_bytes=400,
        index_interval_bytes=1 << 20,
        cleanup_policy=("compact",),
        min_cleanable_dirty_ratio=0.01,
    )
    logs = LogManager(tmp_path / "data")
    logs.load([("t", 0, sparse_index)], NOW)
    log = logs.logs[("t", 0)]
    put(log, [(b"a", b"1")])
    put(log, [(b"b", b"1")])
    put(log, [(b"c", b"1")])
    put(log, [(b"b", b"2")])  # the batch at offset 1 goes whole: a gap
    fill(log)
    assert clean(logs)
    before = contents(log)
    logs.close()
    reopened = LogManager(tmp_path / "data")
    reopened.load([("t", 0, sparse_index)], NOW)
    log = reopened.logs[("t", 0)]
    try:
        assert log.segments[0].unverified  # loaded from its indexes, not scanned
        first_segment = [o for o, _, _ in before if o < log.segments[1].base_offset]
        assert [r.offset for r in iter_records(log.read(0, 1 << 20))] == first_segment
        assert contents(log) == before
    finally:
        reopened.close()


def test_cleaned_segments_that_fit_in_one_are_merged_next_round(manager: LogManager) -> None:
    log = manager.logs[("t", 0)]
    fill(log, 12)
    assert clean(manager)
    cleaned = len(log.segments)
    fill(log, 4)
    assert clean(manager)  # groupSegmentsBySize: the small cleaned segments share one
    assert len(log.segments) < cleaned
