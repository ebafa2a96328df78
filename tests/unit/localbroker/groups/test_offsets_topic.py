"""`__consumer_offsets` storage: appends replay to the same groups, and compaction keeps
exactly the live state while dropping history."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from kio.schema.errors import ErrorCode

from localbroker.groups.coordinator import GroupConfig, GroupCoordinator
from localbroker.groups.offsets import CommitEntry
from localbroker.groups.storage import CoordinatorTopic, group_records
from localbroker.log.log_config import LogConfig
from localbroker.log.partition import PartitionLog

PARTITIONS = 3
NOW = 1_700_000_000_000


class Harness:
    """A coordinator writing to real partition logs of a 3-partition offsets topic."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.logs = {
            p: PartitionLog(
                directory / f"__consumer_offsets-{p}",
                "__consumer_offsets",
                p,
                LogConfig(cleanup_policy=("compact",)),
                now_ms=NOW,
            )
            for p in range(PARTITIONS)
        }
        self.topic = CoordinatorTopic(lambda: PARTITIONS, self.logs.get, lambda log, upto: None)
        self.coordinator = GroupCoordinator(GroupConfig(), self)

    def write_group_records(self, group_id: str, records: list[tuple[bytes, bytes | None]]) -> None:
        self.topic.append(self.topic.partition_of(group_id), records, NOW)

    def commit(self, group_id: str, offset: int, partition: int = 0) -> None:
        errors = self.coordinator.offsets.commit(
            group_id,
            -1,
            "",
            None,
            [CommitEntry("orders", partition, offset, -1, f"m{offset}")],
            NOW,
            api_version=9,
        )
        assert errors == [ErrorCode.none]

    def replayed(self) -> dict[str, dict[tuple[str, int], int]]:
        fresh = GroupCoordinator(GroupConfig(), self)
        fresh.load(self.topic.replay(), NOW)
        return {
            g: {tp: v.offset for tp, v in group.offsets.items()}
            for g, group in fresh.groups.items()
        }

    def close(self) -> None:
        for partition_log in self.logs.values():
            partition_log.close()


def test_commits_replay_to_the_latest_offsets(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    try:
        for offset in range(50):
            harness.commit("alpha", offset)
            harness.commit("beta", offset * 2, partition=1)
        assert harness.replayed() == {"alpha": {("orders", 0): 49}, "beta": {("orders", 1): 98}}
    finally:
        harness.close()


def test_compaction_keeps_live_state_and_drops_history(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    try:
        for offset in range(300):
            harness.commit("alpha", offset)
            harness.commit("beta", offset, partition=1)
        assert harness.coordinator.delete_group("beta", NOW) == ErrorCode.none
        before = {p: log.size_bytes for p, log in harness.logs.items()}
        compacted = harness.topic.compact(
            partial(group_records, harness.coordinator.groups), 1000, NOW
        )
        assert compacted == sum(1 for size in before.values() if size > 1000)
        after = {p: log.size_bytes for p, log in harness.logs.items()}
        assert all(after[p] < before[p] for p in before if before[p] > 1000)
        assert harness.replayed() == {"alpha": {("orders", 0): 299}}
        alpha = harness.logs[harness.topic.partition_of("alpha")]
        assert alpha.log_start_offset > 0
        assert alpha.log_end_offset - alpha.log_start_offset == 1  # one offset record left
    finally:
        harness.close()


def test_compaction_survives_a_reopen(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    for offset in range(200):
        harness.commit("alpha", offset)
    harness.topic.compact(partial(group_records, harness.coordinator.groups), 100, NOW)
    harness.close()
    reopened = Harness(tmp_path)
    try:
        assert reopened.replayed() == {"alpha": {("orders", 0): 199}}
    finally:
        reopened.close()
