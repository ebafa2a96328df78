"""The lag chart draws through plotext, whose legend code can raise (IndexError once in CI,
on a group's detail screen): the chart then says so instead of ending the app, and the
inputs found to make plotext raise are not given to it."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from tui.kafka.lag_history import LagPoint
from tui.widgets.lag_chart import LagChart

UNAVAILABLE = "lag chart unavailable"


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LagChart(id="chart")


async def test_a_plot_plotext_cannot_draw_is_a_line_not_a_traceback() -> None:
    """A labelled series without points makes plotext's legend index an empty marker list
    (the IndexError of the CI failure); without the guard in render() this raises."""
    app = ChartApp()
    async with app.run_test(size=(60, 20)) as pilot:
        chart = app.query_one(LagChart)
        chart.plt.clear_figure()
        chart.plt.plot([], [], marker="hd", label="P0")
        chart.plt.plot([-2.0, 0.0], [1, 2], marker="hd", label="P1")
        shown = chart.render()
        assert isinstance(shown, Text)
        assert shown.plain.startswith("lag chart unavailable: plotext could not draw it (Index")
        await pilot.pause()


NEGATIVE = [LagPoint(98.0, -3), LagPoint(99.0, -1), LagPoint(100.0, -2)]
CATCHING_UP = [LagPoint(98.0, 40), LagPoint(99.0, 25), LagPoint(100.0, 7)]


@pytest.mark.parametrize("size", [(60, 20), (120, 40)])
@pytest.mark.parametrize(
    "series",
    [
        {"orders-0": NEGATIVE, "orders-1": CATCHING_UP},
        {"orders-0": CATCHING_UP, "orders-1": NEGATIVE[:1]},
        {"orders-0": NEGATIVE, "orders-1": NEGATIVE},
    ],
    ids=["one-series-below-0", "one-point-below-0", "all-below-0"],
)
async def test_negative_lag_is_drawn_at_zero(
    size: tuple[int, int], series: dict[str, list[LagPoint]]
) -> None:
    """A committed offset past the log end makes lag negative (Kafka accepts any committed
    offset). A labelled series whose points all fall below the axis made plotext raise
    wherever the legend fits and the points do not round onto the axis (found by drawing
    6,000 random series, sizes, names and values: nothing else did); the chart draws them
    at 0 instead."""
    app = ChartApp()
    async with app.run_test(size=size) as pilot:
        chart = app.query_one(LagChart)
        chart.show(series, 100.0, "lag per partition")
        shown = chart.render()
        assert isinstance(shown, Text)
        assert not shown.plain.startswith(UNAVAILABLE), shown.plain
        await pilot.pause()
