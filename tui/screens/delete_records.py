"""Ask for the offset below which a partition's records go (DeleteRecords).

The suggested offset is the lowest committed offset of any group on the partition: records
every group has already consumed, so nobody loses what they have not read. Typing the offset
and pressing enter is the confirmation (there is no undo), and the dialog says so.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ..widgets.footer import WorkbenchFooter

HIGH_WATERMARK = -1
"""DeleteRecords' offset for "everything up to the high watermark"."""


def parse_delete_offset(text: str) -> int:
    """An offset (0 or more), or empty / `-1` / `all` for the high watermark."""
    text = text.strip().replace(",", "").replace("_", "").lower()
    if text in ("", "-1", "all", "hw"):
        return HIGH_WATERMARK
    if not text.isdigit():
        raise ValueError(f"an offset is a whole number, got {text!r}")
    return int(text)


class DeleteRecordsScreen(ModalScreen[int | None]):
    """Dismisses with the offset to delete before (-1: the high watermark), or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    DeleteRecordsScreen { align: center middle; }
    DeleteRecordsScreen > Vertical {
        width: 70; max-width: 95%; height: auto;
        border: round $error; background: $surface; padding: 0 1;
    }
    DeleteRecordsScreen #delete-title { text-style: bold; color: $error; }
    DeleteRecordsScreen #delete-explain { margin: 1 0; }
    DeleteRecordsScreen #delete-offset { background: $panel; }
    DeleteRecordsScreen #delete-error { color: $error; height: auto; }
    DeleteRecordsScreen #delete-buttons { height: 1; align-horizontal: right; margin-top: 1; }
    DeleteRecordsScreen Button { margin-left: 2; }
    """

    def __init__(self, partition: str, suggested: int, log_start: int, high_watermark: int) -> None:
        super().__init__()
        self.partition = partition
        self.suggested = suggested
        self.log_start = log_start
        self.high_watermark = high_watermark

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Delete records of {self.partition}", id="delete-title")
            yield Static(
                f"Records from {self.log_start:,} to {self.high_watermark:,}. Records before the"
                " offset below are deleted for good and the log start offset moves there."
                " Empty means up to the high watermark. Enter deletes.",
                id="delete-explain",
            )
            yield Input(str(self.suggested), id="delete-offset", compact=True)
            yield Static("", id="delete-error")
            with Horizontal(id="delete-buttons"):
                yield Button("Delete", variant="error", id="delete-yes", compact=True)
                yield Button("Cancel", id="delete-no", compact=True)
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.query_one("#delete-offset", Input).focus()

    @on(Input.Submitted, "#delete-offset")
    @on(Button.Pressed, "#delete-yes")
    def _submit(self) -> None:
        try:
            offset = parse_delete_offset(self.query_one("#delete-offset", Input).value)
        except ValueError as exc:
            self.query_one("#delete-error", Static).update(str(exc))
            return
        self.dismiss(offset)

    @on(Button.Pressed, "#delete-no")
    def action_cancel(self) -> None:
        self.dismiss(None)
