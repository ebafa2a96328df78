"""Search pane: a topic's records searched on the broker, not only those a tail holds.

The Tail pane's filter sees the records its buffer keeps (the newest 100,000 by default);
users of kafka-ui and AKHQ expect a search of the whole topic. This pane runs a TopicSearch
(tui/kafka/topic_search.py) over a range of the topic: a progress bar, the records scanned
and their rate, the matches listed as they are found, `esc` or `s` to stop. The list is the
tail's (RecordLog): `enter` opens a match, `y` copies it.

The search runs in a worker on the app's loop; it hands back the loop every half megabyte it
reads, and the list and status are redrawn on a timer, never per match.
"""

from __future__ import annotations

import time
from datetime import tzinfo

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.worker import Worker

from ..kafka.cluster import ClusterSnapshot
from ..kafka.errors import KafkaToolError
from ..kafka.record_filter import RecordView
from ..kafka.record_ring import RecordRing
from ..kafka.search_query import QueryError
from ..kafka.topic_search import DEFAULT_LIMIT, SearchSpec, TopicSearch
from ..screens.record_detail import RecordDetailScreen
from .pane import Pane
from .record_log import RecordLog
from .search_controls import SearchControls
from .search_status import SearchStatus, progress_text

REFRESH_PER_SECOND = 12


class SearchPane(Pane):
    """Fields, status, matches."""

    BINDINGS = [
        Binding("s", "toggle_search", "Search/stop"),
        Binding("slash", "focus_query", "Query"),
        Binding("t", "focus_topic", "Topic"),
        Binding("ctrl+t", "toggle_case", "Case"),
        Binding("y", "copy_record", "Copy"),
        Binding("escape", "stop_or_leave", "Stop", show=False),
    ]

    DEFAULT_CSS = """
    SearchPane {
        height: 1fr;
        #search-log { height: 1fr; }
    }
    """

    def __init__(self, *, tz: tzinfo | None = None) -> None:
        super().__init__(id="search-pane")
        self.ring = RecordRing(DEFAULT_LIMIT)
        self.view = RecordView(self.ring)
        self.tz = tz
        self.ignore_case = True
        self.search: TopicSearch | None = None
        """The search running or last run (None before the first)."""
        self.description = ""
        self.failure = ""
        self._worker: Worker[None] | None = None
        self._drawn_total = -1

    def compose(self) -> ComposeResult:
        yield SearchControls(id="search-controls")
        yield SearchStatus(id="search-status")
        yield RecordLog(self.view, tz=self.tz, id="search-log")

    def on_mount(self) -> None:
        self._draw()
        self.set_interval(1 / REFRESH_PER_SECOND, self._draw)

    @property
    def controls(self) -> SearchControls:
        return self.query_one("#search-controls", SearchControls)

    @property
    def log_widget(self) -> RecordLog:
        return self.query_one("#search-log", RecordLog)

    @property
    def running(self) -> bool:
        return self.search is not None and self.search.progress.outcome is None

    def focus_default(self) -> bool:
        """The topic field until there is one, the matches after."""
        if self.controls.topic.value.strip():
            self.log_widget.focus()
        else:
            self.controls.topic.focus()
        return True

    def show(self, snapshot: ClusterSnapshot) -> None:
        self.controls.offer_topics(sorted(t.name for t in snapshot.topics if not t.internal))

    # -- searching ----------------------------------------------------------------------------

    def search_topic(self, topic: str, query: str) -> None:
        """Fill in the fields and search the whole topic: for other panes ("search the
        broker" from the Tail pane, `f` on a topic)."""
        self.controls.fill(topic, query)
        self.start_search()
        self.post_message(self.BringForward(self, self.log_widget))

    def ask_about(self, topic: str) -> None:
        """Name the topic and wait for the query (`f` on a topic in the Topics pane)."""
        self.controls.fill(topic, self.controls.query_field.value)
        self.post_message(self.BringForward(self, self.controls.query_field))

    @on(SearchControls.Submitted)
    def start_search(self) -> None:
        workbench = self.host.workbench
        if workbench is None:
            self.notify("no cluster to search", title="Search", severity="error")
            return
        try:
            spec = self.controls.read(self.ignore_case)
        except (ValueError, QueryError) as exc:
            self.notify(str(exc), title="Search", severity="error")
            return
        self.stop_search()
        if spec.limit != self.ring.capacity:
            self.ring.resize(spec.limit)
        self.ring.clear()
        self.view.reset()
        self.log_widget.reset(follow=False)
        self.description = describe(spec)
        self.failure = ""
        self.search = TopicSearch(workbench.connection, spec)
        self._worker = self._run(self.search)
        self.log_widget.focus()

    def stop_search(self) -> None:
        if self.search is not None:
            self.search.cancel()

    @work(exclusive=True, group="search", exit_on_error=False)
    async def _run(self, search: TopicSearch) -> None:
        try:
            await search.run(self.ring.extend)
        except KafkaToolError as exc:
            self._failed(search, str(exc))
        except Exception as exc:  # never a traceback in the UI: say what broke
            self._failed(search, repr(exc))
        finally:
            self._draw()

    def _failed(self, search: TopicSearch, reason: str) -> None:
        self.notify(reason, title="Search", severity="error")
        if self.search is search:
            self.failure = reason

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        if self.ring.total != self._drawn_total:
            self._drawn_total = self.ring.total
            self.log_widget.data_changed()
        search = self.search
        progress = search.progress if search is not None else None
        if self.failure:
            text = f"failed: {self.failure}"
        else:
            text = progress_text(progress, self.description, time.monotonic())
        self.query_one(SearchStatus).show(text, running=self.running, failed=bool(self.failure))
        self.log_widget.empty_text = self._empty_text()

    def _empty_text(self) -> str:
        if self.search is None:
            return "no search yet · t: topic, /: query, enter searches"
        if self.running:
            return "searching… matches appear here as they are found"
        return "no record in the range matches · widen the range or change the query"

    # -- keys -----------------------------------------------------------------------------------

    def action_toggle_search(self) -> None:
        if self.running:
            self.stop_search()
        else:
            self.start_search()

    def action_stop_or_leave(self) -> None:
        if self.running:
            self.stop_search()
        else:
            self.log_widget.focus()

    def action_focus_query(self) -> None:
        self.controls.query_field.focus()

    def action_focus_topic(self) -> None:
        self.controls.topic.focus()

    def action_toggle_case(self) -> None:
        self.ignore_case = not self.ignore_case
        self.notify(
            "text matches in any case" if self.ignore_case else "text matches case",
            title="Search",
        )

    def action_copy_record(self) -> None:
        self.log_widget.copy_cursor_record()

    @on(RecordLog.Selected)
    def _open_record(self, event: RecordLog.Selected) -> None:
        log = self.log_widget
        self.app.push_screen(RecordDetailScreen(event.record, self.tz, log.step, None))


def describe(spec: SearchSpec) -> str:
    """ "orders:0,2 for $.status=FAILED": what is searched, in a few words."""
    where = spec.topic
    if spec.partitions is not None:
        where += ":" + ",".join(map(str, spec.partitions))
    return f"{where} for {spec.query.text}" if spec.query.text else f"{where} (every record)"
