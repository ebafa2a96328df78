"""The produce-again dialog: a record's key, value and headers sent to a topic of the user's
choice (`r` in a record's detail): its own topic to replay it, another to copy it there.

The topic field starts on the record's own topic and completes names from the cluster. The
record keeps its key, value and headers and gets a new timestamp (now) and a partition
chosen as any producer's would (the key's hash, or the producer's batch for no key). A
refusal (a topic that does not exist, a record too large for it) is shown as the broker
said it and the dialog stays open; it closes with where the record went.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from ..kafka.producing import Acknowledgement
from ..widgets.footer import WorkbenchFooter
from ..widgets.suggesters import TopicSuggester
from .admin_dialog import RequestDialog, one_field_css


class ProduceAgainScreen(RequestDialog[Acknowledgement]):
    """Dismisses with the record's acknowledgement, or None when cancelled."""

    BINDINGS = [("escape", "cancel", "Cancel")]
    PREFIX = "again"

    DEFAULT_CSS = one_field_css("ProduceAgainScreen", "again", "again-topic")

    def __init__(
        self,
        place: str,
        topic: str,
        topics: Callable[[], Iterable[str]],
        produce: Callable[[str], Awaitable[Acknowledgement]] | None,
    ) -> None:
        """`place` names the record (`orders/2@41`); `produce(topic)` sends it (None: no
        cluster to send it to)."""
        super().__init__()
        self.place = place
        self.topic = topic
        self._topics = topics
        self._produce = produce

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Produce {self.place} again", id="again-title")
            yield Static(
                "Its key, value and headers, with a new timestamp; the partition is chosen by"
                " its key, as any producer's would be.",
                id="again-note",
            )
            with Horizontal(id="again-field"):
                yield Label("to topic")
                yield Input(
                    self.topic,
                    placeholder="topic",
                    suggester=TopicSuggester(self._topics),
                    id="again-topic",
                    compact=True,
                )
            yield Static("", id="again-error", classes="-hidden")
            with Horizontal(id="again-buttons"):
                yield Button("Produce", variant="primary", id="again-ok", compact=True)
                yield Button("Cancel", id="again-cancel", compact=True)
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.query_one("#again-topic", Input).focus()

    @on(Input.Submitted, "#again-topic")
    @on(Button.Pressed, "#again-ok")
    def _submit(self) -> None:
        if not self.sending:
            self._send(self.query_one("#again-topic", Input).value.strip())

    @work(group="produce-again")
    async def _send(self, topic: str) -> None:
        if self._produce is None:
            self.not_connected()
            return
        acknowledgement = await self.attempt(self._produce(topic), f"producing to {topic}")
        if acknowledgement is not None:
            self.dismiss(acknowledgement)
