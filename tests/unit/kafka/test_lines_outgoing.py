"""Lines and records to send, without a broker: where lines end (as Java's readLine ends them),
what a followed file yields when it grows, is truncated or rotated, and how form fields and
JSON Lines objects become records (refused with the line and the reason)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.kafka.lines import FileFollower, LineSplitter
from tui.kafka.outgoing import (
    OutgoingRecord,
    RecordError,
    json_problem,
    parse_headers,
    parse_json_line,
    parse_line,
)


def test_lines_end_at_lf_crlf_or_cr_even_across_chunks() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"one\r") == []  # \r held back: a \n may follow
    assert splitter.feed(b"\ntwo\rthree\nfou") == [b"one", b"two", b"three"]
    assert splitter.feed(b"r") == []
    assert splitter.finish() == [b"four"]
    assert splitter.finish() == []


def test_a_followed_file_yields_complete_new_lines_and_survives_truncation_and_rotation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"old\n")
    follower = FileFollower(path)
    assert follower.read_new() == []  # starts at the end
    with path.open("ab") as log:
        log.write(b"a\nhalf")
    assert follower.read_new() == [b"a"]
    with path.open("ab") as log:
        log.write(b" done\n")
    assert follower.read_new() == [b"half done"]
    path.write_bytes(b"t\n")  # truncated: read again from the start
    assert follower.read_new() == [b"t"]
    os.rename(path, tmp_path / "app.log.1")
    assert follower.read_new() == []  # rotated away, nothing new yet
    path.write_bytes(b"new file\n")
    assert follower.read_new() == [b"new file"]


def test_a_followed_file_that_does_not_exist_yet_is_waited_for(tmp_path: Path) -> None:
    follower = FileFollower(tmp_path / "later.log")
    assert follower.read_new() == []
    (tmp_path / "later.log").write_bytes(b"first\n")
    assert follower.read_new() == [b"first"]


def test_a_json_lines_object_becomes_a_record() -> None:
    line = (
        '{"key": "k", "value": {"id": 1, "ok": true}, "headers": [["h", "1"], ["h", null]],'
        ' "partition": 2, "timestamp": 1714563000000, "offset": 7}'
    )
    assert parse_json_line(line, 1) == OutgoingRecord(
        b"k", b'{"id":1,"ok":true}', (("h", b"1"), ("h", None)), 2, 1714563000000
    )
    assert parse_json_line('{"value": {"base64": "AP8="}, "headers": {"a": "b"}}', 2) == (
        OutgoingRecord(None, b"\x00\xff", (("a", b"b"),))
    )
    assert parse_json_line("   ", 3) is None
    assert parse_line(b'{"value": 1}', 4, "lines") == OutgoingRecord(None, b'{"value": 1}')


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "line 5: not JSON: Expecting property name enclosed in double quotes"),
        ("[1, 2]", "line 5: expected an object with key, value, headers"),
        ('{"key": null}', "line 5: a record needs a key or a value"),
        ('{"value": "v", "partition": -1}', "line 5: partition must be a non-negative"),
        ('{"value": "v", "headers": "h"}', "line 5: headers must be an object or a list"),
        ('{"value": {"base64": "%%"}}', "line 5: '%%' is not base64"),
    ],
)
def test_a_json_lines_mistake_names_the_line_and_the_reason(line: str, reason: str) -> None:
    with pytest.raises(RecordError, match="^" + reason.replace("[", r"\[")):
        parse_json_line(line, 5)


def test_form_headers_and_json_checks() -> None:
    assert parse_headers("a=1\n\nb = x=y\na=2") == (("a", b"1"), ("b", b"x=y"), ("a", b"2"))
    with pytest.raises(RecordError, match="header 2: expected name=value"):
        parse_headers("a=1\nno separator")
    assert json_problem('{"a": [1, 2]}') is None
    problem = json_problem('{\n  "a": 1\n  "b": 2\n}')
    assert problem is not None and (problem.line, problem.column) == (3, 3)
    assert str(problem) == "line 3, column 3: Expecting ',' delimiter"
