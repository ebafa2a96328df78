"""A follower's log: the leader's batches appended unchanged, truncation where it diverged,
and the high watermark replication sets.

A leader log is written the way the produce handler and the transaction markers write it,
in two leader epochs, with an idempotent producer and an aborted and a committed
transaction; a follower log in another directory is fed the leader's reads, as the replica
fetcher will feed it. Times are explicit `now_ms` values, never the clock.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kio.schema.errors import ErrorCode
from partition_logs import NOW, SMALL, files, read_all, value

from localbroker import files as files_module
from localbroker.log.errors import LogError
from localbroker.log.log_config import LogConfig
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


FILE_STEPS = ("ftruncate", "truncate", "unlink", "replace", "rename")
"""The calls that change a log's files: a truncation is killed before each in turn."""


def truncate_until_killed(directory: Path, cut: int, kill_at: int) -> None:
    """In a forked child: open the follower's log and truncate it at `cut`, dying by
    SIGKILL before its `kill_at`-th change to a file (or fsync)."""
    steps = 0

    def step() -> None:
        nonlocal steps
        steps += 1
        if steps == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def counted(call: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            step()
            return call(*args, **kwargs)

        return run

    log = PartitionLog(directory, "t", 0, SMALL, now_ms=NOW, leader_epoch=None)
    for name in FILE_STEPS:
        setattr(os, name, counted(getattr(os, name)))
    files_module.observe_fsyncs(lambda fd: step())
    log.truncate_to(cut)
    os._exit(0)


def run_killed(directory: Path, cut: int, kill_at: int) -> bool:
    """Whether the truncation was killed (False: it finished before its `kill_at`-th step)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            truncate_until_killed(directory, cut, kill_at)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) or os.WEXITSTATUS(status) == 0, "the child failed"
    return os.WIFSIGNALED(status)


@pytest.mark.parametrize("cut", [3, 14])
def test_a_truncation_killed_at_any_step_recovers_to_a_prefix(
    tmp_path: Path, leader: PartitionLog, open_logs: list[PartitionLog], cut: int
) -> None:
    """kill -9 before each file change of a truncation (segments deleted, one cut, indexes,
    snapshots, the epoch checkpoint), then an unclean start with the recovery point of
    before (the manager's checkpoint not yet written): the log is a prefix of the old one,
    nothing reported lost, and replication from the leader makes it the leader's again.
    Cut 3 deletes whole segments; 14 cuts one inside a batch of an open transaction."""
    records = read_all(leader, 0)
    kill_at = 0
    killed = True
    while killed:
        kill_at += 1
        directory = tmp_path / f"k{kill_at}" / "t-0"
        follower = open_log(directory, open_logs, leader_epoch=None)
        replicate(leader, follower)
        follower.close()
        killed = run_killed(directory, cut, kill_at)
        again = open_log(
            directory, open_logs, recovery_point=23, clean_shutdown=False, leader_epoch=None
        )
        assert not [s.damages for s in again.segments if s.damages], f"killed at {kill_at}"
        end = again.log_end_offset
        assert end in {0, 3, 6, 9, 10, 13, 16, 17, 20, 23}, f"killed at {kill_at}"
        assert read_all(again, 0) == [(o, v) for o, v in records if o < end]
        assert again.epochs.entries() == [e for e in [(0, 0), (2, 10)] if e[1] < end]
        if not killed:
            assert end == (13 if cut == 14 else cut)
        again.truncate_to(min(end, cut))
        replicate(leader, again)
        assert segment_bytes(again) == segment_bytes(leader), f"killed at {kill_at}"
        assert again.transactions.aborted == leader.transactions.aborted
    assert kill_at > 5, "the truncation changed files in several steps"


def test_the_replicated_high_watermark_waits_for_the_flush_policy(
    tmp_path: Path, leader: PartitionLog, open_logs: list[PartitionLog]
) -> None:
    """With flush.messages=1 nothing is visible before its fsync, replicated or not: the
    HW the leader allows is reached once a flush covers it, and a flush from before a
    truncation moves neither the recovery point nor the HW."""
    config = LogConfig(segment_bytes=SMALL.segment_bytes, flush_messages=1)
    follower = PartitionLog(tmp_path / "f" / "t-0", "t", 0, config, now_ms=NOW, leader_epoch=None)
    open_logs.append(follower)
    follower.set_high_watermark(0)
    replicate(leader, follower)
    follower.set_high_watermark(10)
    assert follower.high_watermark == 0
    job = follower.flush_job()
    assert job is not None
    job.run()
    follower.flushed(job, NOW)
    assert (follower.recovery_point, follower.high_watermark) == (23, 10)
    follower.set_high_watermark(23)
    assert follower.high_watermark == 23
    follower.truncate_to(17)
    replicate(leader, follower)
    stale = follower.flush_job()
    assert stale is not None
    follower.truncate_to(20)
    stale.run()
    follower.flushed(stale, NOW)
    assert (follower.recovery_point, follower.high_watermark) == (17, 17)


def test_a_follower_behind_the_leaders_log_start_starts_again_there(
    tmp_path: Path, leader: PartitionLog, open_logs: list[PartitionLog]
) -> None:
    """Kafka's truncateFullyAndStartAt: nothing of the old log is left (segments, producer
    state, epochs, an open transaction), and the leader's batches from there append."""
    follower = open_log(tmp_path / "follower" / "t-0", open_logs)
    follower.set_high_watermark(0)
    replicate(leader, follower, max_bytes=1)  # one batch at a time
    follower.truncate_to(16)
    assert follower.transactions.first_unstable_offset() == 13
    follower.truncate_fully_and_start_at(17)
    assert (follower.log_start_offset, follower.log_end_offset) == (17, 17)
    assert follower.high_watermark == 17
    assert follower.epochs.latest() is None
    assert follower.transactions.first_unstable_offset() is None
    assert files(follower.directory, ".log") == ["00000000000000000017.log"]
    replicate(leader, follower)
    assert follower.epochs.entries() == [(2, 17)]
    assert follower.log_end_offset == 23
    follower.close()
    again = open_log(follower.directory, open_logs, log_start_offset=17, leader_epoch=None)
    assert (again.log_start_offset, again.log_end_offset) == (17, 23)
