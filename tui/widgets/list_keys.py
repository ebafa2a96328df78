"""The keys k9s and kaskade users move through lists with: j/k down and up, g/G first and
last. The lists drawn line by line (row_cursor.py) bind them themselves; these are for
the DataTable lists."""

from __future__ import annotations

from textual.binding import Binding

LIST_KEYS = [
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
    Binding("g", "scroll_top", "First", show=False),
    Binding("G", "scroll_bottom", "Last", show=False),
]
