"""Tail pane: records of one or more topics as they arrive, filtered as you type.

Built to keep up with tens of thousands of records a second without making the keyboard
wait: the consumer task only appends raw records to a bounded ring (no message, no widget
per record), and a timer redraws the list a dozen times a second at most; only visible rows
are ever formatted. A new filter refilters the ring in steps of a few milliseconds between
frames and keys, while new records are filtered as they come. bench/tail.py measures it.

The pane is three rows and the list: what to tail (TailControls), the filter, the status
(TailStatus), then the records (RecordLog); enter on a record opens RecordDetailScreen.
`i` switches between read_uncommitted and read_committed (aborted transactions' records
vanish, and records stop at the last stable offset), `m` shows the transaction markers
(COMMIT / ABORT control records) among the records; either restarts a running tail.

When the cluster has a Schema Registry (the embedded broker's, or a profile's
`schema.registry.url`), keys and values in Confluent's wire format are shown and filtered as
the JSON they decode to (tui/kafka/schema_registry): each batch's new schema ids are learnt
before the batch is drawn, so drawing never waits on the registry.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import time
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Input, Static
from textual.worker import Worker

from localbroker.public import IsolationLevel

from ..kafka.cluster import ClusterSnapshot
from ..kafka.connection import SettingsError
from ..kafka.errors import KafkaToolError
from ..kafka.models import TopicSelection
from ..kafka.record_filter import (
    FilterError,
    RecordFilter,
    RecordView,
    RefilterJob,
    export_json_lines,
)
from ..kafka.record_ring import DEFAULT_CAPACITY, RecordRing
from ..kafka.schema_registry.reader import SchemaReader, reader_for
from ..kafka.tail import (
    RateMeter,
    RawRecord,
    StartMode,
    StartPosition,
    TailRecord,
    TailSession,
    parse_topics,
)
from ..screens.record_detail import RecordDetailScreen
from .pane import Pane
from .record_log import RecordLog, format_timestamp
from .search_pane import SearchPane
from .tail_controls import TailControls
from .tail_status import TailFigures, TailState, TailStatus

REFRESH_PER_SECOND = 12
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class TailPane(Pane):
    """Topics, start position and buffer size on top; filter; status; the record list."""

    BINDINGS = [
        Binding("s", "toggle_tail", "Start/stop"),
        Binding("space", "toggle_pause", "Pause"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("ctrl+r", "toggle_regex", "Regex"),
        Binding("ctrl+f", "search_broker", "Search all"),
        Binding("ctrl+t", "toggle_case", "Case"),
        Binding("y", "copy_record", "Copy"),
        Binding("x", "export", "Export"),
        Binding("t", "focus_topics", "Topics"),
        Binding("i", "toggle_isolation", "Isolation"),
        Binding("m", "toggle_markers", "Markers"),
        Binding("escape", "focus_log", "List", show=False),
    ]

    DEFAULT_CSS = """
    TailPane {
        height: 1fr;
        #tail-filter-row { height: 1; }
        #tail-filter-row Input { background: $boost; }
        #tail-filter { width: 1fr; margin-right: 1; }
        #tail-filter.-invalid { color: $error; }
        #tail-filter-mode { width: auto; max-width: 50%; padding: 0 1; color: $kwb-muted;
            text-wrap: nowrap;
            text-overflow: ellipsis; }
        #tail-filter-mode.-invalid { color: $error; }
        /* that records left the buffer must be read in full, at 80 columns too */
        #tail-filter-mode.-partial { color: $warning; max-width: 75%; }
        #tail-log { height: 1fr; }
    }
    """

    def __init__(
        self,
        *,
        tz: tzinfo | None = None,
        capacity: int = DEFAULT_CAPACITY,
        export_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(id="tail-pane")
        self.ring = RecordRing(capacity)
        self.view = RecordView(self.ring)
        self.tz = tz
        """Timestamps are shown in this zone (None: local time)."""
        self.export_dir = export_dir
        """Where `x` writes (None: the working directory)."""
        self.clock = clock
        """Seconds, for the incoming rate (a test can stop time)."""
        self.session: TailSession | None = None
        """The tail running (None: stopped)."""
        self.description = ""
        """What is tailed from where, in a few words."""
        self.failure = ""
        """Why the last tail stopped by itself ("" when it did not)."""
        self.rate = RateMeter()
        self.regex = False
        self.ignore_case = True
        self.isolation = IsolationLevel.READ_UNCOMMITTED
        self.control_records = False
        """Show transaction markers (control records) among the records."""
        self.drawn_total = 0
        """Records received when the list last took them in (`ring.total` at the last draw)."""
        self.last_export: Path | None = None
        """The file the last export wrote."""
        self.schemas: SchemaReader | None = None
        """Decodes records in Confluent's wire format through the cluster's registry (None
        without one)."""
        self._worker: Worker[None] | None = None
        self._filter_error = ""
        self._filter_mode_text = ""

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TailControls(self.ring.capacity, id="tail-controls")
        with Horizontal(id="tail-filter-row"):
            yield Input(placeholder="/ filter key, value, headers", id="tail-filter", compact=True)
            yield Static(id="tail-filter-mode")
        yield TailStatus(id="tail-status")
        yield RecordLog(self.view, tz=self.tz, id="tail-log")

    def on_mount(self) -> None:
        if not self.controls.topics.value:  # what was tailed last time, ready for enter
            self.controls.topics.value = self.host.preferences.tail_topics or ""
        self._show_filter_mode()
        self._draw(force=True)
        self.set_interval(1 / REFRESH_PER_SECOND, self._draw)

    def on_resize(self) -> None:
        self._show_status()  # the counts say more on a wide screen

    def focus_default(self) -> bool:
        """Where the pane's tab puts the focus: the topics field while there is nothing to
        tail, the record list otherwise (so the pane's keys work at once)."""
        topics = self.controls.topics
        if self.session is None and not topics.value.strip():
            topics.focus()
        else:
            self.log_widget.focus()
        return True

    @property
    def log_widget(self) -> RecordLog:
        return self.query_one("#tail-log", RecordLog)

    @property
    def controls(self) -> TailControls:
        return self.query_one("#tail-controls", TailControls)

    def show(self, snapshot: ClusterSnapshot) -> None:
        """Offer the cluster's topic names as completions in the topics field."""
        self.controls.offer_topics(sorted(t.name for t in snapshot.topics if not t.internal))

    # -- feeding and drawing ---------------------------------------------------------------

    def add_records(self, records: Sequence[RawRecord]) -> None:
        """Take records (TailRecords or plain tuples) into the ring; they are drawn at the
        next tick (not now)."""
        self.ring.extend(records)

    def _draw(self, force: bool = False) -> None:
        """The timer's tick: filter what arrived, move the list, update the figures."""
        total = self.ring.total
        if force or total != self.drawn_total:
            self.drawn_total = total
            self.view.catch_up()
            self.log_widget.data_changed()
        if self.session is not None:
            self.rate.sample(self.clock(), total)
        self._show_status()

    @property
    def state(self) -> TailState:
        session = self.session
        if session is None:
            return TailState.STOPPED
        if session.paused:
            return TailState.PAUSED
        return TailState.TAILING if session.offsets else TailState.STARTING

    def _show_status(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#tail-status", TailStatus).show(
            TailFigures(
                state=self.state,
                description=self.description,
                partitions=len(self.session.offsets) if self.session is not None else 0,
                rate=self.rate.rate,
                received=self.ring.total,
                shown=len(self.view),
                held=len(self.ring),
                capacity=self.ring.capacity,
                following=self.log_widget.following,
                filtering=self.view.refiltering,
                failure=self.failure,
                read_committed=self.isolation is IsolationLevel.READ_COMMITTED,
                control_records=self.control_records,
            )
        )
        self.log_widget.empty_text = self._empty_text()
        self._show_filter_mode()

    @property
    def left_buffer(self) -> int:
        """Records received that the buffer no longer holds (the filter cannot see them)."""
        return self.ring.total - len(self.ring)

    def _empty_text(self) -> str:
        """Why the list is empty, and what to do about it."""
        if self.view.filter is not None and len(self.ring):
            if self.left_buffer:
                return (
                    f"no record of the {len(self.ring):,} in the buffer matches the filter;"
                    f" {self.left_buffer:,} older records have left it (it keeps"
                    f" {self.ring.capacity:,}) · ctrl+f searches the whole topic on the broker"
                )
            return "no record matches the filter (ctrl+u in the filter clears it)"
        if self.session is None:
            return "no records · t: topics to tail, enter starts · s starts again"
        if self.session.paused:
            return "paused before any record arrived · space resumes"
        return "waiting for records…" if self.session.offsets else "starting…"

    # -- starting and stopping -------------------------------------------------------------

    def action_toggle_tail(self) -> None:
        if self.session is not None:
            self.stop_tail()
        else:
            self.start_tail()

    @on(TailControls.Submitted)
    def _submitted(self) -> None:
        self.start_tail()

    def tail(self, topics: str, mode: StartMode = StartMode.END, value: str = "") -> None:
        """Fill in the fields and start: for other panes ("tail this topic")."""
        self.controls.fill(topics, mode, value)
        self.start_tail()

    def start_tail(self) -> None:
        """Start (or restart) tailing what the fields say; a mistake is one message."""
        workbench = self.host.workbench
        if workbench is None:
            self.notify("no cluster to tail", title="Tail", severity="error")
            return
        try:
            request = self.controls.read()
        except ValueError as exc:
            self.notify(str(exc), title="Tail", severity="error")
            return
        try:
            self.schemas = reader_for(self.schemas, workbench.registry)
        except SettingsError as exc:
            self.schemas = None
            self.notify(f"records are not decoded: {exc}", title="Schema Registry")
        if request.capacity != self.ring.capacity:
            self.ring.resize(request.capacity)
        self.host.remember(tail_topics=self.controls.topics.value.strip())
        self.run_session(
            TailSession(
                workbench.connection,
                request.selection,
                request.position,
                isolation=self.isolation,
                control_records=self.control_records,
            )
        )
        self.log_widget.focus()

    def run_session(self, session: TailSession) -> None:
        """Show what `session` reads, from its first record, instead of the current tail.

        `start_tail` builds the session from the fields; a caller with a session of its own
        (a snapshot test feeding fixed records) hands it in here."""
        self.stop_tail()
        self.ring.clear()
        self.drawn_total = -1
        self._start_refilter(self.view.reset())
        self.log_widget.reset()
        self.log_widget.show_topic = len(session.selection) > 1
        self.log_widget.decoder = None if self.schemas is None else self.schemas.decoder
        self.description = describe_tail(list(session.selection), session.position, self.tz)
        self.session = session
        self.failure = ""
        self.rate.reset()
        self.rate.sample(self.clock(), 0)
        self._worker = self._tail(session, self.schemas)
        self._show_status()

    def stop_tail(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        self.session = None
        self._show_status()

    @work(exclusive=True, group="tail", exit_on_error=False)
    async def _tail(self, session: TailSession, schemas: SchemaReader | None) -> None:
        try:
            await session.open()
            self._show_status()
            async for batch in session.batches():
                if schemas is not None and (silent := await schemas.learn_records(batch)):
                    self.notify(f"records stay undecoded: {silent}", title="Schema Registry")
                self.ring.extend(batch)
        except (KafkaToolError, SettingsError) as exc:
            self._failed(session, str(exc))
        except Exception as exc:  # never a traceback in the UI: say what broke
            self._failed(session, repr(exc))
        finally:
            await session.close()
            if schemas is not None:
                await schemas.close()
            if self.session is session:
                self.session = None
                self._show_status()

    def _failed(self, session: TailSession, reason: str) -> None:
        """A toast now, and the status line until the next tail starts."""
        self.notify(reason, title="Tail", severity="error")
        if self.session is session:
            self.failure = reason

    def action_toggle_isolation(self) -> None:
        committed = self.isolation is IsolationLevel.READ_COMMITTED
        self.isolation = IsolationLevel(not committed)
        self._reading_changed()

    def action_toggle_markers(self) -> None:
        self.control_records = not self.control_records
        self._reading_changed()

    def _reading_changed(self) -> None:
        """Read again from the fields' start with the new setting (a running tail's records
        were read the other way)."""
        if self.session is not None:
            self.start_tail()
        self._show_status()

    def action_toggle_pause(self) -> None:
        session = self.session
        if session is None:
            self.notify("not tailing: s starts", title="Tail", severity="warning")
            return
        if session.paused:
            session.resume()
        else:
            session.pause()
        self._show_status()

    # -- filtering -------------------------------------------------------------------------

    @on(Input.Changed, "#tail-filter")
    def _filter_changed(self) -> None:
        self._apply_filter()

    @on(Input.Submitted, "#tail-filter")
    def _filter_submitted(self) -> None:
        self.log_widget.focus()

    def action_toggle_regex(self) -> None:
        self.regex = not self.regex
        self._apply_filter()

    def action_toggle_case(self) -> None:
        self.ignore_case = not self.ignore_case
        self._apply_filter()

    def _apply_filter(self) -> None:
        text = self.query_one("#tail-filter", Input).value
        record_filter = None
        self._filter_error = ""
        if text:
            try:
                record_filter = RecordFilter(
                    text,
                    regex=self.regex,
                    ignore_case=self.ignore_case,
                    schema_text=self._schema_text,
                )
            except FilterError as exc:
                self._filter_error = str(exc)
        self._show_filter_mode()
        if self._filter_error:
            return  # keep showing what the last valid filter kept
        self._start_refilter(self.view.set_filter(record_filter))
        self.log_widget.data_changed()
        self._show_status()

    def _schema_text(self, data: bytes) -> str | None:
        """What the filter searches for a framed key or value: the JSON it decodes to, read
        through the registry of the tail that brought it (None: read its bytes)."""
        return None if self.schemas is None else self.schemas.decoder.searchable(data)

    def _start_refilter(self, job: RefilterJob | None) -> None:
        if job is not None:
            self._refilter(job)

    @work(exclusive=True, group="tail-refilter", exit_on_error=False)
    async def _refilter(self, job: RefilterJob) -> None:
        """Refilter the records held in steps of a few milliseconds between frames and
        keys (a thread would be worse: it takes the GIL from the event loop for up to 5 ms
        at each of its many hand-overs, which froze typing for a quarter of a second)."""
        while not job.step_for():
            await asyncio.sleep(0)
        self._merge(job)

    def _merge(self, job: RefilterJob) -> None:
        if self.view.merge(job):
            self.log_widget.data_changed()
            self._show_status()

    def _show_filter_mode(self) -> None:
        """How the filter matches; or, plainly, that it does not see every record received."""
        mode = self.query_one("#tail-filter-mode", Static)
        partial = self.view.filter is not None and self.left_buffer > 0
        if self._filter_error:
            text = self._filter_error
        elif partial:
            text = f"{self.left_buffer:,} left the buffer · ^f searches all"
        else:
            kind = "regex" if self.regex else "substring"
            case = "any case" if self.ignore_case else "match case"
            text = f"{kind} ^r · {case} ^t"
        if text != self._filter_mode_text:
            self._filter_mode_text = text
            mode.update(Content(text))
        mode.set_class(partial and not self._filter_error, "-partial")
        mode.set_class(bool(self._filter_error), "-invalid")
        self.query_one("#tail-filter", Input).set_class(bool(self._filter_error), "-invalid")

    def action_focus_filter(self) -> None:
        self.query_one("#tail-filter", Input).focus()

    def action_focus_topics(self) -> None:
        self.controls.topics.focus()

    def action_focus_log(self) -> None:
        self.log_widget.focus()

    # -- records ---------------------------------------------------------------------------

    @on(RecordLog.Selected)
    def _open_record(self, event: RecordLog.Selected) -> None:
        log, marked = self.log_widget, self.view.filter
        self.app.push_screen(
            RecordDetailScreen(event.record, self.tz, log.step, marked, log.decoder)
        )

    def action_search_broker(self) -> None:
        """Search the tailed topic on the broker for what the filter looks for: the filter
        sees only the records the buffer holds."""
        searches = self.app.query(SearchPane)
        try:
            selection = parse_topics(self.controls.topics.value)
        except ValueError:
            selection = []
        if not searches or not selection:
            self.notify("name a topic to search first (t)", title="Search", severity="warning")
            return
        text = self.query_one("#tail-filter", Input).value
        if self.regex and text:
            query = f"/{text}/"
        else:
            query = shlex.quote(text) if text and text != shlex.quote(text) else text
        searches.first().search_topic(selection[0].topic, query)

    def action_copy_record(self) -> None:
        self.log_widget.copy_cursor_record()

    def action_export(self) -> None:
        records = self.view.records()
        if not records:
            self.notify("no records to export", title="Export", severity="warning")
            return
        topics = sorted({r.topic for r in records})
        stem = _UNSAFE.sub("_", "+".join(topics))[:80]
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        directory = self.export_dir if self.export_dir is not None else Path.cwd()
        self._export(records, directory / f"{stem}-{stamp}.jsonl")

    @work(group="tail-export", exit_on_error=False)
    async def _export(self, records: list[TailRecord], path: Path) -> None:
        try:
            written = await export_json_lines(records, path)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.notify(f"cannot write {path}: {reason}", title="Export", severity="error")
            return
        self.last_export = written
        self.notify(f"exported {len(records):,} records to {written}", title="Export")


def describe_tail(
    selection: list[TopicSelection], position: StartPosition, tz: tzinfo | None
) -> str:
    """ "orders, audit:0,1 from offset 42": what is tailed, in a few words."""
    topics = ", ".join(
        s.topic if s.partitions is None else f"{s.topic}:{','.join(map(str, s.partitions))}"
        for s in selection
    )
    mode, value = position.mode, position.value
    where = {
        StartMode.BEGINNING: "from the beginning",
        StartMode.END: "from the end",
        StartMode.OFFSET: f"from offset {value}",
        StartMode.TIMESTAMP: f"from {format_timestamp(value, tz, with_date=True)}",
        StartMode.LAST: f"last {value} per partition",
    }[mode]
    return f"{topics} {where}"
