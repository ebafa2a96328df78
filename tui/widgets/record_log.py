"""The tail's record list: a virtualized view over a RecordView, drawn line by line.

A DataTable makes a row per record and would need 100,000 of them; this widget keeps no
rows at all. It is a ScrollView using the Line API (a RowCursor, row_cursor.py):
`render_line` formats only the visible records, from their bytes, when Textual asks for
them. The owner (the Tail pane) changes the data and then calls `data_changed()`, a few
times a second at most, however fast the records arrive.

The cursor sits on a record, not on a row number, so it stays on the same record while
older ones fall off the front of the ring. At the last row the list follows the tail;
moved up (or scrolled with the mouse), it stays put.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from ..kafka.record_filter import RecordFilter, RecordView, preview, record_json
from ..kafka.schema_registry.wire import Decoded, SchemaDecoder
from ..kafka.tail import TailRecord
from .row_cursor import RowCursor

WIDE = 110
"""From this width on, full timestamps and wider offsets."""
_GAP = " "
_ELLIPSIS = "…"
_NULL = "null"
_BASE = "base"
_MATCH = "record-log--match"
_SEARCHED = frozenset(
    {
        "record-log--key",
        "record-log--value",
        "record-log--binary",
        "record-log--decoded",
        "record-log--undecodable",
    }
)
"""The cells whose text the filter's matches are marked in."""
_MIN_KEY = 6
_MAX_KEY_MEASURE = 60


def format_timestamp(timestamp: int, tz: tzinfo | None, with_date: bool) -> str:
    """Milliseconds since the epoch as local (or `tz`) time to the millisecond; a producer
    may set any timestamp, so one no calendar holds is shown as the number it is."""
    if timestamp < 0:
        return "-"
    try:
        moment = datetime.fromtimestamp(timestamp / 1000, tz)
    except (OverflowError, OSError, ValueError):
        return str(timestamp)
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")
    return f"{text}.{timestamp % 1000:03d}"


def _fit(text: str, width: int, right: bool = False) -> str:
    """`text` in exactly `width` cells: cut with an ellipsis, or padded."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + _ELLIPSIS
    if right:
        return " " * (width - length) + text
    return text + " " * (width - length)


class Columns(NamedTuple):
    """Column widths for a width: the key is as wide as the keys seen need (within limits),
    the value takes what the others leave."""

    width: int
    show_topic: bool
    key_cells: int
    topic: int
    partition: int
    offset: int
    timestamp: int
    key: int
    headers: int
    value: int

    @property
    def wide(self) -> bool:
        return self.width >= WIDE

    @classmethod
    def fit(cls, width: int, show_topic: bool, key_cells: int) -> Columns:
        wide = width >= WIDE
        partition = 3
        offset = 12 if wide else 9
        timestamp = 23 if wide else 12
        headers = 2 if width >= 90 else 0
        topic = min(max(width // 8, 6), 20) if show_topic else 0
        key = min(max(key_cells, _MIN_KEY), max(width // 4, _MIN_KEY))
        fixed = [topic, partition, offset, timestamp, key, headers]
        used = sum(fixed) + sum(len(_GAP) for w in fixed if w)
        value = max(width - used, 0)
        return cls(
            width, show_topic, key_cells, topic, partition, offset, timestamp, key, headers, value
        )


class RecordLog(RowCursor):
    """Partition, offset, timestamp, key, value preview and header count of each record."""

    BINDINGS = [Binding("enter", "select", "Detail")]

    COMPONENT_CLASSES = {
        "record-log--header",
        "record-log--cursor",
        "record-log--topic",
        "record-log--partition",
        "record-log--offset",
        "record-log--timestamp",
        "record-log--key",
        "record-log--value",
        "record-log--headers",
        "record-log--binary",
        "record-log--decoded",
        "record-log--undecodable",
        "record-log--null",
        "record-log--empty",
        "record-log--match",
    }

    DEFAULT_CSS = """
    RecordLog {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        & > .record-log--header { background: $panel; color: $foreground; text-style: bold; }
        & > .record-log--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .record-log--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .record-log--topic { color: $secondary; }
        & > .record-log--partition { color: $kwb-muted; }
        & > .record-log--offset { color: $kwb-muted; }
        & > .record-log--timestamp { color: $kwb-muted; }
        & > .record-log--key { color: $kwb-key; }
        & > .record-log--value { color: $foreground; }
        & > .record-log--headers { color: $kwb-muted; }
        & > .record-log--binary { color: $kwb-muted; }
        & > .record-log--decoded { color: $success; }
        & > .record-log--undecodable { color: $warning; }
        & > .record-log--null { color: $kwb-muted; text-style: italic; }
        & > .record-log--empty { color: $kwb-muted; text-style: italic; }
        & > .record-log--match { text-style: reverse; }
    }
    """

    class Selected(Message):
        """Enter on a record: show it in detail."""

        def __init__(self, record: TailRecord) -> None:
            super().__init__()
            self.record = record

    def __init__(
        self,
        view: RecordView,
        *,
        tz: tzinfo | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.view = view
        self.tz = tz
        """The timezone timestamps are shown in (None: the local one)."""
        self.show_topic = False
        """Show the topic column (when tailing more than one topic)."""
        self.following = True
        """Keep the cursor on the newest record as records arrive."""
        self.decoder: SchemaDecoder | None = None
        """Decodes keys and values in Confluent's wire format (None: no registry)."""
        self._empty_text = "no records"
        self._columns: Columns | None = None
        self._key_cells = 0
        self._cursor_seq: int | None = None
        self._top_seq: int | None = None
        self._styles: dict[str, Style] | None = None
        self._scrolling = False

    @property
    def empty_text(self) -> str:
        """What the list says while it has no rows (why, and what to do)."""
        return self._empty_text

    @empty_text.setter
    def empty_text(self, text: str) -> None:
        if text != self._empty_text:
            self._empty_text = text
            if len(self.view) == 0:
                self.refresh()

    # -- the cursor ------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.view)

    @property
    def cursor_row(self) -> int | None:
        """The row of the record under the cursor (None: no records shown)."""
        if self._cursor_seq is None or len(self.view) == 0:
            return None
        return min(self.view.row_at_or_after(self._cursor_seq), len(self.view) - 1)

    @property
    def cursor_record(self) -> TailRecord | None:
        row = self.cursor_row
        return None if row is None else self.view.record_at(row)

    def copy_cursor_record(self) -> None:
        """The record under the cursor to the clipboard, as one JSON object (`y`)."""
        record = self.cursor_record
        if record is None:
            self.notify("no record to copy", title="Copy", severity="warning")
            return
        self.app.copy_to_clipboard(json.dumps(record_json(record), ensure_ascii=False))
        self.notify(
            f"copied {record.topic}/{record.partition}@{record.offset} as JSON", title="Copy"
        )

    def move_cursor(self, row: int) -> None:
        rows = len(self.view)
        if rows == 0:
            return
        row = min(max(row, 0), rows - 1)
        self._cursor_seq = self.view.seq_at(row)
        self.following = row == rows - 1
        self.show_row(row)
        top = round(self.scroll_y)
        self._top_seq = self.view.seq_at(top) if top < rows else None
        self.refresh()

    def step(self, rows: int) -> TailRecord | None:
        """Move the cursor `rows` records on (back if negative) and give the record there."""
        row = self.cursor_row
        if row is None:
            return None
        self.move_cursor(row + rows)
        return self.cursor_record

    def action_last(self) -> None:
        super().action_last()
        self.following = True

    def action_select(self) -> None:
        record = self.cursor_record
        if record is not None:
            self.post_message(self.Selected(record))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._scrolling:
            return
        rows = len(self.view)  # the user scrolled (wheel, scrollbar)
        top = round(new_value)
        self._top_seq = self.view.seq_at(top) if top < rows else None
        if new_value < old_value and top + self.rows_in_view < rows:
            self.following = False  # scrolled up, away from the tail: stay put
        self._measure_keys()

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        """A scrollbar that appears after the list has scrolled (the first records came in
        one batch) would show its thumb at the top: put it where the list is."""
        if shown:
            self.vertical_scrollbar.position = self.scroll_y

    def scroll_rows(self, top: int) -> None:
        self._scrolling = True  # not the user's scroll (watch_scroll_y)
        try:
            super().scroll_rows(top)
        finally:
            self._scrolling = False

    # -- data ------------------------------------------------------------------------------

    def reset(self, follow: bool = True) -> None:
        """Forget the cursor; follow the newest record (a new tail started), or, with
        `follow` False, put the cursor on the first (a search's matches, read from the top)."""
        self._cursor_seq = None
        self._top_seq = None
        self._key_cells = 0
        self.following = follow

    def data_changed(self) -> None:
        """The view's rows changed (records arrived or fell off, the filter changed)."""
        rows = len(self.view)
        self._scrolling = True
        try:
            self.virtual_size = Size(self.scrollable_content_region.width, rows + 1)
        finally:
            self._scrolling = False
        if rows == 0:
            self.scroll_rows(0)  # the cursor's record is kept: a refilter may bring it back
        elif self._cursor_seq is None and not self.following:
            self._cursor_seq = self.view.seq_at(0)
            self.scroll_rows(0)
        elif self.following or self._cursor_seq is None:
            self._cursor_seq = self.view.seq_at(rows - 1)
            self.following = True
            self.scroll_rows(max(rows + 1 - self.scrollable_content_region.height, 0))
        elif self._top_seq is not None:  # the same records stay in view
            self.scroll_rows(min(self.view.row_at_or_after(self._top_seq), rows - 1))
        else:
            self.show_row(min(self.view.row_at_or_after(self._cursor_seq), rows - 1))
        self._measure_keys()
        self.refresh()

    # -- drawing ---------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

    def _style(self, name: str) -> Style:
        if self._styles is None:
            base = self.rich_style
            self._styles = {
                component: base + self.get_component_rich_style(component, partial=True)
                for component in self.COMPONENT_CLASSES
            }
            self._styles[_BASE] = base  # rich_style costs a walk up the DOM: once per style
            # Laid over a cell's own style (the cursor's too), so without the base colours.
            self._styles[_MATCH] = self.get_component_rich_style(_MATCH, partial=True)
        return self._styles[name]

    def _columns_for(self, width: int) -> Columns:
        columns = self._columns
        if (
            columns is None
            or columns.width != width
            or columns.show_topic != self.show_topic
            or columns.key_cells != self._key_cells
        ):
            columns = self._columns = Columns.fit(width, self.show_topic, self._key_cells)
        return columns

    def _measure_keys(self) -> None:
        """Widen the key column to the longest key in view (it never narrows while a tail
        runs, so the columns don't jump as records scroll by)."""
        rows = len(self.view)
        top = round(self.scroll_y)
        longest = self._key_cells
        for row in range(top, min(top + self.rows_in_view, rows)):
            key = self.view.record_at(row).key
            shown = self._bytes_cell(key, _MAX_KEY_MEASURE, "record-log--key")[0].rstrip()
            longest = max(longest, cell_len(shown))
        self._key_cells = longest

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self._columns_for(width)
        if y == 0:
            return self._header(columns, width)
        row = round(self.scroll_y) + y - 1
        rows = len(self.view)
        if row >= rows:
            if rows == 0 and y == 1:
                text = _fit(" " + self.empty_text, width)
                return Strip([Segment(text, self._style("record-log--empty"))], width)
            return Strip.blank(width, self._style(_BASE))
        record = self.view.record_at(row)
        return self._row(record, columns, width, row == self.cursor_row)

    def _header(self, columns: Columns, width: int) -> Strip:
        titles = [
            ("topic", columns.topic, False),
            ("p", columns.partition, True),
            ("offset", columns.offset, True),
            ("timestamp" if columns.wide else "time", columns.timestamp, False),
            ("key", columns.key, False),
            ("h", columns.headers, True),
            ("value", columns.value, False),
        ]
        text = _GAP.join(_fit(title, w, right) for title, w, right in titles if w)
        return Strip([Segment(_fit(text, width), self._style("record-log--header"))], width)

    def _bytes_cell(self, data: bytes | None, width: int, component: str) -> tuple[str, str]:
        """A key or value cell: the text, hex in a quieter colour, or null in italics; a
        record in Confluent's wire format as the JSON it decodes to, or the marker saying
        why it does not."""
        if data is None:
            return _fit(_NULL, width), "record-log--null"
        if self.decoder is not None and (reading := self.decoder.decode(data)) is not None:
            component = (
                "record-log--decoded" if isinstance(reading, Decoded) else "record-log--undecodable"
            )
            return _fit(reading.text[: width + 1], width), component  # one line: JSON escapes
        text, binary = preview(data, width + 1)
        return _fit(text, width), "record-log--binary" if binary else component

    def _row(self, record: TailRecord, columns: Columns, width: int, cursor: bool) -> Strip:
        cells: list[tuple[str, str]] = []
        if columns.topic:
            cells.append((_fit(record.topic, columns.topic), "record-log--topic"))
        cells.append(
            (_fit(str(record.partition), columns.partition, True), "record-log--partition")
        )
        cells.append((_fit(str(record.offset), columns.offset, True), "record-log--offset"))
        stamp = format_timestamp(record.timestamp, self.tz, columns.wide)
        cells.append((_fit(stamp, columns.timestamp), "record-log--timestamp"))
        cells.append(self._bytes_cell(record.key, columns.key, "record-log--key"))
        if columns.headers:
            count = str(len(record.headers)) if record.headers else ""
            cells.append((_fit(count, columns.headers, True), "record-log--headers"))
        if columns.value:
            cells.append(self._bytes_cell(record.value, columns.value, "record-log--value"))
        cursor_style = self._style("record-log--cursor") if cursor else None
        base = cursor_style or self._style(_BASE)
        segments: list[Segment] = []
        gap = Segment(_GAP, base)
        marked = self.view.filter  # its matches stand out in keys and values
        for index, (text, component) in enumerate(cells):
            if index:
                segments.append(gap)
            style = cursor_style or self._style(component)
            if marked is not None and component in _SEARCHED:
                segments.extend(self._marked(text, style, marked))
            else:
                segments.append(Segment(text, style))
        return Strip(segments).adjust_cell_length(width, base)

    def _marked(self, text: str, style: Style, marked: RecordFilter) -> list[Segment]:
        """`text` in `style`, with what `marked` matches in it stood out."""
        segments: list[Segment] = []
        match = style + self._style(_MATCH)
        at = 0
        for start, end in marked.spans(text):
            if start > at:
                segments.append(Segment(text[at:start], style))
            segments.append(Segment(text[start:end], match))
            at = end
        if at < len(text) or not segments:
            segments.append(Segment(text[at:], style))
        return segments
