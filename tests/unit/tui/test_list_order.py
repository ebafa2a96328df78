"""The filter and sort state every list pane shares (tui/widgets/list_order.py), on plain rows:
what matches, in which order, what the headers and the facts line say."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tui.widgets.list_order import Column, ListOrder, NameFilter, fit_facts


@dataclass(frozen=True)
class Row:
    name: str
    lag: int | None


COLUMNS = (
    Column("name", "name", False, lambda r: r.name),
    Column("lag", "lag", True, lambda r: -1 if r.lag is None else r.lag),
)
ROWS = [Row("orders", 5), Row("billing", 40), Row("orders-dlq", 5), Row("audit", None)]


def order(**changes: object) -> ListOrder[Row]:
    return replace(ListOrder(COLUMNS, lambda r: r.name, "name"), **changes)  # type: ignore[arg-type]


def names(rows: list[Row]) -> list[str]:
    return [r.name for r in rows]


def test_filter_is_a_case_insensitive_substring_or_a_regex_when_it_compiles() -> None:
    assert NameFilter("ORD").matches("orders")
    assert NameFilter("^bill|dlq$").matches("orders-dlq")
    assert not NameFilter("^bill|dlq$").matches("orders")
    assert NameFilter("orders[").matches("orders[1]"), "an invalid regex is plain text"
    assert not NameFilter("orders[").matches("orders")
    assert NameFilter("  ").matches("anything") and not NameFilter("  ")


def test_select_filters_then_sorts_with_ties_in_name_order() -> None:
    assert names(order().select(ROWS)) == ["audit", "billing", "orders", "orders-dlq"]
    by_lag = order().sort_by("lag")
    assert by_lag.descending, "numbers sort biggest first when first chosen"
    assert names(by_lag.select(ROWS)) == ["billing", "orders", "orders-dlq", "audit"]
    assert names(by_lag.sort_by("lag").select(ROWS)) == ["audit", "orders", "orders-dlq", "billing"]
    assert names(order(filter="ord").select(ROWS)) == ["orders", "orders-dlq"]
    kept = order().select(ROWS, keep=lambda r: r.lag is not None)
    assert names(kept) == ["billing", "orders", "orders-dlq"]


def test_next_sort_cycles_the_columns_in_their_natural_direction() -> None:
    first = order()
    second = first.next_sort()
    assert (second.sort_key, second.descending) == ("lag", True)
    back = second.next_sort()
    assert (back.sort_key, back.descending) == ("name", False)
    assert first.sorts_by("lag") and not first.sorts_by("trend")


def test_headers_and_facts_say_the_order() -> None:
    by_lag = order().sort_by("lag")
    assert str(by_lag.header("lag")) == "▼ lag" and by_lag.header("lag").justify == "right"
    assert str(by_lag.header("name")) == "name  ", "room for the arrow, so widths never jump"
    assert str(order().header("name")) == "name ▲"
    assert COLUMNS[1].header_width == len("▼ lag")
    assert by_lag.sorted_as == "sorted by lag descending (s, S)"
    assert order().counted(4, 4, "group") == "4 groups"
    assert order().counted(1, 1, "group") == "1 group"
    assert order(filter="x").counted(0, 4, "group") == "0 of 4 groups"


def test_facts_drop_their_last_parts_to_fit() -> None:
    parts = ["4 groups", "sorted by lag descending (s, S)", "total lag 12"]
    assert fit_facts(parts, 0) == " · ".join(parts)
    assert fit_facts(parts, 45) == "4 groups · sorted by lag descending (s, S)"
    assert fit_facts(parts, 3) == "4 groups", "the first part always stays"
