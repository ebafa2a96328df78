"""Lag trends as one line of block characters, small enough for a table cell.

Textual's Sparkline is a widget and cannot sit in a DataTable cell; the Groups pane wants a
trend on every row, so this draws the same idea as text. Each value is scaled to the largest
in view, so the shape (growing, draining, flat) reads at a glance whatever the magnitude.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..kafka.lag_history import LagPoint

_BLOCKS = "▁▂▃▄▅▆▇█"
_UNKNOWN = " "


def sparkline(values: Sequence[int | None], width: int) -> str:
    """The last `width` values, right-aligned: a zero sits on the baseline (▁), the largest
    value is a full block (█), an unknown value (no committed offset yet) is blank."""
    if width <= 0:
        return ""
    tail = list(values)[-width:]
    top = max((v for v in tail if v is not None), default=0)
    chars = []
    for value in tail:
        if value is None:
            chars.append(_UNKNOWN)
        elif top <= 0 or value <= 0:
            chars.append(_BLOCKS[0])
        else:
            chars.append(_BLOCKS[max(1, round(value / top * (len(_BLOCKS) - 1)))])
    return "".join(chars).rjust(width)


def lag_sparkline(points: Sequence[LagPoint], width: int) -> str:
    return sparkline([p.lag for p in points], width)


def room_for_trend(
    table_width: int, other_columns: Sequence[int], cell_padding: int, least: int, most: int
) -> int:
    """The width a trend column can take in a table `table_width` wide once the other
    columns (their content widths) have theirs, between `least` and `most`."""
    used = sum(other_columns) + 2 * cell_padding * (len(other_columns) + 1)
    return max(least, min(most, table_width - used))
