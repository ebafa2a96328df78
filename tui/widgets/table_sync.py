"""Bring a DataTable in line with the rows it should show, touching only what changed.

Panes refresh every second; clearing and refilling a table each time would lose the cursor,
the scroll position and the user's place. `sync_table` removes rows that went away, adds the
new ones, updates only the cells whose value changed, reorders rows in place when the order
changed, and keeps the cursor on the same row (by key) wherever that row moved.

DataTable widens a column when a wider cell arrives but never narrows it when the widest row
goes away (a filter, a deleted topic, a rate falling back to 0); columns would creep wider
until the table scrolls sideways. `sync_table` narrows them again to what the rows need.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual.render import measure
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey


def cursor_key(table: DataTable[CellType]) -> str | None:
    """The key of the row under the cursor (None for an empty table)."""
    if table.row_count == 0:
        return None
    row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    return row_key.value


def cell_width(console: Console, cell: object) -> int:
    """The width DataTable gives `cell` (strings are read as markup, as DataTable does).

    A Text is as wide as its widest line, as Rich measures it, but without building the
    console's options for each cell: that took most of the time when a snapshot changed a
    column of 1,000 rows (the Topics pane's, before it moved to ListTable)."""
    text = Text.from_markup(cell) if isinstance(cell, str) else cell
    if isinstance(text, Text):
        return max((cell_len(line) for line in text.plain.splitlines()), default=0)
    return measure(console, str(cell), 1)


def same_cell(old: object, new: object) -> bool:
    """Whether `new` would draw as `old` does. Rich's Text equality ignores the base style
    and justification: a cell first drawn before the theme applied (or in the colour of an
    earlier state) kept that colour. A pane that hands the same cell object again is
    answered at once."""
    if old is new:
        return True
    if isinstance(old, Text) and isinstance(new, Text):
        return old == new and old.style == new.style and old.justify == new.justify
    return old == new


REMOVED_ONE_BY_ONE = 50
"""Above this many rows to remove, the table is refilled instead: DataTable.remove_row renumbers
every other row, so a filter typed over 1,000 topics (900 rows going) took seconds a key when
the Topics pane used this; the Brokers pane's partition table holds 10,000 rows still."""


def sync_table(table: DataTable[CellType], rows: Sequence[tuple[str, Sequence[CellType]]]) -> int:
    """Make `table` show `rows` (key, cells), in that order; returns the cells written."""
    keep = cursor_key(table)
    wanted = dict(rows)
    columns: list[ColumnKey] = [column.key for column in table.ordered_columns]
    written = 0
    touched: set[ColumnKey] = set()
    added = False
    stale = [row.key for row in table.ordered_rows if row.key.value not in wanted]
    removed = bool(stale)
    if len(stale) > REMOVED_ONE_BY_ONE:
        table.clear()  # the rows still wanted come back below, in order
    else:
        for gone in stale:
            table.remove_row(gone)
    for key, cells in rows:
        if key in table.rows:
            for column_key, old, new in zip(columns, table.get_row(key), cells, strict=True):
                if not same_cell(old, new):
                    table.update_cell(key, column_key, new)  # widths: _fit_columns
                    touched.add(column_key)
                    written += 1
        else:
            table.add_row(*cells, key=key)
            added = True
            written += len(cells)
    order = [key for key, _ in rows]
    if [row.key.value for row in table.ordered_rows] != order:
        _reorder(table, order, columns[0])
    _fit_columns(table, columns if removed or added else [c for c in columns if c in touched])
    if keep is not None and keep in wanted:
        index = table.get_row_index(keep)
        if index != table.cursor_row:
            table.move_cursor(row=index)
    return written


def _fit_columns(table: DataTable[CellType], columns: Sequence[ColumnKey]) -> None:
    """Make each of `columns` as wide as its label and widest cell need, now, measuring it
    once.

    DataTable's own ways cost more or came late:
    - a cell written with `update_width` and narrower than its column makes DataTable
      measure the whole column again: a snapshot changing 100 of 1,000 topics' rates
      measured 2.2 million cells (1.8-2.0 s of the UI loop, in the Topics pane of then);
    - it measures new rows when next idle, but keeps each row's drawn lines until a cell of
      that row changes: a row drawn before that stayed cut to the old width (test_terminal's
      new topic, `e2e-orde`, for 15 s).
    When a width changed, every row is drawn again (`notify_style_update`), and the widest
    cell is written back with `update_width`, so that DataTable updates the table's
    scrollable width when idle (measuring that cell only: the column is as wide as it)."""
    if table.row_count == 0:
        return
    console = table.app.console
    changed = False
    for key in columns:
        column = table.columns[key]
        if not column.auto_width:
            continue
        widest, width = None, -1
        for row, cell in zip(table.ordered_rows, table.get_column(key), strict=True):
            cell_wide = cell_width(console, cell)
            if cell_wide > width:
                widest, width = row.key, cell_wide
        needed = max(width, cell_width(console, column.label))
        if column.content_width != needed and widest is not None:
            column.content_width = needed
            table.update_cell(widest, key, table.get_cell(widest, key), update_width=True)
            changed = True
    if changed:
        table.notify_style_update()  # every row's drawn lines hold the old widths


def _reorder(table: DataTable[CellType], order: list[str], first: ColumnKey) -> None:
    """Put rows in `order` in place (rows keep their identity, the table is not refilled).

    DataTable.sort hands the key function cell values, not row keys, so each row is found
    by its first cell's identity: every row holds its own cell object.
    """
    position = {id(table.get_cell(key, first)): index for index, key in enumerate(order)}
    if len(position) == len(order):
        table.sort(first, key=lambda cell: position[id(cell)])
        return
    # Shared cell objects (equal interned strings): fall back to refilling in order.
    saved = [(key, table.get_row(key)) for key in order]
    table.clear()
    for key, cells in saved:
        table.add_row(*cells, key=key)


def select_row(table: DataTable[CellType], key: str) -> bool:
    """Put the cursor on the row `key`; False when there is no such row."""
    if key not in table.rows:
        return False
    table.move_cursor(row=table.get_row_index(key))
    return True
