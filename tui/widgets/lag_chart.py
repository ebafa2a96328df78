"""Lag over time as a line chart (plotext), one line per group or partition.

The x axis counts seconds back from the latest sample, so the picture reads the same on any
machine and in any snapshot: "now" is always at the right edge. Lines take the theme's
colours (primary, accent, …), never fixed ones, so the chart follows a theme switch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot

from ..kafka.lag_history import LagPoint

PALETTE = ("primary", "accent", "kwb-key", "success", "warning", "secondary", "kwb-rate", "error")
"""Theme variables the lines cycle through."""
_ROOM_FOR_LABEL = 12
_FRAME_ROWS = 4
"""Rows plotext takes around the plot: title, top border, bottom border, x tick labels."""
"""Rows a chart needs before the x axis gets its "seconds ago" label."""


def nice_ticks(top: float, count: int = 4) -> list[int]:
    """Whole-number ticks from 0 to at least `top` in steps of 1, 2 or 5 times a power of ten
    (lag is a count of records: 91.7 would be noise)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** max(len(str(int(raw))) - 1, 0)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    return list(range(0, int(top) + step, step))


class LagChart(PlotextPlot):
    """Draws `show(series, now)`; series with no known lag yet are left out.

    A negative lag is drawn at 0: Kafka accepts a committed offset past the log end (a
    client may commit any offset) and the two are read by separate requests, so lag can
    be below 0, and there is nothing left to read. The y axis starts at 0, and plotext drops
    points outside its axes: a labelled series with every point dropped made its legend
    code index an empty list (IndexError, the app ended on a group's detail screen).
    """

    DEFAULT_CSS = """
    LagChart { height: 1fr; min-height: 5; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._series: dict[str, list[LagPoint]] = {}
        self._now: float | None = None
        self._title = ""

    def show(self, series: Mapping[str, Sequence[LagPoint]], now: float | None, title: str) -> None:
        self._series = {name: list(points) for name, points in series.items()}
        self._now = now
        self._title = title
        self._draw()

    def render(self) -> RenderResult:
        """plotext's picture, or a line saying it could not be drawn: plotext's legend code
        indexes a series' markers and raised IndexError once in CI (a group's detail screen
        on Apache Kafka, the app ended with a traceback; negative lags did it, no longer
        plotted). A chart is an aid; the screen must stay up and say so."""
        try:
            return super().render()
        except (IndexError, ValueError, ZeroDivisionError) as exc:
            return Text(f"lag chart unavailable: plotext could not draw it ({exc!r})")

    def on_resize(self) -> None:
        self._draw()

    def on_mount(self) -> None:
        super().on_mount()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._draw())
        self._draw()

    def _fitting(self, ticks: list[int], labelled: bool) -> list[int]:
        """`ticks`, or just the bottom and top ones when the plot has too few rows to keep
        every tick on a row of its own (two ticks on one row: plotext picks either)."""
        rows = self.size.height - _FRAME_ROWS - (1 if labelled else 0)
        if rows - 1 >= 2 * (len(ticks) - 1):
            return ticks
        return [ticks[0], ticks[-1]]

    def _colour(self, index: int) -> tuple[int, int, int]:
        variables = self.app.theme_variables
        name = PALETTE[index % len(PALETTE)]
        return Color.parse(variables.get(name) or variables["primary"]).rgb

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        plt = self.plt
        plt.clear_figure()
        plt.title(self._title)
        labelled = self.size.height >= _ROOM_FOR_LABEL
        if labelled:
            plt.xlabel("seconds ago")
        now = self._now
        top = 0
        drawn = 0
        for index, (name, points) in enumerate(self._series.items()):
            known = [p for p in points if p.lag is not None]
            if not known or now is None:
                continue
            xs = [round(p.at - now, 1) for p in known]
            ys = [max(p.lag or 0, 0) for p in known]
            top = max(top, *ys)
            label = name if len(self._series) > 1 else None
            plt.plot(xs, ys, marker="hd", color=self._colour(index), label=label)
            drawn += 1
        if drawn:
            ticks = self._fitting(nice_ticks(top), labelled)
            plt.ylim(0, ticks[-1])
            plt.yticks(ticks, [f"{t:,}" for t in ticks])
            oldest = min(
                (p.at for points in self._series.values() for p in points), default=now or 0.0
            )
            span = max(int((now or 0.0) - oldest), 1)
            xticks = [-t for t in reversed(nice_ticks(span))]
            plt.xticks(xticks, [str(t) for t in xticks])
        self.refresh()
