"""A DataTable that says when its width changes, for tables whose columns fit the width.

The group detail sizes its trend column (and shortens names) to what the table's width
leaves, the Brokers pane its configs' names and values; they can only do that once the table
has a width, which comes after mount and changes with the terminal. This table posts
`Resized` each time, so the columns are worked out again at the moment the width is known,
not on a guess.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import DataTable

from .list_keys import LIST_KEYS


class LagTable(DataTable[Text]):
    """Posts `LagTable.Resized` whenever its size changes."""

    BINDINGS = LIST_KEYS

    class Resized(Message):
        """The table's size changed: column widths that depend on it need working out."""

        def __init__(self, table: LagTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> LagTable:
            return self.table

    def on_resize(self, _event: events.Resize) -> None:
        self.post_message(self.Resized(self))
