"""From standard input to records: lines as Java's BufferedReader splits them, and records as
Kafka's LineMessageReader parses them (parse.key, parse.headers, their separators,
ignore.error, null.marker), rule for rule and in Kafka's words when a line is refused.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Mapping

from ..kafka.errors import KafkaToolError
from ..kafka.outgoing import Header, OutgoingRecord
from .common import UsageError

_CHUNK = 1 << 16


# -- LineMessageReader ---------------------------------------------------------------------


class ReaderError(Exception):
    """A line LineMessageReader refuses; the message is Kafka's."""


def java_split(pattern: re.Pattern[str], text: str) -> list[str]:
    """String.split(regex): no leading empty piece from a zero-width match, no trailing ones."""
    if not pattern.search(text):
        return [text]
    pieces = pattern.split(text)
    first = pattern.search(text)
    if first is not None and first.start() == 0 and first.end() == 0 and pieces[0] == "":
        pieces.pop(0)
    while pieces and pieces[-1] == "":
        pieces.pop()
    return pieces


class LineMessageReader:
    """Kafka's org.apache.kafka.tools.LineMessageReader, rule for rule.

    "h1:v1,h2:v2<TAB>key<TAB>value" with parse.headers and parse.key; a missing separator
    is an error naming the line number unless ignore.error; fields equal to null.marker
    become null (a header key never may).
    """

    def __init__(self, props: Mapping[str, str]) -> None:
        def flag(name: str) -> bool:
            return props.get(name, "false").strip().lower() == "true"

        self.parse_key = flag("parse.key")
        self.parse_headers = flag("parse.headers")
        self.ignore_error = flag("ignore.error")
        self.key_separator = props.get("key.separator", "\t")
        self.headers_delimiter = props.get("headers.delimiter", "\t")
        self.headers_separator = props.get("headers.separator", ",")
        self.headers_key_separator = props.get("headers.key.separator", ":")
        self.null_marker = props.get("null.marker")
        try:
            self._headers_pattern = re.compile(self.headers_separator)
        except re.error as exc:
            raise UsageError(f"headers.separator={self.headers_separator!r}: {exc}") from None
        self._check_distinct()
        self.line_number = 0

    def _check_distinct(self) -> None:
        pairs = [
            ("headers.delimiter", self.headers_delimiter, "headers.separator"),
            ("headers.delimiter", self.headers_delimiter, "headers.key.separator"),
            ("headers.separator", self.headers_separator, "headers.key.separator"),
        ]
        values = {
            "headers.separator": self.headers_separator,
            "headers.key.separator": self.headers_key_separator,
        }
        for first, value, second in pairs:
            if value == values[second]:
                raise UsageError(f"{first} and {second} may not be equal")
        for name, value in (
            ("key.separator", self.key_separator),
            ("headers.separator", self.headers_separator),
            ("headers.delimiter", self.headers_delimiter),
            ("headers.key.separator", self.headers_key_separator),
        ):
            if value == self.null_marker:
                raise UsageError(f"null.marker and {name} may not be equal")

    @property
    def plain(self) -> bool:
        """Every line is just a value: the fast path."""
        return not (self.parse_key or self.parse_headers or self.null_marker is not None)

    def _field(self, line: str, start: int, separator: str, name: str) -> str | None:
        index = line.find(separator, start)
        if index == -1:
            if self.ignore_error:
                return None
            raise ReaderError(f"No {name} found on line number {self.line_number}: '{line}'")
        return line[start:index]

    def _bytes(self, text: str | None) -> bytes | None:
        if text is None or text == self.null_marker:
            return None
        return text.encode()

    def _headers(self, text: str) -> list[Header]:
        headers: list[Header] = []
        for pair in java_split(self._headers_pattern, text):
            index = pair.find(self.headers_key_separator)
            if index == -1:
                if not self.ignore_error:
                    raise ReaderError(
                        f"No header key separator found in pair '{pair}' on line number"
                        f" {self.line_number}"
                    )
                headers.append((pair, None))
                continue
            key = pair[:index]
            if key == self.null_marker:
                raise ReaderError(
                    f"Header keys should not be equal to the null marker '{self.null_marker}'"
                    " as they can't be null"
                )
            headers.append((key, self._bytes(pair[index + len(self.headers_key_separator) :])))
        return headers

    def read(self, raw: bytes) -> OutgoingRecord:
        """One line (without its terminator) as a record; UTF-8 like Java's reader."""
        self.line_number += 1
        line = raw.decode("utf-8", "replace")
        if self.plain:
            return OutgoingRecord(None, line.encode())
        headers = (
            self._field(line, 0, self.headers_delimiter, "headers delimiter")
            if self.parse_headers
            else None
        )
        header_end = 0 if headers is None else len(headers) + len(self.headers_delimiter)
        key = (
            self._field(line, header_end, self.key_separator, "key separator")
            if self.parse_key
            else None
        )
        key_end = 0 if key is None else len(key) + len(self.key_separator)
        value = line[header_end + key_end :]
        parsed = (
            self._headers(headers) if headers is not None and headers != self.null_marker else []
        )
        return OutgoingRecord(self._bytes(key), self._bytes(value), tuple(parsed))


# -- standard input ------------------------------------------------------------------------


class StdinChunks:
    """Standard input read by a daemon thread, handed over in chunks through a small queue.

    A thread (not the event loop's pipe reader) so that files, pipes and terminals all work;
    a daemon thread so that a Ctrl-C while it waits on a terminal does not keep the process
    alive. It reads the file descriptor itself: a daemon thread blocked inside sys.stdin's
    buffered reader holds its lock and makes the interpreter abort at exit. The bounded queue
    keeps a fast source of lines from outrunning the network.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._queue: asyncio.Queue[bytes | BaseException] = asyncio.Queue(maxsize=8)
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._pump, name="kwb-stdin", daemon=True).start()

    def _pump(self) -> None:
        while True:
            item: bytes | BaseException
            try:
                item = os.read(self._fd, _CHUNK)
            except (OSError, ValueError) as exc:
                item = exc
            put = self._queue.put(item)
            try:
                asyncio.run_coroutine_threadsafe(put, self._loop).result()
            except RuntimeError:  # the loop is gone: the put was never scheduled, and an
                put.close()  # unawaited coroutine would print a RuntimeWarning at exit
                return
            if not isinstance(item, bytes) or not item:
                return

    async def get(self) -> bytes:
        item = await self._queue.get()
        if isinstance(item, BaseException):
            raise KafkaToolError(f"cannot read standard input: {item}")
        return item
