"""One tailed record in full: where it is, its key, headers and value, readable.

A value is shown the way it is most likely meant: decoded through the Schema Registry when it
is in Confluent's wire format (its type, subject, version and schema id in the title),
pretty-printed and highlighted when it is
a JSON object or array, as text when it is printable UTF-8, as a hex dump otherwise (`h` switches a
text value to hex too). Very large values are cut for display; `y` copies the whole record.
`n` and `p` step to the next and previous record of the tail's list (as filtered), moving
the tail's cursor along, so escape goes back to where the reading stopped. What the tail's
filter matches is marked, as in the list: in a long value it is often past what the list shows.
A record can be acted on from here: `c`/`C` copy it as the kcat or `kwb produce` command that
writes it again, `r` produces it again to its topic or another (produce_again.py).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import tzinfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.highlight import highlight
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from ..host import host_of
from ..kafka.connection import Connection
from ..kafka.outgoing import OutgoingRecord
from ..kafka.producing import Acknowledgement, produce_once
from ..kafka.record_command import kcat_command, kwb_produce_command
from ..kafka.record_filter import RecordFilter, is_text, record_json, text_of
from ..kafka.schema_registry.wire import Decoded, Reading, SchemaDecoder
from ..kafka.tail import TIMESTAMP_TYPES, TailRecord
from ..widgets.footer import WorkbenchFooter
from ..widgets.record_log import format_timestamp
from .produce_again import ProduceAgainScreen

SHOWN_BYTES = 256 * 1024
"""More than this of a value is not drawn (it would take seconds); copy or export it."""
HIGHLIGHTED_CHARS = 100_000
"""Longer JSON is shown pretty-printed but not coloured (highlighting it is slow)."""
_HEX_WIDTH = 16
COMMANDS: dict[str, tuple[str, Callable[[TailRecord, Connection], str]]] = {
    "kcat": ("kcat", kcat_command),
    "kwb": ("kwb produce", kwb_produce_command),
}
"""The commands a record can be copied as (`c`, `C`): the name said, how it is built."""


def hex_dump(data: bytes, limit: int = SHOWN_BYTES, per_line: int = 16) -> str:
    """Offset, `per_line` bytes in hex and as ASCII per line, like `hexdump -C`."""
    half = per_line // 2
    hex_width = per_line * 3 - 1 + (1 if per_line > half else 0)
    lines = []
    for at in range(0, min(len(data), limit), per_line):
        chunk = data[at : at + per_line]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        if len(chunk) > half:
            split = half * 3 - 1
            hexes = hexes[:split] + " " + hexes[split:]
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{at:08x}  {hexes:<{hex_width}}  |{text}|")
    if len(data) > limit:
        lines.append(f"… {len(data) - limit:,} more bytes (y copies the whole record)")
    return "\n".join(lines)


def hex_bytes_per_line(width: int) -> int:
    """16 bytes a line when a `hex_dump` line fits in `width` cells, 8 otherwise."""
    return 16 if width >= len(hex_dump(bytes(16))) else 8


def json_document(data: bytes) -> str | None:
    """The bytes pretty-printed when they are a JSON object or array, else None."""
    if not data or data.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return None
    return json.dumps(parsed, indent=2, ensure_ascii=False)


def describe_bytes(
    data: bytes | None, as_hex: bool = False, per_line: int = 16
) -> tuple[str, Content]:
    """What the bytes are ("JSON · 120 bytes") and how to show them."""
    if data is None:
        return "null", Content("null")
    size = f"{len(data):,} bytes"
    if as_hex or not is_text(data):
        kind = "hex" if is_text(data) else "binary · hex"
        return f"{kind} · {size}", Content(hex_dump(data, per_line=per_line))
    if len(data) > SHOWN_BYTES:  # JSON or not, shown as the text it starts with
        text = data[:SHOWN_BYTES].decode("utf-8", "ignore")
        text += f"\n… {len(data) - SHOWN_BYTES:,} more bytes (y copies the whole record)"
        return f"text · {size}", Content(text)
    document = json_document(data)
    if document is not None:
        if len(document) <= HIGHLIGHTED_CHARS:
            return f"JSON · {size}", highlight(document, language="json")
        return f"JSON · {size}", Content(document)
    return f"text · {size}", Content(text_of(data))


def describe_reading(reading: Reading, per_line: int = 16) -> tuple[str, Content]:
    """A framed key or value: "AVRO · orders-value v1 · schema id 1" and the
    decoded JSON, highlighted; or why it does not decode, and its bytes."""
    if isinstance(reading, Decoded):
        schema = reading.schema
        document = json.dumps(reading.value, indent=2, ensure_ascii=False)
        shown = (
            highlight(document, language="json")
            if len(document) <= HIGHLIGHTED_CHARS
            else Content(document)
        )
        return f"{schema.schema_type} · {schema.where}", shown
    dump = hex_dump(reading.data, per_line=per_line)
    return (
        f"schema id {reading.schema_id} {reading.reason} · {len(reading.data):,} bytes · hex",
        Content(f"⚠ schema id {reading.schema_id}: {reading.reason}\n{dump}"),
    )


def _name(record: TailRecord) -> str:
    return f"{record.topic}/{record.partition}@{record.offset}"


def _place(record: TailRecord) -> tuple[str, int, int]:
    """Where a record is: the list hands out a new TailRecord each time it is asked."""
    return record.topic, record.partition, record.offset


class RecordDetailScreen(Screen[None]):
    """The record under the tail's cursor; escape goes back to the tail."""

    BINDINGS = [
        Binding("escape,q", "dismiss", "Back"),
        Binding("y", "copy_record", "Copy JSON"),
        Binding("c", "copy_command('kcat')", "kcat"),
        Binding("C", "copy_command('kwb')", "kwb"),
        Binding("r", "produce_again", "Produce again"),
        Binding("h", "toggle_hex", "Hex/text"),
        Binding("n", "step(1)", "Next"),
        Binding("p", "step(-1)", "Previous"),
    ]

    DEFAULT_CSS = """
    RecordDetailScreen {
        background: $background;
        #detail-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
        #detail-body { height: 1fr; padding: 0 1; }
        .detail-section { margin-top: 1; color: $primary; text-style: bold; }
        #detail-facts { color: $foreground; }
        #detail-key { color: $kwb-key; }
        #detail-headers { color: $foreground; }
        #detail-value { color: $foreground; }
    }
    """

    value_as_hex: reactive[bool] = reactive(False)
    """Show the value as a hex dump even when it is text."""

    def __init__(
        self,
        record: TailRecord,
        tz: tzinfo | None = None,
        step: Callable[[int], TailRecord | None] | None = None,
        marked: RecordFilter | None = None,
        decoder: SchemaDecoder | None = None,
    ) -> None:
        """`step(n)` moves the tail's cursor n records on and gives the record there;
        `marked` is the tail's filter; `decoder` reads keys and values in Confluent's wire
        format (None: no registry)."""
        super().__init__()
        self.record = record
        self.tz = tz
        self._step = step
        self._marked = marked
        self._decoder = decoder

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-facts")
            yield Static(id="detail-key-title", classes="detail-section")
            yield Static(id="detail-key")
            yield Static(id="detail-headers-title", classes="detail-section")
            yield Static(id="detail-headers")
            yield Static(id="detail-value-title", classes="detail-section")
            yield Static(id="detail-value")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self._show_record()
        self.query_one("#detail-body").focus()

    def _show_record(self) -> None:
        record = self.record
        title = f"{record.topic} · partition {record.partition} · offset {record.offset}"
        self.query_one("#detail-title", Static).update(Content(title))
        self.query_one("#detail-facts", Static).update(self._facts())
        key_kind, key = self._describe(record.key)
        self.query_one("#detail-key-title", Static).update(Content(f"key · {key_kind}"))
        self.query_one("#detail-key", Static).update(self._mark(key))
        headers = Content(f"headers · {len(record.headers)}")
        self.query_one("#detail-headers-title", Static).update(headers)
        self.query_one("#detail-headers", Static).update(self._mark(self._headers()))
        self._show_value()

    def action_step(self, rows: int) -> None:
        record = self._step(rows) if self._step is not None else None
        if record is None or _place(record) == _place(self.record):
            where = "newest" if rows > 0 else "oldest"
            self.notify(f"this is the {where} record shown", title="Record", severity="warning")
            return
        self.record = record
        self._show_record()
        self.query_one("#detail-body").scroll_home(animate=False)

    def _facts(self) -> Content:
        record = self.record
        kind = TIMESTAMP_TYPES.get(record.timestamp_type, "NO_TIMESTAMP")
        when = format_timestamp(record.timestamp, self.tz, with_date=True)
        zone = "local time" if self.tz is None else str(self.tz)
        return Content(
            f"topic      {record.topic}\n"
            f"partition  {record.partition}\n"
            f"offset     {record.offset}\n"
            f"timestamp  {when} ({zone}) · {record.timestamp} ms · {kind}"
        )

    def _headers(self) -> Content:
        if not self.record.headers:
            return Content("none")
        lines = []
        for name, value in self.record.headers:
            shown = "null" if value is None else text_of(value)
            kind = "" if is_text(value) else "  (hex)"
            lines.append(f"{name}: {shown}{kind}")
        return Content("\n".join(lines))

    def on_resize(self) -> None:
        self._show_value()

    def _show_value(self) -> None:
        per_line = hex_bytes_per_line(
            self.query_one("#detail-body").scrollable_content_region.width
        )
        kind, value = self._describe(self.record.value, self.value_as_hex, per_line)
        self.query_one("#detail-value-title", Static).update(Content(f"value · {kind}"))
        self.query_one("#detail-value", Static).update(self._mark(value))

    def _describe(
        self, data: bytes | None, as_hex: bool = False, per_line: int = 16
    ) -> tuple[str, Content]:
        decoder = self._decoder
        if data is not None and decoder is not None and not as_hex:
            reading = decoder.decode(data)
            if reading is not None:
                return describe_reading(reading, per_line)
        return describe_bytes(data, as_hex, per_line)

    def _mark(self, content: Content) -> Content:
        if self._marked is None:
            return content
        for start, end in self._marked.spans(content.plain):
            content = content.stylize("reverse", start, end)
        return content

    def watch_value_as_hex(self) -> None:
        if self.is_mounted:
            self._show_value()

    def action_toggle_hex(self) -> None:
        self.value_as_hex = not self.value_as_hex

    def action_copy_command(self, tool: str) -> None:
        """The shell command that produces this record again (tui/kafka/record_command.py)."""
        workbench = host_of(self).workbench
        if workbench is None:
            self.notify("no cluster to name in the command", title="Copy", severity="warning")
            return
        name, command_of = COMMANDS[tool]
        try:
            command = command_of(self.record, workbench.connection)
        except ValueError as exc:
            self.notify(f"not as a {name} command: {exc}", title="Copy", severity="warning")
            return
        self.app.copy_to_clipboard(command)
        self.notify(f"copied as a {name} command: {command}", title="Copy")

    def action_produce_again(self) -> None:
        """Send the record's key, value and headers again, to its topic or another."""
        record = self.record
        workbench = host_of(self).workbench
        outgoing = OutgoingRecord(record.key, record.value, record.headers)

        def topics() -> list[str]:
            snapshot = host_of(self).snapshot
            return [] if snapshot is None else [t.name for t in snapshot.topics]

        def produced(ack: Acknowledgement | None) -> None:
            if ack is not None:
                where = f"{ack.topic}/{ack.partition}@{ack.offset}"
                self.notify(f"produced {_name(record)} again as {where}", title="Produce")

        produce = None
        if workbench is not None:
            connection = workbench.connection

            def produce(topic: str) -> Awaitable[Acknowledgement]:
                return produce_once(connection, topic, outgoing)

        self.app.push_screen(
            ProduceAgainScreen(_name(record), record.topic, topics, produce), produced
        )

    def action_copy_record(self) -> None:
        self.app.copy_to_clipboard(json.dumps(record_json(self.record), ensure_ascii=False))
        self.notify(
            f"copied {_name(self.record)} as JSON",
            title="Copy",
        )
