"""A real divergence between two PartitionLogs, resolved by the leader's DivergingEpoch and
the follower's truncation point, until the follower holds the leader's bytes.

The scenario is Kafka's: a leader wrote a tail nobody replicated, lost its leadership, and
comes back as a follower of a leader that wrote other records in a newer epoch. Each round
is what a Fetch does: the leader checks the follower's last fetched epoch against its own
epochs (`diverging_epoch`), the follower truncates where `truncation_point` says, or
appends what the leader reads out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localbroker.cluster.replication.truncation import (
    UNDEFINED_EPOCH,
    diverging_epoch,
    truncation_point,
)
from localbroker.log.log_config import LogConfig
from localbroker.log.partition import PartitionLog
from localbroker.records.batch import read_header
from localbroker.records.builder import NewRecord, build_batch

NOW = 1_700_000_000_000


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[tuple[PartitionLog, PartitionLog]]:
    config = LogConfig(segment_bytes=400)
    leader = PartitionLog(tmp_path / "leader" / "t-0", "t", 0, config, now_ms=NOW)
    follower = PartitionLog(tmp_path / "follower" / "t-0", "t", 0, config, now_ms=NOW)
    try:
        yield leader, follower
    finally:
        leader.close()
        follower.close()


def write(partition_log: PartitionLog, epoch: int, name: str) -> None:
    batch = build_batch(
        [NewRecord(f"{name} {i}".encode(), timestamp=NOW) for i in range(3)], now_ms=NOW
    )
    partition_log.append(read_header(batch), batch, NOW, leader_epoch=epoch)


def replicate(source: PartitionLog, target: PartitionLog) -> None:
    target.append_as_follower(source.read(target.log_end_offset, 1 << 20), NOW)


def fetch_once(leader: PartitionLog, follower: PartitionLog) -> bool:
    """One Fetch round: whether the follower truncated (and appended nothing)."""
    latest = follower.epochs.latest()
    diverging = diverging_epoch(
        UNDEFINED_EPOCH if latest is None else latest[0],
        follower.log_end_offset,
        end_offset_for=leader.epochs.end_offset_for,
        log_start_offset=leader.log_start_offset,
        log_end_offset=leader.log_end_offset,
        partition=leader.name,
    )
    if diverging is not None:
        point = truncation_point(
            *diverging,
            end_offset_for=follower.epochs.end_offset_for,
            log_end_offset=follower.log_end_offset,
            fetch_offset=follower.high_watermark,
        )
        follower.truncate_to(point.offset)
        return True
    if follower.log_end_offset < leader.log_end_offset:
        replicate(leader, follower)
    return False


def segment_bytes(partition_log: PartitionLog) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(partition_log.directory.glob("*.log")))


@pytest.mark.parametrize(
    ("old_epochs", "new_epochs", "truncations"),
    [
        # the old leader's tail is in epoch 0; the new leader wrote in epoch 1
        ((0,), (1, 1), 1),
        # the old leader's tail reaches into epoch 2, which the new leader never saw (it
        # led epochs 1 and 3): cut to the end of epoch 0 here, then where 0 ends there
        ((0, 2, 2), (1, 3), 2),
    ],
)
def test_the_old_leaders_tail_is_cut_and_the_new_leaders_records_fetched(
    logs: tuple[PartitionLog, PartitionLog],
    old_epochs: tuple[int, ...],
    new_epochs: tuple[int, ...],
    truncations: int,
) -> None:
    """The old leader (the follower here) wrote two batches in epoch 0 that the new leader
    replicated, then `old_epochs` batches nobody replicated; the new leader wrote
    `new_epochs` batches after taking over."""
    new_leader, old_leader = logs
    write(old_leader, 0, "a")
    write(old_leader, 0, "b")
    replicate(old_leader, new_leader)
    for epoch in old_epochs:
        write(old_leader, epoch, f"lost in {epoch}")
    for epoch in new_epochs:
        write(new_leader, epoch, f"new in {epoch}")
    rounds = [fetch_once(new_leader, old_leader) for _ in range(truncations + 2)]
    assert rounds == [True] * truncations + [False, False]
    assert old_leader.log_end_offset == new_leader.log_end_offset
    assert segment_bytes(old_leader) == segment_bytes(new_leader)
