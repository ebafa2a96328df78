"""The reset-offsets dialog: Kafka's reset scenarios with a dry run before anything moves.

Choose where to (earliest, latest, an offset, a timestamp, or a shift by N) and which topics,
then `ctrl+r` for a dry run: a table of every partition's committed offset now and after,
with the change. `ctrl+e` commits exactly what the dry run showed. A group with members
refuses a reset (its consumers would overwrite the offsets at their next commit); the dialog
then says so in Kafka's words and stays open, so you can stop the consumers and try again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from ..host import host_of
from ..kafka.admin import KafkaAdmin
from ..kafka.errors import KafkaToolError
from ..kafka.models import TopicSelection
from ..kafka.offset_reset import (
    ByDuration,
    ResetTarget,
    ShiftBy,
    ToEarliest,
    ToLatest,
    ToOffset,
    ToTimestamp,
)
from ..kafka.reset_preview import ResetPreview, execute_reset, preview_reset
from ..widgets.footer import WorkbenchFooter

ALL_TOPICS = "*"
STRATEGIES = (
    ("earliest", "earliest (log start offset)"),
    ("latest", "latest (log end offset)"),
    ("offset", "to offset"),
    ("timestamp", "to timestamp"),
    ("shift", "shift by N"),
)

PLACEHOLDERS = {
    "earliest": "",
    "latest": "",
    "offset": "offset",
    "timestamp": "when",
    "shift": "records (+/-)",
}
HINTS = {
    "earliest": "",
    "latest": "",
    "offset": "an offset, e.g. 1000 (clamped to the log)",
    "timestamp": "2025-01-31T09:30:00 (UTC), epoch ms, or a time ago: 90s, 15m, 2h, 1d",
    "shift": "records to move by: -100 re-reads 100, 50 skips 50",
}
_AGO = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*(ago)?\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_when(text: str) -> ToTimestamp | ByDuration:
    """A moment: ISO 8601 (no zone means UTC, as Kafka's tool reads it), epoch ms, or a
    duration before now (`15m`)."""
    text = text.strip()
    ago = _AGO.match(text)
    if ago is not None:
        return ByDuration(timedelta(**{_UNITS[ago.group(2)]: int(ago.group(1))}))
    if text.isdigit():
        return ToTimestamp(int(text))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (try 2025-01-31T09:30:00, epoch ms, or 15m)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return ToTimestamp(int(moment.timestamp() * 1000))


def reset_target(strategy: str, value: str) -> ResetTarget:
    """The reset scenario the form describes; ValueError with a readable message if not."""
    if strategy == "earliest":
        return ToEarliest()
    if strategy == "latest":
        return ToLatest()
    if strategy == "timestamp":
        return parse_when(value)
    try:
        number = int(value.strip().replace(",", "").replace("_", ""))
    except ValueError:
        what = "an offset" if strategy == "offset" else "a whole number (may be negative)"
        raise ValueError(f"{what} is needed, got {value.strip()!r}") from None
    if strategy == "offset":
        if number < 0:
            raise ValueError("an offset is 0 or more")
        return ToOffset(number)
    return ShiftBy(number)


def change_text(delta: int | None) -> str:
    if delta is None:
        return "new"
    return f"{delta:+,}" if delta else "0"


class ResetOffsetsScreen(ModalScreen[ResetPreview | None]):
    """Dismisses with the executed reset, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+r", "dry_run", "Dry run", priority=True),
        Binding("ctrl+e", "execute", "Execute", priority=True),
    ]

    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    COMPONENT_CLASSES = {"reset--back", "reset--forward", "reset--same"}

    DEFAULT_CSS = """
    ResetOffsetsScreen { align: center middle; }
    ResetOffsetsScreen > Vertical {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    ResetOffsetsScreen #reset-title { text-style: bold; color: $primary; }
    ResetOffsetsScreen #reset-state { color: $kwb-muted; }
    ResetOffsetsScreen #reset-state.-active { color: $warning; }
    ResetOffsetsScreen .field { height: 1; margin-top: 1; }
    ResetOffsetsScreen .field Label { width: 12; color: $kwb-muted; }
    ResetOffsetsScreen .field Select { width: 1fr; }
    ResetOffsetsScreen .field Input { width: 1fr; background: $panel; }
    ResetOffsetsScreen #reset-hint { color: $kwb-muted; padding-left: 12; height: auto; }
    ResetOffsetsScreen #reset-hint.-empty { display: none; }
    ResetOffsetsScreen #reset-caption { text-style: bold; margin-top: 1; }
    ResetOffsetsScreen #reset-preview { height: auto; max-height: 9; }
    ResetOffsetsScreen #reset-notes { color: $kwb-muted; height: auto; }
    ResetOffsetsScreen #reset-status { height: auto; }
    ResetOffsetsScreen #reset-status.-error { color: $error; text-style: bold; }
    ResetOffsetsScreen #reset-status.-done { color: $success; }
    ResetOffsetsScreen #reset-buttons { height: 1; align-horizontal: right; margin-top: 1; }
    ResetOffsetsScreen Button { margin-left: 2; }
    ResetOffsetsScreen.-short .field { margin-top: 0; }
    ResetOffsetsScreen.-short #reset-preview { max-height: 6; }
    ResetOffsetsScreen.-short #reset-buttons { margin-top: 0; }
    ResetOffsetsScreen > .reset--back { color: $accent; }
    ResetOffsetsScreen > .reset--forward { color: $kwb-rate; }
    ResetOffsetsScreen > .reset--same { color: $kwb-muted; }
    """

    def __init__(
        self,
        admin: Callable[[], KafkaAdmin | None],
        group_id: str,
        topics: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self._admin = admin
        self.group_id = group_id
        self.topics = list(topics)
        self.preview: ResetPreview | None = None
        """The dry run on screen; cleared when the form changes, so execute never commits
        something that was not previewed."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Reset offsets of group {self.group_id}", id="reset-title")
            yield Static("ctrl+r: dry run · ctrl+e: execute what it shows", id="reset-state")
            with Horizontal(classes="field"):
                yield Label("reset to")
                yield Select(
                    [(label, key) for key, label in STRATEGIES],
                    value="earliest",
                    allow_blank=False,
                    id="reset-strategy",
                    compact=True,
                )
            with Horizontal(classes="field"):
                yield Label("value")
                yield Input(id="reset-value", compact=True, disabled=True)
            yield Static("", id="reset-hint", classes="-empty")
            with Horizontal(classes="field"):
                yield Label("topics")
                yield Select(
                    [("every topic with committed offsets", ALL_TOPICS)]
                    + [(topic, topic) for topic in self.topics],
                    value=ALL_TOPICS,
                    allow_blank=False,
                    id="reset-scope",
                    compact=True,
                )
            yield Static("dry run: nothing committed yet", id="reset-caption")
            yield DataTable(id="reset-preview", cursor_type="row", zebra_stripes=True)
            yield Static("", id="reset-notes")
            yield Static("", id="reset-status")
            with Horizontal(id="reset-buttons"):
                yield Button("Dry run ^r", id="reset-dry-run", compact=True)
                yield Button("Execute ^e", variant="warning", id="reset-execute", compact=True)
                yield Button("Cancel", id="reset-cancel", compact=True)
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        table = self.query_one("#reset-preview", DataTable)
        table.add_column("topic", key="topic")
        for key, label in (("partition", "partition"), ("current", "current")):
            table.add_column(Text(label, justify="right"), key=key)
        table.add_column("→", key="arrow")
        for key, label in (("new", "new"), ("change", "change")):
            table.add_column(Text(label, justify="right"), key=key)
        self.query_one("#reset-caption").display = False
        table.display = False
        self.query_one("#reset-strategy", Select).focus()

    # -- the form -----------------------------------------------------------------------------

    @property
    def strategy(self) -> str:
        return str(self.query_one("#reset-strategy", Select).value)

    def target(self) -> ResetTarget:
        return reset_target(self.strategy, self.query_one("#reset-value", Input).value)

    def scope(self) -> list[TopicSelection] | None:
        topic = self.query_one("#reset-scope", Select).value
        return None if topic == ALL_TOPICS else [TopicSelection(str(topic))]

    @on(Select.Changed, "#reset-strategy")
    def _strategy_changed(self) -> None:
        value = self.query_one("#reset-value", Input)
        value.disabled = self.strategy in ("earliest", "latest")
        value.placeholder = PLACEHOLDERS[self.strategy]
        hint = self.query_one("#reset-hint", Static)
        hint.update(HINTS[self.strategy])
        hint.set_class(not HINTS[self.strategy], "-empty")
        self._form_changed()

    @on(Select.Changed, "#reset-scope")
    @on(Input.Changed, "#reset-value")
    def _form_changed(self) -> None:
        if self.preview is not None:
            self.preview = None
            self.query_one("#reset-caption", Static).update(
                "the form changed: ctrl+r for a new dry run"
            )
        self._status("")

    @on(Input.Submitted, "#reset-value")
    def _value_submitted(self) -> None:
        self.action_dry_run()

    def _status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#reset-status", Static)
        status.update(text)
        status.set_class(kind == "error", "-error")
        status.set_class(kind == "done", "-done")

    # -- dry run and execute ------------------------------------------------------------------

    def action_dry_run(self) -> None:
        try:
            target = self.target()
        except ValueError as exc:
            self._status(str(exc), "error")
            return
        self._status("working out the new offsets…")
        self._dry_run(target, self.scope())

    @work(exclusive=True, group="reset-offsets")
    async def _dry_run(self, target: ResetTarget, scope: list[TopicSelection] | None) -> None:
        admin = self._admin()
        if admin is None:
            self._status("not connected to the cluster", "error")
            return
        try:
            with host_of(self).busy(f"working out the new offsets of {self.group_id}"):
                preview = await preview_reset(admin, self.group_id, target, scope)
        except KafkaToolError as exc:
            self._status(str(exc), "error")
            return
        self.show_preview(preview)

    def show_preview(self, preview: ResetPreview) -> None:
        """Show a dry run (from the worker, or fixed data in snapshot tests)."""
        self.preview = preview
        table = self.query_one("#reset-preview", DataTable)
        table.clear()
        for row in preview.rows:
            delta = row.delta
            style = "reset--same" if not delta else "reset--back" if delta < 0 else "reset--forward"
            if delta is None:
                style = "reset--forward"
            rich_style = self.get_component_rich_style(style, partial=True)
            table.add_row(
                row.topic,
                Text(str(row.partition), justify="right"),
                Text("-" if row.current is None else f"{row.current:,}", justify="right"),
                "→",
                Text(f"{row.new:,}", justify="right", style=rich_style),
                Text(change_text(delta), justify="right", style=rich_style),
            )
        table.display = True
        caption = self.query_one("#reset-caption", Static)
        caption.display = True
        moved = sum(1 for r in preview.rows if r.delta != 0)
        caption.update(
            f"dry run: {len(preview.rows)} partition(s), {moved} would move; nothing committed yet"
        )
        self.query_one("#reset-notes", Static).update("\n".join(preview.notes))
        self._show_state(preview)
        if not preview.rows:
            self._status("the group has no committed offsets in this scope", "error")
        elif preview.refused:
            self._status(
                f"Kafka will refuse to execute this: {preview.reason}"
                " Stop the group's consumers first.",
                "error",
            )
        else:
            self._status("ctrl+e commits these offsets")

    def _show_state(self, preview: ResetPreview) -> None:
        state = self.query_one("#reset-state", Static)
        state.update(
            f"group state {preview.state}"
            + (" · has members" if preview.refused else " · no members, offsets can be reset")
        )
        state.set_class(preview.refused, "-active")

    def action_execute(self) -> None:
        if self.preview is None:
            self._status("make a dry run first (ctrl+r): execute commits what it shows", "error")
            return
        if not self.preview.rows:
            self._status("nothing to commit", "error")
            return
        self._status("committing…")
        self._execute(self.preview)

    @work(exclusive=True, group="reset-offsets")
    async def _execute(self, preview: ResetPreview) -> None:
        admin = self._admin()
        if admin is None:
            self._status("not connected to the cluster", "error")
            return
        try:
            with host_of(self).busy(f"committing the offsets of {self.group_id}"):
                result = await execute_reset(admin, preview)
        except KafkaToolError as exc:
            self._status(str(exc), "error")
            return
        if not result.executed:
            self._show_state(result)
            self._status(
                f"Refused: {result.reason} Stop the group's consumers (or wait for them to"
                " leave), then execute again.",
                "error",
            )
            return
        self.dismiss(result)

    @on(Button.Pressed, "#reset-dry-run")
    def _dry_run_pressed(self) -> None:
        self.action_dry_run()

    @on(Button.Pressed, "#reset-execute")
    def _execute_pressed(self) -> None:
        self.action_execute()

    @on(Button.Pressed, "#reset-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
