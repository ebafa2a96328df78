"""The Tail pane against a real embedded localbroker, records produced by confluent-kafka.

Each test drives the app with keys the way a user does (the start mode is set on the Select
directly: its overlay is Textual's, not ours) and checks what the pane holds and shows.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import waiting
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from rich.cells import cell_len
from textual.content import Content
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TabbedContent
from workbench_pilot import press_until, screen_after, wait_connected, wait_until, workbench_app

from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker
from tui.kafka.tail import TailRecord
from tui.screens.produce_again import ProduceAgainScreen
from tui.screens.record_detail import RecordDetailScreen, hex_dump
from tui.widgets.record_log import RecordLog
from tui.widgets.search_pane import SearchPane
from tui.widgets.tail_pane import TailPane

pytestmark = pytest.mark.timeout(120)
SIZE = (140, 40)
LEFT = 48_000
"""Records that had left the 100,000-record buffer when the issue's 148,000 were tailed."""
BASE_TS = 1_714_563_000_000  # 2024-05-01 11:30:00 UTC


def create_topic(bootstrap: str, name: str, partitions: int = 1) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(20)
    waiting.wait_until(
        lambda: len(admin.list_topics(name, timeout=10).topics[name].partitions) >= partitions,
        f"{name} to show {partitions} partitions",
    )


def produce(bootstrap: str, topic: str, records: Sequence[dict[str, Any]]) -> None:
    """Each record: value, and optionally key, headers, partition, timestamp."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2})
    for record in records:
        extra = {k: record[k] for k in ("key", "headers", "partition", "timestamp") if k in record}
        producer.produce(topic, record["value"], **extra)
    assert producer.flush(20) == 0, "records left unsent"


@asynccontextmanager
async def workbench(
    embedded: EmbeddedBroker, size: tuple[int, int] = SIZE
) -> AsyncIterator[tuple[WorkbenchApp, Pilot[None]]]:
    """The app on `embedded`, connected."""
    app = workbench_app(embedded)
    async with app.run_test(size=size) as pilot:
        await wait_connected(pilot, app)
        yield app, pilot


async def in_thread(function: Any, *args: Any) -> Any:
    """Blocking client calls run off the app's loop (the test shares it with the app)."""
    return await asyncio.to_thread(function, *args)


async def start_tail(
    pilot: Pilot[None],
    app: WorkbenchApp,
    topics: str,
    mode: str = "end",
    value: str = "",
    capacity: str | None = None,
) -> TailPane:
    """Open the Tail pane, type the topics (and value), start with enter, wait until this new
    tail has resolved its offsets (a tail started before keeps its own until enter is
    handled, so waiting for any session's offsets could pass at once)."""
    pane = app.query_one(TailPane)
    if app.query_one("#panes", TabbedContent).active != "tail":
        await pilot.press("3")
        await wait_until(
            pilot, lambda: app.focused is not None and pane in app.focused.ancestors, "focus"
        )
    pane.query_one("#tail-start", Select).value = mode
    await pilot.pause()
    if capacity is not None:
        pane.query_one("#tail-capacity", Input).value = capacity
    if value:
        # The field shows (and can take the focus) once the Select's change is handled.
        field = pane.query_one("#tail-start-value", Input)
        await wait_until(pilot, lambda: field.has_class("-needed"), "the start value field")
        field.focus()
        await wait_until(pilot, lambda: field.has_focus, "the start value field focused")
        await pilot.press(*value)
    topics_input = pane.query_one("#tail-topics", Input)
    topics_input.focus()
    topics_input.value = ""
    before = pane.session
    await press_until(
        pilot,
        [*topics, "enter"],
        lambda: (
            pane.session is not None and pane.session is not before and bool(pane.session.offsets)
        ),
        "the new tail to resolve its starting offsets",
    )
    return pane


def keys_values(records: Sequence[TailRecord]) -> list[tuple[bytes | None, bytes | None]]:
    return [(r.key, r.value) for r in records]


def status(pane: TailPane, widget_id: str) -> str:
    return str(pane.query_one(f"#{widget_id}", Static).render())


async def wait_received(pilot: Pilot[None], pane: TailPane, count: int) -> None:
    """Until `count` records have arrived and the list has taken them all in (a tick of the
    pane's draw timer does that, and a filter may be running)."""
    await wait_until(
        pilot,
        lambda: (
            pane.ring.total >= count
            and pane.drawn_total == pane.ring.total
            and not pane.view.refiltering
        ),
        f"{count} records received and drawn",
    )


async def test_records_appear_live_with_exact_keys_and_values(embedded: EmbeddedBroker) -> None:
    await in_thread(create_topic, embedded.bootstrap, "live", 2)
    async with workbench(embedded) as (app, pilot):
        pane = await start_tail(pilot, app, "live")
        assert pane.session is not None and pane.session.offsets == {("live", 0): 0, ("live", 1): 0}
        sent = [
            {"key": f"k{i}".encode(), "value": f"value {i} ✓".encode(), "partition": i % 2}
            for i in range(60)
        ]
        await in_thread(produce, embedded.bootstrap, "live", sent)
        await wait_received(pilot, pane, 60)
        assert pane.ring.total == 60
        got = pane.view.records()
        assert sorted(keys_values(got)) == sorted((r["key"], r["value"]) for r in sent)
        for partition in (0, 1):  # each partition's records in offset order
            offsets = [r.offset for r in got if r.partition == partition]
            assert offsets == list(range(30))
        # The list follows the tail: the newest record is under the cursor and on screen.
        log = pane.query_one(RecordLog)
        assert log.following and log.cursor_row == 59
        newest = got[-1]
        screen = "\n".join(log.render_line(y).text for y in range(log.size.height))
        assert newest.key is not None and newest.value is not None
        assert newest.key.decode() in screen and newest.value.decode() in screen
        assert "received 60 · shown 60 · buffer 60/100,000" in status(pane, "tail-counts")
        assert status(pane, "tail-state") == "tailing 2 partitions · live from the end"


async def test_start_positions_give_the_right_first_offsets(embedded: EmbeddedBroker) -> None:
    await in_thread(create_topic, embedded.bootstrap, "positions", 1)
    await in_thread(create_topic, embedded.bootstrap, "two", 2)
    await in_thread(
        produce,
        embedded.bootstrap,
        "positions",
        [{"value": f"v{i}".encode(), "timestamp": BASE_TS + i * 1000} for i in range(30)],
    )
    await in_thread(
        produce,
        embedded.bootstrap,
        "two",
        [{"value": f"w{i}".encode(), "partition": i % 2} for i in range(20)],
    )
    async with workbench(embedded) as (app, pilot):

        async def first_offsets(
            topics: str, mode: str, value: str, expected: int
        ) -> dict[int, int]:
            pane = await start_tail(pilot, app, topics, mode, value)
            await wait_received(pilot, pane, expected)
            assert pane.ring.total == expected
            firsts: dict[int, int] = {}
            for record in pane.ring.records():
                firsts.setdefault(record.partition, record.offset)
            return firsts

        assert await first_offsets("positions", "beginning", "", 30) == {0: 0}
        assert await first_offsets("positions", "offset", "12", 18) == {0: 12}
        assert await first_offsets("positions", "offset", "999", 0) == {}  # clamped to the end
        ts = str(BASE_TS + 20_000)
        assert await first_offsets("positions", "timestamp", ts, 10) == {0: 20}
        ts = str(BASE_TS + 20_500)  # between two records: the next one
        assert await first_offsets("positions", "timestamp", ts, 9) == {0: 21}
        assert await first_offsets("positions", "last", "5", 5) == {0: 25}
        assert await first_offsets("two", "last", "3", 6) == {0: 7, 1: 7}
        assert await first_offsets("two:1", "beginning", "", 10) == {1: 0}

        pane = await start_tail(pilot, app, "positions", "end")
        await pilot.pause(0.5)  # nothing to wait for: older records would have come by now
        assert pane.ring.total == 0
        await in_thread(produce, embedded.bootstrap, "positions", [{"value": b"after"}])
        await wait_received(pilot, pane, 1)
        assert [(r.offset, r.value) for r in pane.ring.records()] == [(30, b"after")]


async def test_pause_stops_updates_and_resume_continues(embedded: EmbeddedBroker) -> None:
    await in_thread(create_topic, embedded.bootstrap, "paused", 1)
    async with workbench(embedded) as (app, pilot):
        pane = await start_tail(pilot, app, "paused")
        batch = [{"value": f"a{i}".encode()} for i in range(20)]
        await in_thread(produce, embedded.bootstrap, "paused", batch)
        await wait_received(pilot, pane, 20)
        session = pane.session
        assert session is not None
        await press_until(pilot, "space", lambda: session.paused, "the tail paused")
        assert status(pane, "tail-state").startswith("paused")
        later = [{"value": f"b{i}".encode()} for i in range(20)]
        await in_thread(produce, embedded.bootstrap, "paused", later)
        await pilot.pause(1.5)  # nothing to wait for: records would have come by now
        assert pane.ring.total == 20, "records arrived while paused"
        await press_until(pilot, "space", lambda: not session.paused, "the tail resumed")
        await wait_received(pilot, pane, 40)
        assert [r.value for r in pane.ring.records()] == [r["value"] for r in batch + later]
        await press_until(pilot, "s", lambda: pane.session is None, "the tail stopped")
        assert status(pane, "tail-state").startswith("stopped")


def fruit_records(tag: str) -> list[dict[str, Any]]:
    """Records where "apple" is in the key, the value, a header value, a header name, in
    capitals, or nowhere."""
    return [
        {"key": f"apple-{tag}".encode(), "value": b"plain"},
        {"key": f"pear-{tag}".encode(), "value": b"a red apple pie"},
        {"key": f"fig-{tag}".encode(), "value": b"x", "headers": [("fruit", b"apple")]},
        {"key": f"kiwi-{tag}".encode(), "value": b"y", "headers": [("apple-id", b"7")]},
        {"key": f"plum-{tag}".encode(), "value": b"APPLE JUICE"},
        {"key": f"lime-{tag}".encode(), "value": b"orange", "headers": [("fruit", b"pear")]},
        {"key": None, "value": None},
        {"key": f"bin-{tag}".encode(), "value": bytes([0xAB, 0xCD, 0xEF, 0x01])},
    ]


def shown_keys(pane: TailPane) -> list[bytes | None]:
    return [r.key for r in pane.view.records()]


async def wait_shown(pilot: Pilot[None], pane: TailPane, keys: list[bytes | None]) -> None:
    """Until the list shows exactly the records with `keys`, no refilter running: the
    filter's keys and the refilter they start take a while (`not refiltering` alone holds
    before the keys are handled). A timeout says what was shown instead."""
    try:
        await wait_until(
            pilot,
            lambda: not pane.view.refiltering and shown_keys(pane) == keys,
            f"the list to show {keys}",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; shown: {shown_keys(pane)}") from None


async def open_filter(pilot: Pilot[None], pane: TailPane) -> None:
    """`/` and wait until the filter field has the focus (a binding moves it a moment after
    the key), so what is typed next goes there."""
    field = pane.query_one("#tail-filter", Input)
    await press_until(pilot, "slash", lambda: field.has_focus, "the filter field focused")


async def test_filter_substring_and_regex_while_tailing(embedded: EmbeddedBroker) -> None:
    await in_thread(create_topic, embedded.bootstrap, "fruit", 1)
    async with workbench(embedded) as (app, pilot):
        pane = await start_tail(pilot, app, "fruit")
        await in_thread(produce, embedded.bootstrap, "fruit", fruit_records("1"))
        await wait_received(pilot, pane, 8)
        await open_filter(pilot, pane)
        await pilot.press(*"apple")
        filter_field = pane.query_one("#tail-filter", Input)
        await wait_until(pilot, lambda: filter_field.value == "apple", "apple in the filter")
        expected_1 = [b"apple-1", b"pear-1", b"fig-1", b"kiwi-1", b"plum-1"]
        await wait_shown(pilot, pane, expected_1)
        # New records are filtered as they arrive.
        await in_thread(produce, embedded.bootstrap, "fruit", fruit_records("2"))
        await wait_received(pilot, pane, 16)
        expected_2 = [b"apple-2", b"pear-2", b"fig-2", b"kiwi-2", b"plum-2"]
        assert shown_keys(pane) == expected_1 + expected_2
        assert "received 16 · shown 10" in status(pane, "tail-counts")
        # The record detail marks the matches too: "apple" in "a red apple pie".
        pane.log_widget.focus()
        pane.log_widget.move_cursor(1)
        await pilot.pause()
        await screen_after(pilot, "enter", RecordDetailScreen, "detail")
        value = app.screen.query_one("#detail-value", Static).visual
        assert isinstance(value, Content) and value.plain == "a red apple pie"
        assert [(span.start, span.end, span.style) for span in value.spans] == [(6, 11, "reverse")]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, RecordDetailScreen), "back")
        await open_filter(pilot, pane)  # back in the filter
        # Case-sensitive: the capitals no longer match.
        await pilot.press("ctrl+t")
        case_sensitive = [k for k in expected_1 + expected_2 if not k.startswith(b"plum")]
        await wait_shown(pilot, pane, case_sensitive)
        await press_until(pilot, "ctrl+t", lambda: pane.ignore_case, "any case again")
        # Binary data is searched as hex.
        await pilot.press("ctrl+u", *"cdef01")
        await wait_shown(pilot, pane, [b"bin-1", b"bin-2"])
        # A regex on keys and header values.
        await pilot.press("ctrl+r", "ctrl+u", *"^(fig|lime)-2$|^pear$")
        await wait_shown(pilot, pane, [b"lime-1", b"fig-2", b"lime-2"])
        # An invalid regex says so and keeps the last valid filter.
        mode = pane.query_one("#tail-filter-mode", Static)
        await press_until(pilot, "(", lambda: mode.has_class("-invalid"), "the regex refused")
        assert "invalid regex" in status(pane, "tail-filter-mode")
        assert shown_keys(pane) == [b"lime-1", b"fig-2", b"lime-2"]
        await press_until(pilot, "backspace", lambda: not mode.has_class("-invalid"), "valid")
        assert status(pane, "tail-filter-mode").startswith("regex")
        await pilot.press("ctrl+u")
        await wait_until(
            pilot, lambda: not pane.view.refiltering and len(shown_keys(pane)) == 16, "all 16"
        )


def detail_text(app: WorkbenchApp, widget_id: str) -> str:
    """A field of the record detail on screen ("" while none is, or before it is built)."""
    screen = app.screen
    if not isinstance(screen, RecordDetailScreen):
        return ""
    try:
        return str(screen.query_one(f"#{widget_id}", Static).render())
    except NoMatches:
        return ""


def said(app: WorkbenchApp, words: str) -> bool:
    """Whether a notification says `words`."""
    return any(words in str(n.message) for n in app._notifications)


TITLE_0 = "detail · partition 0 · offset 0"
"""The record detail's title for the first record of the topic `detail`."""
TITLE_1 = "detail · partition 0 · offset 1"


async def test_detail_view_shows_pretty_json_hex_and_copies(embedded: EmbeddedBroker) -> None:
    await in_thread(create_topic, embedded.bootstrap, "detail", 1)
    document = {"order": 7, "items": [{"sku": "A-1", "qty": 2}], "paid": True, "note": "ünï"}
    binary = bytes(range(0, 40, 3)) + b"\xff\xfe"
    await in_thread(
        produce,
        embedded.bootstrap,
        "detail",
        [
            {
                "key": b"order-7",
                "value": json.dumps(document).encode(),
                "headers": [("source", b"web"), ("raw", b"\x00\x01")],
                "timestamp": BASE_TS,
            },
            {"key": b"blob", "value": binary, "timestamp": BASE_TS + 1},
        ],
    )
    async with workbench(embedded) as (app, pilot):
        pane = await start_tail(pilot, app, "detail", "beginning")
        await wait_received(pilot, pane, 2)

        def text(widget_id: str) -> str:
            return detail_text(app, widget_id)

        await press_until(
            pilot, ["k", "enter"], lambda: text("detail-title") == TITLE_0, "the 1st detail"
        )
        detail = app.screen
        assert text("detail-value-title").startswith("value · JSON")
        assert text("detail-value") == json.dumps(document, indent=2, ensure_ascii=False)
        value_spans = detail.query_one("#detail-value", Static).visual._spans  # type: ignore[union-attr]
        assert value_spans, "the JSON is highlighted"
        assert text("detail-key") == "order-7"
        assert text("detail-headers") == "source: web\nraw: 0001  (hex)"
        facts = text("detail-facts")
        assert "partition  0" in facts and "offset     0" in facts
        assert f"{BASE_TS} ms · CreateTime" in facts
        await press_until(pilot, "y", lambda: app.clipboard != "", "the record copied")
        assert json.loads(app.clipboard) == {
            "topic": "detail",
            "partition": 0,
            "offset": 0,
            "timestamp": BASE_TS,
            "timestamp_type": "CreateTime",
            "key": "order-7",
            "value": json.dumps(document),
            "headers": [["source", "web"], ["raw", {"base64": "AAE="}]],
        }
        # The JSON as bytes.
        await press_until(
            pilot, "h", lambda: text("detail-value-title").startswith("value · hex"), "hex"
        )
        assert text("detail-value-title") == f"value · hex · {len(json.dumps(document))} bytes"
        assert text("detail-value").startswith("00000000  7b 22 6f 72 64 65 72 22")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, RecordDetailScreen), "back")
        await press_until(
            pilot, ["j", "enter"], lambda: text("detail-title") == TITLE_1, "the 2nd detail"
        )
        assert text("detail-value-title") == f"value · binary · hex · {len(binary)} bytes"
        # The dump's width follows the screen's, measured a moment after it opened.
        await wait_until(pilot, lambda: text("detail-value") == hex_dump(binary), "the dump")
        assert text("detail-value") == hex_dump(binary)
        assert text("detail-value").startswith("00000000  00 03 06 09 0c 0f 12 15  18 1b 1e 21 24")
        # n and p step through the list; the tail's cursor goes along. Past either end the
        # record stays: a copy (y) after the step shows the step was handled (keys are
        # handled in order) and which record is shown then.
        copied = app.clipboard
        await press_until(pilot, ["n", "y"], lambda: app.clipboard != copied, "n, then a copy")
        assert text("detail-title") == TITLE_1 and json.loads(app.clipboard)["offset"] == 1
        assert any("the newest record shown" in n.message for n in app._notifications)
        await press_until(pilot, "p", lambda: text("detail-title") == TITLE_0, "the previous")
        assert text("detail-key") == "order-7" and text("detail-value-title").startswith(
            "value · JSON"
        )
        copied = app.clipboard
        await press_until(pilot, ["p", "y"], lambda: app.clipboard != copied, "p, then a copy")
        assert text("detail-title") == TITLE_0 and json.loads(app.clipboard)["offset"] == 0
        assert any("the oldest record shown" in n.message for n in app._notifications)
        # c: the record as a kcat command (tests/integration/test_record_command.py runs one);
        # this one has a binary header, so the workbench says why not.
        await pilot.press("c")
        await wait_until(
            pilot,
            lambda: any("not as a kcat command: its key" in n.message for n in app._notifications),
            "why it is not copied as a kcat command",
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, RecordDetailScreen), "back 2")
        assert pane.log_widget.cursor_record is not None
        assert pane.log_widget.cursor_record.offset == 0


async def test_a_tailed_record_produced_again_and_copied_as_kwb_produce(
    embedded: EmbeddedBroker,
) -> None:
    """Issue 14, point 7: act on a tailed record. `r` sends its key, value and headers to a
    topic chosen in a dialog (a missing one is refused there, the dialog stays); `C` copies
    it as a `kwb produce` command (tests/integration/test_record_command.py runs one)."""
    await in_thread(create_topic, embedded.bootstrap, "replay", 1)
    await in_thread(create_topic, embedded.bootstrap, "replay-copy", 1)
    headers = [("source", b"web"), ("trace", b"t-1")]
    await in_thread(
        produce,
        embedded.bootstrap,
        "replay",
        [{"key": b"order-7", "value": b'{"order": 7}', "headers": headers}],
    )
    async with workbench(embedded) as (app, pilot):
        pane = await start_tail(pilot, app, "replay", "beginning")
        await wait_received(pilot, pane, 1)
        await screen_after(pilot, "enter", RecordDetailScreen, "the record's detail")
        await press_until(pilot, "C", lambda: "kwb produce" in app.clipboard, "the kwb command")
        assert app.clipboard.startswith("printf '%s\\n' 'source:web,trace:t-1\torder-7\t")
        dialog = await screen_after(pilot, "r", ProduceAgainScreen, "the produce-again dialog")
        field = dialog.query_one("#again-topic", Input)
        assert field.value == "replay"
        error = dialog.query_one("#again-error", Static)
        field.value = "nowhere"
        await press_until(pilot, "enter", lambda: "does not exist" in str(error.render()), "no")
        assert app.screen is dialog
        field.value = "replay-copy"
        await press_until(
            pilot, "enter", lambda: said(app, "again as replay-copy/0@0"), "produced again"
        )
        assert isinstance(app.screen, RecordDetailScreen)
        await pilot.press("escape", "escape")
        # The copy, read by the same tail: key, value and headers as they were.
        pane = await start_tail(pilot, app, "replay-copy", "beginning")
        await wait_received(pilot, pane, 1)
        (copy,) = pane.ring.records()
        assert (copy.key, copy.value, list(copy.headers)) == (b"order-7", b'{"order": 7}', headers)


async def test_export_writes_the_shown_records_as_json_lines(
    embedded: EmbeddedBroker, tmp_path: Path
) -> None:
    await in_thread(create_topic, embedded.bootstrap, "export", 1)
    await in_thread(produce, embedded.bootstrap, "export", fruit_records("1"))
    async with workbench(embedded) as (app, pilot):
        pane = await start_tail(pilot, app, "export", "beginning")
        pane.export_dir = tmp_path
        await wait_received(pilot, pane, 8)
        log = pane.log_widget
        await open_filter(pilot, pane)
        await pilot.press(*"apple")
        await press_until(pilot, "escape", lambda: log.has_focus, "back in the list")
        await wait_shown(pilot, pane, [b"apple-1", b"pear-1", b"fig-1", b"kiwi-1", b"plum-1"])
        await pilot.press("x")
        await wait_until(pilot, lambda: pane.last_export is not None, "the export")
        assert pane.last_export is not None and pane.last_export.parent == tmp_path
        lines = pane.last_export.read_text(encoding="utf-8").splitlines()
        exported = [json.loads(line) for line in lines]
        stamps = [r.timestamp for r in pane.view.records()]
        assert exported == [
            {
                "topic": "export",
                "partition": 0,
                "offset": offset,
                "timestamp": stamp,
                "timestamp_type": "CreateTime",
                "key": key,
                "value": value,
                "headers": headers,
            }
            for offset, stamp, key, value, headers in zip(
                [0, 1, 2, 3, 4],
                stamps,
                ["apple-1", "pear-1", "fig-1", "kiwi-1", "plum-1"],
                ["plain", "a red apple pie", "x", "y", "APPLE JUICE"],
                [[], [], [["fruit", "apple"]], [["apple-id", "7"]], []],
                strict=True,
            )
        ]
        # Binary values survive the round trip (base64), nulls stay null.
        await open_filter(pilot, pane)
        await pilot.press("ctrl+u")
        await press_until(pilot, "escape", lambda: log.has_focus, "back in the list again")
        every = [r["key"] for r in fruit_records("1")]
        await wait_shown(pilot, pane, every)
        first = pane.last_export
        await pilot.press("x")
        # Same-second exports are numbered (name-2.jsonl), which sorts before name.jsonl.
        await wait_until(pilot, lambda: pane.last_export != first, "the 2nd export")
        second = pane.last_export
        assert second is not None and len(list(tmp_path.glob("*.jsonl"))) == 2
        rows = [json.loads(line) for line in second.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == 8
        assert rows[6]["key"] is None and rows[6]["value"] is None
        assert base64.b64decode(rows[7]["value"]["base64"]) == bytes([0xAB, 0xCD, 0xEF, 0x01])


async def test_the_ring_buffer_caps_what_is_held(embedded: EmbeddedBroker) -> None:
    await in_thread(create_topic, embedded.bootstrap, "capped", 1)
    sent = [{"key": f"k{i}".encode(), "value": f"v{i}".encode()} for i in range(250)]
    await in_thread(produce, embedded.bootstrap, "capped", sent)
    async with workbench(embedded) as (app, pilot):
        pane = await start_tail(pilot, app, "capped", "beginning", capacity="100")
        await wait_received(pilot, pane, 250)
        assert pane.ring.capacity == 100
        assert pane.ring.total == 250 and len(pane.ring) == 100 and len(pane.view) == 100
        held = pane.ring.records()
        assert [r.offset for r in held] == list(range(150, 250))
        assert held[0].key == b"k150" and held[-1].key == b"k249"
        assert "received 250 · shown 100 · buffer 100/100" in status(pane, "tail-counts")
        # More records push the oldest out; the cursor, moved up, stays on its record.
        log = pane.query_one(RecordLog)
        await press_until(
            pilot,
            ["g", "j", "j"],
            lambda: log.cursor_record is not None and log.cursor_record.offset == 152,
            "the cursor on the 3rd record held",
        )
        more = [{"key": f"k{i}".encode(), "value": f"v{i}".encode()} for i in range(250, 260)]
        await in_thread(produce, embedded.bootstrap, "capped", more)
        await wait_received(pilot, pane, 260)
        assert pane.ring.records()[0].offset == 160
        assert log.cursor_record is not None and log.cursor_record.offset == 160
        assert not log.following


async def test_the_filter_says_records_left_the_buffer_and_the_broker_finds_them(
    embedded: EmbeddedBroker,
) -> None:
    """Issue 14, point 3: a filter over a full buffer used to say only "no record matches",
    though the topic held matches at low offsets, and at 80 columns its hint was cut off. It
    now says, in full at 80 columns, how many records left the buffer, and ctrl+f searches
    the whole topic on the broker, where they are found."""
    await in_thread(create_topic, embedded.bootstrap, "orders", 1)
    sent = [
        {"key": f"k{i}".encode(), "value": b"FAILED" if i == 5 else f"ok {i}".encode()}
        for i in range(LEFT + 100)
    ]
    await in_thread(produce, embedded.bootstrap, "orders", sent)
    async with workbench(embedded, (80, 24)) as (app, pilot):
        pane = await start_tail(pilot, app, "orders", "beginning", capacity="100")
        await wait_received(pilot, pane, LEFT + 100)
        await pilot.press("slash", *"FAILED")
        mode = pane.query_one("#tail-filter-mode", Static)
        await wait_until(pilot, lambda: "left the buffer" in status(pane, "tail-filter-mode"), "")
        assert status(pane, "tail-filter-mode") == f"{LEFT:,} left the buffer · ^f searches all"
        assert mode.content_size.width >= cell_len(status(pane, "tail-filter-mode"))
        log = pane.query_one(RecordLog)
        assert f"{LEFT:,} older records have left it (it keeps 100)" in log.empty_text
        assert "ctrl+f searches the whole topic on the broker" in log.empty_text
        await pilot.press("escape", "ctrl+f")
        search = app.query_one(SearchPane)
        await wait_until(
            pilot,
            lambda: search.search is not None and search.search.progress.outcome == "finished",
            "the search on the broker",
        )
        assert app.query_one("#panes", TabbedContent).active == "search"
        assert [(r.offset, r.value) for r in search.view.records()] == [(5, b"FAILED")]


async def test_pane_keys_leave_the_empty_topics_field(embedded: EmbeddedBroker) -> None:
    """The empty pane focuses its topics field; 1-9 must still switch panes from there, and
    once something is typed a digit is part of the topic name."""
    async with workbench(embedded) as (app, pilot):
        panes = app.query_one("#panes", TabbedContent)
        topics = app.query_one(TailPane).query_one("#tail-topics", Input)
        await pilot.press("3")
        await wait_until(pilot, lambda: topics.has_focus, "the topics field focused")
        await pilot.press("4")
        await wait_until(pilot, lambda: panes.active == "produce", "the Produce pane")
        assert topics.value == ""
        await pilot.press("3")
        await wait_until(pilot, lambda: topics.has_focus, "the topics field focused again")
        await pilot.press(*"t1", "2")
        await wait_until(pilot, lambda: topics.value == "t12", "digits typed in the name")
        assert panes.active == "tail"


async def test_mistakes_are_one_readable_message(embedded: EmbeddedBroker) -> None:
    async with workbench(embedded) as (app, pilot):
        pane = app.query_one(TailPane)
        topics = pane.query_one("#tail-topics", Input)
        await press_until(pilot, "3", lambda: topics.has_focus, "the topics field focused")
        # The tail stops at once (no session) but the broker's answer, and the toast with
        # it, take a round trip.
        await pilot.press(*"no-such-topic", "enter")
        await wait_until(pilot, lambda: said(app, "no-such-topic"), "the failure's toast")
        messages = [n.message for n in app._notifications]
        assert any("no-such-topic" in m and "does not exist" in m for m in messages), messages
        # The toast goes away; the status line keeps saying why until the next tail starts.
        await wait_until(pilot, lambda: "no-such-topic" in status(pane, "tail-state"), "why")
        state = status(pane, "tail-state")
        assert state.startswith("stopped: topic no-such-topic") and "does not exist" in state
        pane.query_one("#tail-start", Select).value = "offset"
        await pilot.pause()
        pane.query_one("#tail-start-value", Input).value = "soon"
        topics.focus()
        await press_until(pilot, "enter", lambda: said(app, "'soon'"), "the refusal")
        messages = [n.message for n in app._notifications]
        assert any("'soon' is not an offset" in m for m in messages), messages


async def test_several_topics_and_chosen_partitions(embedded: EmbeddedBroker) -> None:
    await in_thread(create_topic, embedded.bootstrap, "north", 3)
    await in_thread(create_topic, embedded.bootstrap, "south", 1)
    async with workbench(embedded) as (app, pilot):
        pane = await start_tail(pilot, app, "north:0,2 south")
        assert pane.session is not None
        assert sorted(pane.session.offsets) == [("north", 0), ("north", 2), ("south", 0)]
        north = [{"value": f"n{i}".encode(), "partition": i % 3} for i in range(30)]
        await in_thread(produce, embedded.bootstrap, "north", north)
        await in_thread(produce, embedded.bootstrap, "south", [{"value": b"s0"}])
        await wait_received(pilot, pane, 21)
        await pilot.pause(0.5)  # partition 1's records would have come by now
        got = pane.ring.records()
        assert sorted((r.topic, r.partition) for r in got) == sorted(
            [("north", 0)] * 10 + [("north", 2)] * 10 + [("south", 0)]
        )
        log = pane.query_one(RecordLog)
        assert log.show_topic
        screen = "\n".join(log.render_line(y).text for y in range(log.size.height))
        assert "topic" in screen and "south" in screen and "north" in screen
        assert status(pane, "tail-state") == "tailing 3 partitions · north:0,2, south from the end"
        await wait_until(pilot, lambda: "rec/s" in status(pane, "tail-rate"), "the rate")


async def test_copy_a_record_from_the_list(embedded: EmbeddedBroker) -> None:
    await in_thread(create_topic, embedded.bootstrap, "copied", 1)
    await in_thread(
        produce,
        embedded.bootstrap,
        "copied",
        [{"key": b"a", "value": b"first"}, {"key": b"b", "value": b"\xff", "timestamp": BASE_TS}],
    )
    async with workbench(embedded) as (app, pilot):
        pane = await start_tail(pilot, app, "copied", "beginning")
        await wait_received(pilot, pane, 2)
        await press_until(pilot, "y", lambda: app.clipboard != "", "the record copied")
        assert json.loads(app.clipboard) == {
            "topic": "copied",
            "partition": 0,
            "offset": 1,
            "timestamp": BASE_TS,
            "timestamp_type": "CreateTime",
            "key": "b",
            "value": {"base64": "/w=="},
            "headers": [],
        }
        copied = app.clipboard
        await press_until(pilot, ["k", "y"], lambda: app.clipboard != copied, "the 1st copied")
        assert json.loads(app.clipboard)["value"] == "first"
        assert any("copied copied/0@0 as JSON" in n.message for n in app._notifications)
