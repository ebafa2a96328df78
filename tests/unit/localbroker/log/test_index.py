"""Index files and fsync: a flush that must be durable fsyncs only what is not durable yet.

With log.flush.interval.messages=1 every acknowledged produce flushes its segment; an fsync of
an index file that has not changed since its last fsync still costs a disk cache flush, so it
is skipped, while anything written without an fsync is still fsynced by the next durable flush.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localbroker.files import observe_fsyncs
from localbroker.log.index import OffsetIndex


@pytest.fixture
def fsyncs() -> Iterator[list[int]]:
    """The file descriptors fsynced while the test runs."""
    seen: list[int] = []
    stop = observe_fsyncs(seen.append)
    try:
        yield seen
    finally:
        stop()


def test_a_durable_flush_with_nothing_new_makes_no_fsync(tmp_path: Path, fsyncs: list[int]) -> None:
    index = OffsetIndex(tmp_path / "00000000000000000000.index", 0)
    index.append(3, 0)
    index.flush(fsync=True)
    assert len(fsyncs) == 1
    index.flush(fsync=True)
    assert len(fsyncs) == 1


def test_entries_written_without_fsync_are_fsynced_by_the_next_durable_flush(
    tmp_path: Path, fsyncs: list[int]
) -> None:
    index = OffsetIndex(tmp_path / "00000000000000000000.index", 0)
    index.append(3, 0)
    index.flush()  # as a roll writes indexes: no fsync
    assert fsyncs == []
    index.flush(fsync=True)
    assert len(fsyncs) == 1


def test_a_loaded_index_is_fsynced_by_its_first_durable_flush(
    tmp_path: Path, fsyncs: list[int]
) -> None:
    """What a crashed broker wrote may still sit in the page cache only."""
    path = tmp_path / "00000000000000000000.index"
    written = OffsetIndex(path, 0)
    written.append(3, 0)
    written.flush()
    loaded = OffsetIndex(path, 0)
    assert loaded.load(segment_size=100)
    loaded.flush(fsync=True)
    assert len(fsyncs) == 1
