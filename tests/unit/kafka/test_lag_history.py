"""Lag history and the small pure pieces of the Groups pane: sparklines, chart ticks, and
reading the reset dialog's values. No sockets: groups are built as plain data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tui.kafka.group_lag import PartitionLag
from tui.kafka.lag_history import GroupLag, GroupsSample, LagHistory, LagPoint
from tui.kafka.models import GroupInfo, GroupListing
from tui.kafka.offset_reset import ByDuration, ShiftBy, ToEarliest, ToOffset, ToTimestamp
from tui.screens.delete_records import HIGH_WATERMARK, parse_delete_offset
from tui.screens.reset_offsets import parse_when, reset_target
from tui.widgets.lag_chart import nice_ticks
from tui.widgets.lag_sparkline import sparkline


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


def test_sparkline_scales_to_the_largest_value_and_right_aligns() -> None:
    assert sparkline([0, 4, 8], 5) == "  ▁▅█"
    assert sparkline([None, 0, 0], 3) == " ▁▁"
    assert sparkline(list(range(20)), 4) == "▇▇██", "the last 4 of 0..19, scaled to 19"
    assert sparkline([1, 2], 0) == ""


def test_chart_ticks_are_whole_numbers() -> None:
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(2547) == [0, 1000, 2000, 3000]


@pytest.mark.parametrize(
    ("strategy", "value", "target"),
    [
        ("earliest", "ignored", ToEarliest()),
        ("offset", "1,000", ToOffset(1000)),
        ("shift", "-100", ShiftBy(-100)),
        ("timestamp", "15m", ByDuration(timedelta(minutes=15))),
        ("timestamp", "1700000000000", ToTimestamp(1_700_000_000_000)),
        ("timestamp", "2023-11-14T22:13:20", ToTimestamp(1_700_000_000_000)),
        ("timestamp", "2023-11-14T23:13:20+01:00", ToTimestamp(1_700_000_000_000)),
    ],
)
def test_reset_targets_from_the_form(strategy: str, value: str, target: object) -> None:
    assert reset_target(strategy, value) == target


@pytest.mark.parametrize(
    ("strategy", "value", "message"),
    [
        ("offset", "", "an offset is needed"),
        ("offset", "-1", "an offset is 0 or more"),
        ("shift", "x", "a whole number"),
        ("timestamp", "yesterday", "not a time"),
    ],
)
def test_bad_values_are_explained(strategy: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        reset_target(strategy, value)


def test_delete_records_offsets() -> None:
    assert parse_delete_offset("1,200") == 1200
    assert parse_delete_offset("") == HIGH_WATERMARK
    assert parse_delete_offset("all") == HIGH_WATERMARK
    with pytest.raises(ValueError, match="whole number"):
        parse_delete_offset("-5")
    assert parse_when(" 2h ago ") == ByDuration(timedelta(hours=2))
