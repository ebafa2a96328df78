"""A follower's log: the leader's batches appended unchanged, truncation where it diverged,
and the high watermark replication sets.

A leader log is written the way the produce handler and the transaction markers write it,
in two leader epochs, with an idempotent producer and an aborted and a committed
transaction; a follower log in another directory is fed the leader's reads, as the replica
fetcher will feed it. Times are explicit `now_ms` values, never the clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kio.schema.errors import ErrorCode
from partition_logs import NOW, SMALL, files, read_all, value

from localbroker.log.errors import LogError
from localbroker.log.partition import PartitionLog
from localbroker.log.replica import UnexpectedAppendOffset
from localbroker.records.batch import TRANSACTIONAL_BIT, read_header
from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.reader import iter_records

TXN, IDEMPOTENT = 100, 200


def open_log(directory: Path, open_logs: list[PartitionLog], **kwargs: object) -> PartitionLog:
    log = PartitionLog(directory, "t", 0, SMALL, now_ms=NOW, **kwargs)  # type: ignore[arg-type]
    open_logs.append(log)
    return log


def append(log: PartitionLog, offset: int, epoch: int, pid: int = -1, sequence: int = -1) -> None:
    """Three records valued as produce_batches values them, at the log's end in `epoch`."""
    attributes = TRANSACTIONAL_BIT if pid == TXN else 0
    batch = build_batch(
        [NewRecord(value(offset + i), timestamp=NOW) for i in range(3)],
        now_ms=NOW,
        attributes=attributes,
        producer_id=pid,
        producer_epoch=0 if pid >= 0 else -1,
        base_sequence=sequence,
    )
    log.append(read_header(batch), batch, NOW, leader_epoch=epoch)


def write_leader(log: PartitionLog) -> list[int]:
    """Batches in epochs 0 and 2 (an abort, an idempotent producer, a commit, a transaction
    left open); the base offset of every batch, and the log end offset last."""
    append(log, 0, 0)
    append(log, 3, 0, IDEMPOTENT, 0)
    append(log, 6, 0, TXN, 0)
    log.append_marker(TXN, 0, False, NOW, leader_epoch=0)  # offset 9: an abort
    append(log, 10, 2, IDEMPOTENT, 3)
    append(log, 13, 2, TXN, 3)
    log.append_marker(TXN, 0, True, NOW, leader_epoch=2)  # offset 16: a commit
    append(log, 17, 2)
    append(log, 20, 2, TXN, 6)  # open
    return [0, 3, 6, 9, 10, 13, 16, 17, 20, 23]


def replicate(leader: PartitionLog, follower: PartitionLog, max_bytes: int = 1 << 20) -> None:
    """Fetch from the leader at the follower's log end until it has it all, as a fetcher
    would (a read may end inside a batch: the follower drops the part)."""
    while follower.log_end_offset < leader.log_end_offset:
        follower.append_as_follower(leader.read(follower.log_end_offset, max_bytes), NOW)


def segment_bytes(log: PartitionLog) -> dict[str, bytes]:
    return {name: (log.directory / name).read_bytes() for name in files(log.directory, ".log")}


@pytest.fixture
def leader(tmp_path: Path, open_logs: list[PartitionLog]) -> PartitionLog:
    log = open_log(tmp_path / "leader" / "t-0", open_logs)
    write_leader(log)
    return log


def test_a_follower_stores_the_leaders_bytes(
    tmp_path: Path, leader: PartitionLog, open_logs: list[PartitionLog]
) -> None:
    follower = open_log(tmp_path / "follower" / "t-0", open_logs)
    replicate(leader, follower, max_bytes=200)  # reads end inside batches
    assert segment_bytes(follower) == segment_bytes(leader)
    assert len(segment_bytes(leader)) > 2, "the follower rolled where the leader did"
    assert follower.epochs.entries() == leader.epochs.entries() == [(0, 0), (2, 10)]
    assert follower.transactions.aborted == leader.transactions.aborted
    assert follower.transactions.ongoing == leader.transactions.ongoing == {TXN: 20}
    assert follower.last_stable_offset == 20
    assert follower.producers.entries.keys() == leader.producers.entries.keys()
    for pid, entry in leader.producers.entries.items():
        mine = follower.producers.entries[pid]
        assert (mine.epoch, mine.last_sequence, mine.last_offset) == (
            entry.epoch,
            entry.last_sequence,
            entry.last_offset,
        )
    assert files(follower.directory, ".txnindex") == files(leader.directory, ".txnindex")
    for name in files(leader.directory, ".txnindex"):
        assert (follower.directory / name).read_bytes() == (leader.directory / name).read_bytes()


def test_the_first_offset_must_not_be_below_the_log_end(
    tmp_path: Path, leader: PartitionLog, open_logs: list[PartitionLog]
) -> None:
    follower = open_log(tmp_path / "follower" / "t-0", open_logs)
    replicate(leader, follower)
    with pytest.raises(UnexpectedAppendOffset) as caught:
        follower.append_as_follower(leader.read(17, 1 << 20), NOW)
    assert (caught.value.first_offset, caught.value.last_offset) == (17, 19)
    assert follower.log_end_offset == 23


def test_a_damaged_batch_is_refused_whole(
    tmp_path: Path, leader: PartitionLog, open_logs: list[PartitionLog]
) -> None:
    follower = open_log(tmp_path / "follower" / "t-0", open_logs)
    data = bytearray(leader.read(0, 1 << 20))
    data[-1] ^= 0xFF
    with pytest.raises(LogError) as caught:
        follower.append_as_follower(bytes(data), NOW)
    assert caught.value.code == ErrorCode.corrupt_message
    assert follower.log_end_offset == 0


def test_the_high_watermark_follows_what_replication_allows(
    tmp_path: Path, leader: PartitionLog, open_logs: list[PartitionLog]
) -> None:
    follower = open_log(tmp_path / "follower" / "t-0", open_logs)
    follower.set_high_watermark(0)
    replicate(leader, follower)
    assert follower.high_watermark == 0
    assert follower.read(0, 1 << 20) == b""
    follower.set_high_watermark(6)
    assert follower.high_watermark == 6
    assert [r.offset for r in iter_records(follower.read(0, 1 << 20))] == list(range(6))
    follower.set_high_watermark(3)  # never back
    assert follower.high_watermark == 6
    follower.set_high_watermark(1000)  # not past the log end
    assert follower.high_watermark == 23


def test_truncation_at_every_batch_boundary_leaves_the_prefix(
    tmp_path: Path, leader: PartitionLog, open_logs: list[PartitionLog]
) -> None:
    boundaries = [0, 3, 6, 9, 10, 13, 16, 17, 20]
    expected = read_all(leader, 0)
    for cut in boundaries:
        follower = open_log(tmp_path / f"f{cut}" / "t-0", open_logs)
        replicate(leader, follower)
        assert follower.truncate_to(cut)
        assert follower.log_end_offset == follower.high_watermark == cut
        assert read_all(follower, 0) == expected[: len(read_all(follower, 0))]
        assert [o for o, _ in read_all(follower, 0)] == [o for o, _ in expected if o < cut]
        assert follower.epochs.entries() == [e for e in [(0, 0), (2, 10)] if e[1] < cut]
        assert all(txn.last_offset < cut for txn in follower.transactions.aborted)
        open_since = 6 if 6 < cut <= 9 else 13 if 13 < cut <= 16 else cut
        assert follower.last_stable_offset == open_since, "a cut transaction is open again"
        replicate(leader, follower)  # the leader's batches again, from the cut
        assert segment_bytes(follower) == segment_bytes(leader), f"cut at {cut}"
        assert follower.transactions.aborted == leader.transactions.aborted


def test_truncation_inside_a_batch_drops_the_whole_batch(
    tmp_path: Path, leader: PartitionLog, open_logs: list[PartitionLog]
) -> None:
    follower = open_log(tmp_path / "follower" / "t-0", open_logs)
    replicate(leader, follower)
    assert follower.truncate_to(14)
    assert follower.log_end_offset == 13
    assert not follower.truncate_to(20)
