"""The offsets view: what an offset is, drawn. A topic's partitions as bars from log start
offset to high watermark, a marker for every consumer group's committed offset, live.

Appends push the high watermarks right, commits move the markers, and retention or
DeleteRecords (`x` here) move the log start: the part of the bar that was deleted since the
view opened turns grey. Any pane can push `OffsetsScreen(topic)`; the Groups pane pushes it
with the group's topics, which `n`/`p` step through. The screen polls the cluster itself
(once a second, in a worker), so it needs nothing from the pane that opened it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..host import host_of
from ..kafka.admin import KafkaAdmin
from ..kafka.errors import KafkaToolError
from ..kafka.topic_offsets import PartitionRange, TopicOffsets, topic_offsets
from ..widgets.footer import WorkbenchFooter
from ..widgets.offsets_bar import OffsetsBars, group_letter
from .delete_records import HIGH_WATERMARK, DeleteRecordsScreen
from .group_detail import PENDING

POLL_SECONDS = 1.0


class OffsetsScreen(ModalScreen[None]):
    """Offsets of `topic` (and of `topics`, stepped through with n / p)."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("n", "step(1)", "Next topic"),
        Binding("p", "step(-1)", "Previous topic"),
        Binding("x", "delete_records", "Delete records"),
    ]

    DEFAULT_CSS = """
    OffsetsScreen { align: center middle; }
    OffsetsScreen > Vertical {
        width: 100%; height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    OffsetsScreen #offsets-title { text-style: bold; color: $primary; }
    OffsetsScreen #offsets-facts { color: $kwb-muted; }
    OffsetsScreen #offsets-scroll { height: 1fr; margin-top: 1; }
    OffsetsScreen #offsets-legend { height: auto; max-height: 8; margin-top: 1; }
    """

    def __init__(self, topic: str, topics: Sequence[str] = ()) -> None:
        super().__init__()
        self.topics = list(topics) if topic in topics else [topic, *topics]
        self.topic = topic
        self.offsets: TopicOffsets | None = None
        self.error: str | None = None
        self._first_starts: dict[int, int] = {}
        """Each partition's log start when the view opened: how far it has moved since."""
        self._base = 0
        self._wake = asyncio.Event()

    def _admin(self) -> KafkaAdmin | None:
        return host_of(self).admin

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="offsets-title")
            yield Static("waiting for the topic's offsets…", id="offsets-facts")
            with VerticalScroll(id="offsets-scroll"):
                yield OffsetsBars(id="offsets-bars")
            yield Static("", id="offsets-legend")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self._show_title()
        self.query_one(OffsetsBars).focus()
        self._poll()

    def on_resize(self) -> None:
        self.call_after_refresh(self.query_one(OffsetsBars).fit)

    # -- sampling -----------------------------------------------------------------------------

    @work(exclusive=True, group="offsets-poll", exit_on_error=False)
    async def _poll(self) -> None:
        while True:
            self._wake.clear()  # a wake-up during the reading below means: read again
            admin = self._admin()
            topic = self.topic
            if admin is not None:
                try:
                    offsets = await topic_offsets(admin, topic)
                except Exception as exc:  # a line on the screen, never a traceback
                    text = str(exc) if isinstance(exc, KafkaToolError) else repr(exc)
                    self.error = f"cannot read offsets of {topic}: {text}"
                    self._show_facts()
                else:
                    if topic == self.topic:
                        self.show_offsets(offsets)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await self._wake.wait()

    def show_offsets(self, offsets: TopicOffsets) -> None:
        """Draw a reading (the poller's, or fixed data in snapshot tests)."""
        self.error = None
        if not self._first_starts:
            self._first_starts = {p.partition: p.log_start for p in offsets.partitions}
            self._base = min((p.log_start for p in offsets.partitions), default=0)
        for p in offsets.partitions:
            self._first_starts.setdefault(p.partition, p.log_start)
        lowest = min((p.log_start for p in offsets.partitions), default=self._base)
        if lowest < self._base:  # the topic was recreated: start the scale again
            self._first_starts = {p.partition: p.log_start for p in offsets.partitions}
            self._base = lowest
        self.offsets = offsets
        self.query_one(OffsetsBars).show(offsets, self._base)
        self._show_facts()
        self._show_legend()

    # -- text around the bars -----------------------------------------------------------------

    def _show_title(self) -> None:
        title = f"Offsets of topic {self.topic}"
        if len(self.topics) > 1:
            place = self.topics.index(self.topic) + 1
            title += f"  ({place}/{len(self.topics)}, n/p: other topics)"
        self.query_one("#offsets-title", Static).update(title)

    def _show_facts(self) -> None:
        facts = self.query_one("#offsets-facts", Static)
        if self.error is not None:
            facts.update(self.error)
            return
        offsets = self.offsets
        if offsets is None:
            return
        records = sum(p.records for p in offsets.partitions)
        moved = sum(
            max(p.log_start - self._first_starts.get(p.partition, p.log_start), 0)
            for p in offsets.partitions
        )
        parts = [
            f"{len(offsets.partitions)} partition(s)",
            f"{records:,} records kept",
            f"{len(offsets.groups)} group(s) committed",
        ]
        if moved:
            parts.append(f"{moved:,} records deleted since opened (░)")
        facts.update(" · ".join(parts))

    def _show_legend(self) -> None:
        legend = self.query_one("#offsets-legend", Static)
        bars = self.query_one(OffsetsBars)
        partition = bars.current
        if self.offsets is None or partition is None:
            legend.update("")
            return
        text = Text()
        text.append(
            f"p{partition.partition}: log start {partition.log_start:,} · high watermark"
            f" {partition.high_watermark:,} · {partition.records:,} records",
            style="bold",
        )
        marks = {m.group_id: m for m in partition.marks}
        single = len(self.offsets.groups) == 1
        for index, group in enumerate(self.offsets.groups):
            text.append("\n")
            text.append("▲" if single else group_letter(index), style=bars.group_style(index))
            text.append(f" {group}  ")
            mark = marks.get(group)
            offset = mark.offset if mark is not None and mark.offset >= 0 else None
            if offset is None:
                text.append("no committed offset here")
            else:
                lag = partition.high_watermark - offset
                text.append(f"committed {offset:,} · lag {lag:,}")
                if offset < partition.log_start:
                    text.append(
                        " · before the log start: records it never read were deleted",
                        style=bars.group_style(index),
                    )
            if mark is not None and mark.pending:
                text.append(f" · {PENDING}", style="bold")
        if not self.offsets.groups:
            text.append("\nno group has committed offsets on this topic")
        legend.update(text)

    @on(OffsetsBars.CursorMoved)
    def _cursor_moved(self) -> None:
        self._show_legend()

    # -- keys ---------------------------------------------------------------------------------

    def action_step(self, step: int) -> None:
        if len(self.topics) < 2:
            return
        index = (self.topics.index(self.topic) + step) % len(self.topics)
        self.topic = self.topics[index]
        self.offsets = None
        self._first_starts = {}
        self._show_title()
        self.query_one("#offsets-facts", Static).update("waiting for the topic's offsets…")
        self._wake.set()

    def action_delete_records(self) -> None:
        partition = self.query_one(OffsetsBars).current
        if partition is None:
            return
        suggested = min(
            (m.offset for m in partition.committed_marks), default=partition.high_watermark
        )
        topic = self.topic

        def chosen(offset: int | None) -> None:
            if offset is not None:
                self._delete_records(topic, partition, offset)

        self.app.push_screen(
            DeleteRecordsScreen(
                f"{topic}-{partition.partition}",
                suggested,
                partition.log_start,
                partition.high_watermark,
            ),
            chosen,
        )

    @work(group="offsets-delete")
    async def _delete_records(self, topic: str, partition: PartitionRange, offset: int) -> None:
        admin = self._admin()
        if admin is None:
            self.notify("not connected to the cluster", title="Delete records", severity="error")
            return
        where = (topic, partition.partition)
        try:
            with host_of(self).busy(f"deleting records of {topic}-{partition.partition}"):
                moved = await admin.delete_records({where: offset})
        except KafkaToolError as exc:
            self.notify(str(exc), title="Delete records", severity="error")
            return
        what = "the high watermark" if offset == HIGH_WATERMARK else f"{offset:,}"
        self.notify(
            f"{topic}-{partition.partition}: records before {what} deleted;"
            f" log start is now {moved.get(where, offset):,}",
            title="Delete records",
        )
        self._wake.set()
