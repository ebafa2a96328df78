"""The generator charts' plot as cells: what a line of values turns into, without an app."""

from __future__ import annotations

from tui.widgets.generator_plot import QUADRANTS, axis_ticks, column_values, compact, draw


def glyphs(cells: list[list[tuple[int, int]]]) -> list[str]:
    return ["".join(QUADRANTS[bits] for bits, _ in row) for row in cells]


def test_points_spread_or_keep_their_peaks() -> None:
    assert column_values([0, 10], 3) == [0, 5, 10]
    assert column_values([1, 9, 2, 3], 2) == [9, 3]  # the peak of each column survives
    assert column_values([4], 3) == [4, 4, 4]
    assert column_values([], 3) == []


def test_a_line_is_joined_up_and_starts_at_zero() -> None:
    assert glyphs(draw([[0, 0, 0, 0]], 10, 2, 2)) == ["  ", "▄▄"]  # 0 on the bottom pixels
    assert glyphs(draw([[10, 10, 10, 10]], 10, 2, 2)) == ["▀▀", "  "]  # the top on the top
    assert glyphs(draw([[0, 0, 10, 10]], 10, 2, 2)) == [" ▛", "▄▘"]  # the step is joined
    rising = draw([[0, 10]], 10, 1, 2)
    assert [bits for row in rising for bits, _ in row] == [0b1010, 0b0110]  # no gap


def test_later_series_own_the_cells_they_share() -> None:
    cells = draw([[1, 1], [1, 1]], 1, 1, 1)
    assert cells == [[(0b0011, 1)]]


def test_round_ticks_from_zero() -> None:
    assert axis_ticks(961, 2) == [0, 1000, 2000]
    assert axis_ticks(0.18, 4) == [0, 0.05, 0.1, 0.15000000000000002, 0.2]
    assert axis_ticks(0, 2) == [0, 0.5, 1]
    assert [compact(t) for t in (0, 0.25, 7.5, 150, 2000, 12500, 1_500_000)] == [
        "0", "0.25", "7.5", "150", "2k", "12.5k", "1.5M",
    ]  # fmt: skip
