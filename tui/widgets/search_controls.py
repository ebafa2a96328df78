"""The Search pane's fields: which topic, which range, what to look for, how many matches.

Two rows of compact fields. The topic takes the Tail pane's syntax
(`orders`, `orders:0,2-3` for some partitions); the range starts as a tail does (the
beginning, an offset, a time, the last N of each partition) and ends at the log end as it is
when the search starts, at an offset or at a time (neither included). `read()` turns the
fields into a SearchSpec or says, in one sentence, what is wrong.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select

from ..kafka.search_query import parse_query
from ..kafka.tail import StartMode, parse_start, parse_topics
from ..kafka.topic_search import DEFAULT_LIMIT, SearchSpec
from .tail_controls import VALUE_HINTS

MAX_LIMIT = 100_000
_FROM = [
    ("from the start", StartMode.BEGINNING.value),
    ("from offset", StartMode.OFFSET.value),
    ("from time", StartMode.TIMESTAMP.value),
    ("last N", StartMode.LAST.value),
]
_TO = [
    ("to the end", StartMode.END.value),
    ("to offset", StartMode.OFFSET.value),
    ("to time", StartMode.TIMESTAMP.value),
]
QUERY_HINT = "text · key:… value:… header:name=… $.field=… /regex/ · enter searches"


class SearchControls(Vertical):
    """Topic and query on one row (tab goes from one to the other), range and limit on the
    next; enter in any field searches."""

    DEFAULT_CSS = """
    SearchControls {
        height: auto;
        Horizontal { height: 1; }
        Input { background: $boost; }
        Label { width: auto; color: $kwb-muted; padding-right: 1; }
        #search-topic { width: 1fr; margin-right: 1; }
        #search-query { width: 2fr; }
        #search-limit { width: 8; }
        Select { width: 18; margin-right: 1; }
        .-bound-value { width: 16; margin-right: 1; display: none; }
        .-bound-value.-needed { display: block; }
    }
    """

    class Submitted(Message):
        """Enter in one of the fields: search."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._topic_names: list[str] = []

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Input(placeholder="topic: orders, orders:0,2", id="search-topic", compact=True)
            yield Input(placeholder=QUERY_HINT, id="search-query", compact=True)
        with Horizontal():
            for which, modes in (("from", _FROM), ("to", _TO)):
                yield Select(
                    modes, value=modes[0][1], allow_blank=False, id=f"search-{which}", compact=True
                )
                yield Input(id=f"search-{which}-value", classes="-bound-value", compact=True)
            yield Label("limit")
            yield Input(str(DEFAULT_LIMIT), id="search-limit", type="integer", compact=True)

    @property
    def topic(self) -> Input:
        return self.query_one("#search-topic", Input)

    @property
    def query_field(self) -> Input:
        return self.query_one("#search-query", Input)

    def offer_topics(self, names: list[str]) -> None:
        if names != self._topic_names:
            self._topic_names = names
            self.topic.suggester = SuggestFromList(names)

    def fill(self, topic: str, query: str) -> None:
        """The whole topic, from the beginning to the end, for `query` (from other panes)."""
        self.topic.value = topic
        self.query_field.value = query
        self.query_one("#search-from", Select).value = StartMode.BEGINNING.value
        self.query_one("#search-to", Select).value = StartMode.END.value

    def read(self, ignore_case: bool) -> SearchSpec:
        """The fields as a search; ValueError says what is wrong, in a sentence."""
        selection = parse_topics(self.topic.value)
        if len(selection) != 1:
            raise ValueError("a search reads one topic: name only one")
        (chosen,) = selection
        start = parse_start(*self._bound("from"))
        end = parse_start(*self._bound("to"))
        query = parse_query(self.query_field.value, ignore_case=ignore_case)
        return SearchSpec(chosen.topic, chosen.partitions, start, end, query, self._limit())

    def _bound(self, which: str) -> tuple[str, str]:
        mode = str(self.query_one(f"#search-{which}", Select).value)
        return mode, self.query_one(f"#search-{which}-value", Input).value

    def _limit(self) -> int:
        text = self.query_one("#search-limit", Input).value.strip()
        if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
            raise ValueError(f"limit: a number of matches from 1 to {MAX_LIMIT:,}")
        return int(text)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted())

    @on(Select.Changed)
    def _bound_changed(self, event: Select.Changed) -> None:
        """Show a bound's value field only for a mode that takes a value, and go there."""
        value = self.query_one(f"#{event.select.id}-value", Input)
        hint = VALUE_HINTS.get(str(event.value), "")
        value.placeholder = hint
        value.set_class(bool(hint), "-needed")
        if hint and event.select.has_focus:
            value.focus()
