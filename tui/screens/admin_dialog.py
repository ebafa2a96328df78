"""What the dialogs that send one request share: send it once, show a refusal, stay open.

The create-topic, add-partitions and produce-again dialogs all disable their OK button while
the request is out (a second submit would race the first, and could report
TOPIC_ALREADY_EXISTS for the topic the first one just created, or produce a record twice),
show the broker's refusal word for word (plain text: Kafka echoes what was typed, brackets
included) and stay open for another try.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.text import Text
from textual import on
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..host import host_of
from ..kafka.admin import KafkaAdmin
from ..kafka.errors import KafkaToolError

T = TypeVar("T")
R = TypeVar("R")


def one_field_css(screen: str, prefix: str, field: str) -> str:
    """The look of a dialog of one labelled field (add partitions, produce again): a title,
    a note, the field, the refusal, the buttons; ids `#{prefix}-...`, the field's `#{field}`."""
    return f"""
    {screen} {{ align: center middle; }}
    {screen} > Vertical {{
        width: 64; max-width: 95%; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }}
    {screen} #{prefix}-title {{ text-style: bold; color: $primary; }}
    {screen} #{prefix}-note {{ color: $kwb-muted; margin: 1 0; }}
    {screen} #{prefix}-error {{ color: $error; height: auto; margin-top: 1; }}
    {screen} #{prefix}-error.-hidden {{ display: none; }}
    {screen} #{prefix}-field {{ height: 1; }}
    {screen} #{prefix}-field Label {{ color: $kwb-muted; padding-right: 1; }}
    {screen} #{field} {{ width: 1fr; background: $panel; }}
    {screen} #{prefix}-buttons {{ height: 1; align-horizontal: right; margin-top: 1; }}
    {screen} Button {{ margin-left: 2; }}
    """


class RequestDialog(ModalScreen[T | None]):
    """Subclasses compose a Static `#{prefix}-error` and Buttons `#{prefix}-ok`/`-cancel`."""

    PREFIX = ""

    @property
    def sending(self) -> bool:
        """A request is out (its OK button is disabled until it is answered)."""
        return self.query_one(f"#{self.PREFIX}-ok", Button).disabled

    def show_error(self, message: str) -> None:
        error = self.query_one(f"#{self.PREFIX}-error", Static)
        error.update(Text(message))
        error.set_class(not message, "-hidden")

    async def attempt(self, request: Awaitable[R], what: str) -> R | None:
        """Await `request` with the OK button disabled and `what` it does said as under way
        (Host.busy); None (with the reason shown) when it is refused."""
        button = self.query_one(f"#{self.PREFIX}-ok", Button)
        button.disabled = True
        self.show_error("")
        try:
            with host_of(self).busy(what):
                return await request
        except KafkaToolError as exc:
            self.show_error(str(exc))
            return None
        finally:
            button.disabled = False

    def not_connected(self) -> None:
        self.show_error("not connected to the cluster; try again when it is back")

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == f"{self.PREFIX}-cancel":
            self.action_cancel()


class AdminDialog(RequestDialog[T]):
    """A RequestDialog whose request goes through the host's admin client."""

    def __init__(self, admin: Callable[[], KafkaAdmin | None]) -> None:
        super().__init__()
        self._admin = admin

    async def send(self, request: Callable[[KafkaAdmin], Awaitable[object]], what: str) -> bool:
        """Run `request`; False (with the reason shown) when there's no cluster or it refuses."""
        admin = self._admin()
        if admin is None:
            self.not_connected()
            return False

        async def answered() -> bool:
            await request(admin)
            return True

        return await self.attempt(answered(), what) is not None
