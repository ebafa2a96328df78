"""The small pure pieces of the Groups pane and its dialogs: sparklines, chart ticks, and
reading the values typed into the reset-offsets and delete-records dialogs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tui.kafka.offset_reset import ByDuration, ShiftBy, ToEarliest, ToOffset, ToTimestamp
from tui.screens.delete_records import HIGH_WATERMARK, parse_delete_offset
from tui.screens.reset_offsets import parse_when, reset_target
from tui.widgets.lag_chart import nice_ticks
from tui.widgets.lag_sparkline import sparkline


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
