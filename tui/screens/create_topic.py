"""The create-topic dialog: name, partitions, replication factor and configs.

The dialog sends CreateTopics itself and stays open when the broker refuses, showing Kafka's
error name and message (INVALID_REPLICATION_FACTOR: "... only 1 broker(s) are registered")
next to the fields, so the user fixes the one wrong value instead of typing everything again.
Empty partitions or replication factor mean the broker's defaults (-1 on the wire).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Static, TextArea

from ..kafka.admin import KafkaAdmin
from ..widgets.footer import WorkbenchFooter
from .admin_dialog import AdminDialog


def parse_config_lines(text: str) -> dict[str, str]:
    """`key=value` per line; blank lines and `#` comments are skipped."""
    configs: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"configs line {number}: expected key=value, got {line!r}")
        configs[key.strip()] = value.strip()
    return configs


def _optional_count(text: str, what: str) -> int:
    """An empty field is the broker's default (-1); anything else a positive number."""
    text = text.strip()
    if not text:
        return -1
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what} must be a whole number, got {text!r}") from None


class CreateTopicScreen(AdminDialog[str]):
    """Dismisses with the new topic's name, or None when cancelled."""

    BINDINGS = [
        ("escape", "cancel", "Cancel"),
        ("ctrl+s", "create", "Create"),
    ]
    PREFIX = "create"

    DEFAULT_CSS = """
    CreateTopicScreen { align: center middle; }
    CreateTopicScreen > VerticalScroll {
        width: 72; max-width: 95%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    CreateTopicScreen #create-title { text-style: bold; color: $primary; }
    CreateTopicScreen #create-hint { color: $kwb-muted; margin-bottom: 1; }
    CreateTopicScreen .field { height: 1; margin-bottom: 1; }
    CreateTopicScreen .field Label { width: 20; color: $kwb-muted; }
    CreateTopicScreen .field Input { width: 1fr; background: $panel; }
    CreateTopicScreen #create-configs-label { color: $kwb-muted; }
    CreateTopicScreen #create-configs { height: 4; border: none; padding: 0; background: $panel; }
    CreateTopicScreen #create-error { color: $error; height: auto; margin-top: 1; }
    CreateTopicScreen #create-error.-hidden { display: none; }
    CreateTopicScreen #create-buttons { height: 1; align-horizontal: right; margin-top: 1; }
    CreateTopicScreen Button { margin-left: 2; }
    """

    def __init__(self, admin: Callable[[], KafkaAdmin | None]) -> None:
        super().__init__(admin)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Create topic", id="create-title")
            yield Static(
                "tab: next field · enter or ctrl+s: create · esc: cancel", id="create-hint"
            )
            with Horizontal(classes="field"):
                yield Label("name")
                yield Input(placeholder="e.g. orders", id="create-name", compact=True)
            with Horizontal(classes="field"):
                yield Label("partitions")
                yield Input(
                    placeholder="broker default",
                    type="integer",
                    id="create-partitions",
                    compact=True,
                )
            with Horizontal(classes="field"):
                yield Label("replication factor")
                yield Input(
                    placeholder="broker default",
                    type="integer",
                    id="create-replication",
                    compact=True,
                )
            yield Label(
                "configs, one key=value per line (e.g. retention.ms=86400000)",
                id="create-configs-label",
            )
            yield TextArea(
                id="create-configs",
                soft_wrap=False,
                placeholder="optional, e.g.\nretention.ms=86400000\ncleanup.policy=compact",
            )
            yield Static("", id="create-error", classes="-hidden")
            with Horizontal(id="create-buttons"):
                yield Button("Create", variant="primary", id="create-ok", compact=True)
                yield Button("Cancel", id="create-cancel", compact=True)
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.query_one("#create-name", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#create-ok")
    def action_create(self) -> None:
        if self.sending:
            return
        name = self.query_one("#create-name", Input).value.strip()
        try:
            if not name:
                raise ValueError("the topic needs a name")
            partitions = _optional_count(
                self.query_one("#create-partitions", Input).value, "partitions"
            )
            replication = _optional_count(
                self.query_one("#create-replication", Input).value, "replication factor"
            )
            configs = parse_config_lines(self.query_one("#create-configs", TextArea).text)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self._create(name, partitions, replication, configs)

    @work(group="create-topic")
    async def _create(
        self, name: str, partitions: int, replication: int, configs: dict[str, str]
    ) -> None:
        def create(admin: KafkaAdmin) -> Awaitable[None]:
            return admin.create_topic(name, partitions, replication, configs)

        if await self.send(create, f"creating topic {name}"):
            self.dismiss(name)
