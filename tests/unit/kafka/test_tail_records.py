"""What the Tail pane builds on, without a broker: parsing what to tail, the ring, the view
and its refilter, the filter's reading of bytes, the rate.

The pane tests (tests/tui/test_tail_pane.py) drive the same code through the app against a
real broker; these pin the edge cases that are hard to produce there: a ring wrapping while a
refilter runs, bytes that are not text, a needle cut from a multi-byte character.
"""

from __future__ import annotations

import gc
import json
import re
from datetime import UTC
from pathlib import Path

import pytest

from tui.kafka.record_filter import (
    RecordFilter,
    RecordView,
    export_json_lines,
    is_text,
    matching,
    preview,
    record_json,
    text_of,
)
from tui.kafka.record_ring import RecordRing
from tui.kafka.tail import (
    RateMeter,
    StartMode,
    StartPosition,
    TailRecord,
    TopicSelection,
    parse_start,
    parse_timestamp,
    parse_topics,
)
from tui.screens.record_detail import SHOWN_BYTES, describe_bytes
from tui.widgets.record_log import format_timestamp

NOW = 1_714_563_000_000


def record(
    seq: int, key: bytes | None = None, value: bytes | None = None, **kw: object
) -> TailRecord:
    headers = kw.get("headers", ())
    assert isinstance(headers, tuple)
    return TailRecord("t", 0, seq, NOW + seq, 0, key, value, headers)


# -- what to tail ----------------------------------------------------------------------------


def test_topics_as_typed() -> None:
    assert parse_topics("orders") == [TopicSelection("orders")]
    assert parse_topics(" orders, audit:0,2  audit:1-3 x.y_z") == [
        TopicSelection("orders"),
        TopicSelection("audit", (0, 1, 2, 3)),
        TopicSelection("x.y_z"),
    ]
    assert parse_topics("a:1 a") == [TopicSelection("a")]  # all of a wins
    for wrong, says in (("", "name a topic"), ("a:3-1", "backwards"), ("a:x", "cannot read")):
        with pytest.raises(ValueError, match=says):
            parse_topics(wrong)


def test_start_positions_as_typed() -> None:
    assert parse_start("end", "ignored") == StartPosition(StartMode.END)
    assert parse_start("offset", " 42 ") == StartPosition(StartMode.OFFSET, 42)
    assert parse_start("last", "10") == StartPosition(StartMode.LAST, 10)
    assert parse_start("timestamp", "-5m", NOW) == StartPosition(StartMode.TIMESTAMP, NOW - 300_000)
    assert parse_timestamp("2h ago", NOW) == NOW - 7_200_000
    assert parse_timestamp(str(NOW)) == NOW
    assert parse_timestamp("2024-05-01T11:30:00+00:00") == NOW
    with pytest.raises(ValueError, match="'soon' is not an offset"):
        parse_start("offset", "soon")
    with pytest.raises(ValueError, match="is not a time"):
        parse_start("timestamp", "yesterday-ish")


# -- the ring ----------------------------------------------------------------------------------


def test_ring_keeps_the_newest_and_numbers_by_arrival() -> None:
    ring = RecordRing(5)
    ring.extend([record(i) for i in range(3)])
    ring.extend([record(i) for i in range(3, 9)])
    assert (ring.first, ring.total, len(ring)) == (4, 9, 5)
    assert [r.offset for r in ring.records()] == [4, 5, 6, 7, 8]
    assert ring[6] == record(6) and isinstance(ring[6], TailRecord)
    with pytest.raises(IndexError, match="not held"):
        ring[3]
    ring.extend([record(i) for i in range(9, 21)])  # more than it holds in one go
    assert [r.offset for r in ring.records(17, 30)] == [17, 18, 19, 20]
    ring.resize(3)
    assert (ring.first, ring.total, [r.offset for r in ring.records()]) == (18, 21, [18, 19, 20])
    ring.resize(6)
    ring.extend([record(21)])
    assert [r.offset for r in ring.records()] == [18, 19, 20, 21]


def test_held_records_cost_the_garbage_collector_nothing() -> None:
    """The ring holds plain tuples, which the collector stops tracking; named tuples stay
    tracked and made each full collection of a 100,000-record tail take 150-250 ms."""
    ring = RecordRing(10)
    ring.extend([record(i, b"k", b"v", headers=(("h", b"1"),)) for i in range(10)])
    gc.collect()
    assert not any(gc.is_tracked(raw) for raw in ring.raw())


# -- reading bytes -------------------------------------------------------------------------------


def test_bytes_read_as_text_or_hex() -> None:
    assert text_of("ünï\ttab".encode()) == "ünï\ttab" and is_text("ünï\n".encode())
    assert text_of(b"\x00\x01") == "0001" and not is_text(b"\x00\x01")  # control bytes
    assert text_of(b"\xff\xfe") == "fffe" and not is_text(b"\xff")
    assert text_of(None) == "" and is_text(None)
    assert preview(b"line one\nline two", 12) == ("line one lin", False)
    assert preview(b"\xab\xcd\xef", 10) == ("abcdef", True)
    long_text = ("é" * 5000).encode()  # cut in the middle of a character: still text
    assert preview(long_text[:-1] + b"x", 10) == ("é" * 10, False)


def test_detail_and_list_cope_with_any_bytes() -> None:
    """A producer may send anything: a timestamp no calendar holds, megabytes of JSON."""
    assert format_timestamp(2**62, UTC, with_date=True) == str(2**62)
    assert format_timestamp(NOW + 5, UTC, with_date=False) == "11:30:00.005"
    big = json.dumps({"blob": "é" * SHOWN_BYTES}).encode()
    kind, content = describe_bytes(big)
    assert kind == f"text · {len(big):,} bytes" and "more bytes" in content.plain
    assert describe_bytes(b'{"a": 1}')[0] == "JSON · 8 bytes"
    assert describe_bytes(b"plain", as_hex=True)[0] == "hex · 5 bytes"
    assert describe_bytes(b"\x00", per_line=8)[1].plain == "00000000  00" + " " * 22 + "  |.|"


def test_record_json_keeps_every_byte() -> None:
    raw = record(3, b"k", b"\x00\x01", headers=(("h", b"text"), ("n", None)))
    assert record_json(raw) == {
        "topic": "t",
        "partition": 0,
        "offset": 3,
        "timestamp": NOW + 3,
        "timestamp_type": "CreateTime",
        "key": "k",
        "value": {"base64": "AAE="},
        "headers": [["h", "text"], ["n", None]],
    }


async def test_export_writes_json_lines_beside_an_existing_file(tmp_path: Path) -> None:
    records = [record(i, f"k{i}".encode(), f"v{i}".encode()) for i in range(5)]
    first = await export_json_lines(records, tmp_path / "out.jsonl", step=2)
    second = await export_json_lines(records[:1], tmp_path / "out.jsonl")
    assert (first.name, second.name) == ("out.jsonl", "out-2.jsonl")
    rows = [json.loads(line) for line in first.read_text().splitlines()]
    assert [r["key"] for r in rows] == ["k0", "k1", "k2", "k3", "k4"]


# -- the filter ----------------------------------------------------------------------------------

TRICKY = [
    record(0, b"Apple-1", b"plain"),
    record(1, b"pear", "Ünïcode ÄPFEL".encode()),
    record(2, b"fig", b"\xab\xcd\xef\x01"),
    record(3, None, None, headers=(("Apple-Id", b"7"), ("raw", b"\x00apple"))),
    record(4, b"kiwi", b"x", headers=(("fruit", b"apple"),)),
    record(5, b"\x00APPLE", b"ok"),
    record(6, b"cd", b"CDEF01"),
]


def reference(text: str, regex: bool, ignore_case: bool) -> list[int]:
    """What the filter must keep: the search on `text_of` of every field, written plainly."""
    flags = re.IGNORECASE if ignore_case else 0
    pattern = re.compile(text if regex else re.escape(text), flags)
    kept = []
    for r in TRICKY:
        fields = [text_of(r.key) if r.key is not None else None]
        fields.append(text_of(r.value) if r.value is not None else None)
        for name, value in r.headers:
            fields += [name, text_of(value) if value is not None else None]
        if any(f is not None and pattern.search(f) for f in fields):
            kept.append(r.offset)
    return kept


@pytest.mark.parametrize("text", ["apple", "APPLE", "äpfel", "cdef01", "CDEF", "00", "a", "-"])
@pytest.mark.parametrize("ignore_case", [True, False])
def test_substring_filter_reads_bytes_as_shown(text: str, ignore_case: bool) -> None:
    found = matching(TRICKY, RecordFilter(text, ignore_case=ignore_case), 0)
    assert found == reference(text, False, ignore_case)


@pytest.mark.parametrize("text", [r"^apple", r"pp?le$", r"^[0-9a-f]+$", r"ÄPF"])
def test_regex_filter_reads_bytes_as_shown(text: str) -> None:
    for ignore_case in (True, False):
        found = matching(TRICKY, RecordFilter(text, regex=True, ignore_case=ignore_case), 0)
        assert found == reference(text, True, ignore_case)


@pytest.mark.parametrize(
    ("text", "regex", "ignore_case", "spans"),
    [
        ("apple", False, True, [(0, 5), (10, 15)]),
        ("apple", False, False, [(10, 15)]),
        ("a.p", False, True, []),  # a substring, not a pattern
        ("a.p", True, True, [(0, 3), (10, 13)]),
        ("x*", True, True, []),  # empty matches mark nothing
        ("ä", False, True, [(16, 17)]),
    ],
)
def test_filter_spans_mark_what_it_matches_in_shown_text(
    text: str, regex: bool, ignore_case: bool, spans: list[tuple[int, int]]
) -> None:
    shown = "APPLE pie apple Ä"
    assert RecordFilter(text, regex=regex, ignore_case=ignore_case).spans(shown) == spans


def test_a_refilter_slice_ends_when_its_time_is_up() -> None:
    """However slow each record is to read (a schema record is decoded first), a slice
    stops at its time, never after a fixed count (the clock here moves 1 s per look)."""
    ring = RecordRing(1000)
    ring.extend([record(i) for i in range(1000)])
    job = RecordView(ring).set_filter(RecordFilter("x"))
    assert job is not None
    ticks = iter(range(10_000))
    assert job.step_for(2.5, clock=lambda: float(next(ticks))) is False
    assert not job.finished and next(ticks) == 4  # the start, then a look after each of 3 steps
    while not job.step_for(2.5, clock=lambda: float(next(ticks))):
        pass
    assert job.finished


def test_the_view_refilters_in_steps_while_the_ring_wraps() -> None:
    """A refilter copies what is held when the filter changes; records that arrive meanwhile
    are filtered as they come, and the ones that fell off the front are dropped at merge."""
    ring = RecordRing(100)
    view = RecordView(ring)
    ring.extend([record(i, value=b"even" if i % 2 == 0 else b"odd") for i in range(100)])
    job = view.set_filter(RecordFilter("even"))
    assert job is not None and view.refiltering
    assert job.step(30) is False
    ring.extend([record(i, value=b"even" if i % 2 == 0 else b"odd") for i in range(100, 160)])
    view.catch_up()
    assert [view.record_at(row).offset for row in range(len(view))] == list(range(100, 160, 2))
    while not job.step(30):
        pass
    assert view.merge(job) and not view.refiltering
    assert [r.offset for r in view.records()] == list(range(60, 160, 2))
    assert view.row_at_or_after(61) == 1 and view.seq_at(1) == 62
    stale = view.set_filter(RecordFilter("odd"))
    newer = view.set_filter(None)
    assert stale is not None and newer is None
    stale.run()
    assert not view.merge(stale) and len(view) == 100  # a replaced refilter changes nothing


def test_rate_over_the_last_second() -> None:
    meter = RateMeter(window=1.0)
    assert meter.sample(0.0, 0) == 0.0
    assert meter.sample(0.1, 500) == 0.0  # too short to say
    assert meter.sample(0.5, 10_000) == pytest.approx(20_000)
    assert meter.sample(1.5, 30_000) == pytest.approx(20_000)
    assert meter.sample(3.0, 30_000) == 0.0  # nothing for a second and a half
    assert meter.sample(3.0, 30_000) == 0.0  # a clock at rest changes nothing
