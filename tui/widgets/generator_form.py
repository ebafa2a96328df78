"""The form of a new traffic generator: topic, rate, record size, keys, value template,
headers, compression and acks, and transactions (records in each, the share aborted; empty:
none), in four rows that fit 80 columns, with Start at the end.

It only reads its fields: GeneratorSpec's parser (tui/kafka/generator.py) says what is wrong
with them, and the pane starts the generator.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select

from ..kafka.clients import ACKS, CODECS
from ..kafka.generator import GeneratorSpec, parse_spec
from ..kafka.perf.records import KEY_STRATEGIES, VALUE_TEMPLATES
from .generator_schema import GeneratorSchema
from .type_ahead import type_ahead

COUNTED_KEYS = ("round-robin", "distinct")
FIELD_WIDGETS = {
    "topic": "gen-topic",
    "rate": "gen-rate",
    "record_size": "gen-size",
    "keys": "gen-keys",
    "key_count": "gen-key-count",
    "template": "gen-template",
    "headers": "gen-headers",
    "compression": "gen-compression",
    "acks": "gen-acks",
    "transactions": "gen-txn-records",
}
"""The form's widget for each GeneratorSpec field."""


class GeneratorForm(Vertical):
    """Fields of a GeneratorSpec; Start (or enter in a field) posts Submitted."""

    DEFAULT_CSS = """
    GeneratorForm { height: auto; padding: 0 1; }
    GeneratorForm .form-row { height: 1; }
    GeneratorForm Label { width: auto; padding: 0 1 0 0; color: $kwb-muted; }
    GeneratorForm .form-row > Label:first-child { width: 8; }
    GeneratorForm Label.-after { padding: 0 1 0 1; }
    GeneratorForm Input { width: 1fr; }
    GeneratorForm #gen-rate { width: 9; }
    GeneratorForm #gen-size { width: 8; }
    GeneratorForm #gen-key-count { width: 6; }
    GeneratorForm #gen-keys { width: 17; }
    GeneratorForm #gen-template { width: 14; }
    GeneratorForm #gen-compression { width: 12; }
    GeneratorForm #gen-acks { width: 9; }
    GeneratorForm #gen-txn-records { width: 8; }
    GeneratorForm #gen-txn-abort { width: 5; }
    GeneratorForm #gen-start { width: auto; min-width: 9; margin-left: 1; }
    """

    class Submitted(Message):
        """Start was asked for: the pane reads `spec()` and starts a generator."""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label("topic")
            yield Input(placeholder="topic name (→ completes)", id="gen-topic", compact=True)
            yield Label("rate", classes="-after")
            yield Input("1000", placeholder="max", id="gen-rate", compact=True)
            yield Label("/s  size", classes="-after")
            yield Input("200", id="gen-size", compact=True)
            yield Label("B", classes="-after")
        with Horizontal(classes="form-row"):
            yield Label("keys")
            yield _select(KEY_STRATEGIES, "distinct", "gen-keys")
            yield Input("10", id="gen-key-count", compact=True, tooltip="how many keys")
            yield Label("value", classes="-after")
            yield _select(VALUE_TEMPLATES, "json", "gen-template")
            yield Label("acks", classes="-after")
            yield _select(tuple(ACKS)[:3], "all", "gen-acks")
        with Horizontal(classes="form-row"):
            yield Label("headers")
            yield Input(placeholder="name=value, name=value", id="gen-headers", compact=True)
            yield Label("compression", classes="-after")
            yield _select(CODECS, "none", "gen-compression")
        with Horizontal(classes="form-row"):
            yield Label("txn")
            yield Input(
                placeholder="off",
                id="gen-txn-records",
                compact=True,
                tooltip="records in each transaction (empty: no transactions)",
            )
            yield Label("records each · abort", classes="-after")
            yield Input("0", id="gen-txn-abort", compact=True, tooltip="% of transactions")
            yield Label("%", classes="-after")
            yield Button("Start", id="gen-start", variant="primary", compact=True)
        yield GeneratorSchema()

    def on_mount(self) -> None:
        self._key_strategy_changed()

    def on_key(self, event: events.Key) -> None:
        """Letters typed on Start (the focus when there are no generators) start the topic."""
        topic = self.query_one("#gen-topic", Input)
        type_ahead(event, self.screen, lambda: None if topic.value else topic)

    def focus_field(self, field: str) -> None:
        """Put the cursor in the field a SpecError names (GeneratorSpec field names)."""
        widget_id = FIELD_WIDGETS.get(field)
        if widget_id is not None:
            self.query_one(f"#{widget_id}").focus()

    def set_topics(self, names: Iterable[str]) -> None:
        """Complete the topic field from these names."""
        self.query_one("#gen-topic", Input).suggester = SuggestFromList(
            sorted(names), case_sensitive=True
        )

    def spec(self) -> GeneratorSpec:
        """The spec the fields describe; SettingsError says what is wrong with them."""

        def text(field: str) -> str:
            return self.query_one(f"#{field}", Input).value

        def chosen(field: str) -> str:
            return str(self.query_one(f"#{field}", Select).value)

        return parse_spec(
            topic=text("gen-topic"),
            rate=text("gen-rate"),
            record_size=text("gen-size"),
            template=chosen("gen-template"),
            keys=chosen("gen-keys"),
            key_count=text("gen-key-count"),
            headers=text("gen-headers"),
            compression=chosen("gen-compression"),
            acks=chosen("gen-acks"),
            transaction_records=text("gen-txn-records"),
            abort_percent=text("gen-txn-abort"),
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.Submitted())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted())

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "gen-keys":
            self._key_strategy_changed()

    def _key_strategy_changed(self) -> None:
        """The key count only means something for round-robin and distinct keys."""
        keys = self.query_one("#gen-keys", Select).value
        self.query_one("#gen-key-count", Input).disabled = keys not in COUNTED_KEYS


def _select(options: Iterable[str], value: str, widget_id: str) -> Select[str]:
    return Select(
        [(option, option) for option in options],
        value=value,
        allow_blank=False,
        id=widget_id,
        compact=True,
    )
