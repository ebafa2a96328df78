"""Splitting a TCP byte stream into Kafka request frames, without doing any I/O.

Every Kafka request travels as a 4-byte big-endian length followed by that many bytes.
`FrameDecoder` follows asyncio's buffered-protocol shape (`get_buffer` / `buffer_updated`)
so the socket can read straight into memory the decoder owns: small frames are cut out of a
shared chunk, and a frame larger than the chunk gets a buffer of its own that the kernel
fills directly, so a 1 MB produce request is not copied on its way in.
"""

from __future__ import annotations

import struct
from collections import deque

_LENGTH = struct.Struct(">i")


class FrameError(Exception):
    """The peer sent a length prefix no Kafka broker would accept; the connection must close."""


class FrameDecoder:
    """Turns bytes into complete frames (without their length prefix)."""

    def __init__(self, max_frame_bytes: int, chunk_bytes: int = 256 * 1024) -> None:
        self._max_frame_bytes = max_frame_bytes
        self._chunk = bytearray(chunk_bytes)
        self._start = 0
        self._end = 0
        self._large: bytearray | None = None
        self._large_filled = 0
        self._frames: deque[bytes | bytearray] = deque()

    @property
    def buffered_bytes(self) -> int:
        """Bytes received but not yet returned as frames (for flow control)."""
        pending = sum(len(frame) for frame in self._frames)
        return pending + (self._end - self._start) + self._large_filled

    def get_buffer(self) -> memoryview:
        """Memory the next socket read should fill."""
        if self._large is not None:
            return memoryview(self._large)[self._large_filled :]
        if self._end == len(self._chunk) or (self._start and self._start == self._end):
            self._compact()
        return memoryview(self._chunk)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        """Record that `nbytes` were written into the last buffer from `get_buffer`."""
        if self._large is not None:
            self._large_filled += nbytes
            if self._large_filled == len(self._large):
                self._frames.append(self._large)
                self._large = None
                self._large_filled = 0
            return
        self._end += nbytes
        self._split()

    def feed(self, data: bytes) -> None:
        """Copy `data` in, for callers that receive bytes rather than lend buffers."""
        view = memoryview(data)
        while view:
            target = self.get_buffer()
            count = min(len(target), len(view))
            target[:count] = view[:count]
            self.buffer_updated(count)
            view = view[count:]

    def next_frame(self) -> bytes | bytearray | None:
        """The oldest complete frame, or None when no whole frame has arrived yet."""
        return self._frames.popleft() if self._frames else None

    def _split(self) -> None:
        chunk = self._chunk
        while self._end - self._start >= 4:
            (size,) = _LENGTH.unpack_from(chunk, self._start)
            if size < 0 or size > self._max_frame_bytes:
                raise FrameError(
                    f"frame of {size} bytes is outside 0..{self._max_frame_bytes}"
                    " (socket.request.max.bytes)"
                )
            body_start = self._start + 4
            available = self._end - body_start
            if available >= size:
                self._frames.append(bytes(chunk[body_start : body_start + size]))
                self._start = body_start + size
                continue
            if size + 4 > len(chunk):
                large = bytearray(size)
                large[:available] = chunk[body_start : self._end]
                self._large = large
                self._large_filled = available
                self._start = self._end = 0
            return
        if self._start == self._end:
            self._start = self._end = 0

    def _compact(self) -> None:
        remaining = self._end - self._start
        self._chunk[:remaining] = self._chunk[self._start : self._end]
        self._start = 0
        self._end = remaining
