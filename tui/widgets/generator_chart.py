"""A live chart of a generator: one or two series over its last windows (one a second).

The y axis starts at 0, so a room reads the values off it ("2k records/s") and a steady rate
looks steady, where a sparkline scaled from its minimum would make noise look like a storm.
Above the plot, one line names each series in its colour with its latest value, in bold: the
number a demo talks about. The plot itself is generator_plot.LinePlot.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from .generator_plot import LinePlot

Series = tuple[str, str]
"""A series' label and the theme variable its line is drawn in."""


def reading(value: float) -> str:
    """A latest value as a person reads it out: 12,345 · 45.6 · 0.19 · 7 (whole numbers)."""
    if isinstance(value, int) or value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


class GeneratorChart(Vertical):
    """A titled chart of `series`; `show_values` gives their points, oldest first."""

    DEFAULT_CSS = """
    GeneratorChart { width: 1fr; height: 1fr; padding-right: 1; }
    GeneratorChart .chart-legend { height: 1; padding: 0 1; }
    """

    def __init__(
        self, title: str, series: Sequence[Series], unit: str = "", *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._title = title
        self._unit = unit
        self._series = tuple(series)
        self._values: tuple[Sequence[float], ...] = tuple(() for _ in self._series)
        self._plot = LinePlot([variable for _label, variable in self._series])

    def compose(self) -> ComposeResult:
        yield Static(classes="chart-legend")
        yield self._plot

    def on_mount(self) -> None:
        self._show_legend()

    def show_values(self, *values: Sequence[float]) -> None:
        self._values = values
        self._plot.plot(*values)
        self._show_legend()

    def clear_values(self) -> None:
        self.show_values(*(() for _ in self._series))

    def _show_legend(self) -> None:
        legend = Text.assemble((self._title, "bold"))
        labelled = len(self._series) > 1
        for (label, variable), values in zip(self._series, self._values, strict=True):
            style = f"bold {self.app.theme_variables.get(variable, '')}"
            legend.append("  ")
            if labelled:
                legend.append(f"━ {label} ", style)
            legend.append(reading(values[-1]) + self._unit if values else "-", style)
        self.query_one(".chart-legend", Static).update(legend, layout=False)
