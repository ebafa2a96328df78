"""The add-partitions dialog: the new partition count of a topic (CreatePartitions).

Kafka can only add partitions; the dialog does not second-guess that but sends the request
and shows the broker's refusal as it is ("The topic t currently has 3 partition(s); 2 would
not be an increase."), staying open for another try. It also says what adding partitions
does to keyed records, which is the surprise people meet later.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from ..kafka.admin import KafkaAdmin
from ..widgets.footer import WorkbenchFooter
from .admin_dialog import AdminDialog, one_field_css


class AddPartitionsScreen(AdminDialog[int]):
    """Dismisses with the new partition count, or None when cancelled."""

    BINDINGS = [("escape", "cancel", "Cancel")]
    PREFIX = "partitions"

    DEFAULT_CSS = one_field_css("AddPartitionsScreen", "partitions", "partitions-count")

    def __init__(self, admin: Callable[[], KafkaAdmin | None], topic: str, current: int) -> None:
        super().__init__(admin)
        self.topic = topic
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"Add partitions to {self.topic} (it has {self.current})", id="partitions-title"
            )
            yield Static(
                "Partitions can be added, never removed. Records with a key may go to a"
                " different partition afterwards, so per-key order is kept only for new records.",
                id="partitions-note",
            )
            with Horizontal(id="partitions-field"):
                yield Label("new partition count")
                yield Input(
                    str(self.current + 1),
                    placeholder=f"more than {self.current}",
                    type="integer",
                    id="partitions-count",
                    compact=True,
                )
            yield Static("", id="partitions-error", classes="-hidden")
            with Horizontal(id="partitions-buttons"):
                yield Button("Set count", variant="primary", id="partitions-ok", compact=True)
                yield Button("Cancel", id="partitions-cancel", compact=True)
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.query_one("#partitions-count", Input).focus()

    @on(Input.Submitted, "#partitions-count")
    @on(Button.Pressed, "#partitions-ok")
    def _submit(self) -> None:
        if self.sending:
            return
        text = self.query_one("#partitions-count", Input).value.strip()
        try:
            count = int(text)
        except ValueError:
            self.show_error(f"the partition count must be a whole number, got {text!r}")
            return
        self._set_count(count)

    @work(group="add-partitions")
    async def _set_count(self, count: int) -> None:
        adding = f"adding partitions to {self.topic}"
        if await self.send(lambda admin: admin.create_partitions(self.topic, count), adding):
            self.dismiss(count)
