"""Records to send, built from what a user gives: a form's fields, a line of a file, a JSON
Lines object. One record type for every producer of the workbench (`kwb produce` builds the
same records from its LineMessageReader).

JSON Lines objects are shaped like the records the Tail pane exports and `kwb consume --output
json` prints ("key", "value", "headers" as [name, value] pairs, bytes that are not UTF-8 as
{"base64": ...}), so exported records can be produced again as they were.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

FileFormat = Literal["lines", "jsonl"]
Header = tuple[str, bytes | None]
JSON_LINE_FIELDS = ("key", "value", "headers", "partition", "timestamp")


class RecordError(ValueError):
    """A record that cannot be built from what the user gave (a line, a header); says where."""


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()
    partition: int | None = None
    """None: the partitioner chooses (murmur2 of the key, or sticky for keyless records)."""
    timestamp_ms: int | None = None
    """None: the producer's clock (CreateTime now)."""


# -- a form's fields -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JsonProblem:
    """Where a text stops being JSON (1-based, as editors count) and Python's reason."""

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


def looks_like_json(text: str) -> bool:
    """An object or an array: what a value that is meant to be JSON starts with."""
    return text.lstrip().startswith(("{", "["))


def json_problem(text: str) -> JsonProblem | None:
    """What is wrong with `text` as JSON, or None when it is JSON."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return JsonProblem(exc.lineno, exc.colno, exc.msg)
    return None


def parse_headers(text: str, separator: str = "\n") -> tuple[tuple[str, bytes], ...]:
    """Headers from `name=value` entries, one a line (the produce form) or split by
    `separator` (the generator's one-line field): blank entries skipped, blanks around the
    name and the value dropped (`source = kwb` is what it looks like), names may repeat, as
    in Kafka."""
    entries = text.splitlines() if separator == "\n" else text.split(separator)
    headers: list[tuple[str, bytes]] = []
    for number, entry in enumerate(entries, 1):
        if not entry.strip():
            continue
        name, equals, value = entry.partition("=")
        if not equals or not name.strip():
            raise RecordError(f"header {number}: expected name=value, got {entry.strip()!r}")
        headers.append((name.strip(), value.strip().encode()))
    return tuple(headers)


# -- JSON Lines ----------------------------------------------------------------------------


def _json_bytes(value: Any, where: str) -> bytes | None:
    """A JSON Lines field as bytes: a string as its UTF-8 text, {"base64": ...} as the bytes
    it encodes, null as null, anything else (objects, arrays, numbers) as compact JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("base64"), str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except binascii.Error:
            raise RecordError(f"{where}: {value['base64']!r} is not base64") from None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _json_headers(value: Any, where: str) -> tuple[Header, ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        pairs: Iterable[Any] = value.items()
    elif isinstance(value, list):
        pairs = value
    else:
        raise RecordError(f"{where}: headers must be an object or a list of [name, value] pairs")
    headers: list[Header] = []
    for pair in pairs:
        if not (isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[0], str)):
            raise RecordError(f"{where}: a header must be a [name, value] pair, got {pair!r}")
        headers.append((pair[0], _json_bytes(pair[1], where)))
    return tuple(headers)


def _optional_int(record: Mapping[str, Any], name: str, where: str) -> int | None:
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError(f"{where}: {name} must be a non-negative integer, got {value!r}")
    return value


def parse_json_line(line: bytes | str, number: int) -> OutgoingRecord | None:
    """One JSON Lines record: an object with "key", "value", "headers" (an object, or a list of
    [name, value] pairs for repeated names) and optionally "partition" and "timestamp" (ms).

    Other fields (topic, offset ...) are ignored, so exported records can be sent again. A
    blank line is None (skipped); anything else that is not a record is a RecordError naming
    the line.
    """
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    if not text.strip():
        return None
    where = f"line {number}"
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{where}: not JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(record, dict):
        raise RecordError(f"{where}: expected an object with {', '.join(JSON_LINE_FIELDS)}")
    key = _json_bytes(record.get("key"), where)
    value = _json_bytes(record.get("value"), where)
    if key is None and value is None:
        raise RecordError(f"{where}: a record needs a key or a value")
    return OutgoingRecord(
        key,
        value,
        _json_headers(record.get("headers"), where),
        _optional_int(record, "partition", where),
        _optional_int(record, "timestamp", where),
    )


def parse_line(line: bytes, number: int, file_format: FileFormat) -> OutgoingRecord | None:
    """A line of a file as a record: the whole line as the value, or a JSON Lines object."""
    if file_format == "jsonl":
        return parse_json_line(line, number)
    return OutgoingRecord(None, line)
