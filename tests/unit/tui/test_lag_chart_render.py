"""The lag chart draws through plotext, whose legend code can raise (IndexError once in CI,
on a group's detail screen): the chart then says so instead of ending the app."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from tui.widgets.lag_chart import LagChart


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
