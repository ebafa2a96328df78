"""A search's query line (tui/kafka/search_query.py): the terms, what they match, and the
needles that let a batch be ruled out without decoding it. No sockets."""

from __future__ import annotations

import json

import pytest

from tui.kafka.search_query import Needle, QueryError, parse_query
from tui.kafka.tail import RawRecord


def record(
    value: object = None,
    key: bytes | None = b"order-17",
    headers: tuple[tuple[str, bytes | None], ...] = (("source", b"web"),),
) -> RawRecord:
    data = value if isinstance(value, bytes) or value is None else json.dumps(value).encode()
    return ("orders", 0, 5, 1_700_000_000_000, 0, key, data, headers)


ORDER = record({"id": 17, "status": "FAILED", "total": 99.5, "items": [{"sku": "a-1"}]})


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ("", True),
        ("failed", True),  # any case, anywhere
        ("FAILED order-17", True),  # every term
        ("FAILED order-18", False),
        ("key:order-17", True),
        ("key:FAILED", False),  # in the value, not the key
        ("value:failed", True),
        ("header:source", True),
        ("header:source=WEB", True),
        ("header:source=app", False),
        ("header:origin", False),
        ("$.status=FAILED", True),
        ("$.status=failed", False),  # JSON fields compare exactly
        ("$.status!=OK", True),
        ("$.total>99", True),
        ("$.total>=99.5", True),
        ("$.total<99.5", False),
        ("$.id=17", True),
        ("$.id=17.0", True),  # numbers as numbers
        ("$.items[0].sku=a-1", True),
        ("$.items[1].sku=a-1", False),
        ("$.missing!=x", False),  # an absent field meets no condition
        ("$.status~AIL", True),
        ("/fail(ed)?/", True),
        ("/^order-1[0-9]$/", True),
    ],
)
def test_what_a_query_matches(query: str, matches: bool) -> None:
    assert parse_query(query).matches(ORDER) is matches


def test_case_can_be_matched() -> None:
    assert not parse_query("failed", ignore_case=False).matches(ORDER)
    assert parse_query("FAILED", ignore_case=False).matches(ORDER)


def test_quotes_keep_blanks_and_json_compares_strings_as_dates() -> None:
    note = record({"note": "out of stock", "at": "2024-05-01T10:00"})
    assert parse_query('"of stock"').matches(note)
    assert not parse_query("of stock2").matches(note)
    assert parse_query("$.at>2024-04-30").matches(note)
    assert parse_query("$.at<2024-05-01T09").matches(note) is False


def test_values_that_are_not_json_meet_no_json_condition() -> None:
    assert not parse_query("$.status=FAILED").matches(record(b"status=FAILED"))
    assert not parse_query("$.status=FAILED").matches(record(None))


@pytest.mark.parametrize(
    ("query", "needles"),
    [
        ("FAILED", (Needle(b"failed", ignore_case=True),)),
        ("key:order-17 header:source=web", (
            Needle(b"order-17", True), Needle(b"source"), Needle(b"web", True),
        )),
        ("$.status=FAILED", (Needle(b"status", json=True), Needle(b"FAILED", json=True))),
        ("$.total>100", (Needle(b"total", json=True),)),
        ("$.id=17", (Needle(b"id", json=True),)),  # 17 may be written 1.7e1
        ("$.url=a/b", (Needle(b"url", json=True),)),  # JSON may write a\\/b
        ("/fail/", ()),
        ("cafe", ()),  # hex digits: may match bytes shown as hex
        ("café", ()),  # bytes.lower() folds ASCII only
    ],
)  # fmt: skip
def test_needles_only_where_the_bytes_must_hold_them(query: str, needles: tuple[Needle]) -> None:
    assert parse_query(query).needles == needles


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ('"open', "a quote left open"),
        ("header:", "name the header"),
        ("$.status", "a JSON field is $.path then"),
        ("/(unclosed/", "invalid regex"),
    ],
)
def test_what_cannot_be_read_is_said(query: str, says: str) -> None:
    with pytest.raises(QueryError, match=says.replace("$", r"\$").replace("(", r"\(")):
        parse_query(query)


def test_an_empty_query_is_every_record() -> None:
    query = parse_query("   ")
    assert query.matches(record(b"anything")) and query.needles == ()
