"""A yes/no question before something that cannot be undone (deleting a topic).

Press `y` to confirm, `n` or `escape` to back out; the focused button is Cancel, so a stray
`enter` never destroys anything. Given `type_to_confirm`, the dialog asks for that text to be
typed instead (for clusters that are not the local one, where a slip costs more).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ..widgets.footer import WorkbenchFooter


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True when confirmed, False otherwise."""

    BINDINGS = [
        ("y", "confirm", "Yes"),
        ("n", "no", "No"),
        ("escape", "cancel", "Cancel"),
    ]

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; max-width: 95%; height: auto;
        border: round $error; background: $surface; padding: 0 1;
    }
    ConfirmScreen #confirm-title { text-style: bold; color: $error; }
    ConfirmScreen #confirm-question { margin: 1 0; }
    ConfirmScreen #confirm-hint { color: $kwb-muted; }
    ConfirmScreen #confirm-typed { margin-top: 1; background: $panel; }
    ConfirmScreen #confirm-buttons { height: 1; align-horizontal: right; margin-top: 1; }
    ConfirmScreen Button { margin-left: 2; }
    """

    def __init__(
        self,
        title: str,
        question: str,
        confirm_label: str = "Delete",
        type_to_confirm: str | None = None,
    ) -> None:
        super().__init__()
        self._title = title
        self._question = question
        self._confirm_label = confirm_label
        self._type_to_confirm = type_to_confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, id="confirm-title")
            yield Static(self._question, id="confirm-question")
            if self._type_to_confirm is not None:
                yield Static(
                    f"Type [b]{self._type_to_confirm}[/b] and press enter to confirm.",
                    id="confirm-hint",
                )
                yield Input(placeholder=self._type_to_confirm, id="confirm-typed", compact=True)
            else:
                yield Static("y: yes · n / escape: no", id="confirm-hint")
            with Horizontal(id="confirm-buttons"):
                yield Button(
                    self._confirm_label,
                    variant="error",
                    id="confirm-yes",
                    disabled=self._type_to_confirm is not None,
                    compact=True,
                )
                yield Button("Cancel", id="confirm-no", compact=True)
        yield WorkbenchFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Where the name must be typed, `y` and `n` are letters of it, not answers: they
        are neither bound nor shown in the footer."""
        return not (action in ("confirm", "no") and self._type_to_confirm is not None)

    def on_mount(self) -> None:
        focus_id = "#confirm-typed" if self._type_to_confirm is not None else "#confirm-no"
        self.query_one(focus_id).focus()

    @on(Input.Changed, "#confirm-typed")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm-yes", Button).disabled = event.value != self._type_to_confirm

    @on(Input.Submitted, "#confirm-typed")
    def _typed_and_submitted(self, event: Input.Submitted) -> None:
        if event.value == self._type_to_confirm:
            self.dismiss(True)

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        if self._type_to_confirm is None or (
            self.query_one("#confirm-typed", Input).value == self._type_to_confirm
        ):
            self.dismiss(True)

    def action_no(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        self.dismiss(False)
