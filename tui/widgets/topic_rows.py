"""What the Topics pane shows, apart from how: the columns it sorts by, the cells.

Kept free of widgets so the choices (in which order, how a size reads) are plain functions of
a snapshot, the same in the live pane and in snapshot tests; the filter and the sort state
are the shared ListOrder (list_order.py).
"""

from __future__ import annotations

from ..kafka.cluster import TopicStats
from .list_order import Column, ListOrder

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


COLUMNS: tuple[Column[TopicStats], ...] = (
    Column("topic", "topic", False, lambda t: t.name),
    Column("partitions", "partitions", True, lambda t: len(t.partitions)),
    Column("replication", "replicas", True, lambda t: t.replication_factor),
    Column("size", "size", True, lambda t: -1 if t.size_bytes is None else t.size_bytes),
    Column("records", "records", True, lambda t: t.records),
    Column("rate", "rate/s", True, lambda t: t.rate),
)


def topic_order() -> ListOrder[TopicStats]:
    """The order a Topics pane starts with: every topic, by name."""
    return ListOrder(COLUMNS, lambda t: t.name, "topic")


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
