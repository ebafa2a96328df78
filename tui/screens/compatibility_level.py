"""A subject's compatibility level, chosen from Confluent's seven.

The list starts on the level in force; enter sets it as the subject's own (`PUT /config/{s}`).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from localbroker.public import CompatibilityLevel

from ..widgets.footer import WorkbenchFooter


class CompatibilityLevelScreen(ModalScreen[CompatibilityLevel | None]):
    """Dismisses with the level chosen, or None when left."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    CompatibilityLevelScreen { align: center middle; }
    CompatibilityLevelScreen > Vertical {
        width: 48; height: auto; border: round $primary; background: $surface; padding: 0 1;
    }
    CompatibilityLevelScreen #level-title { text-style: bold; margin-bottom: 1; }
    CompatibilityLevelScreen OptionList { height: auto; }
    """

    def __init__(self, subject: str, current: CompatibilityLevel) -> None:
        super().__init__()
        self.subject = subject
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Compatibility of {self.subject}", id="level-title", markup=False)
            yield OptionList(
                *(Option(level.value, id=level.value) for level in CompatibilityLevel),
                id="level-list",
            )
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        levels = self.query_one("#level-list", OptionList)
        levels.highlighted = list(CompatibilityLevel).index(self.current)
        levels.focus()

    @on(OptionList.OptionSelected, "#level-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.dismiss(CompatibilityLevel(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)
