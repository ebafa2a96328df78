"""The Produce pane against a real embedded localbroker, checked by a real consumer.

Each test opens the pane with its key, fills the form the way a user does (typing into the
fields; the Selects are set directly: their overlay is Textual's, not ours), sends with ctrl+s
or the buttons, and then reads back with confluent-kafka what the broker really stored: keys,
values, headers, partitions, and the compression of the stored batches.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from textual import events
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Select, Static, TextArea
from workbench_pilot import Cluster, burst, wait_connected, wait_until, workbench_app

from localbroker.records.batch import read_header
from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker
from tui.widgets.produce_pane import ProducePane

pytestmark = pytest.mark.timeout(120)
SIZE = (120, 36)
GZIP = 1
Record = tuple[bytes | None, bytes | None, list[tuple[str, bytes]], int]


# -- helpers ---------------------------------------------------------------------------------


async def open_pane(pilot: Pilot[None], app: WorkbenchApp, *topics: tuple[str, int]) -> ProducePane:
    """Create `topics` (name, partitions) with a real admin client, connect, press 4 and wait
    until the pane knows the topics."""
    if topics:
        admin = AdminClient({"bootstrap.servers": app.workbench.connection.bootstrap_servers})
        created = admin.create_topics([NewTopic(name, count, 1) for name, count in topics])
        await asyncio.gather(*(asyncio.wrap_future(f) for f in created.values()))
    await wait_connected(pilot, app)
    await wait_until(pilot, lambda: app.focused is not None, "the first pane focused")
    await pilot.press("4")
    pane = app.query_one(ProducePane)
    send = pane.query_one("#send", Button)
    await wait_until(pilot, lambda: send.has_focus, "Send focused, as the app focuses a pane")
    names = {name for name, _ in topics}

    def shown() -> set[str]:
        return {t.name for t in app.snapshot.topics} if app.snapshot else set()

    await wait_until(pilot, lambda: names <= shown(), f"{names} in the cluster snapshot")
    return pane


async def type_into(pilot: Pilot[None], pane: ProducePane, field: str, text: str) -> None:
    """Focus a field, empty it and type `text` key by key (newlines as enter), until the
    field holds it (the keys are handled a moment after press() returns)."""
    widget = clear(pane, field)
    await pilot.pause()
    await pilot.press(*["enter" if c == "\n" else c for c in text])
    await wait_until(pilot, lambda: text in content(widget), f"{text!r} typed into {field}")
    assert text in content(widget)


async def paste_into(pilot: Pilot[None], pane: ProducePane, field: str, text: str) -> None:
    """Focus a field, empty it and paste `text` into it, as a terminal delivers a paste."""
    widget = clear(pane, field)
    pilot.app.post_message(events.Paste(text))  # the driver delivers a paste to the app
    await wait_until(pilot, lambda: content(widget) != "", f"the paste into {field}")
    assert content(widget) == text


def content(widget: Input | TextArea) -> str:
    return widget.text if isinstance(widget, TextArea) else widget.value


def clear(pane: ProducePane, field: str) -> Input | TextArea:
    widget = pane.query_one(field)
    assert isinstance(widget, Input | TextArea)
    widget.focus()
    if isinstance(widget, TextArea):
        widget.clear()
    else:
        widget.value = ""
    return widget


def text_of(pane: ProducePane, widget_id: str) -> str:
    return str(pane.query_one(f"#{widget_id}", Static).render())


def ack_rows(pane: ProducePane) -> list[list[str]]:
    table = pane.query_one("#acks", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def consume(
    bootstrap: str, topic: str, partitions: int, count: int, patience: float
) -> list[Record]:
    """The first `count` records of the topic's partitions, read by confluent-kafka (fewer if
    there are no more within `patience` seconds)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "check", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got: list[Record] = []
    try:
        for _ in range(int(patience / 0.5)):
            if len(got) >= count:
                break
            for message in consumer.consume(count - len(got), 0.5):
                assert message.error() is None, message.error()
                headers = [(k, bytes(v)) for k, v in message.headers() or []]
                got.append((message.key(), message.value(), headers, message.partition()))
    finally:
        consumer.close()
    return got


async def read_back(
    app: WorkbenchApp, topic: str, partitions: int, count: int, patience: float = 20.0
) -> list[Record]:
    bootstrap = app.workbench.connection.bootstrap_servers
    return await asyncio.to_thread(consume, bootstrap, topic, partitions, count, patience)


def stored_compression(embedded: EmbeddedBroker, topic: str, partition: int) -> set[int]:
    """The compression codec ids of the batches the broker stored for one partition."""

    def read() -> bytes:
        log = embedded.state.partition_log(topic, partition)
        return bytes(log.read(log.log_start_offset, 1 << 24))

    data = embedded.call(read)
    codecs, position = set(), 0
    while position < len(data):
        header = read_header(data, position)
        codecs.add(header.compression)
        position += header.size
    return codecs


async def wait_status(pilot: Pilot[None], pane: ProducePane, widget_id: str, part: str) -> str:
    await wait_until(pilot, lambda: part in text_of(pane, widget_id), f"{part!r} in #{widget_id}")
    return text_of(pane, widget_id)


# -- one record, by hand ---------------------------------------------------------------------


async def test_a_keyed_json_record_with_headers_to_a_chosen_partition_compressed(
    embedded: EmbeddedBroker,
) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app, ("orders", 3))
        await type_into(pilot, pane, "#topic", "orders")
        assert pane.query_one("#partition", Input).placeholder == "auto (0-2)"
        await type_into(pilot, pane, "#key", "order-42")
        await type_into(pilot, pane, "#partition", "2")
        pane.query_one("#compression", Select).value = "gzip"
        await paste_into(pilot, pane, "#value", '{"id": 42, "status": "shipped"}')
        assert text_of(pane, "json-status") == "✓ valid JSON"
        await type_into(pilot, pane, "#headers", "source=kwb\ntrace-id=abc-1")
        await pilot.press("ctrl+s")
        said = await wait_status(pilot, pane, "send-status", "✓")
        assert said.startswith("✓ orders · partition 2 · offset 0 · ") and said.endswith(" ms")

        (record,) = await read_back(app, "orders", 3, 1)
        assert record == (
            b"order-42",
            b'{"id": 42, "status": "shipped"}',
            [("source", b"kwb"), ("trace-id", b"abc-1")],
            2,
        )
        assert await asyncio.to_thread(stored_compression, embedded, "orders", 2) == {GZIP}
        # The acknowledgement: partition, offset, latency, topic.
        ((partition, offset, latency, topic),) = ack_rows(pane)
        assert (partition, offset, topic) == ("2", "0", "orders")
        assert latency.endswith(" ms") and float(latency.removesuffix(" ms")) > 0

        # The same record again from the Send button: the next offset.
        await pilot.click("#send")
        await wait_until(pilot, lambda: len(ack_rows(pane)) == 2, "a second acknowledgement")
        assert ack_rows(pane)[0][:2] == ["2", "1"]  # the latest first


async def test_repeat_sends_n_records_and_lists_each_acknowledgement(
    embedded: EmbeddedBroker,
) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app, ("clicks", 2))
        await type_into(pilot, pane, "#topic", "clicks")
        await type_into(pilot, pane, "#key", "user-7")
        await type_into(pilot, pane, "#repeat", "25")
        await type_into(pilot, pane, "#value", "clicked")
        assert text_of(pane, "json-status") == "text"
        pane.query_one("#repeat", Input).focus()
        await pilot.press("enter")  # enter in a one-line field sends, as ctrl+s does
        await wait_status(pilot, pane, "send-status", "✓ clicks: 25 sent · 0 failed")

        got = await read_back(app, "clicks", 2, 25)
        assert len(got) == 25
        assert {(key, value) for key, value, _, _ in got} == {(b"user-7", b"clicked")}
        (partition,) = {p for *_, p in got}  # one key, one partition: murmur2 as in Java
        rows = ack_rows(pane)
        assert {row[0] for row in rows} == {str(partition)}
        assert [int(row[1]) for row in rows] == list(range(24, -1, -1))  # the latest first
        assert all(row[2].endswith(" ms") and row[3] == "clicks" for row in rows)


async def test_typing_on_the_pane_fills_the_topic_then_the_value(
    embedded: EmbeddedBroker,
) -> None:
    """A newcomer presses 4 and types: Send has the focus, but the letters are not lost."""
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app, ("typed", 1))
        burst(app, "typed")
        topic = pane.query_one("#topic", Input)
        await wait_until(pilot, lambda: topic.value == "typed", "the topic typed")
        assert topic.has_focus
        pane.query_one("#send", Button).focus()
        await pilot.pause()
        burst(app, "hello there")  # blanks too, once the first letter has started the value
        value = pane.query_one("#value", TextArea)
        await wait_until(pilot, lambda: len(value.text) >= 11, "the value typed")
        assert value.text == "hello there" and value.has_focus
        # Keys the app binds still do their job from Send: 2 switches to the Topics pane.
        pane.query_one("#send", Button).focus()
        await pilot.press("ctrl+s")
        await wait_status(pilot, pane, "send-status", "✓ typed · partition 0 · offset 0")
        await pilot.press("2")
        await wait_until(pilot, lambda: app.query_one("#panes").active == "topics", "Topics")
        assert value.text == "hello there"
        assert [(key, value) for key, value, _, _ in await read_back(app, "typed", 1, 1)] == [
            (None, b"hello there")
        ]


# -- mistakes --------------------------------------------------------------------------------


async def test_invalid_json_is_refused_with_where_and_why(embedded: EmbeddedBroker) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app, ("strict", 1))
        await type_into(pilot, pane, "#topic", "strict")
        await paste_into(pilot, pane, "#value", '{"id": 42 "status": "new"}')
        assert text_of(pane, "json-status") == "✗ 1:11 Expecting ',' delimiter"
        await pilot.press("ctrl+s")
        said = await wait_status(pilot, pane, "send-status", "not valid JSON")
        assert "line 1, column 11: Expecting ',' delimiter" in said
        assert "value format to text" in said
        value = pane.query_one("#value", TextArea)
        assert value.has_focus and value.cursor_location == (0, 10)  # at the mistake

        # JSON asked for: plain text is refused too; as text, the same JSON-ish text goes.
        pane.query_one("#value-format", Select).value = "json"
        await type_into(pilot, pane, "#value", "hello")
        await pilot.press("ctrl+s")
        await wait_status(pilot, pane, "send-status", "line 1, column 1: Expecting value")
        pane.query_one("#value-format", Select).value = "text"
        await paste_into(pilot, pane, "#value", '{"id": 42 "status": "new"}')
        await pilot.press("ctrl+s")
        await wait_status(pilot, pane, "send-status", "✓ strict · partition 0 · offset 0")
        ((_, value_sent, _, _),) = await read_back(app, "strict", 1, 1)
        assert value_sent == b'{"id": 42 "status": "new"}'


async def test_an_unknown_topic_is_named_not_created(cluster: Cluster) -> None:
    """Also on Apache Kafka, where auto.create.topics.enable is true: nothing the pane asks
    of the cluster before sending may create the topic the user mistyped."""
    app = cluster.app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app)
        await type_into(pilot, pane, "#topic", "ordrs")
        await type_into(pilot, pane, "#value", "hello")
        await pilot.press("ctrl+s")
        said = await wait_status(pilot, pane, "send-status", "does not exist")
        assert said == (
            "topic 'ordrs' does not exist: create it in the Topics pane (2, then c) or"
            " check the name"
        )
        before = app.snapshot
        app.refresh_cluster()
        await wait_until(pilot, lambda: app.snapshot is not before, "a fresh snapshot")
        assert app.snapshot is not None
        assert "ordrs" not in {t.name for t in app.snapshot.topics}

        # No topic at all: said, and the cursor goes to the field.
        await type_into(pilot, pane, "#topic", "")
        await pilot.press("ctrl+s")
        await wait_status(pilot, pane, "send-status", "no topic: type the name")
        assert pane.query_one("#topic", Input).has_focus

        # A file that is not there, a header that is not name=value: said where to look.
        await type_into(pilot, pane, "#topic", "ordrs")
        await paste_into(pilot, pane, "#file-path", "/no/such/file.txt")
        await pilot.click("#produce-file")
        await wait_status(pilot, pane, "file-status", "/no/such/file.txt: no such file")
        assert pane.query_one("#file-path", Input).has_focus
        await type_into(pilot, pane, "#headers", "trace-id abc")
        await pilot.press("ctrl+s")
        await wait_status(pilot, pane, "send-status", "header 1: expected name=value")
        assert pane.query_one("#headers", TextArea).has_focus


# -- files -----------------------------------------------------------------------------------


async def produce_file(
    pilot: Pilot[None], pane: ProducePane, topic: str, path: Path, file_format: str
) -> str:
    await type_into(pilot, pane, "#topic", topic)
    await paste_into(pilot, pane, "#file-path", str(path))
    pane.query_one("#file-format", Select).value = file_format
    await pilot.click("#produce-file")
    ended = ("✓", "✗")  # while it runs the line starts with the file's name
    await wait_until(pilot, lambda: text_of(pane, "file-status").startswith(ended), "the end")
    return text_of(pane, "file-status")


async def test_a_file_of_lines_one_record_a_line(embedded: EmbeddedBroker, tmp_path: Path) -> None:
    lines = ["first line", '{"not": "parsed"}', "", "last line, no newline"]
    path = tmp_path / "lines.txt"
    path.write_bytes("\r\n".join(lines).encode())
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app, ("from-lines", 1))
        said = await produce_file(pilot, pane, "from-lines", path, "lines")
        assert said.startswith("✓ lines.txt: 4 sent · 0 failed")
        got = await read_back(app, "from-lines", 1, 4)
        assert [(key, value) for key, value, _, _ in got] == [(None, s.encode()) for s in lines]
        assert pane.query_one("#produce-file", Button).label.plain == "Send file"


async def test_a_json_lines_file_with_keys_values_and_headers(
    embedded: EmbeddedBroker, tmp_path: Path
) -> None:
    objects: list[Any] = [
        {"key": "k1", "value": {"id": 1, "tags": ["a"]}, "headers": {"source": "file"}},
        {"key": "k2", "value": "plain text", "headers": [["h", "1"], ["h", "2"]], "partition": 1},
        {"value": {"base64": "AP8="}, "offset": 99, "topic": "ignored"},
    ]
    path = tmp_path / "records.jsonl"
    lines = [json.dumps(objects[0]), json.dumps(objects[1]), "not json", "", json.dumps(objects[2])]
    path.write_text("\n".join(lines) + "\n")
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app, ("from-jsonl", 2))
        said = await produce_file(pilot, pane, "from-jsonl", path, "jsonl")
        assert said.startswith("✗ records.jsonl: 3 sent · 1 failed")
        assert "last failure: line 3: not JSON: Expecting value (column 1)" in said
        got = sorted(await read_back(app, "from-jsonl", 2, 3), key=lambda r: r[0] or b"")
        assert got[0][:3] == (None, b"\x00\xff", [])
        assert got[1][:3] == (b"k1", b'{"id":1,"tags":["a"]}', [("source", b"file")])
        assert got[2] == (b"k2", b"plain text", [("h", b"1"), ("h", b"2")], 1)


async def test_following_a_file_streams_each_new_line(
    embedded: EmbeddedBroker, tmp_path: Path
) -> None:
    path = tmp_path / "app.log"
    path.write_text("written before following: not sent\n")
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app, ("followed", 1))
        await type_into(pilot, pane, "#topic", "followed")
        await paste_into(pilot, pane, "#file-path", str(path))
        await pilot.click("#follow")
        await wait_status(pilot, pane, "file-status", "following app.log: 0 line(s) sent")
        assert pane.query_one("#follow", Button).label.plain == "Unfollow"
        with path.open("a") as log:
            log.write("one\ntwo\n")
        await wait_status(pilot, pane, "file-status", "following app.log: 2 line(s) sent")
        with path.open("a") as log:
            log.write("three, in two ")
            log.flush()
            await pilot.pause(0.3)  # half a line is not a record yet
            log.write("writes\n")
        await wait_status(pilot, pane, "file-status", "following app.log: 3 line(s) sent")
        got = await read_back(app, "followed", 1, 3)
        assert [value for _, value, _, _ in got] == [b"one", b"two", b"three, in two writes"]
        assert [row[1] for row in ack_rows(pane)] == ["2", "1", "0"]

        await pilot.click("#follow")
        await wait_status(pilot, pane, "file-status", "stopped following app.log: 3 line(s)")
        assert pane.query_one("#follow", Button).label.plain == "Follow"
        with path.open("a") as log:
            log.write("after unfollow: not sent\n")
        await pilot.pause(0.5)
        assert len(await read_back(app, "followed", 1, 4, patience=2.0)) == 3
