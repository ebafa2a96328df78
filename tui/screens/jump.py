"""`:` then a pane's name, as in k9s: `:topics`, `:groups orders` (the pane with its filter
set to `orders`), `:3`. A prefix is enough (`:gr`); the app does the jump with the text the
screen dismisses with."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input


class JumpScreen(ModalScreen[str | None]):
    """One line at the bottom; enter jumps, escape does not."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    DEFAULT_CSS = """
    JumpScreen { align: left bottom; background: transparent; }
    JumpScreen Input { width: 100%; height: 1; border: none; padding: 0 1; background: $panel; }
    """

    def __init__(self, hint: str) -> None:
        super().__init__()
        self.hint = hint

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self.hint, id="jump-to", compact=True)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
