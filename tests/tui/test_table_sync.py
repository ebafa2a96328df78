"""sync_table on a bare DataTable: rows, order and the cursor's row after a change.

A filter over 1,000 topics removes hundreds of rows at once; past REMOVED_ONE_BY_ONE the table
is refilled (DataTable.remove_row renumbers every row, seconds a key), and what it shows must
be the same as removing them one by one: the wanted rows in order, the cursor on its row.
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tui.widgets.table_sync import REMOVED_ONE_BY_ONE, cursor_key, sync_table


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable[str](cursor_type="row")


def rows(keys: list[int]) -> list[tuple[str, tuple[str, str]]]:
    return [(f"k{i:03d}", (f"k{i:03d}", str(i))) for i in keys]


@pytest.mark.parametrize("removed", [REMOVED_ONE_BY_ONE, REMOVED_ONE_BY_ONE + 1, 150])
async def test_removing_rows_keeps_the_rest_in_order_and_the_cursor_on_its_row(
    removed: int,
) -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table: DataTable[str] = app.query_one(DataTable)
        table.add_columns("name", "value")
        sync_table(table, rows(list(range(200))))
        table.move_cursor(row=180)
        await pilot.pause()
        kept = sorted(set(range(removed, 200)) | {180})
        sync_table(table, rows(list(reversed(kept))))
        assert [row.key.value for row in table.ordered_rows] == [
            f"k{i:03d}" for i in reversed(kept)
        ]
        assert table.get_row("k180") == ["k180", "180"]
        assert cursor_key(table) == "k180"


async def test_columns_fit_their_widest_cell_when_sync_returns() -> None:
    """A value widens in a row that is neither first nor last, the widest narrows, then a
    wider row arrives: the column follows each time, already when sync_table returns, and
    DataTable's own measure agrees once idle. Mutation checks: without _fit_columns for the
    cells written, the column stays narrow; with update_width on every cell written,
    DataTable is left one column scan per cell (300 here, a million a second over 1,000 busy
    topics); with new rows' widths left to DataTable's idle, the new width is not there
    when sync_table returns (a row drawn before the idle stayed cut: test_terminal's
    `e2e-orde`)."""
    app = TableApp()
    async with app.run_test() as pilot:
        table: DataTable[str] = app.query_one(DataTable)
        table.add_columns("name", "value")
        sync_table(table, rows(list(range(300))))
        value = table.ordered_columns[1]
        assert value.content_width == len("value")

        def valued(wide: dict[int, str]) -> list[tuple[str, tuple[str, str]]]:
            return [
                (key, (name, wide.get(i, "n")))
                for i, (key, (name, _)) in enumerate(rows(list(range(300))))
            ]

        sync_table(table, valued({150: "x" * 12}))
        assert len(table._updated_cells) <= 1  # DataTable's own measuring: one cell
        assert value.content_width == 12
        sync_table(table, valued({150: "x" * 7, 200: "y" * 9}))
        assert value.content_width == 9
        await pilot.pause()
        assert value.content_width == 9
        sync_table(table, [*valued({150: "x" * 7, 200: "y" * 9}), ("k999", ("k999", "z" * 15))])
        assert value.content_width == 15
        await pilot.pause()
        assert value.content_width == 15
