"""The Produce form's schema rows: which registered schema the value (and the key) is written
with, as Confluent's serializers write it (magic byte 0, the schema id, the format's body).

Shown only when the cluster has a Schema Registry. The value's subject defaults to the topic's
`<topic>-value` (TopicNameStrategy) when the registry has it, at its latest version, until one
is chosen by hand; the key has none unless chosen. A choice is fetched and parsed once, in a
worker (tui/kafka/schema_registry's client and encoder), so that checking the value as it is
typed encodes it without waiting on the network.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, Select

from ..kafka.schema_registry.client import RegistryError
from ..kafka.schema_registry.encoding import (
    EncodingError,
    SchemaEncoder,
    encoder_at,
    subject_for,
)
from .registry_subjects import RegistrySubjects

NONE_PROMPT = "none: as typed"
FIELDS = ("value", "key")


@dataclass(slots=True)
class Chosen:
    """One field's schema: the subject chosen, its encoder once fetched, or why not."""

    subject: str | None = None
    encoder: SchemaEncoder | None = None
    problem: str = ""


class SchemaChoice(RegistrySubjects):
    """A subject and a version (blank: latest) for the value and for the key."""

    DEFAULT_CSS = """
    SchemaChoice .schema-version { width: 9; margin-left: 1; }
    SchemaChoice .field-label { width: 13; }
    """

    class Changed(Message):
        """A field's schema was chosen, fetched, or failed to be."""

    def __init__(self) -> None:
        super().__init__("schema-choice", "Produce")
        self._topic = ""
        self._auto_pick: str | None = None
        """The value subject picked from the topic (replaced when the topic changes, unless
        another was chosen by hand since)."""
        self.chosen = {name: Chosen() for name in FIELDS}

    def compose(self) -> ComposeResult:
        for name in FIELDS:
            with Horizontal(classes="field-row"):
                yield Label(f"{name} schema", classes="field-label")
                yield Select[str](
                    [], prompt=NONE_PROMPT, id=f"{name}-subject", compact=True, classes="subject"
                )
                yield Input(
                    placeholder="latest",
                    id=f"{name}-version",
                    restrict=r"\d*",
                    compact=True,
                    classes="schema-version",
                )

    # -- what the form asks -------------------------------------------------------------------

    def subjects_shown(self) -> None:
        self._auto_pick = None
        self.topic_changed(self._topic)

    def topic_changed(self, topic: str) -> None:
        """Pick `<topic>-value` when the registry has it, unless a subject was chosen by hand."""
        self._topic = topic
        select = self.query_one("#value-subject", Select)
        current = None if select.is_blank() else str(select.value)
        if current is not None and current != self._auto_pick:
            return
        wanted = subject_for(topic, is_key=False)
        self._auto_pick = wanted if wanted in self.subjects else None
        if self._auto_pick != current:
            if self._auto_pick is None:
                select.clear()
            else:
                select.value = self._auto_pick

    def encoder(self, name: str) -> SchemaEncoder | None:
        """The encoder for `name` ("value" or "key"); None without a subject chosen. Raises
        EncodingError while the chosen one is not fetched (or could not be)."""
        chosen = self.chosen[name]
        if chosen.subject is None:
            return None
        if chosen.encoder is None:
            why = chosen.problem or "still being fetched from the registry"
            raise EncodingError(f"{name} schema {chosen.subject}: {why}")
        return chosen.encoder

    def note(self) -> str:
        """Which schema ids the form's records are written with (`value schema id 3`), for
        the acknowledgements; "" when none."""
        return " · ".join(
            f"{name} schema id {c.encoder.schema_id}"
            for name, c in self.chosen.items()
            if c.subject is not None and c.encoder is not None
        )

    def status(self, text: str) -> tuple[str, bool] | None:
        """What the value schema says of `text`: (line, valid); None without one."""
        chosen = self.chosen["value"]
        if chosen.subject is None:
            return None
        try:
            encoder = self.encoder("value")
            assert encoder is not None
            encoder.encode(text)
        except EncodingError as exc:
            return f"✗ {exc}", False
        return f"✓ valid for {encoder.label}", True

    # -- the registry -------------------------------------------------------------------------

    @on(Select.Changed)
    @on(Input.Changed)
    def _choice_changed(self, event: Select.Changed | Input.Changed) -> None:
        event.stop()
        assert event.control.id is not None
        name = event.control.id.partition("-")[0]
        select = self.query_one(f"#{name}-subject", Select)
        subject = None if select.is_blank() else str(select.value)
        version = self.query_one(f"#{name}-version", Input).value.strip() or "latest"
        self.chosen[name] = Chosen(subject)
        self.post_message(self.Changed())
        if subject is not None:
            self._fetch(name, subject, version)

    @work(group="schema-fetch", exclusive=False)
    async def _fetch(self, name: str, subject: str, version: str) -> None:
        chosen = self.chosen[name]
        client = self._link.client
        if client is None:
            chosen.problem = "no registry"
        else:
            try:
                chosen.encoder = await encoder_at(client, subject, version)
            except (RegistryError, ValueError) as exc:  # ValueError: InvalidSchema
                chosen.problem = str(exc)
        if self.chosen[name] is chosen:  # not replaced by another choice meanwhile
            self.post_message(self.Changed())
