"""The record form of the Produce pane: topic, key, partition, repeat, compression, acks, a
multi-line value checked as JSON while it is typed, and headers.

The form only reads and checks what was typed: `record()` gives the topic, the record and the
repeat count, or a FormError saying what to fix and where (the pane puts the cursor there).
Sending is the pane's.
"""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from ..kafka.clients import CODECS
from ..kafka.outgoing import (
    OutgoingRecord,
    RecordError,
    json_problem,
    looks_like_json,
    parse_headers,
)
from ..kafka.producing import ProducerSettings
from ..kafka.schema_registry.encoding import EncodingError
from .schema_choice import SchemaChoice
from .suggesters import TopicSuggester
from .type_ahead import type_ahead

ACKS_CHOICES = (("all", "all"), ("1", "1"), ("0", "0"))
VALUE_FORMATS = (("auto", "auto"), ("JSON", "json"), ("text", "text"))
MAX_REPEAT = 10_000_000
NO_TOPIC = "no topic: type the name of the topic to produce to"


class FormError(ValueError):
    """The form cannot be sent as it is; says why, and which field to fix."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class RecordForm(Vertical):
    """Labelled fields, one a line, so that 80x24 keeps room for the value.

    Send sits beside the topic, like a request tool's Send beside the URL: it is the first
    control that is not a text field, so it takes the focus when the pane is shown (and the
    pane keys keep working). Typing there goes where a newcomer means it to: into the topic,
    or into the value once a topic is set.
    """

    DEFAULT_CSS = """
    RecordForm { width: 1fr; min-width: 38; padding: 0 1; }
    RecordForm .field-row { height: 1; }
    RecordForm .field-row.-spaced { margin-bottom: 1; }
    RecordForm .field-label { width: 12; color: $kwb-muted; }
    RecordForm .field-label.-second { width: auto; padding: 0 1; }
    RecordForm .field-row Input, RecordForm .field-row Select { width: 1fr; }
    RecordForm #partition { width: 11; }
    RecordForm #repeat, RecordForm #compression, RecordForm #acks-choice {
        width: 1fr; max-width: 14;
    }
    RecordForm #send { width: auto; min-width: 9; margin-left: 1; }
    RecordForm .section { color: $kwb-muted; text-style: bold; height: 1; }
    RecordForm #value-format { width: 10; }
    RecordForm #json-status {
        width: 1fr; height: 1; padding-left: 1; color: $kwb-muted;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    RecordForm #json-status.-valid { color: $success; }
    RecordForm #json-status.-invalid { color: $error; }
    RecordForm #value { height: 2fr; min-height: 3; }
    RecordForm #schema-status {
        height: 1; display: none; text-wrap: nowrap; text-overflow: ellipsis;
    }
    RecordForm #schema-status.-shown { display: block; }
    RecordForm #schema-status.-valid { color: $success; }
    RecordForm #schema-status.-invalid { color: $error; }
    RecordForm #headers-label { margin-top: 1; }
    RecordForm #headers { height: 1fr; min-height: 2; max-height: 8; }
    """

    def __init__(self) -> None:
        super().__init__(id="record-form")
        self._topics: dict[str, int] = {}
        """Topic name -> partition count, from the latest cluster snapshot."""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label("topic", classes="field-label")
            yield Input(
                placeholder="topic name",
                id="topic",
                suggester=TopicSuggester(lambda: self._topics),
                compact=True,
                tooltip="→ accepts the completion",
            )
            yield Button("Send ^s", id="send", variant="primary", compact=True)
        with Horizontal(classes="field-row"):
            yield Label("key", classes="field-label")
            yield Input(placeholder="empty: no key", id="key", compact=True)
        with Horizontal(classes="field-row"):
            yield Label("partition", classes="field-label")
            yield Input(placeholder="auto", id="partition", restrict=r"\d*", compact=True)
            yield Label("repeat", classes="field-label -second")
            yield Input("1", id="repeat", restrict=r"\d*", compact=True)
        with Horizontal(classes="field-row -spaced"):
            yield Label("compression", classes="field-label")
            yield Select(
                [(c, c) for c in CODECS],
                value="none",
                allow_blank=False,
                id="compression",
                compact=True,
            )
            yield Label("acks", classes="field-label -second")
            yield Select(
                ACKS_CHOICES, value="all", allow_blank=False, id="acks-choice", compact=True
            )
        yield SchemaChoice()
        with Horizontal(classes="field-row"):
            yield Label("value", classes="field-label section")
            yield Select(
                VALUE_FORMATS,
                value="auto",
                allow_blank=False,
                id="value-format",
                compact=True,
                tooltip="auto: checked as JSON when it starts with { or [\n"
                "JSON: must be JSON\ntext: sent as typed",
            )
            yield Static("", id="json-status")
        yield TextArea(
            id="value", soft_wrap=True, compact=True, placeholder='text, or JSON such as {"id": 1}'
        )
        yield Static("", id="schema-status")
        yield Label("headers · name=value, one a line", id="headers-label", classes="section")
        yield TextArea(id="headers", soft_wrap=True, compact=True, placeholder="e.g. source=kwb")

    def on_key(self, event: events.Key) -> None:
        """Letters typed on Send start the topic, or the value once there is a topic."""
        topic = self.query_one("#topic", Input)
        value = self.query_one("#value", TextArea)
        type_ahead(event, self.screen, lambda: value if topic.value else topic)

    # -- what the pane asks -------------------------------------------------------------------

    def show_topics(self, topics: dict[str, int]) -> None:
        """The cluster's topics (name -> partitions), for completion and the partition hint."""
        self._topics = topics
        if self.query("#topic"):  # not while the app is closing and the fields are gone
            self._show_partition_hint()

    @property
    def topic(self) -> str:
        topic = self.query_one("#topic", Input).value.strip()
        if not topic:
            raise FormError(NO_TOPIC, "#topic")
        return topic

    def settings(self) -> ProducerSettings:
        return ProducerSettings(
            str(self.query_one("#acks-choice", Select).value),
            str(self.query_one("#compression", Select).value),
        )

    def lock_settings(self, locked: bool) -> None:
        """Acks and compression are fixed while records are being sent (changing them replaces
        the producer the sending uses)."""
        for select in ("#compression", "#acks-choice"):
            self.query_one(select, Select).disabled = locked

    @property
    def schemas(self) -> SchemaChoice:
        return self.query_one(SchemaChoice)

    def record(self) -> tuple[str, OutgoingRecord, int]:
        """The topic, the record and the repeat count the form describes (FormError if the
        form cannot be sent as it is; for a JSON mistake the cursor is put on it). With a
        schema chosen, the value (or key) is that schema's encoding of the JSON typed."""
        topic = self.topic
        value = self.query_one("#value", TextArea)
        key = self.query_one("#key", Input).value
        try:
            value_encoder, key_encoder = self.schemas.encoder("value"), self.schemas.encoder("key")
            value_bytes = value.text.encode() if value_encoder is None else None
            if value_encoder is not None:
                value_bytes = value_encoder.encode(value.text)
        except EncodingError as exc:
            raise FormError(f"✗ value not sent: {exc}", "#value") from None
        try:
            key_bytes = key.encode() if key else None
            if key_encoder is not None:
                key_bytes = key_encoder.encode(key)
        except EncodingError as exc:
            raise FormError(f"✗ key not sent: {exc}", "#key") from None
        if value_encoder is None and self._checked_as_json(value.text):
            if not value.text.strip():
                raise FormError("the value is empty, and JSON was asked for", "#value")
            problem = json_problem(value.text)
            if problem is not None:
                value.cursor_location = (problem.line - 1, problem.column - 1)
                raise FormError(
                    f"✗ the value is not valid JSON: {problem}. Fix it (the cursor is"
                    " there), or set the value format to text",
                    "#value",
                )
        partition = self.query_one("#partition", Input).value.strip()
        repeat = int(self.query_one("#repeat", Input).value.strip() or "1")
        if not 1 <= repeat <= MAX_REPEAT:
            raise FormError(f"repeat must be between 1 and {MAX_REPEAT:,}", "#repeat")
        try:
            headers = parse_headers(self.query_one("#headers", TextArea).text)
        except RecordError as exc:
            raise FormError(str(exc), "#headers") from None
        record = OutgoingRecord(
            key_bytes,
            value_bytes,
            headers,
            int(partition) if partition else None,
        )
        return topic, record, repeat

    # -- as it is typed -----------------------------------------------------------------------

    def _checked_as_json(self, text: str) -> bool:
        value_format = self.query_one("#value-format", Select).value
        return value_format == "json" or (value_format == "auto" and looks_like_json(text))

    @on(Input.Changed, "#topic")
    def _show_partition_hint(self) -> None:
        """The partition field says which partitions the topic typed has."""
        count = self._topics.get(self.query_one("#topic", Input).value.strip())
        field = self.query_one("#partition", Input)
        field.placeholder = f"auto (0-{count - 1})" if count else "auto"
        self.schemas.topic_changed(self.query_one("#topic", Input).value.strip())

    @on(TextArea.Changed, "#value")
    @on(Select.Changed, "#value-format")
    def _show_json_status(self) -> None:
        """✓ or ✗ as the value is typed, whenever it is meant to be JSON."""
        text = self.query_one("#value", TextArea).text
        checked = self._checked_as_json(text) and bool(text.strip())
        problem = json_problem(text) if checked else None
        if not text.strip():
            message = ""
        elif problem is not None:
            message = f"✗ {problem.line}:{problem.column} {problem.message}"
        elif checked:
            message = "✓ valid JSON"
        else:
            text_only = self.query_one("#value-format", Select).value == "text"
            message = "text, not checked" if text_only else "text"
        status = self.query_one("#json-status", Static)
        status.update(message)
        status.set_class(problem is not None, "-invalid")
        status.set_class(checked and problem is None, "-valid")
        self._show_schema_status()

    @on(SchemaChoice.Changed)
    def _show_schema_status(self) -> None:
        """Under the value: valid for the chosen schema, or its first problem (the field)."""
        said = self.schemas.status(self.query_one("#value", TextArea).text)
        status = self.query_one("#schema-status", Static)
        status.update("" if said is None else said[0])
        status.set_class(said is not None, "-shown")
        status.set_class(said is not None and said[1], "-valid")
        status.set_class(said is not None and not said[1], "-invalid")
