"""Splitting a TCP byte stream into Kafka request frames, without doing any I/O.

Every Kafka request travels as a 4-byte big-endian length followed by that many bytes.
`FrameDecoder` follows asyncio's buffered-protocol shape (`get_buffer` / `buffer_updated`)
so the socket can read straight into memory the decoder lends, and it holds memory only for
what has actually arrived:

- Between frames a connection owns no buffer at all. Reads land in a `ReadBuffer` that every
  connection of a server shares (the event loop fills and hands over one connection's read
  at a time), whole frames are copied out of it, and only an unfinished frame's bytes are
  kept by the connection. 5,000 idle connections cost no read buffers.
- An unfinished frame gets a buffer of its own that the kernel then fills in place, sized by
  the bytes received, not by the length prefix: it doubles as data comes in, up to the
  announced size. A peer that announces 100 MB and sends nothing costs 64 KiB, not 100 MB.
  A 1 MB produce request is copied a few times while its buffer grows (cheap next to the
  request's handling); the frame finally handed over is that buffer itself.
"""

from __future__ import annotations

import struct
from collections import deque

_LENGTH = struct.Struct(">i")
READ_BYTES = 256 * 1024
"""How much one socket read may bring in (the size of the shared read buffer)."""
FIRST_FRAME_BUFFER = 64 * 1024
"""The smallest buffer an unfinished frame starts with (unless the frame is smaller)."""


class FrameError(Exception):
    """The peer sent a length prefix no Kafka broker would accept; the connection must close."""


class ReadBuffer:
    """Memory for socket reads, shared by every connection of one server (one event loop)."""

    def __init__(self, size: int = READ_BYTES) -> None:
        self.memory = bytearray(size)


class FrameDecoder:
    """Turns bytes into complete frames (without their length prefix)."""

    def __init__(self, max_frame_bytes: int, shared: ReadBuffer | None = None) -> None:
        self._max_frame_bytes = max_frame_bytes
        self._shared = shared if shared is not None else ReadBuffer()
        self._prefix = bytearray(_LENGTH.size)
        self._prefix_filled = 0
        self._frame: bytearray | None = None
        self._frame_filled = 0
        self._frame_size = 0
        self._frames: deque[bytes | bytearray] = deque()
        self._frame_bytes = 0

    @property
    def buffered_bytes(self) -> int:
        """Bytes received but not yet returned as frames (for flow control)."""
        return self._frame_bytes + self._prefix_filled + self._frame_filled

    @property
    def pending_frames(self) -> int:
        """Complete frames waiting for `next_frame`."""
        return len(self._frames)

    def get_buffer(self) -> memoryview:
        """Memory the next socket read should fill (never empty)."""
        if self._frame is not None:
            if self._frame_filled == len(self._frame):
                self._grow_frame()
            return memoryview(self._frame)[self._frame_filled :]
        if self._prefix_filled:
            return memoryview(self._prefix)[self._prefix_filled :]
        return memoryview(self._shared.memory)

    def buffer_updated(self, nbytes: int) -> None:
        """Record that `nbytes` were written into the last buffer from `get_buffer`."""
        if self._frame is not None:
            self._frame_filled += nbytes
            if self._frame_filled == self._frame_size:
                self._finish_frame()
            return
        if self._prefix_filled:
            self._prefix_filled += nbytes
            if self._prefix_filled == _LENGTH.size:
                self._prefix_filled = 0
                self._start_frame(self._read_length(self._prefix, 0), memoryview(b""))
            return
        self._split(memoryview(self._shared.memory)[:nbytes])

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
        if not self._frames:
            return None
        frame = self._frames.popleft()
        self._frame_bytes -= len(frame)
        return frame

    def _split(self, data: memoryview) -> None:
        """Cut the frames out of one read into the shared buffer; keep what is unfinished."""
        position = 0
        end = len(data)
        while end - position >= _LENGTH.size:
            size = self._read_length(data, position)
            body_start = position + _LENGTH.size
            if end - body_start < size:
                self._start_frame(size, data[body_start:end])
                return
            self._queue(bytes(data[body_start : body_start + size]))
            position = body_start + size
        rest = end - position
        self._prefix[:rest] = data[position:end]
        self._prefix_filled = rest

    def _read_length(self, data: bytearray | memoryview, position: int) -> int:
        (size,) = _LENGTH.unpack_from(data, position)
        if size < 0 or size > self._max_frame_bytes:
            raise FrameError(
                f"frame of {size} bytes is outside 0..{self._max_frame_bytes}"
                " (socket.request.max.bytes)"
            )
        return int(size)

    def _start_frame(self, size: int, received: memoryview) -> None:
        if len(received) == size:  # an empty frame, announced by a prefix read on its own
            self._queue(bytes(received))
            return
        frame = bytearray(min(size, max(FIRST_FRAME_BUFFER, 2 * len(received))))
        frame[: len(received)] = received
        self._frame, self._frame_filled, self._frame_size = frame, len(received), size

    def _grow_frame(self) -> None:
        """Double the unfinished frame's buffer (a new one: asyncio may still hold a view of
        the old one, and a bytearray with views cannot be resized)."""
        assert self._frame is not None
        grown = bytearray(min(self._frame_size, 2 * len(self._frame)))
        grown[: self._frame_filled] = self._frame
        self._frame = grown

    def _finish_frame(self) -> None:
        assert self._frame is not None
        self._queue(self._frame)
        self._frame, self._frame_filled, self._frame_size = None, 0, 0

    def _queue(self, frame: bytes | bytearray) -> None:
        self._frames.append(frame)
        self._frame_bytes += len(frame)
