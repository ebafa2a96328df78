"""What a topic search looks for: one line of terms, each of which a record must meet.

    FAILED               anywhere: key, value, header names or values (as the tail's filter)
    key:order-17         in the key                value:timeout     in the value
    header:source        a header named source     header:source=web   whose value contains web
    $.status=FAILED      a field of the value read as JSON: a dotted path, [n] for list items,
                         then = != > >= < <= or ~ (contains); numbers compare as numbers
    /time(d)? ?out/      a regular expression, anywhere
    "two words"          quotes keep blanks together

Text is matched in any case unless asked otherwise, as the tail's filter does (RecordFilter:
what you see is what you search); JSON fields compare exactly.

The scanner (topic_search.py) reads whole record batches. `needles` are byte strings every
matching record's batch must contain, so that most batches are ruled out by one `in` over
their bytes without decoding a record: the reason a search scans hundreds of thousands of
records a second in Python. A term adds a needle only when that is exact (no needle for a
regex, for hex-only text, which may match binary bytes shown as hex, or for a JSON number,
which may be spelled 1e2).
"""

from __future__ import annotations

import json
import operator
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .record_filter import FilterError, RecordFilter
from .tail import HEADERS, KEY, VALUE, RawRecord

_HEX = re.compile(r"[0-9a-f]+")
_JSON_TERM = re.compile(
    r"^\$(?P<path>(?:\.[^.\[\]=!<>~]+|\[\d+\])+)(?P<op>!=|>=|<=|=|>|<|~)(?P<value>.*)$"
)
_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_ABSENT = object()
_UNREAD = object()


class QueryError(ValueError):
    """A query that cannot be read; str() says what is wrong, in a sentence."""


@dataclass(frozen=True, slots=True)
class Needle:
    """Bytes a batch must contain; `ignore_case`: look in the lowercased batch. `json`: only
    when the batch has no JSON escape that could spell it otherwise (\\u0041 for A)."""

    data: bytes
    ignore_case: bool = False
    json: bool = False


@dataclass(frozen=True, slots=True)
class Term:
    """One condition: `test(record, document)` where `document` is the value read as JSON
    (only the JSON terms look at it; `_ABSENT` when the value is not JSON)."""

    text: str
    test: Callable[[RawRecord, Any], bool]
    needles: tuple[Needle, ...] = ()
    reads_json: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """The terms of a query line, the JSON ones last; no terms matches every record."""

    text: str = ""
    terms: tuple[Term, ...] = field(default=())

    @property
    def needles(self) -> tuple[Needle, ...]:
        return tuple(n for term in self.terms for n in term.needles)

    def matches(self, record: RawRecord) -> bool:
        """Whether `record` meets every term; the value is read as JSON only once the other
        terms have passed (json.loads is the dearest step)."""
        document: Any = _UNREAD
        for term in self.terms:
            if term.reads_json and document is _UNREAD:
                document = _json_of(record[VALUE])
            if not term.test(record, document):
                return False
        return True


def parse_query(text: str, *, ignore_case: bool = True) -> SearchQuery:
    """The query `text` says; QueryError says what cannot be read."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise QueryError(f"cannot read the query: {exc} (a quote left open?)") from None
    try:
        terms = sorted((_term(word, ignore_case) for word in words), key=lambda t: t.reads_json)
    except FilterError as exc:
        raise QueryError(str(exc)) from None
    return SearchQuery(text, tuple(terms))


def _term(word: str, ignore_case: bool) -> Term:
    if len(word) > 2 and word.startswith("/") and word.endswith("/"):
        regex = RecordFilter(word[1:-1], regex=True, ignore_case=ignore_case)
        return Term(word, lambda record, _: regex.matches(record))
    if word.startswith("$"):
        return _json_term(word)
    where, colon, rest = word.partition(":")
    if colon and where == "header":
        return _header_term(word, rest, ignore_case)
    if colon and where in ("key", "value") and rest:
        wanted = RecordFilter(rest, ignore_case=ignore_case)

        def test(record: RawRecord, _: Any) -> bool:
            return wanted.matches_bytes(record[KEY] if where == "key" else record[VALUE])

        return Term(word, test, _text_needles(rest, ignore_case))
    anywhere = RecordFilter(word, ignore_case=ignore_case)
    return Term(word, lambda record, _: anywhere.matches(record), _text_needles(word, ignore_case))


def _text_needles(text: str, ignore_case: bool) -> tuple[Needle, ...]:
    """The needle for a substring, when the bytes must contain it: not hex-only text (it may
    match bytes shown as hex) and not non-ASCII text in any case (bytes.lower() is ASCII)."""
    needle = text.lower() if ignore_case else text
    if _HEX.fullmatch(needle.lower()) or (ignore_case and not needle.isascii()):
        return ()
    return (Needle(needle.encode(), ignore_case),)


def _header_term(word: str, rest: str, ignore_case: bool) -> Term:
    name, equals, value = rest.partition("=")
    if not name:
        raise QueryError(f"{word!r}: name the header, as in header:source or header:source=web")
    wanted = RecordFilter(value, ignore_case=ignore_case) if equals and value else None

    def test(record: RawRecord, _: Any) -> bool:
        return any(
            header == name and (wanted is None or wanted.matches_bytes(data))
            for header, data in record[HEADERS]
        )

    needles: tuple[Needle, ...] = (Needle(name.encode()),)
    if wanted is not None:
        needles += _text_needles(value, ignore_case)
    return Term(word, test, needles)


def _json_term(word: str) -> Term:
    parsed = _JSON_TERM.match(word)
    if parsed is None:
        raise QueryError(
            f"{word!r}: a JSON field is $.path then = != > >= < <= or ~ and a value,"
            " as in $.status=FAILED or $.items[0].price>100"
        )
    path = tuple(
        int(index) if index else name for name, index in _PATH_PART.findall(parsed["path"])
    )
    op, literal = parsed["op"], parsed["value"]
    number = _number(literal)

    def test(_: RawRecord, document: Any) -> bool:
        found = _at(document, path)
        if found is _ABSENT:
            return False
        if op == "~":
            return literal in (found if isinstance(found, str) else json.dumps(found))
        if op in ("=", "!="):
            return _equal(found, literal, number) == (op == "=")
        if number is not None and _is_number(found):
            return _ORDER[op](found, number)
        return isinstance(found, str) and _ORDER[op](found, literal)

    needles = [Needle(name.encode(), json=True) for name in path if isinstance(name, str)]
    if op in ("=", "~") and number is None and literal and not set(literal) & set('"\\/'):
        needles.append(Needle(literal.encode(), json=True))
    return Term(word, test, tuple(n for n in needles if _plain(n.data)), reads_json=True)


def _plain(data: bytes) -> bool:
    """Bytes JSON writes only one way (no quote, backslash or slash to escape)."""
    return not set(data) & set(b'"\\/')


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(found: Any, literal: str, number: float | None) -> bool:
    if number is not None and _is_number(found):
        return bool(found == number)
    if isinstance(found, str):
        return found == literal
    if isinstance(found, bool) or found is None:
        return json.dumps(found) == literal
    return False


def _at(document: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(document, list) or step >= len(document):
                return _ABSENT
        elif not isinstance(document, dict) or step not in document:
            return _ABSENT
        document = document[step]
    return document


def _json_of(value: bytes | None) -> Any:
    if value is None:
        return _ABSENT
    try:
        return json.loads(value)
    except ValueError:
        return _ABSENT
