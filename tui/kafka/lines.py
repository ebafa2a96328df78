"""Bytes to lines, one rule for every reader of lines: `kwb produce` on standard input, the
Produce pane on a file, and the Produce pane following a file as it grows.

Lines end as Java's BufferedReader.readLine ends them (\\n, \\r or \\r\\n), so a file produced
from the workbench splits exactly where kafka-console-producer.sh would split it. The splitting
is sans-IO (LineSplitter: chunks in, lines out); the readers around it only say where the
chunks come from.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

CHUNK = 1 << 20


def strip_terminator(line: bytes) -> bytes:
    if line.endswith(b"\r\n"):
        return line[:-2]
    if line.endswith((b"\n", b"\r")):
        return line[:-1]
    return line


class LineSplitter:
    """Chunks of bytes in, complete lines (terminator removed) out.

    bytes.splitlines knows exactly Java's three terminators; a chunk ending in \\r is held back
    in case the next starts with \\n, and an unterminated rest waits for the next chunk (or
    for `finish`, at the end of the input).
    """

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        pieces = (self._pending + chunk).splitlines(keepends=True)
        if not pieces:
            return []
        self._pending = b"" if pieces[-1].endswith(b"\n") else pieces.pop()
        return [strip_terminator(piece) for piece in pieces]

    def finish(self) -> list[bytes]:
        """The last line, when the input ends without a terminator."""
        rest, self._pending = self._pending, b""
        return [strip_terminator(rest)] if rest else []


async def line_batches(next_chunk: Callable[[], Awaitable[bytes]]) -> AsyncIterator[list[bytes]]:
    """The lines of a stream, a chunk's worth at a time; `next_chunk` returns b"" at its end."""
    splitter = LineSplitter()
    while chunk := await next_chunk():
        if lines := splitter.feed(chunk):
            yield lines
    if last := splitter.finish():
        yield last


async def file_line_batches(path: Path) -> AsyncIterator[tuple[list[bytes], int]]:
    """The lines of a file (read off the event loop, a MiB at a time) with the bytes read so
    far; OSError if it cannot be opened or read."""
    with path.open("rb") as file:
        done = 0

        async def next_chunk() -> bytes:
            nonlocal done
            chunk = await asyncio.to_thread(file.read, CHUNK)
            done += len(chunk)
            return chunk

        async for lines in line_batches(next_chunk):
            yield lines, done


class FileFollower:
    """The complete lines appended to a file, as `tail -F` sees them.

    A file that shrinks was truncated and is read again from its start; a file whose inode
    changes was rotated (moved away, a new one created) and the new one is read from its start;
    a missing file is waited for. An incomplete last line waits for its terminator.
    """

    def __init__(self, path: Path, from_start: bool = False) -> None:
        self.path = path
        self._identity: tuple[int, int] | None = None
        self._position = 0
        self._splitter = LineSplitter()
        if not from_start:
            try:
                stat = os.stat(path)
            except OSError:
                return
            self._identity, self._position = (stat.st_dev, stat.st_ino), stat.st_size

    def read_new(self, limit: int = CHUNK) -> list[bytes]:
        """The complete lines written since the last call, read `limit` bytes at a time until
        there is one; call again while it returns lines. Blocking: call it from a thread."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return []
        identity = (stat.st_dev, stat.st_ino)
        if identity != self._identity or stat.st_size < self._position:
            self._identity, self._position, self._splitter = identity, 0, LineSplitter()
        lines: list[bytes] = []
        try:
            with self.path.open("rb") as file:
                file.seek(self._position)
                while not lines and (data := file.read(limit)):
                    self._position += len(data)
                    lines = self._splitter.feed(data)
        except OSError:
            pass
        return lines

    async def batches(self, poll_ms: int = 1000) -> AsyncIterator[list[bytes]]:
        """New lines as they are written, until cancelled. watchfiles reports changes in the
        file's directory (so rotation is seen too); every `poll_ms` the file is checked anyway,
        for file systems whose changes are not reported."""
        from watchfiles import awatch

        async def drain() -> AsyncIterator[list[bytes]]:
            while lines := await asyncio.to_thread(self.read_new):
                yield lines

        async for lines in drain():
            yield lines
        async for _ in awatch(
            self.path.parent,
            watch_filter=None,
            debounce=50,
            step=10,
            rust_timeout=poll_ms,
            yield_on_timeout=True,
            recursive=False,
        ):
            async for lines in drain():
                yield lines
