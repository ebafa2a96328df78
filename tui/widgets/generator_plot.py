"""A line plot drawn straight into strips: quadrant blocks, a y axis from 0, seconds ago below.

The generators' charts are redrawn every second while the generators share the event loop
with the UI, so drawing must cost next to nothing: plotext builds an ANSI string that Rich
parses back (about 20 ms a chart at 160x48, a tenth of a CPU-second for three), where this
computes the cells directly (well under a millisecond) through Textual's line API. Each cell
holds 2x2 pixels (▘▝▖▗ ... █); consecutive points are joined so a line never breaks, and more
points than pixel columns are reduced to each column's maximum, so a latency spike survives.
Colours are theme variables, read when the lines are built.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

QUADRANTS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"
"""A cell's glyph by its pixels: 1 top left, 2 top right, 4 bottom left, 8 bottom right."""
Cell = tuple[int, int]
"""A cell's pixel bits and the index of the series drawn last in it (-1: none)."""


def compact(value: float) -> str:
    """An axis label in a few characters: 0, 0.25, 7.5, 150, 2k, 12.5k, 1.5M."""
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.4g}{suffix}"
    return f"{value:.3g}"


def axis_ticks(highest: float, parts: int) -> list[float]:
    """`parts` + 1 round ticks from 0 to a little above the highest value (0 to 1 when all
    are 0): steps of 1, 2, 2.5 or 5 times a power of ten, so labels stay short."""
    if highest <= 0:
        return [i / parts for i in range(parts + 1)]
    wanted = highest * 1.1 / parts
    magnitude = 10.0 ** math.floor(math.log10(wanted))
    step = next(magnitude * m for m in (1, 2, 2.5, 5, 10) if magnitude * m >= wanted)
    return [step * i for i in range(parts + 1)]


def column_values(values: Sequence[float], columns: int) -> list[float]:
    """One value per pixel column: points spread over the width (linear in between), or,
    with more points than columns, the largest of the points each column covers."""
    count = len(values)
    if count == 0 or columns <= 0:
        return []
    if count == 1 or columns == 1:
        return [values[-1]] * columns
    if count > columns:
        return [
            max(values[column * count // columns : max((column + 1) * count // columns, 1)])
            for column in range(columns)
        ]
    found = []
    for column in range(columns):
        position = column * (count - 1) / (columns - 1)
        index = int(position)
        after = values[min(index + 1, count - 1)]
        found.append(values[index] + (after - values[index]) * (position - index))
    return found


def draw(
    series: Sequence[Sequence[float]], top: float, width: int, height: int
) -> list[list[Cell]]:
    """The plot area, `height` rows of `width` cells, top row first, y from 0 to `top`."""
    cells = [[(0, -1) for _ in range(width)] for _ in range(height)]
    pixel_rows = 2 * height
    for index, values in enumerate(series):
        heights = [
            round(min(max(value / top, 0.0), 1.0) * (pixel_rows - 1)) if top > 0 else 0
            for value in column_values(values, 2 * width)
        ]
        for x, y in enumerate(heights):
            before = heights[x - 1] if x else y
            for pixel_y in range(min(y, before + 1), max(y, before - 1) + 1):  # joined up
                row, lower = divmod(pixel_rows - 1 - pixel_y, 2)
                column, right = divmod(x, 2)
                bits, _ = cells[row][column]
                cells[row][column] = (bits | (1 << (right + 2 * lower)), index)
    return cells


class LinePlot(Widget):
    """Lines in `colours` (theme variables) against seconds ago, one point a second; set
    with `plot`, drawn again only when the points, the size or the theme change."""

    DEFAULT_CSS = "LinePlot { height: 1fr; }"

    def __init__(self, colours: Sequence[str]) -> None:
        super().__init__()
        self.colours = tuple(colours)
        self._series: tuple[Sequence[float], ...] = ()
        self._lines: list[Strip] = []
        self._drawn_for: tuple[object, ...] | None = None
        self._version = 0

    def plot(self, *series: Sequence[float]) -> None:
        """Draw these series, oldest point first, the last one now."""
        self._series = series
        self._version += 1
        self.refresh()

    def render_line(self, y: int) -> Strip:
        key = (self.size, self.app.theme, self._version)
        if key != self._drawn_for:
            self._lines = self._build()
            self._drawn_for = key
        return self._lines[y] if y < len(self._lines) else Strip.blank(self.size.width)

    def _style(self, variable: str) -> Style:
        colour = self.app.theme_variables.get(variable)
        return self.rich_style + Style(color=Color.parse(colour)) if colour else self.rich_style

    def _build(self) -> list[Strip]:
        width, height = self.size
        seconds = max((len(values) for values in self._series), default=0) - 1
        x_labels = height >= 12 and seconds >= 30
        plot_height = height - 1 - int(x_labels)
        parts = 4 if plot_height >= 15 else 2 if plot_height >= 4 else 1
        highest = max((max(values) for values in self._series if values), default=0.0)
        ticks = axis_ticks(highest, parts)
        labels = [compact(tick) for tick in ticks]
        label_width = max(len(label) for label in labels)
        plot_width = width - label_width - 1
        if plot_width < 2 or plot_height < 2:
            return []
        axis = self._style("kwb-muted")
        lines = self._rows(ticks, labels, plot_width, plot_height, axis)
        lines.append(Strip([Segment(" " * label_width + "└" + "─" * plot_width, axis)], width))
        if x_labels:
            text = self._x_labels(seconds, label_width, plot_width)
            lines.append(Strip([Segment(text, axis)], width))
        return lines

    def _rows(
        self, ticks: list[float], labels: list[str], plot_width: int, plot_height: int, axis: Style
    ) -> list[Strip]:
        top = ticks[-1]
        label_width = max(len(label) for label in labels)
        pixel_rows = 2 * plot_height
        tick_rows = {
            (pixel_rows - 1 - round(tick / top * (pixel_rows - 1))) // 2: label
            for tick, label in zip(ticks, labels, strict=True)
        }
        series_styles = [self._style(colour) for colour in self.colours]
        base = self.rich_style
        strips = []
        for row, cells in enumerate(draw(self._series, top, plot_width, plot_height)):
            label = tick_rows.get(row)
            segments = [
                Segment(
                    (label or "").rjust(label_width) + ("┤" if label is not None else "│"), axis
                )
            ]
            for bits, owner in cells:
                style = series_styles[owner] if owner >= 0 else base
                if segments[-1].style is style:
                    segments[-1] = Segment(segments[-1].text + QUADRANTS[bits], style)
                else:
                    segments.append(Segment(QUADRANTS[bits], style))
            strips.append(Strip(segments, label_width + 1 + plot_width))
        return strips

    @staticmethod
    def _x_labels(seconds: int, label_width: int, plot_width: int) -> str:
        """`-60s`, `-30s` … `now` under the columns they stand for."""
        row = [" "] * (label_width + 1 + plot_width)
        for ago in range(0, seconds + 1, 30):
            text = "now" if ago == 0 else f"-{ago}s"
            column = label_width + 1 + round((1 - ago / seconds) * (plot_width - 1))
            start = column - len(text) + 1 if ago == 0 else column - len(text) // 2
            start = min(max(start, 0), len(row) - len(text))
            row[start : start + len(text)] = text
        return "".join(row)
