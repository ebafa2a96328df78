"""Rows under a header line with a cursor on one of them, drawn through Textual's line API:
what the tail's RecordLog and the panes' ListTable share.

Both draw only the lines in view and keep their rows their own way (a ring of records, a
list of keyed rows). What they share is how the cursor moves: the keys (arrows, pages, and
k9s's j/k/g/G), the scroll that brings the cursor's row into view below the header, and a
click that puts the cursor on a row.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.scroll_view import ScrollView


class RowCursor(ScrollView, can_focus=True):
    """A subclass says how many rows there are and where the cursor is, moves it in
    `move_cursor`, and draws the header at line 0 and row `scroll_y + y - 1` at line y."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
    ]

    header_height = 1

    @property
    def row_count(self) -> int:
        raise NotImplementedError

    @property
    def cursor_row(self) -> int | None:
        """The cursor's row (None: no rows)."""
        raise NotImplementedError

    def move_cursor(self, row: int) -> None:
        """Put the cursor on `row` (kept within the rows) and in view (`show_row`)."""
        raise NotImplementedError

    @property
    def rows_in_view(self) -> int:
        return max(self.scrollable_content_region.height - self.header_height, 1)

    def show_row(self, row: int) -> bool:
        """Scroll so that `row` is in view; whether that took a scroll."""
        top = round(self.scroll_y)
        if row < top:
            self.scroll_rows(row)
        elif row >= top + self.rows_in_view:
            self.scroll_rows(row - self.rows_in_view + 1)
        else:
            return False
        return round(self.scroll_y) != top

    def scroll_rows(self, top: int) -> None:
        """Put row `top` first in view. Forced: the scrollbars Textual allows scrolling by
        are the last layout's, and the rows may have grown past the height since."""
        self.scroll_to(y=top, animate=False, force=True)

    def action_cursor_up(self) -> None:
        self.move_cursor((self.cursor_row or 0) - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor((self.cursor_row or 0) + 1)

    def action_page_up(self) -> None:
        self.move_cursor((self.cursor_row or 0) - self.rows_in_view)

    def action_page_down(self) -> None:
        self.move_cursor((self.cursor_row or 0) + self.rows_in_view)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(self.row_count - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y < self.header_height:
            self.header_clicked(offset.x + round(self.scroll_x))
            return
        row = round(self.scroll_y) + offset.y - self.header_height
        if row < self.row_count:
            self.row_clicked(row)

    def header_clicked(self, x: int) -> None:
        """A click on the header, `x` cells from the rows' left edge."""

    def row_clicked(self, row: int) -> None:
        self.move_cursor(row)
