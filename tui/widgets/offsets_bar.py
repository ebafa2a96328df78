"""A topic's partitions as bars on one offset scale, with each group's committed offset marked.

Each partition is two lines: a bar from its log start offset to its high watermark (what a
consumer can read), shaded where records were deleted (retention, DeleteRecords) since the
scale's start, and under it a marker per consumer group at its committed offset. All
partitions share the scale, so "this partition is behind" and "retention ate the start"
read at a glance. The cursor picks the partition the screen around it describes.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from ..kafka.topic_offsets import PartitionRange, TopicOffsets

GROUP_COLOURS = 6
"""Component classes offsets--group-0 … -5: the colours markers cycle through."""
_DELETED, _RETAINED, _SLIVER, _ROOM = "░", "█", "▌", "─"
_SINGLE_MARK, _SHARED_MARK = "▲", "*"


def group_letter(index: int) -> str:
    """A, B, … Z, then a, b, …: the marker of the index-th group in the legend."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return letters[index % len(letters)]


class OffsetsBars(Widget, can_focus=True):
    """Draws `show(offsets, base)`; `up`/`down` move the cursor between partitions."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("home", "cursor(-1_000_000)", show=False),
        Binding("end", "cursor(1_000_000)", show=False),
    ]

    COMPONENT_CLASSES = {
        "offsets--deleted",
        "offsets--retained",
        "offsets--room",
        "offsets--axis",
        "offsets--cursor",
        *(f"offsets--group-{i}" for i in range(GROUP_COLOURS)),
    }

    DEFAULT_CSS = """
    OffsetsBars { height: auto; width: 1fr; }
    OffsetsBars > .offsets--deleted { color: $kwb-muted; }
    OffsetsBars > .offsets--retained { color: $primary; }
    OffsetsBars > .offsets--room { color: $panel; }
    OffsetsBars > .offsets--axis { color: $kwb-muted; }
    OffsetsBars > .offsets--cursor { text-style: reverse bold; }
    OffsetsBars:focus > .offsets--cursor { color: $accent; text-style: reverse bold; }
    OffsetsBars > .offsets--group-0 { color: $accent; text-style: bold; }
    OffsetsBars > .offsets--group-1 { color: $kwb-key; text-style: bold; }
    OffsetsBars > .offsets--group-2 { color: $success; text-style: bold; }
    OffsetsBars > .offsets--group-3 { color: $warning; text-style: bold; }
    OffsetsBars > .offsets--group-4 { color: $secondary; text-style: bold; }
    OffsetsBars > .offsets--group-5 { color: $error; text-style: bold; }
    """

    cursor: reactive[int] = reactive(0)
    """Index (not number) of the partition under the cursor."""

    class CursorMoved(Message):
        """The partition under the cursor changed (the screen's legend follows it)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.offsets: TopicOffsets | None = None
        self.base = 0
        self.rows_per_partition = 2

    def show(self, offsets: TopicOffsets, base: int) -> None:
        """Draw `offsets` on a scale from offset `base` to the highest high watermark."""
        self.offsets = offsets
        self.base = base
        self.cursor = min(self.cursor, max(len(offsets.partitions) - 1, 0))
        self.fit()

    def fit(self) -> None:
        """Use the room there is: two lines a partition when tight, up to four (a thicker
        bar and a blank line between partitions) when the screen is tall."""
        count = len(self.offsets.partitions) if self.offsets is not None else 0
        room = self.parent.size.height if isinstance(self.parent, Widget) else 0
        self.rows_per_partition = max(2, min(4, (room - 1) // max(count, 1)))
        self.styles.height = 1 + self.rows_per_partition * count
        self.refresh()

    def on_resize(self) -> None:
        """The first layout (and any later one) gives the parent its height: fit to it."""
        self.fit()

    @property
    def current(self) -> PartitionRange | None:
        if self.offsets is None or not self.offsets.partitions:
            return None
        return self.offsets.partitions[self.cursor]

    def action_cursor(self, step: int) -> None:
        if self.offsets is None or not self.offsets.partitions:
            return
        self.cursor = max(0, min(self.cursor + step, len(self.offsets.partitions) - 1))

    def watch_cursor(self) -> None:
        self.refresh()
        self.post_message(self.CursorMoved())
        self.scroll_visible_cursor()

    def bar_row(self, index: int) -> int:
        """The line the index-th partition's bar starts on (line 0 is the axis)."""
        return 1 + self.rows_per_partition * index

    def marks_row(self, index: int) -> int:
        """The line of the index-th partition's group markers (under its bar)."""
        return self.bar_row(index) + (2 if self.rows_per_partition >= 4 else 1)

    def scroll_visible_cursor(self) -> None:
        if self.is_mounted:
            rows = self.rows_per_partition
            region = Region(0, self.bar_row(self.cursor), self.size.width, rows)
            self.scroll_to_region(region, animate=False)

    # -- drawing ------------------------------------------------------------------------------

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def group_style(self, index: int) -> Style:
        return self._style(f"offsets--group-{index % GROUP_COLOURS}")

    def render(self) -> Text:
        offsets = self.offsets
        if offsets is None:
            return Text("waiting for the topic's offsets…", style=self._style("offsets--axis"))
        if not offsets.partitions:
            return Text("this topic has no partitions", style=self._style("offsets--axis"))
        label_width = max(len(f"p{p.partition}") for p in offsets.partitions)
        numbers = [self._numbers(p) for p in offsets.partitions]
        numbers_width = max(len(n) for n in numbers)
        bar_width = max(self.size.width - label_width - numbers_width - 3, 4)
        top = max(max(p.high_watermark for p in offsets.partitions), self.base + 1)
        text = Text()
        text.append_text(self._axis(label_width, bar_width, top))
        thick = self.rows_per_partition >= 4
        for index, (partition, figures) in enumerate(zip(offsets.partitions, numbers, strict=True)):
            bar = self._bar(partition, index, label_width, bar_width, top, figures, numbers_width)
            text.append("\n")
            text.append_text(bar)
            if thick:
                text.append("\n")
                text.append_text(self._bar(partition, -1, label_width, bar_width, top, "", 0))
            text.append("\n")
            text.append_text(self._marks(partition, offsets.groups, label_width, bar_width, top))
            if self.rows_per_partition >= 3:
                text.append("\n")
        return text

    @staticmethod
    def _numbers(partition: PartitionRange) -> str:
        return f"{partition.log_start:,} … {partition.high_watermark:,}"

    def _position(self, offset: int, bar_width: int, top: int) -> int:
        span = max(top - self.base, 1)
        return max(0, min(round((offset - self.base) / span * bar_width), bar_width))

    def _axis(self, label_width: int, bar_width: int, top: int) -> Text:
        left, right = f"{self.base:,}", f"{top:,}"
        gap = max(bar_width + 1 - len(left) - len(right), 1)
        line = " " * (label_width + 1) + left + " " * gap + right
        return Text(line, style=self._style("offsets--axis"))

    def _bar(
        self,
        partition: PartitionRange,
        index: int,
        label_width: int,
        bar_width: int,
        top: int,
        figures: str,
        numbers_width: int,
    ) -> Text:
        label_style = self._style("offsets--cursor") if index == self.cursor else Style()
        label = f"p{partition.partition}" if index >= 0 else ""
        text = Text()
        text.append(label.rjust(label_width), style=label_style)
        text.append(" ")
        start = self._position(partition.log_start, bar_width, top)
        end = self._position(partition.high_watermark, bar_width, top)
        text.append(_DELETED * start, style=self._style("offsets--deleted"))
        if partition.records and end <= start:
            text.append(_SLIVER, style=self._style("offsets--retained"))
            end = start + 1
        else:
            text.append(_RETAINED * (end - start), style=self._style("offsets--retained"))
        text.append(_ROOM * (bar_width - end), style=self._style("offsets--room"))
        text.append("  " + figures.rjust(numbers_width))
        return text

    def _marks(
        self,
        partition: PartitionRange,
        groups: tuple[str, ...],
        label_width: int,
        bar_width: int,
        top: int,
    ) -> Text:
        cells: dict[int, list[int]] = {}
        for mark in partition.committed_marks:
            column = self._position(mark.offset, bar_width, top)
            cells.setdefault(column, []).append(groups.index(mark.group_id))
        text = Text(" " * (label_width + 1))
        single = len(groups) == 1
        for column in range(bar_width + 1):
            here = cells.get(column)
            if not here:
                text.append(" ")
            elif len(here) > 1:
                text.append(_SHARED_MARK, style=Style(bold=True))
            else:
                glyph = _SINGLE_MARK if single else group_letter(here[0])
                text.append(glyph, style=self.group_style(here[0]))
        return text
