"""A new version of a subject's schema, edited, checked and registered.

The editor starts from the version shown. ctrl+s first asks the registry whether the text is
compatible (`POST /compatibility/subjects/{s}/versions/latest?verbose=true`) and only then
registers it: refused, the registry's reasons show under the editor and the text stays, to be
fixed and tried again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from ..widgets.footer import WorkbenchFooter

Submit = Callable[[str], Awaitable[str | int]]
"""Checks and registers a text: the version registered, or why not (a message to show)."""


class RegisterSchemaScreen(ModalScreen[int | None]):
    """Dismisses with the version registered, or None when left."""

    BINDINGS = [
        Binding("ctrl+s", "register", "Register", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    DEFAULT_CSS = """
    RegisterSchemaScreen { align: center middle; }
    RegisterSchemaScreen > Vertical {
        width: 90%; height: 90%; border: round $primary; background: $surface; padding: 0 1;
    }
    RegisterSchemaScreen #register-title { text-style: bold; }
    RegisterSchemaScreen #register-text { height: 1fr; }
    RegisterSchemaScreen #register-messages { height: auto; max-height: 8; color: $error; }
    RegisterSchemaScreen #register-hint { color: $kwb-muted; }
    """

    def __init__(self, subject: str, text: str, language: str | None, submit: Submit) -> None:
        super().__init__()
        self.subject = subject
        self._text = text
        self._language = language
        self._submit = submit

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"New version of {self.subject}", id="register-title", markup=False)
            yield TextArea(
                self._text, language=self._language, id="register-text", show_line_numbers=True
            )
            yield Static("", id="register-messages", markup=False)
            yield Static(
                "ctrl+s: check compatibility, then register · escape: cancel", id="register-hint"
            )
        yield WorkbenchFooter()

    @work(exclusive=True, group="register-schema")
    async def action_register(self) -> None:
        messages = self.query_one("#register-messages", Static)
        messages.update("checking compatibility…")
        answer = await self._submit(self.query_one("#register-text", TextArea).text)
        if isinstance(answer, int):
            self.dismiss(answer)
        else:
            messages.update(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)
