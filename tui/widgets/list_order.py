"""Which rows a list shows and in which order: what the user typed to filter it, and the
column it is sorted by, in which direction. Every pane that lists things (Topics, Groups)
uses this one piece, so `/`, `s`, `S`, a header click and the facts line mean the same
everywhere.

Kept free of widgets: which rows match and in which order they come is a plain function of
the rows, the same in the live pane and in tests. The header text with its sort arrow is here
too, so every list marks its sort column alike and keeps room for the arrow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from rich.text import Text

T = TypeVar("T")

_UP, _DOWN, _NO_ARROW = "▲", "▼", " "
SORT_KEYS = "(s, S)"
"""The keys that change the order, as the facts line names them."""


@dataclass(frozen=True, slots=True)
class Column(Generic[T]):
    """A column the list can be sorted by."""

    key: str
    label: str
    numeric: bool
    order: Callable[[T], float | str]
    """The sort key; numeric columns sort biggest first when first chosen."""

    @property
    def header_width(self) -> int:
        """The header's width: the label and room for the sort arrow, so widths never jump."""
        return len(self.label) + 2


class NameFilter:
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
class ListOrder(Generic[T]):
    """How the user wants a list: filtered by name, sorted by a column in a direction."""

    columns: tuple[Column[T], ...]
    name: Callable[[T], str]
    """What the filter matches, and the order of ties."""
    sort_key: str
    filter: str = ""
    descending: bool = False

    def column(self, key: str) -> Column[T]:
        return next(c for c in self.columns if c.key == key)

    def sorts_by(self, key: str) -> bool:
        """Whether `key` is a column the list can be sorted by (a chart column is not)."""
        return any(c.key == key for c in self.columns)

    def select(self, items: Iterable[T], keep: Callable[[T], bool] | None = None) -> list[T]:
        """The items to show (those `keep` keeps whose name matches the filter), in order;
        ties keep name order so rows don't jump around."""
        wanted = NameFilter(self.filter)
        shown = sorted(
            (i for i in items if (keep is None or keep(i)) and wanted.matches(self.name(i))),
            key=self.name,
        )
        return sorted(shown, key=self.column(self.sort_key).order, reverse=self.descending)

    def next_sort(self) -> ListOrder[T]:
        """The next column, in its natural direction (names A-Z, numbers biggest first)."""
        keys = [c.key for c in self.columns]
        return self.sort_by(keys[(keys.index(self.sort_key) + 1) % len(keys)])

    def sort_by(self, key: str) -> ListOrder[T]:
        """Sort by `key`; choosing the current column again reverses the direction."""
        if key == self.sort_key:
            return replace(self, descending=not self.descending)
        return replace(self, sort_key=key, descending=self.column(key).numeric)

    def header(self, key: str) -> Text:
        """A column label with room for the sort arrow, so widths never jump."""
        spec = self.column(key)
        arrow = _NO_ARROW
        if key == self.sort_key:
            arrow = _DOWN if self.descending else _UP
        if spec.numeric:
            return Text(f"{arrow} {spec.label}", justify="right")
        return Text(f"{spec.label} {arrow}")

    def counted(self, shown: int, total: int, noun: str) -> str:
        """'6 topics', or '2 of 6 topics' while a filter is typed."""
        if NameFilter(self.filter):
            return f"{shown} of {total} {noun}s"
        return f"{total} {noun}{'' if total == 1 else 's'}"

    @property
    def sorted_as(self) -> str:
        """'sorted by topic ascending (s, S)': the order and the keys that change it."""
        direction = "descending" if self.descending else "ascending"
        return f"sorted by {self.column(self.sort_key).label} {direction} {SORT_KEYS}"


def fit_facts(parts: list[str], width: int) -> str:
    """`parts` of a facts line joined with ' · ', the last ones left out while they don't fit
    `width` (0: no limit): a narrow terminal keeps the first facts whole, not cut off."""
    shown = list(parts)
    while width > 0 and len(shown) > 1 and len(" · ".join(shown)) > width:
        shown.pop()
    return " · ".join(shown)
