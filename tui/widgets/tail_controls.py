"""The Tail pane's first row: which topics, where to start, how many records to keep.

One row of compact fields so the records get the height: the topics (completed from the
cluster's names), the start mode, the mode's value (shown only for the modes that take
one, with a hint of what to type) and the buffer size. Enter in any field asks the pane to
start; `read()` turns the fields into a TailRequest or says, in one sentence, what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select

from ..kafka.models import TopicSelection
from ..kafka.record_ring import DEFAULT_CAPACITY
from ..kafka.tail import StartMode, StartPosition, in_topics_syntax, parse_start, parse_topics

MIN_CAPACITY = 100
MAX_CAPACITY = 10_000_000
_START_MODES = [
    ("from end", StartMode.END.value),
    ("from beginning", StartMode.BEGINNING.value),
    ("at offset", StartMode.OFFSET.value),
    ("at time", StartMode.TIMESTAMP.value),
    ("last N", StartMode.LAST.value),
]
VALUE_HINTS = {
    StartMode.OFFSET.value: "offset",
    StartMode.TIMESTAMP.value: "ms, ISO, -5m",
    StartMode.LAST.value: "N per partition",
}


class TopicsInput(Input):
    """The topics field. The pane puts the focus here while there is nothing to tail, so a
    newcomer can type at once; but then the pane's and the app's keys must still work, or a
    visit to Tail traps them. A key the field cannot hold (`/`, `?`: no topic has them) keeps
    its binding; while the field is empty, so does a digit, unless a topic of the cluster
    starts with it (then it is the start of that topic's name).
    """

    topic_names: Sequence[str] = ()
    """The cluster's topics (TailControls.offer_topics)."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """An Input hides the bindings of the printable keys it takes; not those it leaves."""
        return self._takes(key, character) and super().check_consume_key(key, character)

    def _takes(self, key: str, character: str | None) -> bool:
        if character is not None and character.isprintable() and not in_topics_syntax(character):
            return False
        if not self.value and key.isdigit():
            return any(name.startswith(key) for name in self.topic_names)
        return True

    async def _on_key(self, event: events.Key) -> None:
        if not self._takes(event.key, event.character) and event.key in self.screen.active_bindings:
            event.prevent_default()  # not typed here; it bubbles up to the binding


@dataclass(frozen=True, slots=True)
class TailRequest:
    """What the fields ask for."""

    selection: list[TopicSelection]
    position: StartPosition
    capacity: int


class TailControls(Horizontal):
    """Topics, start mode and value, buffer size; enter in any of them starts the tail."""

    DEFAULT_CSS = """
    TailControls {
        height: 1;
        Input { background: $boost; }
        #tail-topics { width: 1fr; margin-right: 1; }
        #tail-start { width: 17; margin-right: 1; }
        #tail-start-value { width: 16; margin-right: 1; display: none; }
        #tail-start-value.-needed { display: block; }
        #tail-capacity-label { width: auto; color: $kwb-muted; padding-right: 1; }
        #tail-capacity { width: 9; }
    }
    """

    class Submitted(Message):
        """Enter in one of the fields: (re)start the tail."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._capacity = capacity
        self._topic_names: list[str] = []

    def compose(self) -> ComposeResult:
        yield TopicsInput(
            placeholder="topics: orders, audit:0,1 · enter starts", id="tail-topics", compact=True
        )
        yield Select(
            _START_MODES,
            value=StartMode.END.value,
            allow_blank=False,
            id="tail-start",
            compact=True,
        )
        yield Input(id="tail-start-value", compact=True)
        yield Label("buffer", id="tail-capacity-label")
        yield Input(
            str(self._capacity),
            type="integer",
            id="tail-capacity",
            compact=True,
            tooltip="records kept (the oldest are dropped)",
        )

    @property
    def topics(self) -> Input:
        return self.query_one("#tail-topics", Input)

    def offer_topics(self, names: list[str]) -> None:
        """Complete the topics field from these names."""
        if names != self._topic_names:
            self._topic_names = names
            topics = self.query_one("#tail-topics", TopicsInput)
            topics.suggester = SuggestFromList(names)
            topics.topic_names = names

    def fill(self, topics: str, mode: StartMode = StartMode.END, value: str = "") -> None:
        self.topics.value = topics
        self.query_one("#tail-start", Select).value = mode.value
        self.query_one("#tail-start-value", Input).value = value

    def read(self) -> TailRequest:
        """The fields as a request; ValueError says what is wrong, in a sentence."""
        selection = parse_topics(self.topics.value)
        mode = str(self.query_one("#tail-start", Select).value)
        position = parse_start(mode, self.query_one("#tail-start-value", Input).value)
        return TailRequest(selection, position, self._read_capacity())

    def _read_capacity(self) -> int:
        text = self.query_one("#tail-capacity", Input).value.strip()
        try:
            capacity = int(text)
        except ValueError:
            raise ValueError(f"buffer {text!r}: enter a number of records") from None
        if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
            raise ValueError(f"buffer: between {MIN_CAPACITY:,} and {MAX_CAPACITY:,} records")
        return capacity

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted())

    @on(Select.Changed, "#tail-start")
    def _start_mode_changed(self, event: Select.Changed) -> None:
        """Show the value field only for a mode that takes a value, and go there."""
        value = self.query_one("#tail-start-value", Input)
        hint = VALUE_HINTS.get(str(event.value), "")
        value.placeholder = hint
        value.set_class(bool(hint), "-needed")
        if hint and event.select.has_focus:
            value.focus()
