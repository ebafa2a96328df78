"""Segments and their sparse indexes: appends, lookups, persistence and corruption detection.

A segment is driven directly (no PartitionLog): batches are built with `build_batch`,
stamped with their offset as the log would, and appended. Corruption is made with plain
file writes so `headers(verify=True)`, `rebuild` and `load_indexes` face the same bytes a
crash or a bad disk would leave.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from file_damage import flip_bits
from hypothesis import given, settings
from hypothesis import strategies as st

from localbroker.log.damage import Damage
from localbroker.log.index import OffsetIndex, TimeIndex
from localbroker.log.segment import NO_TIMESTAMP, CorruptSegment, Segment, segment_name
from localbroker.records.batch import BatchHeader, read_header
from localbroker.records.builder import NewRecord, build_batch

NOW = 1_700_000_000_000


def append(
    segment: Segment, values: list[bytes], timestamps: list[int] | None = None
) -> BatchHeader:
    """Append one batch at the segment's next offset, as PartitionLog does; its header."""
    records = [
        NewRecord(v, timestamp=None if timestamps is None else timestamps[i])
        for i, v in enumerate(values)
    ]
    data = build_batch(records, now_ms=NOW, base_offset=segment.next_offset)
    header = read_header(data)
    header.position = segment.append(
        [data[:16], memoryview(data)[16:]], header, header.base_offset, len(data)
    )
    return header


def fill(segment: Segment, batches: int, per_batch: int = 3, size: int = 40) -> list[BatchHeader]:
    return [
        append(segment, [bytes([b]) * size for _ in range(per_batch)], [NOW + b] * per_batch)
        for b in range(batches)
    ]


@pytest.fixture
def segment(tmp_path: Path) -> Iterator[Segment]:
    opened = Segment(tmp_path, 100, index_interval_bytes=0)  # an index entry for every batch
    try:
        yield opened
    finally:
        opened.close()


def test_segment_files_are_named_like_kafka(tmp_path: Path) -> None:
    assert segment_name(42) == "00000000000000000042"
    seg = Segment(tmp_path, 42, 4096)
    try:
        assert seg.path == tmp_path / "00000000000000000042.log"
        assert seg.index.path.name == "00000000000000000042.index"
        assert seg.time_index.path.name == "00000000000000000042.timeindex"
    finally:
        seg.close()


# -- appending and scanning ---------------------------------------------------------------


def test_append_tracks_offsets_positions_and_timestamps(segment: Segment) -> None:
    first = append(segment, [b"a", b"b"], [NOW + 5, NOW + 9])
    second = append(segment, [b"c"], [NOW + 7])
    assert (first.position, second.position) == (0, first.size)
    assert segment.size == first.size + second.size == os.path.getsize(segment.path)
    assert segment.next_offset == 103
    assert (first.base_offset, second.base_offset) == (100, 102)
    assert segment.max_timestamp == NOW + 9
    assert segment.offset_of_max_timestamp == 101  # last offset of the batch holding it
    assert segment.first_batch_timestamp == NOW + 9
    found = [(h.position, h.base_offset, h.record_count) for h in segment.headers()]
    assert found == [(0, 100, 2), (first.size, 102, 1)]
    assert segment.read(0, segment.size) == segment.path.read_bytes()


def test_find_batch_returns_the_batch_containing_the_offset(tmp_path: Path) -> None:
    """With a sparse index (one entry) as with a dense one, the scan finds the right batch."""
    for interval in (0, 1 << 20):
        directory = tmp_path / str(interval)
        directory.mkdir()
        seg = Segment(directory, 0, interval)
        try:
            headers = fill(seg, 6)
            assert len(seg.index) == (6 if interval == 0 else 1)
            for header in headers:
                for offset in range(header.base_offset, header.last_offset + 1):
                    found = seg.find_batch(offset, seg.size)
                    assert found is not None
                    assert (found.position, found.base_offset) == (
                        header.position,
                        header.base_offset,
                    )
            assert seg.find_batch(18, seg.size) is None  # past the last batch
            # A limit (the high watermark position) hides batches at or after it.
            assert seg.find_batch(15, headers[5].position) is None
            assert seg.find_batch(14, headers[5].position) is not None
        finally:
            seg.close()


def test_reopened_segment_is_appended_to_not_overwritten(tmp_path: Path) -> None:
    seg = Segment(tmp_path, 0, 4096)
    first = append(seg, [b"one"])
    seg.close()
    reopened = Segment(tmp_path, 0, 4096)
    try:
        assert reopened.size == first.size
        reopened.next_offset = 1
        append(reopened, [b"two"])
        assert [h.base_offset for h in reopened.headers(verify=True)] == [0, 1]
    finally:
        reopened.close()


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=700), min_size=1, max_size=12),
    block_size=st.integers(min_value=61, max_value=1500),
)
def test_verified_scan_with_any_block_size(sizes: list[int], block_size: int) -> None:
    """Batches straddling read blocks (or bigger than a block) are still read and verified."""
    with tempfile.TemporaryDirectory() as directory:
        seg = Segment(Path(directory), 0, 4096)
        try:
            appended = [append(seg, [b"x" * size]) for size in sizes]
            scanned = list(seg.headers(verify=True, block_size=block_size))
            assert [(h.position, h.base_offset) for h in scanned] == [
                (h.position, h.base_offset) for h in appended
            ]
            middle = len(appended) // 2
            partial = list(seg.headers(appended[middle].position, block_size=block_size))
            assert [h.base_offset for h in partial] == list(range(middle, len(sizes)))
        finally:
            seg.close()


# -- corruption -----------------------------------------------------------------------------


def test_verify_detects_crc_corruption(segment: Segment) -> None:
    headers = fill(segment, 4)
    flip_bits(segment.path, headers[2].position + headers[2].size - 3, 0xFF)
    assert len(list(segment.headers())) == 4  # headers alone do not notice
    with pytest.raises(CorruptSegment, match="CRC mismatch") as caught:
        list(segment.headers(verify=True))
    assert caught.value.position == headers[2].position


def test_verify_detects_corruption_with_small_blocks(segment: Segment) -> None:
    headers = fill(segment, 4, size=100)
    flip_bits(segment.path, headers[3].position + 70, 0xFF)
    with pytest.raises(CorruptSegment) as caught:
        list(segment.headers(verify=True, block_size=64))
    assert caught.value.position == headers[3].position


def test_truncated_batch_is_detected(tmp_path: Path) -> None:
    seg = Segment(tmp_path, 0, 4096)
    headers = fill(seg, 3)
    seg.close()
    os.truncate(seg.path, headers[2].position + headers[2].size - 1)
    torn = Segment(tmp_path, 0, 4096)
    try:
        with pytest.raises(CorruptSegment, match="truncated batch at") as caught:
            list(torn.headers())
        assert caught.value.position == headers[2].position
        os.truncate(torn.path, headers[2].position + 30)
        torn.size = headers[2].position + 30
        with pytest.raises(CorruptSegment, match="truncated batch header"):
            list(torn.headers(verify=True))
    finally:
        torn.close()


def test_invalid_header_is_detected(segment: Segment) -> None:
    headers = fill(segment, 2)
    with open(segment.path, "r+b") as file:
        file.seek(headers[1].position + 16)
        file.write(b"\x01")  # magic 1 where magic 2 belongs
    with pytest.raises(CorruptSegment, match="invalid batch header") as caught:
        list(segment.headers())
    assert caught.value.position == headers[1].position


def test_rebuild_records_damage_and_resumes_at_the_next_good_batch(segment: Segment) -> None:
    headers = fill(segment, 5)
    flip_bits(segment.path, headers[3].position + 65, 0xFF)
    with open(segment.path, "ab") as file:
        file.write(b"\x00" * 30)  # a torn write after the corruption
    segment.size = os.path.getsize(segment.path)
    damages = segment.rebuild()
    assert damages == [
        Damage(headers[3].position, headers[4].position, 109, 112, "CRC mismatch"),
        Damage(
            headers[4].position + headers[4].size, segment.size, 115, 115, "truncated batch header"
        ),
    ]
    assert segment.next_offset == 115
    assert len(segment.index) == 4
    assert [h.base_offset for h in segment.headers(verify=True)] == [100, 103, 106, 112]
    assert segment.find_batch(110, segment.size).base_offset == 112  # type: ignore[union-attr]


def test_rebuild_finds_the_batch_after_a_damaged_length(segment: Segment) -> None:
    headers = fill(segment, 4)
    with open(segment.path, "r+b") as file:
        file.seek(headers[1].position + 8)
        file.write(struct.pack(">i", 7))  # a batch length shorter than any header
    assert segment.rebuild() == [
        Damage(headers[1].position, headers[2].position, 103, 106, "invalid batch header")
    ]
    assert segment.next_offset == 112


def test_rebuild_up_to_a_limit_accounts_for_the_offsets_of_a_damaged_tail(
    segment: Segment,
) -> None:
    """The offsets a running log gave out (or the next segment starts at) stay damaged,
    never free to be given out again."""
    headers = fill(segment, 3)
    flip_bits(segment.path, headers[2].position + 70, 0xFF)
    assert segment.rebuild(limit=109) == [
        Damage(headers[2].position, segment.size, 106, 109, "CRC mismatch")
    ]
    assert segment.next_offset == 109


def test_rebuild_refuses_offsets_that_do_not_continue(segment: Segment) -> None:
    headers = fill(segment, 3)
    with open(segment.path, "r+b") as file:  # the base offset is outside the CRC
        file.seek(headers[1].position)
        file.write(struct.pack(">q", 2**40))
    assert segment.rebuild() == [
        Damage(headers[1].position, headers[2].position, 103, 106, "unexpected offsets")
    ]
    assert len(segment.index) == 2


def test_reads_of_unverified_bytes_are_checked_once(tmp_path: Path) -> None:
    written = Segment(tmp_path, 100, index_interval_bytes=0)
    headers = fill(written, 4)
    written.write_indexes()
    written.close()
    flip_bits(written.path, headers[2].position + 70, 0xFF)
    seg = Segment(tmp_path, 100, index_interval_bytes=0)
    try:
        assert seg.load_indexes(None)
        assert seg.unverified
        whole = seg.read(0, seg.size)
        assert seg.check_read(whole, 0) == headers[2].position
        assert seg.verified_prefix == headers[2].position
        first = seg.read(0, headers[1].size)
        assert seg.check_read(first, 0) == len(first)
        tail = seg.read(headers[3].position, headers[3].size)
        assert seg.check_read(tail, headers[3].position) == len(tail)
    finally:
        seg.close()


def test_a_read_stops_at_a_batch_whose_base_offset_does_not_continue(tmp_path: Path) -> None:
    """The base offset is outside the CRC; served as it is, it would give clients records
    at offsets that belong to other records."""
    written = Segment(tmp_path, 100, index_interval_bytes=0)
    headers = fill(written, 4)
    written.write_indexes()
    written.close()
    with open(written.path, "r+b") as file:
        file.seek(headers[2].position)
        file.write(struct.pack(">q", 90))
    seg = Segment(tmp_path, 100, index_interval_bytes=0)
    try:
        assert seg.load_indexes(None)
        assert seg.check_read(seg.read(0, seg.size), 0) == headers[2].position
    finally:
        seg.close()


def test_load_refuses_a_tail_batch_whose_offsets_do_not_continue(tmp_path: Path) -> None:
    written = Segment(tmp_path, 100, index_interval_bytes=1 << 20)  # one index entry
    headers = fill(written, 3)
    written.write_indexes()
    written.close()
    with open(written.path, "r+b") as file:
        file.seek(headers[2].position)
        file.write(struct.pack(">q", 2**40))
    seg = Segment(tmp_path, 100, index_interval_bytes=1 << 20)
    try:
        assert not seg.load_indexes(None)
    finally:
        seg.close()


# -- index persistence ----------------------------------------------------------------------


def test_indexes_survive_close_and_load(tmp_path: Path) -> None:
    seg = Segment(tmp_path, 100, 0)
    headers = fill(seg, 5)
    state = (
        seg.next_offset,
        seg.max_timestamp,
        seg.offset_of_max_timestamp,
        seg.first_batch_timestamp,
    )
    seg.write_indexes()
    seg.close()
    assert os.path.getsize(tmp_path / "00000000000000000100.index") == 5 * 8
    assert os.path.getsize(tmp_path / "00000000000000000100.timeindex") == 5 * 12
    loaded = Segment(tmp_path, 100, 0)
    try:
        assert loaded.load_indexes(None)
        assert (
            loaded.next_offset,
            loaded.max_timestamp,
            loaded.offset_of_max_timestamp,
            loaded.first_batch_timestamp,
        ) == state
        assert len(loaded.index) == 5
        for header in headers:
            found = loaded.find_batch(header.last_offset, loaded.size)
            assert found is not None and found.position == header.position
        assert loaded.time_index.lookup(NOW + 3) == headers[2].last_offset
    finally:
        loaded.close()


def test_load_with_batches_after_the_last_index_entry(tmp_path: Path) -> None:
    """Batches appended after the last flushed index entry are found by scanning the tail."""
    seg = Segment(tmp_path, 0, 1 << 20)  # sparse: only the first batch gets an entry
    fill(seg, 4)
    seg.write_indexes()
    seg.close()
    loaded = Segment(tmp_path, 0, 1 << 20)
    try:
        assert loaded.load_indexes(None)
        assert loaded.next_offset == 12
        assert loaded.max_timestamp == NOW + 3
        assert loaded.offset_of_max_timestamp == 11
        assert not loaded.load_indexes(11)  # the next segment starts before our tail ends
    finally:
        loaded.close()


def test_missing_index_means_rebuild(tmp_path: Path) -> None:
    seg = Segment(tmp_path, 0, 0)
    fill(seg, 2)
    seg.write_indexes()
    seg.close()
    (tmp_path / "00000000000000000000.index").unlink()
    loaded = Segment(tmp_path, 0, 0)
    try:
        assert not loaded.load_indexes(None)
    finally:
        loaded.close()


def offset_index_with(tmp_path: Path, entries: list[tuple[int, int]]) -> OffsetIndex:
    path = tmp_path / "00000000000000000000.index"
    path.write_bytes(b"".join(struct.pack(">ii", o, p) for o, p in entries))
    return OffsetIndex(path, 0)


@pytest.mark.parametrize(
    "entries",
    [
        [(4, 0), (4, 100)],  # offsets not increasing
        [(4, 0), (9, 0)],  # positions not increasing
        [(4, 0), (9, 1000)],  # position past the end of the segment
        [(4, -1)],
    ],
    ids=["offsets", "positions", "past-end", "negative"],
)
def test_offset_index_load_rejects_inconsistent_files(
    tmp_path: Path, entries: list[tuple[int, int]]
) -> None:
    index = offset_index_with(tmp_path, entries)
    assert not index.load(segment_size=500)
    assert len(index) == 0


def test_offset_index_load_rejects_a_partial_entry(tmp_path: Path) -> None:
    index = offset_index_with(tmp_path, [(4, 0)])
    with open(index.path, "ab") as file:
        file.write(b"\x00\x00\x00")
    assert not index.load(segment_size=500)


def test_offset_index_load_and_lookup(tmp_path: Path) -> None:
    index = offset_index_with(tmp_path, [(4, 0), (9, 100), (14, 200)])
    index.base_offset = 0
    assert index.load(segment_size=300)
    assert index.last_entry == (14, 200)
    # The greatest entry whose (last) offset is <= the target: a batch at or before it.
    assert [index.lookup(o) for o in (0, 3, 4, 8, 9, 13, 14, 99)] == [
        0,
        0,
        0,
        0,
        100,
        100,
        200,
        200,
    ]


def test_offset_index_truncation_rewrites_the_file(tmp_path: Path) -> None:
    index = OffsetIndex(tmp_path / "00000000000000000050.index", 50)
    for i in range(4):
        index.append(50 + 5 * i + 4, 100 * i)
    index.flush()
    assert os.path.getsize(index.path) == 32
    index.truncate_to_position(200)  # the batch at 200 and later are gone
    assert index.last_entry == (59, 100)
    index.flush()
    assert index.path.read_bytes() == struct.pack(">iiii", 4, 0, 9, 100)
    index.append(64, 200)
    index.flush(fsync=True)
    assert os.path.getsize(index.path) == 24


def test_time_index_keeps_only_increasing_timestamps(tmp_path: Path) -> None:
    index = TimeIndex(tmp_path / "00000000000000000000.timeindex", 0)
    for timestamp, offset in [(100, 10), (100, 12), (90, 15), (200, 20), (300, 30)]:
        index.maybe_append(timestamp, offset)
    assert index.last_entry == (300, 30)
    assert len(index) == 3
    # An offset at or before the first record with a timestamp >= target.
    lookups = [index.lookup(t) for t in (50, 100, 101, 200, 250, 300, 10_000)]
    assert lookups == [0, 0, 10, 10, 20, 20, 30]
    index.truncate_to_offset(20)
    assert index.last_entry == (100, 10)


@pytest.mark.parametrize(
    ("entries", "next_offset"),
    [
        ([(100, 1), (100, 2)], 10),  # timestamps not increasing
        ([(100, 5), (200, 4)], 10),  # offsets going back
        ([(100, 1), (200, 10)], 10),  # an offset the segment does not have
    ],
    ids=["timestamps", "offsets", "past-end"],
)
def test_time_index_load_rejects_inconsistent_files(
    tmp_path: Path, entries: list[tuple[int, int]], next_offset: int
) -> None:
    path = tmp_path / "00000000000000000000.timeindex"
    path.write_bytes(b"".join(struct.pack(">qi", t, o) for t, o in entries))
    index = TimeIndex(path, 0)
    assert not index.load(next_offset)
    assert len(index) == 0


def test_time_index_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "00000000000000000000.timeindex"
    index = TimeIndex(path, 0)
    index.maybe_append(NOW, 3)
    index.maybe_append(NOW + 10, 7)
    index.flush()
    loaded = TimeIndex(path, 0)
    assert loaded.load(next_offset=8)
    assert loaded.last_entry == (NOW + 10, 7)
    path.write_bytes(path.read_bytes() + b"\x00")
    assert not TimeIndex(path, 0).load(next_offset=8)


def test_empty_segment_has_no_timestamp(segment: Segment) -> None:
    assert segment.max_timestamp == NO_TIMESTAMP
    assert list(segment.headers(verify=True)) == []
    assert segment.find_batch(100, segment.size) is None
    assert segment.rebuild() == []
