"""What the Topics pane shows, apart from how: the columns, the filter, the order, the cells.

Kept free of widgets so the choices (which topics match, in which order, how a size reads)
are plain functions of a snapshot, the same in the live pane and in snapshot tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from ..kafka.cluster import TopicStats

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(size: int | None) -> str:
    """1536 -> '1.5 KiB'; None (the cluster would not say) -> '-'."""
    if size is None:
        return "-"
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_rate(records_per_second: float) -> str:
    """Records per second: one decimal while small, whole numbers with separators after."""
    if records_per_second <= 0:
        return "0"
    if records_per_second < 100:
        return f"{records_per_second:.1f}"
    return f"{round(records_per_second):,}"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    numeric: bool
    order: Callable[[TopicStats], float | str]
    """The sort key; numeric columns sort biggest first when first chosen."""


COLUMNS: tuple[Column, ...] = (
    Column("topic", "topic", False, lambda t: t.name),
    Column("partitions", "partitions", True, lambda t: len(t.partitions)),
    Column("replication", "replicas", True, lambda t: t.replication_factor),
    Column("size", "size", True, lambda t: -1 if t.size_bytes is None else t.size_bytes),
    Column("records", "records", True, lambda t: t.records),
    Column("rate", "rate/s", True, lambda t: t.rate),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)


def column(key: str) -> Column:
    return next(c for c in COLUMNS if c.key == key)


def shorten(name: str, width: int) -> str:
    """`name` cut to `width` characters with an ellipsis; 0 means no limit."""
    if width <= 0 or len(name) <= width:
        return name
    return name[: max(width - 1, 1)] + "…"


def shorten_middle(name: str, width: int) -> str:
    """`name` cut to `width` characters in the middle; 0 means no limit.

    Topic names tend to differ at both ends (`com.example.orders.v1`, `...v2`; `orders`,
    `orders-dlq`), so both ends are kept and the middle gives way.
    """
    if width <= 0 or len(name) <= width:
        return name
    if width < 3:
        return shorten(name, width)
    tail = (width - 1) // 2
    return name[: width - 1 - tail] + "…" + name[len(name) - tail :]


def cells(topic: TopicStats) -> tuple[str, ...]:
    """The row of one topic, in COLUMNS order."""
    return (
        topic.name,
        str(len(topic.partitions)),
        str(topic.replication_factor),
        human_bytes(topic.size_bytes),
        f"{topic.records:,}",
        human_rate(topic.rate),
    )


class TopicFilter:
    """What the user typed: a case-insensitive substring, and a regular expression when it
    compiles (so `orders` and `^pay|ship$` both work, and `orders[` still finds `orders[`)."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        try:
            self.regex: re.Pattern[str] | None = (
                re.compile(self.text, re.IGNORECASE) if self.text else None
            )
        except re.error:
            self.regex = None

    def __bool__(self) -> bool:
        return bool(self.text)

    def matches(self, name: str) -> bool:
        if not self.text:
            return True
        if self.text.lower() in name.lower():
            return True
        return self.regex is not None and self.regex.search(name) is not None


@dataclass(frozen=True, slots=True)
class TopicView:
    """How the user wants the list: filter, sort column and direction, internal shown."""

    filter: str = ""
    sort_key: str = "topic"
    descending: bool = False
    show_internal: bool = False

    def select(self, topics: Iterable[TopicStats]) -> list[TopicStats]:
        """The topics to show, in order; ties keep name order so rows don't jump around."""
        wanted = TopicFilter(self.filter)
        shown = sorted(
            (
                t
                for t in topics
                if (self.show_internal or not t.internal) and wanted.matches(t.name)
            ),
            key=lambda t: t.name,
        )
        order = column(self.sort_key).order
        return sorted(shown, key=order, reverse=self.descending)

    def next_sort(self) -> TopicView:
        """The next column, in its natural direction (names A-Z, numbers biggest first)."""
        following = COLUMN_KEYS[(COLUMN_KEYS.index(self.sort_key) + 1) % len(COLUMN_KEYS)]
        return self.sort_by(following)

    def sort_by(self, key: str) -> TopicView:
        """Sort by `key`; choosing the current column again reverses the direction."""
        if key == self.sort_key:
            return replace(self, descending=not self.descending)
        return replace(self, sort_key=key, descending=column(key).numeric)
