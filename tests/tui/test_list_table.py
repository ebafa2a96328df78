"""ListTable on its own: rows by key, the cursor that follows its key, what is drawn, the
keys and the mouse.

The Topics pane hands it 1,000 rows a key and a snapshot a second; what makes that cheap is
that only the lines on screen are drawn, and only those whose cells or look changed. Those
are checked here by counting the rows drawn, beside what the table shows.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.pilot import Pilot
from textual.strip import Strip
from workbench_pilot import wait_until

from tui.widgets.list_table import ListTable, Row

pytestmark = pytest.mark.timeout(60)
SIZE = (60, 12)
"""A header line and 11 rows in view."""


class CountingTable(ListTable):
    """Counts the lines it draws from cells (the header's too), to show what a change
    costs."""

    BINDINGS = [Binding("enter", "select_cursor", "Select")]

    def __init__(self) -> None:
        super().__init__(id="list")
        self.drawn = 0

    def _line(self, cells: Sequence[Text], style: Style, cursor: Style | None) -> Strip:
        self.drawn += 1
        return super()._line(cells, style, cursor)


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str] = []
        self.headers: list[str] = []

    def compose(self) -> ComposeResult:
        yield CountingTable()

    def on_mount(self) -> None:
        table = self.query_one(CountingTable)
        table.add_column("name", key="name")
        table.add_column(Text("value", justify="right"), key="value")
        table.focus()

    def on_list_table_row_selected(self, event: ListTable.RowSelected) -> None:
        self.selected.append(event.key)

    def on_list_table_header_selected(self, event: ListTable.HeaderSelected) -> None:
        self.headers.append(event.column)


def rows(numbers: Sequence[int], wide: int | None = None) -> list[Row]:
    """Rows k0000.. with their number as the value; row `wide` has a long name."""
    return [
        (
            f"k{i:04d}",
            (Text(f"k{i:04d}" + "-long-name" * (i == wide)), Text(str(i), justify="right")),
        )
        for i in numbers
    ]


def screen_lines(app: App[None]) -> list[str]:
    """The table's lines as text, as it draws them (trailing blanks dropped)."""
    table = app.query_one(CountingTable)
    return [table.render_line(y).text.rstrip() for y in range(table.size.height)]


async def started(pilot: Pilot[None], count: int) -> CountingTable:
    table = pilot.app.query_one(CountingTable)
    table.show(rows(range(count)))
    await wait_until(pilot, lambda: table.drawn > 0, "the first frame")
    return table


async def test_a_frame_draws_the_rows_in_view_only() -> None:
    """10,000 rows: new cells are drawn for the 11 rows in view only; a frame with nothing
    changed draws only the header again, as does the same set of rows handed again, and a
    cursor move draws its two rows. Mutation checks: with the whole table drawn, or without
    the lines kept, the counts go up."""
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = await started(pilot, 10_000)
        await pilot.pause()
        table.drawn = 0
        table.refresh()
        await pilot.pause()
        assert table.drawn == 1, "a frame again: the header, every row as drawn before"
        table.drawn = 0
        table.show(rows(range(10_000)))  # the same rows, each with new cells
        await pilot.pause()
        assert table.drawn == 1 + 11
        table.drawn = 0
        await pilot.press("down")
        await wait_until(pilot, lambda: table.cursor_row == 1, "the cursor one down")
        await pilot.pause()
        assert table.drawn == 2, "the row left and the row reached"
        same = table.keys
        table.drawn = 0
        table.show([(key, table.row(key) or ()) for key in same])
        await pilot.pause()
        assert table.drawn == 1, "the header"


async def test_the_cursor_follows_its_row_and_stays_in_view() -> None:
    """A new order keeps the cursor on its key and scrolls to it; a row that goes leaves the
    cursor on the same line; a narrower set keeps it within the rows."""
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = await started(pilot, 1_000)
        assert table.select("k0500")
        assert not table.select("missing")
        await pilot.pause()
        assert "k0500" in "\n".join(screen_lines(app))
        table.show(rows(range(999, -1, -1)))  # reversed: k0500 is now line 499
        assert (table.cursor_key, table.cursor_row) == ("k0500", 499)
        await pilot.pause()
        top = round(table.scroll_y)
        assert top <= 499 < top + 11, "the cursor's row in view"
        table.show(rows([i for i in range(999, -1, -1) if i != 500]))
        assert (table.cursor_key, table.cursor_row) == ("k0499", 499)
        table.show(rows(range(10)))
        assert (table.cursor_key, table.cursor_row) == ("k0009", 9)
        table.show([])
        assert (table.cursor_key, table.row_count) == (None, 0)


async def test_columns_fit_the_widest_cell_and_narrow_again() -> None:
    """A name column as wide as its widest name, numbers right-justified under their
    label; when the long name goes, the column narrows."""
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = await started(pilot, 3)
        table.show(rows(range(3), wide=1))
        await pilot.pause()
        lines = screen_lines(app)
        assert lines[0] == " name" + " " * 13 + "value"
        assert lines[1] == " k0000" + " " * 16 + "0"
        assert lines[2] == " k0001-long-name" + " " * 6 + "1"
        table.show(rows(range(3)))
        await pilot.pause()
        assert screen_lines(app)[:2] == [" name   value", " k0000" + " " * 6 + "0"]
        assert table.columns["name"].width == len("k0000")


async def test_keys_move_the_cursor_and_enter_selects() -> None:
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = await started(pilot, 100)
        moves = [
            ("pagedown", 11),
            ("j", 12),
            ("k", 11),
            ("G", 99),
            ("down", 99),
            ("pageup", 88),
            ("g", 0),
            ("up", 0),
            ("end", 99),
            ("home", 0),
        ]
        for key, row in moves:
            await pilot.press(key)
            await wait_until(pilot, lambda row=row: table.cursor_row == row, f"{key}: {row}")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.selected == ["k0000"], "enter selects the row")


async def test_clicks_sort_by_a_header_move_the_cursor_and_select() -> None:
    """A click on a label names its column; on another row it moves the cursor there;
    on the cursor's row it selects it (as DataTable does)."""
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = await started(pilot, 20)
        await pilot.click(CountingTable, offset=(12, 0))  # " name  " is 7 wide: value's
        await wait_until(pilot, lambda: app.headers == ["value"], "the value header")
        await pilot.click(CountingTable, offset=(2, 0))
        await wait_until(pilot, lambda: app.headers == ["value", "name"], "the name header")
        await pilot.click(CountingTable, offset=(2, 3))
        await wait_until(pilot, lambda: table.cursor_key == "k0002", "the third row")
        assert app.selected == []
        await pilot.click(CountingTable, offset=(2, 3))
        await wait_until(pilot, lambda: app.selected == ["k0002"], "the row selected")
