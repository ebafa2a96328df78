"""A pane around one list that is filtered as you type and sorted by any column: the keys,
the filter field and the sort headers every such pane (Topics, Groups) shares.

`/` goes to the filter field, typing filters at once, enter or escape go back to the list;
`s` takes the next sort column, `S` reverses, a click on a header sorts by that column. The
subclass composes its widgets (the field from `filter_input`), adds the sort columns with
`add_order_columns`, places ORDER_BINDINGS in its own BINDINGS (so its footer shows its own
keys first) and shows its rows in `show_rows`, reading `self.order`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Generic, TypeVar

from textual import on
from textual.binding import Binding
from textual.widgets import Input

from .list_order import ListOrder
from .list_table import ListTable
from .pane import Pane

T = TypeVar("T")

ORDER_BINDINGS = [
    Binding("slash", "focus_filter", "Filter"),
    Binding("s", "cycle_sort", "Sort"),
    Binding("S", "reverse_sort", "Reverse sort", show=False),
    Binding("escape", "leave_filter", "Back to list", show=False),
    Binding("y", "copy_name", "Copy name", show=False),
]
_FILTER_CLASS = "-list-filter"


class OrderedListPane(Pane, Generic[T]):
    """A pane whose list (the ListTable `#{list_id}`) follows `order`."""

    def __init__(self, order: ListOrder[T], list_id: str, *, id: str) -> None:
        super().__init__(id=id)
        self.order = order
        self.list_id = list_id

    def show_rows(self) -> None:
        """Show the rows as `self.order` wants them (called whenever it changes)."""
        raise NotImplementedError

    @property
    def ordered_table(self) -> ListTable:
        return self.query_one(f"#{self.list_id}", ListTable)

    @staticmethod
    def filter_input(placeholder: str, id: str) -> Input:
        """The filter field, for the subclass's compose."""
        return Input(placeholder=placeholder, id=id, classes=_FILTER_CLASS)

    def add_order_columns(self, table: ListTable) -> None:
        for spec in self.order.columns:
            table.add_column(self.order.header(spec.key), key=spec.key)

    def on_show(self) -> None:
        """Coming into view (its tab chosen): keys go to the list unless already inside."""
        focused = self.screen.focused
        if focused is None or self not in focused.ancestors:
            self.ordered_table.focus()

    def on_resize(self) -> None:
        """Names and trends take what the width leaves: work them out once the list has
        its new size."""
        self.call_after_refresh(self.show_rows)

    def change_order(self, order: ListOrder[T]) -> None:
        sort_changed = (order.sort_key, order.descending) != (
            self.order.sort_key,
            self.order.descending,
        )
        self.order = order
        if sort_changed:
            self._show_headers()
        self.show_rows()

    def _show_headers(self) -> None:
        for key, column in self.ordered_table.columns.items():
            if self.order.sorts_by(key):
                column.label = self.order.header(key)

    @on(Input.Changed, f".{_FILTER_CLASS}")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.change_order(replace(self.order, filter=event.value))

    @on(Input.Submitted, f".{_FILTER_CLASS}")
    def _filter_submitted(self) -> None:
        self.ordered_table.focus()

    @on(ListTable.HeaderSelected)
    def _header_clicked(self, event: ListTable.HeaderSelected) -> None:
        if event.table.id == self.list_id and self.order.sorts_by(event.column):
            self.change_order(self.order.sort_by(event.column))

    def jump(self, argument: str) -> None:
        """`:topics orders`: the list filtered by the argument."""
        self.query_one(f".{_FILTER_CLASS}", Input).value = argument

    def action_copy_name(self) -> None:
        """The name under the cursor to the clipboard (`y`, as in k9s)."""
        name = self.ordered_table.cursor_key
        if name is None:
            self.notify("nothing under the cursor to copy", title="Copy", severity="warning")
            return
        self.app.copy_to_clipboard(name)
        self.notify(f"copied {name}", title="Copy")

    def action_focus_filter(self) -> None:
        self.query_one(f".{_FILTER_CLASS}", Input).focus()

    def action_leave_filter(self) -> None:
        self.ordered_table.focus()

    def action_cycle_sort(self) -> None:
        self.change_order(self.order.next_sort())

    def action_reverse_sort(self) -> None:
        self.change_order(self.order.sort_by(self.order.sort_key))
