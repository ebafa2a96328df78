"""Produce pane: write records by hand (key, a JSON-checked value, headers, a partition, N
repeats), from a file of lines or JSON Lines, or from a file followed as it grows.

The Kafka work is in tui/kafka/producing.py and the form in record_form.py; this module runs
the sending in workers and shows what comes back. Acknowledgements can arrive by the hundred
thousand, so they go into a bounded buffer and the table is redrawn from it at most ten times
a second.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from kio.schema.errors import ErrorCode
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select, Static
from textual.worker import Worker

from ..kafka.cluster import ClusterSnapshot
from ..kafka.connection import SettingsError
from ..kafka.errors import KafkaToolError
from ..kafka.lines import FileFollower
from ..kafka.outgoing import FileFormat, OutgoingRecord, RecordError
from ..kafka.producing import (
    Acknowledgement,
    ProduceProgress,
    RecordProducer,
    describe,
    file_records,
    followed_records,
    repeated,
)
from .pane import Pane
from .record_form import FormError, RecordForm
from .schema_choice import SchemaChoice
from .suggesters import PathSuggester

RESULTS_LIMIT = 200
"""Acknowledgements kept for the table (the latest; counts cover all of them)."""
REFRESH_SECONDS = 0.1
FILE_FORMATS = (("lines", "lines"), ("JSON Lines", "jsonl"))
CREATE_HINT = "create it in the Topics pane (2, then c) or check the name"
JOB_GROUPS = ("produce-send", "produce-file", "produce-follow")


@dataclass(slots=True)
class FileJob:
    """A file being produced or followed, and how it ended (None while it runs)."""

    path: Path
    run: ProduceProgress
    follow: bool
    outcome: str | None = None
    failed: bool = False


def summary(run: ProduceProgress) -> str:
    """Counts, and the rate once there is enough of a run for a rate to mean something."""
    rate = f" · {run.rate:,.0f} records/s" if run.elapsed >= 1 else ""
    return f"{run.sent:,} sent · {run.failed:,} failed{rate}"


def job_line(job: FileJob) -> Content:
    if job.outcome is not None:
        return Content.styled(job.outcome, "$error" if job.failed else "")
    if job.follow:
        failed = f" · {job.run.failed:,} failed" if job.run.failed else ""
        return Content(f"following {job.path.name}: {job.run.sent:,} line(s) sent{failed}")
    return Content(f"{job.path.name}: {summary(job.run)}")


def file_job_group(follow: bool) -> str:
    """The worker group of a file job: one file produced and one followed at a time."""
    return "produce-follow" if follow else "produce-file"


def offset_text(ack: Acknowledgement) -> str:
    return "—" if ack.offset < 0 else str(ack.offset)


def missing_topic(error: BaseException) -> bool:
    return isinstance(error, KafkaToolError) and error.code == ErrorCode.unknown_topic_or_partition


def readable(error: BaseException) -> str:
    """A failed send as the pane says it: a missing topic comes with what to do about it."""
    text = describe(error)
    return f"{text}: {CREATE_HINT}" if missing_topic(error) else text


class ProducePane(Pane):
    """The record form on the left; acknowledgements, files and following on the right.
    ctrl+s sends the form from anywhere in the pane, and so does enter in its one-line fields.
    """

    BINDINGS = [Binding("ctrl+s", "send", "Send", priority=True)]

    DEFAULT_CSS = """
    ProducePane { height: 1fr; }
    ProducePane #produce-columns { height: 1fr; }
    ProducePane #produce-side { width: 1fr; min-width: 36; padding: 0 1; }
    ProducePane #produce-side .field-row { height: 1; }
    ProducePane #produce-side .field-label { width: 12; color: $kwb-muted; }
    ProducePane #produce-side .section { color: $kwb-muted; text-style: bold; height: 1; }
    ProducePane #file-path { width: 1fr; }
    ProducePane #acks { height: 1fr; min-height: 4; overflow-x: hidden; }
    ProducePane #send-status { height: auto; max-height: 4; color: $kwb-muted; }
    ProducePane #send-status.-ok { color: $success; }
    ProducePane #send-status.-error { color: $error; }
    ProducePane #file-section { margin-top: 1; }
    ProducePane #file-buttons Button { margin-left: 1; }
    ProducePane #produce-file { width: 11; min-width: 11; }
    ProducePane #follow { width: 10; min-width: 10; }
    ProducePane #file-format { width: 14; }
    ProducePane #file-progress { height: 1; }
    ProducePane #file-progress.-idle { display: none; }
    ProducePane #file-status { height: auto; max-height: 3; color: $kwb-muted; }
    """

    def __init__(self) -> None:
        super().__init__(id="produce-pane")
        self._acks: deque[tuple[Acknowledgement, str]] = deque(maxlen=RESULTS_LIMIT)
        """Each with the schema ids its record was written with ("" for none)."""
        self._acks_changed = False
        self._acks_cut = False
        """The table shows only the latest of the kept acknowledgements (during a run)."""
        self._producer: RecordProducer | None = None
        self._send_run: tuple[str, ProduceProgress] | None = None
        """The topic and counts of the repeat run under way (None when none is)."""
        self._file_job: FileJob | None = None
        self._follow_job: FileJob | None = None
        self._file_notice: str | None = None
        """Why the file fields could not be used (shown until a job starts)."""
        self._file_status_shown: tuple[str, tuple[object, ...]] | None = None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="produce-columns"):
            yield RecordForm()
            with Vertical(id="produce-side"):
                yield Label("acknowledgements · latest first", classes="section")
                yield DataTable(id="acks", cursor_type="none", zebra_stripes=True)
                yield Static("", id="send-status")
                yield Label("from a file · one record a line", id="file-section", classes="section")
                with Horizontal(classes="field-row"):
                    yield Label("file", classes="field-label")
                    yield Input(
                        placeholder="path (→ completes)",
                        id="file-path",
                        suggester=PathSuggester(),
                        compact=True,
                    )
                with Horizontal(id="file-buttons", classes="field-row"):
                    yield Select(
                        FILE_FORMATS,
                        value="lines",
                        allow_blank=False,
                        id="file-format",
                        compact=True,
                        tooltip="lines: each line is a value\nJSON Lines: each line an object"
                        ' with "key", "value", "headers" (and "partition", "timestamp")',
                    )
                    yield Button("Send file", id="produce-file", compact=True)
                    yield Button("Follow", id="follow", compact=True)
                yield ProgressBar(id="file-progress", show_eta=False, classes="-idle")
                yield Static("", id="file-status")

    def on_mount(self) -> None:
        topic = self.query_one("#topic", Input)
        if not topic.value:
            topic.value = self.host.preferences.topic_to_produce
        table = self.query_one("#acks", DataTable)
        table.add_columns("partition", "offset", "latency", "topic")
        self.set_interval(REFRESH_SECONDS, self._refresh_runs)
        self.watch(self.app, "generation", self._cluster_switched, init=False)

    async def on_unmount(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.close()

    @property
    def form(self) -> RecordForm:
        return self.query_one(RecordForm)

    def show(self, snapshot: ClusterSnapshot) -> None:
        """The topics go to the form (names for completion, partition counts for the hint)."""
        if self.query(RecordForm):  # not while the app is closing and the form is gone
            self.form.show_topics({t.name: len(t.partitions) for t in snapshot.topics})
            workbench = self.host.workbench
            for choice in self.query(SchemaChoice):
                choice.connect(None if workbench is None else workbench.registry)

    # -- the cluster ----------------------------------------------------------------------

    def _cluster_switched(self) -> None:
        """Another cluster: the file jobs stop and the producer goes (the next send builds
        one for the new cluster)."""
        for group in JOB_GROUPS:
            self.workers.cancel_group(self, group)
        self._close_producer()

    @work(group="produce-close")
    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.close()

    async def _ready_producer(self) -> RecordProducer:
        """The pane's producer, built on first use and again only when the connection or the
        producer-level settings (acks, compression) change."""
        settings = self.form.settings()
        workbench = self.host.workbench
        if workbench is None:
            raise KafkaToolError("no cluster to produce to")
        connection = workbench.connection
        current = self._producer
        if current is not None:
            if current.settings == settings and current.connection is connection:
                return current
            self._producer = None
            await current.close()
        try:
            producer = RecordProducer(connection, settings)
        except SettingsError as exc:
            raise KafkaToolError(str(exc)) from None
        await producer.start()
        if self._producer is not None:  # another send built one meanwhile
            await producer.close()
            return self._producer
        self._producer = producer
        return producer

    # -- the record form ------------------------------------------------------------------

    def action_send(self) -> None:
        """Send what the form says (ctrl+s, or the Send button)."""
        try:
            topic, record, repeat = self.form.record()
        except FormError as exc:
            self._say(str(exc), error=True)
            self.query_one(exc.field).focus()
            return
        self.host.remember(produce_topic=topic)
        self._say(f"sending to {topic}…")
        self._send(topic, record, repeat, self.form.schemas.note())

    @on(Button.Pressed, "#send")
    @on(Input.Submitted, "#topic, #key, #partition, #repeat")
    def _send_pressed(self) -> None:
        """Send, or enter in one of the record's one-line fields."""
        self.action_send()

    @work(group="produce-send")
    async def _send(self, topic: str, record: OutgoingRecord, repeat: int, schemas: str) -> None:
        run = ProduceProgress()

        def acknowledged(ack: Acknowledgement) -> None:
            self.record_acknowledgement(ack, schemas)

        try:
            producer = await self._ready_producer()
            if repeat == 1:
                ack = await producer.send(topic, record)
                acknowledged(ack)
                self.draw_acknowledgements()
                self._say(
                    f"✓ {topic} · partition {ack.partition} · offset {offset_text(ack)}"
                    f" · {ack.latency_ms:.1f} ms" + (f" · {schemas}" if schemas else ""),
                    ok=True,
                )
                return
            self._send_run = (topic, run)
            await producer.produce(topic, repeated(record, repeat), run, acknowledged)
        except Exception as exc:  # every failure is a message, never a traceback
            self._say(readable(exc), error=True)
            if missing_topic(exc):  # out of the text fields, so that 2 goes to Topics
                self.query_one("#send", Button).focus()
            return
        finally:
            if self._send_run is not None and self._send_run[1] is run:
                self._send_run = None
            self.draw_acknowledgements()
        if run.failed:
            self._say(f"✗ {topic}: {summary(run)}; last failure: {run.last_error}", error=True)
        else:
            self._say(f"✓ {topic}: {summary(run)}", ok=True)

    def _say(self, text: str, error: bool = False, ok: bool = False) -> None:
        """The outcome of the last send under the acknowledgements (and a toast if it failed)."""
        status = self.query_one("#send-status", Static)
        status.update(text)
        status.set_class(error, "-error")
        status.set_class(ok, "-ok")
        if error:
            self.notify(text, title="Produce", severity="error")

    # -- acknowledgements -----------------------------------------------------------------

    def record_acknowledgement(self, ack: Acknowledgement, schemas: str = "") -> None:
        """Keep an acknowledgement for the table (drawn on the next tick, so that a hundred
        thousand of them cost ten redraws a second, not a hundred thousand)."""
        self._acks.append((ack, schemas))
        self._acks_changed = True

    def draw_acknowledgements(self, visible_only: bool = False) -> None:
        """Redraw the table from the kept acknowledgements, if any came since the last time;
        while a run streams them, only the rows that fit (drawing 200 rows ten times a second
        would halve the rate the pane produces at)."""
        if not self._acks_changed and (visible_only or not self._acks_cut):
            return
        table = self.query_one("#acks", DataTable)
        count = max(table.size.height - 1, 1) if visible_only else len(self._acks)
        self._acks_changed, self._acks_cut = False, count < len(self._acks)
        table.clear()
        for ack, schemas in islice(reversed(self._acks), count):
            latency = f"{ack.latency_ms:.1f} ms"
            where = f"{ack.topic} · {schemas}" if schemas else ack.topic
            table.add_row(str(ack.partition), offset_text(ack), latency, where)

    def _refresh_runs(self) -> None:
        """Ten times a second: new acknowledgements, and the counts of the runs under way."""
        self.draw_acknowledgements(visible_only=True)
        if self._send_run is not None:
            topic, run = self._send_run
            self._say(f"sending to {topic}: {summary(run)}")
        job = self._file_job
        if job is not None and job.outcome is None and job.run.total_bytes is not None:
            bar = self.query_one("#file-progress", ProgressBar)
            bar.update(total=max(job.run.total_bytes, 1), progress=job.run.bytes_read)
        self._show_file_status()

    # -- files ----------------------------------------------------------------------------

    def _file_inputs(self) -> tuple[str, Path, FileFormat]:
        topic = self.form.topic
        text = self.query_one("#file-path", Input).value.strip()
        if not text:
            raise FormError("no file: type the path of the file to produce", "#file-path")
        file_format: FileFormat = (
            "jsonl" if self.query_one("#file-format", Select).value == "jsonl" else "lines"
        )
        return topic, Path(text).expanduser(), file_format

    def _show_file_status(self) -> None:
        """One line per job (the file sent, the file followed), redrawn only when it changed."""
        jobs = [job for job in (self._file_job, self._follow_job) if job is not None]
        lines = [job_line(job) for job in jobs]
        if self._file_notice is not None:
            lines.insert(0, Content.styled(self._file_notice, "$error"))
        content = Content("\n").join(lines)
        shown = (content.plain, tuple(content.spans))  # Content's == ignores styles
        if shown != self._file_status_shown:
            self._file_status_shown = shown
            self.query_one("#file-status", Static).update(content)

    def _file_refused(self, text: str, field: str) -> None:
        self._file_notice = text
        self._show_file_status()
        self.notify(text, title="Produce", severity="error")
        self.query_one(field).focus()

    def _job_running(self, group: str) -> bool:
        return any(w.group == group and not w.is_finished for w in self.workers if w.node is self)

    def _sync_job_controls(self) -> None:
        """Buttons say what they will do; acks and compression are fixed while anything is
        being sent (changing them replaces the producer the sending uses)."""
        producing = self._job_running("produce-file")
        following = self._job_running("produce-follow")
        sending = self._job_running("produce-send")
        self.query_one("#produce-file", Button).label = "Stop" if producing else "Send file"
        self.query_one("#follow", Button).label = "Unfollow" if following else "Follow"
        self.query_one("#file-progress").set_class(not producing, "-idle")
        self.form.lock_settings(producing or following or sending)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group in JOB_GROUPS:
            self._sync_job_controls()

    def _start_file_job(self, follow: bool) -> None:
        """Start the job the file fields describe, or say what is missing."""
        try:
            topic, path, file_format = self._file_inputs()
        except FormError as exc:
            self._file_refused(str(exc), exc.field)
            return
        if follow and not path.parent.is_dir():
            self._file_refused(f"{path.parent}: no such directory", "#file-path")
            return
        if not follow and not path.is_file():
            self._file_refused(f"{path}: no such file", "#file-path")
            return
        self._file_notice = None
        job = FileJob(path, ProduceProgress(), follow)
        if follow:
            self._follow_job = job
            # the follower starts at the file's end now: what is appended after the press goes
            records = followed_records(FileFollower(path), file_format, job.run)
        else:
            self._file_job = job
            records = file_records(path, file_format, job.run)
        group = file_job_group(follow)
        self.run_worker(self._run_file_job(topic, job, records), group=group, exclusive=True)
        self._show_file_status()

    def _end_job(self, job: FileJob, outcome: str, error: bool) -> None:
        job.outcome, job.failed = outcome, error
        if self.is_attached:
            self.draw_acknowledgements()
            self._show_file_status()
            if error:
                self.notify(outcome, title="Produce", severity="error")

    @on(Button.Pressed, "#produce-file")
    def _produce_file_pressed(self) -> None:
        self._toggle_file_job(follow=False)

    @on(Button.Pressed, "#follow")
    def _follow_pressed(self) -> None:
        self._toggle_file_job(follow=True)

    def _toggle_file_job(self, follow: bool) -> None:
        """Start producing (or following) the file, or stop the job doing it."""
        group = file_job_group(follow)
        if self._job_running(group):
            self.workers.cancel_group(self, group)
        else:
            self._start_file_job(follow=follow)

    async def _run_file_job(
        self,
        topic: str,
        job: FileJob,
        records: AsyncIterable[list[OutgoingRecord | RecordError]],
    ) -> None:
        """A worker: the file's records (or the followed file's new ones) to the topic, until
        the end of the file or Stop / Unfollow."""
        run, name = job.run, job.path.name
        try:
            producer = await self._ready_producer()
            await producer.produce(topic, records, run, self.record_acknowledgement)
        except asyncio.CancelledError:
            stopped = (
                f"stopped following {name}: {run.sent:,} line(s) sent"
                if job.follow
                else f"{name}: stopped · {summary(run)}"
            )
            self._end_job(job, stopped, error=False)
            raise
        except Exception as exc:
            self._end_job(job, f"{name}: {readable(exc)}", error=True)
            return
        if run.failed:
            self._end_job(job, f"✗ {name}: {summary(run)}; last failure: {run.last_error}", True)
        else:
            self._end_job(job, f"✓ {name}: {summary(run)}", error=False)
