"""The Topics and Groups panes' list: rows held as (key, cells), drawn only where in view.

Textual's DataTable costs per row, not per line on screen. It measures every added row with
Rich when next idle, refreshes on each cell written and redraws what is visible after each
change. With 1,000 topics and traffic on each, a filter letter that brought the rows back
then waited behind 5,400 measures, and a snapshot writing 3,000 changed cells spent half its
time in refreshes: 76/133 ms (median/p90) a key. This table takes a whole new set of rows at
once (a list, its key index and the columns' widths from the cells' lengths) and draws,
through Textual's line API, only the lines on screen, keeping each row's line until its
cells or look change. It has what the lists use: a row cursor that follows its row's key,
sort headers that can be clicked, zebra stripes, and the keys of row_cursor.py.

Cells are Rich Texts, one line each. A column is as wide as its label and widest cell; the
panes shorten names to what the width leaves, so nothing is cut here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from .row_cursor import RowCursor

Row = tuple[str, Sequence[Text]]
"""A row's key (what the cursor follows) and its cells, one per column."""


@dataclass
class ListColumn:
    key: str
    label: Text
    """Drawn, and its width counted, from the next `show` on."""
    width: int = 0
    """The widest of the label and the column's cells, as of the last `show`."""


@dataclass(frozen=True)
class DrawnRow:
    cells: Sequence[Text]
    """Held so that the id in the key stays this row's."""
    line: Strip


class ListTable(RowCursor):
    """Rows under a header line that stays put; the cursor is on a row, by index and key.

    A subclass binds enter to `select_cursor` under the name of what selecting does."""

    COMPONENT_CLASSES = {"list-table--header", "list-table--even-row", "list-table--cursor"}
    DEFAULT_CSS = """
    ListTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .list-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .list-table--header { background-tint: $foreground 5%; }
        }
        & > .list-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .list-table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .list-table--even-row { background: $surface-lighten-1 50%; }
        &:dark > .list-table--even-row { background: $surface-darken-1 40%; }
        & > .list-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    cell_padding = 1
    """Blank cells either side of each column's content, as DataTable's default."""

    class RowSelected(Message):
        """Enter, or a click on the row under the cursor."""

        def __init__(self, table: ListTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> ListTable:
            return self.table

    class HeaderSelected(Message):
        """A click on a column's label."""

        def __init__(self, table: ListTable, column: str) -> None:
            super().__init__()
            self.table = table
            self.column = column

        @property
        def control(self) -> ListTable:
            return self.table

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.columns: dict[str, ListColumn] = {}
        self._rows: list[Row] = []
        self._index: dict[str, int] = {}
        self._cursor = 0
        self._widths: tuple[int, ...] = ()
        self._drawn: dict[tuple[int, Style, Style | None, tuple[int, ...]], DrawnRow] = {}
        """Rows' lines as last drawn, by their cells' identity and how they were drawn: a
        cursor move or a snapshot that changed a few rows draws only those again."""

    # -- what it holds ------------------------------------------------------------------------

    def add_column(self, label: Text | str, key: str) -> None:
        text = Text(label) if isinstance(label, str) else label
        self.columns[key] = ListColumn(key, text, text.cell_len)

    def show(self, rows: Sequence[Row]) -> None:
        """Hold `rows`, in this order; the cursor stays on its row's key wherever it moved
        (on the same line when that row went)."""
        keep = self.cursor_key
        self._rows = list(rows)
        self._index = {key: index for index, (key, _) in enumerate(self._rows)}
        columns = list(self.columns.values())
        for index, column in enumerate(columns):
            column.width = max([column.label.cell_len, *(r[1][index].cell_len for r in rows)])
        self._widths = tuple(c.width for c in columns)
        if len(self._drawn) > 4 * len(self._rows) + 400:
            self._drawn.clear()  # cells that are no longer shown
        width = sum(c.width + 2 * self.cell_padding for c in columns)
        self.virtual_size = Size(width, len(self._rows) + self.header_height)
        kept = None if keep is None else self._index.get(keep)
        line, self._cursor = self._cursor, self._clamped(self._cursor if kept is None else kept)
        if self._cursor != line:  # else the view stays where the user scrolled it
            self.show_row(self._cursor)
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def keys(self) -> list[str]:
        return [key for key, _ in self._rows]

    def row(self, key: str) -> Sequence[Text] | None:
        index = self._index.get(key)
        return None if index is None else self._rows[index][1]

    def cell(self, key: str, column: str) -> Text | None:
        """The cell of row `key` in `column` (None when there is no such row)."""
        cells = self.row(key)
        return None if cells is None else cells[list(self.columns).index(column)]

    # -- the cursor ---------------------------------------------------------------------------

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (None for an empty table)."""
        return self._rows[self._cursor][0] if self._rows else None

    def move_cursor(self, row: int) -> None:
        old, self._cursor = self._cursor, self._clamped(row)
        if not self.show_row(self._cursor):  # a scroll draws every line
            self.refresh_line(old + self.header_height)
            self.refresh_line(self._cursor + self.header_height)

    def select(self, key: str) -> bool:
        """Put the cursor on the row `key`; False when there is no such row."""
        index = self._index.get(key)
        if index is None:
            return False
        self.move_cursor(index)
        return True

    def _clamped(self, row: int) -> int:
        return max(0, min(row, len(self._rows) - 1))

    def action_select_cursor(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    def header_clicked(self, x: int) -> None:
        for column in self.columns.values():
            x -= column.width + 2 * self.cell_padding
            if x < 0:
                self.post_message(self.HeaderSelected(self, column.key))
                return

    def row_clicked(self, row: int) -> None:
        """As in DataTable: a click on the cursor's row selects it."""
        if row == self._cursor:
            self.action_select_cursor()
        else:
            self.move_cursor(row)

    # -- drawing ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        base = self.rich_style
        cursor = None
        if y < self.header_height:
            style = self.get_component_rich_style("list-table--header")
            line = self._line([c.label for c in self.columns.values()], style, None)
        else:
            index = round(self.scroll_y) + y - self.header_height
            if index >= len(self._rows):
                return Strip.blank(self.size.width, base)
            style = base
            if index % 2 == 0:
                style = self.get_component_rich_style("list-table--even-row")
            if index == self._cursor:
                cursor = self.get_component_rich_style("list-table--cursor")
            cells = self._rows[index][1]
            key = (id(cells), style, cursor, self._widths)
            drawn = self._drawn.get(key)
            if drawn is None or drawn.cells is not cells:
                drawn = self._drawn[key] = DrawnRow(cells, self._line(cells, style, cursor))
            line = drawn.line
        scroll_x = round(self.scroll_x)
        extend = style if cursor is None else style + cursor
        return line.crop_extend(scroll_x, scroll_x + self.size.width, extend)

    def _line(self, cells: Sequence[Text], style: Style, cursor: Style | None) -> Strip:
        """One row's cells, each padded to its column's width and justified as its Text
        says, over `style`; the cursor's colours go over the cells' own."""
        console = self.app.console
        padding = Segment(" " * self.cell_padding)
        segments: list[Segment] = []
        for column, cell in zip(self.columns.values(), cells, strict=True):
            spare = Segment(" " * max(column.width - cell.cell_len, 0))
            drawn = list(cell.render(console, end=""))
            if cell.justify == "right":
                drawn.insert(0, spare)
            else:
                drawn.append(spare)
            segments += [padding, *drawn, padding]
        return Strip(Segment.apply_style(segments, style, cursor))
