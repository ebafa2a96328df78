"""Lag history: what the Groups pane charts, kept per group and partition. No sockets:
groups are built as plain data. (The pane's own small pieces: tests/unit/tui.)"""

from __future__ import annotations

from tui.kafka.group_lag import PartitionLag
from tui.kafka.lag_history import GroupLag, GroupsSample, LagHistory, LagPoint
from tui.kafka.models import GroupInfo, GroupListing


def group(group_id: str, lags: dict[int, int | None], described: bool = True) -> GroupLag:
    """A group on topic `t` whose partition p has committed offset 100 - lag (None: none)."""
    partitions = tuple(
        PartitionLag(group_id, "t", p, None if lag is None else 100 - lag, 100, None, None)
        for p, lag in lags.items()
    )
    info = GroupInfo(group_id, "Empty", "consumer", "", ()) if described else None
    return GroupLag(GroupListing(group_id, "Empty", "consumer"), info, partitions)


def sample(at: float, *groups: GroupLag) -> GroupsSample:
    return GroupsSample(at, groups)


def lags(points: list[LagPoint]) -> list[int | None]:
    return [p.lag for p in points]


def test_total_lag_counts_only_known_lags() -> None:
    assert group("g", {0: 5, 1: None, 2: 7}).total_lag == 12
    assert group("g", {0: None}).total_lag is None
    assert group("g", {}).total_lag is None


def test_history_keeps_the_last_samples_per_group_and_partition() -> None:
    history = LagHistory(capacity=3)
    for second in range(5):
        history.record(sample(float(second), group("g", {0: second, 1: 10})))
    assert lags(history.group("g")) == [12, 13, 14]
    assert [p.at for p in history.group("g")] == [2.0, 3.0, 4.0]
    assert lags(history.partition("g", "t", 0)) == [2, 3, 4]
    assert list(history.partitions("g")) == [("t", 0), ("t", 1)]


def test_a_group_that_goes_away_is_forgotten_one_that_fails_is_kept() -> None:
    history = LagHistory()
    history.record(sample(0.0, group("a", {0: 1}), group("b", {0: 2})))
    history.record(sample(1.0, group("a", {0: 1}, described=False)))
    assert lags(history.group("a")) == [1], "a failed description adds no point"
    assert history.group("b") == [] and history.partition("b", "t", 0) == []


def test_a_partition_no_longer_reported_is_dropped() -> None:
    history = LagHistory()
    history.record(sample(0.0, group("g", {0: 1, 1: 2})))
    history.record(sample(1.0, group("g", {0: 1})))
    assert list(history.partitions("g")) == [("t", 0)]
