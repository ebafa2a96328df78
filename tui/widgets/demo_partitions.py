"""Who owns which partition, and where each partition's offsets stand, drawn as tapes.

Each partition is a tape of its newest records (one cell per record, the log end on the
right): solid in the owner's colour up to the group's committed offset, shaded from there to
the owner's position (processed, not committed yet: these are processed again if the owner
dies), light and in the warning colour beyond (waiting: the lag). A partition nobody consumes
(its owner killed and not yet expired, left, or no owner at all) is flagged in the error
colour, so an orphaned partition stands out from across the room.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..kafka.demo_view import DemoView, PartitionRow
from .demo_style import DemoStyles

COMMITTED, PROCESSED, WAITING = " ", "▒", "░"
"""Committed cells are spaces on the owner's colour: a background is exactly one cell wide in
every terminal and font, where block glyphs sometimes are not."""
_BLOCKS = "▁▂▃▄▅▆▇█"
_TREND_FLOOR = 10
"""Lag trends share one scale, at least this tall, so a healthy partition's jitter stays flat
next to an orphaned one's climb."""
_OWNER_WIDTH = 14
_WIDE_OWNER_WIDTH = 16
_STATE_LABELS = {
    "orphaned": "ORPHANED",
    "rebalancing": "rebalancing",
    "paused": "paused",
    "consuming": "",
}


class PartitionMap(Static):
    """The partitions of the demo topic; `wide` draws two lines each with a lag trend."""

    DEFAULT_CSS = """
    PartitionMap { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: clip; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._view: DemoView | None = None
        self.wide = False
        self.text = Text()
        """What is drawn now (tests read its `.plain`)."""

    def show_view(self, view: DemoView) -> None:
        self._view = view
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        if self._view is not None:
            self.text = self._render_view(self._view)
            self.update(self.text)

    def _render_view(self, view: DemoView) -> Text:
        styles = DemoStyles.of(self.app)
        width = max(self.size.width - 2, 40) if self.size.width else 76
        out = Text(no_wrap=True, overflow="crop")
        out.append(COMMITTED, styles.tape_committed(1))
        out.append(" committed  ", styles.text("foreground"))
        out.append(PROCESSED, styles.consumer(1, bold=False))
        if self.wide:
            out.append(" processed, not committed  ", styles.text("foreground"))
            out.append(WAITING, styles.text("warning"))
            out.append(" waiting: the lag", styles.text("warning"))
            out.append("   1 cell = 1 record", styles.text("kwb-muted"))
        else:
            out.append(" processed  ", styles.text("foreground"))
            out.append(WAITING, styles.text("warning"))
            out.append(" lag", styles.text("warning"))
            out.append("   1 cell = 1 record   n/m = committed/log end", styles.text("kwb-muted"))
        top = max([_TREND_FLOOR, *(max(p.lag_history, default=0) for p in view.partitions)])
        for row in view.partitions:
            out.append("\n")
            if self.wide:
                out.append("\n")
                self._wide_row(out, row, width, top, styles)
            else:
                self._row(out, row, width, styles)
        return out

    def _owner(self, out: Text, row: PartitionRow, width: int, styles: DemoStyles) -> None:
        if row.state == "orphaned":
            label = f"✖ {row.owner or 'no owner'}"
            out.append(f" {label[: width - 2]:<{width - 2}} ", styles.alarm())
        elif row.owner is None:
            out.append(f" {'… no owner':<{width - 2}} ", styles.text("warning", bold=True))
        else:
            mark = "‖ " if row.state == "paused" else ""
            label = f"{mark}{row.owner}"
            out.append(f" {label[: width - 2]:<{width - 2}} ", styles.chip(row.colour))

    def _tape(self, out: Text, row: PartitionRow, cells: int, styles: DemoStyles) -> None:
        """The newest `cells` records, right-aligned so every log end lines up."""
        end = row.log_end
        first = max(end - cells, row.log_start)
        committed = min(row.committed if row.committed is not None else row.log_start, end)
        position = min(max(row.position if row.position is not None else committed, committed), end)
        out.append(" " * (cells - (end - first)))
        out.append("▕", styles.text("kwb-muted"))
        solid = max(committed - first, 0)
        shaded = max(position - max(committed, first), 0)
        waiting = max(end - max(position, first), 0)
        if row.owner:
            out.append(COMMITTED * solid, styles.tape_committed(row.colour))
            out.append(PROCESSED * shaded, styles.consumer(row.colour, bold=False))
        else:
            out.append(COMMITTED * solid, styles.tape_committed(0))
            out.append(PROCESSED * shaded, styles.text("kwb-muted"))
        out.append(
            WAITING * waiting, styles.text("error" if row.state == "orphaned" else "warning")
        )
        out.append("▏", styles.text("kwb-muted"))

    def _lag(self, row: PartitionRow, styles: DemoStyles) -> Text:
        if row.state == "orphaned" and row.lag:
            style = styles.text("error", bold=True)
        elif row.lag > 0:
            style = styles.text("warning", bold=True)
        else:
            style = styles.text("success", bold=True)
        return Text(f"lag {row.lag:>5}", style)

    def _row(self, out: Text, row: PartitionRow, width: int, styles: DemoStyles) -> None:
        numbers = f"  {row.committed if row.committed is not None else '-'}/{row.log_end}"
        fixed = 4 + _OWNER_WIDTH + 1 + 2 + 10 + 1
        show_numbers = width - fixed - len(numbers) >= 12
        cells = width - fixed - (len(numbers) if show_numbers else 0)
        out.append(f"P{row.partition:<3}", styles.text("foreground", bold=True))
        self._owner(out, row, _OWNER_WIDTH, styles)
        out.append(" ")
        self._tape(out, row, max(cells, 6), styles)
        out.append(" ")
        out.append_text(self._lag(row, styles))
        if show_numbers:
            out.append(numbers, styles.text("kwb-muted"))

    def _wide_row(
        self, out: Text, row: PartitionRow, width: int, top: int, styles: DemoStyles
    ) -> None:
        # The tape keeps at least 16 cells; the trend takes what is left, up to 24, and is
        # left out when fewer than 6 cells remain (120 columns, beside the consumers table).
        fixed = 5 + _WIDE_OWNER_WIDTH + 2 + 2 + 10
        trend = min(24, max(width - fixed - 2 - 16, 0))
        trend = trend if trend >= 6 else 0
        cells = max(width - fixed - (trend + 2 if trend else 0), 10)
        out.append(f" P{row.partition:<3}", styles.text("foreground", bold=True))
        self._owner(out, row, _WIDE_OWNER_WIDTH, styles)
        out.append("  ")
        self._tape(out, row, cells, styles)
        out.append("  ")
        out.append_text(self._lag(row, styles))
        if trend:
            out.append("  ")
            out.append(trend_line(row.lag_history, trend, top), styles.text("warning"))
        out.append("\n")
        indent = 5 + _WIDE_OWNER_WIDTH + 2
        out.append(" " * indent)
        state = _STATE_LABELS.get(row.state, row.state)
        committed = "-" if row.committed is None else str(row.committed)
        position = "-" if row.position is None else str(row.position)
        long = f"committed {committed} · position {position} · log end {row.log_end}"
        short = indent + len(long) > width
        out.append(f"committed {committed}", styles.text("foreground"))
        out.append(f" · {'pos' if short else 'position'} {position}", styles.text("kwb-muted"))
        out.append(f" · {'end' if short else 'log end'} {row.log_end}", styles.text("foreground"))
        if state:
            alarm = row.state == "orphaned"
            out.append(f"   {state}", styles.text("error" if alarm else "warning", bold=True))


def trend_line(values: tuple[int, ...], width: int, top: int) -> str:
    """The last `width` lag samples as block characters on a scale shared by all rows (the
    Groups pane's sparkline scales each row to itself, which would make every row look busy)."""
    tail = values[-width:]
    steps = len(_BLOCKS) - 1
    chars = [_BLOCKS[min(steps, round(v / top * steps))] if top > 0 else _BLOCKS[0] for v in tail]
    return "".join(chars).rjust(width)
