"""The timeline of a demo: for the rebalance demo the group's joins, leaves, session expiries,
rebalances with their generation and assignments, takeovers; for the failover demo brokers
leaving and joining, leaders moving, ISRs shrinking and growing, the producer's retries; for
both what the presenter did. Newest at the bottom (the Brokers pane tells a cluster's changes
in it too).

Time is shown relative to the demo's start ("+12.3s"), which is what a presenter talks about
and what stays the same between runs of a snapshot test."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..kafka.demo_events import TimelineEntry
from .demo_style import DemoStyles

_MARKS = {
    "join": "+",
    "leave": "-",
    "expired": "✖",
    "rebalance": "↻",
    "stable": "✔",
    "empty": "∅",
    "action": "▶",
    "resume": "→",
    "broker-left": "✖",
    "broker-joined": "+",
    "controller": "♛",
    "leader": "★",
    "isr-shrank": "-",
    "isr-expanded": "+",
    "retry": "↻",
    "error": "!",
    "lost": "✖",
    "settled": "✔",
}


class DemoTimeline(Static):
    """The last entries that fit, each wrapped under its time."""

    DEFAULT_CSS = """
    DemoTimeline { height: 1fr; padding: 0 1; border-top: solid $panel; }
    """

    def __init__(
        self, id: str | None = None, placeholder: str = "group events appear here"
    ) -> None:
        super().__init__("", id=id)
        self._placeholder = placeholder
        self._entries: tuple[TimelineEntry, ...] = ()
        self._started_ms = 0
        self.text = Text()
        """What is drawn now (tests read its `.plain`)."""

    def show_entries(self, entries: tuple[TimelineEntry, ...], started_ms: int) -> None:
        if entries == self._entries and started_ms == self._started_ms:
            return
        self._entries = entries
        self._started_ms = started_ms
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        self.text = self._render_entries()
        self.update(self.text)

    def _render_entries(self) -> Text:
        styles = DemoStyles.of(self.app)
        width = max(self.size.width - 2, 30) if self.size.width else 78
        height = max(self.size.height - 1, 1) if self.size.height else 8
        lines: list[Text] = []
        for entry in reversed(self._entries):
            wrapped = self._entry(entry, width, styles)
            if len(lines) + len(wrapped) > height and lines:
                break
            lines[:0] = wrapped
        out = Text(no_wrap=True, overflow="ellipsis")
        if not lines:
            out.append(self._placeholder, styles.text("kwb-muted"))
        out.append(Text("\n").join(lines[-height:]))
        return out

    def _entry(self, entry: TimelineEntry, width: int, styles: DemoStyles) -> list[Text]:
        seconds = (entry.at_ms - self._started_ms) / 1000
        stamp = f"{seconds:>+7.1f}s "
        head = f"{stamp}{_MARKS.get(entry.kind, '·')} "
        body = Text(entry.text, styles.kind(entry.kind))
        if entry.kind in ("expired", "stable", "leader", "lost", "settled"):
            body.stylize("bold")
        lines = body.wrap(self.app.console, max(width - len(head), 10))
        out = []
        for index, line in enumerate(lines):
            prefix = Text(head if index == 0 else " " * len(head), styles.text("kwb-muted"))
            prefix.append_text(line)
            out.append(prefix)
        return out
