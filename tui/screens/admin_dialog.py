"""What the dialogs that send one admin request share: send it once, show a refusal, stay open.

The create-topic and add-partitions dialogs both disable their OK button while the request is
out (a second submit would race the first, and could report TOPIC_ALREADY_EXISTS for the topic
the first one just created), show the broker's refusal word for word (plain text: Kafka echoes
what was typed, brackets included) and stay open for another try.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.text import Text
from textual import on
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..kafka.admin import KafkaAdmin
from ..kafka.errors import KafkaToolError

T = TypeVar("T")


class AdminDialog(ModalScreen[T | None]):
    """Subclasses compose a Static `#{prefix}-error` and Buttons `#{prefix}-ok`/`-cancel`."""

    PREFIX = ""

    def __init__(self, admin: Callable[[], KafkaAdmin | None]) -> None:
        super().__init__()
        self._admin = admin

    @property
    def sending(self) -> bool:
        """A request is out (its OK button is disabled until it is answered)."""
        return self.query_one(f"#{self.PREFIX}-ok", Button).disabled

    def show_error(self, message: str) -> None:
        error = self.query_one(f"#{self.PREFIX}-error", Static)
        error.update(Text(message))
        error.set_class(not message, "-hidden")

    async def send(self, request: Callable[[KafkaAdmin], Awaitable[object]]) -> bool:
        """Run `request`; False (with the reason shown) when there's no cluster or it refuses."""
        admin = self._admin()
        if admin is None:
            self.show_error("not connected to the cluster; try again when it is back")
            return False
        button = self.query_one(f"#{self.PREFIX}-ok", Button)
        button.disabled = True
        self.show_error("")
        try:
            await request(admin)
        except KafkaToolError as exc:
            self.show_error(str(exc))
            return False
        finally:
            button.disabled = False
        return True

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == f"{self.PREFIX}-cancel":
            self.action_cancel()
