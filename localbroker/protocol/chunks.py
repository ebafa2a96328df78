"""A write target for encoded responses that avoids copying large payloads.

A response is written field by field. Small fields are gathered in one bytearray while
record sets (often hundreds of kilobytes read from a segment) are kept as references, so
`transport.writelines` can hand them to the kernel without another copy.
"""

from __future__ import annotations

import struct

LARGE = 4096
"""Bytes at least this long are kept by reference rather than copied into the buffer."""
_INT32 = struct.Struct(">i")


class ChunkWriter:
    """`buffer` is the bytearray small writes go to; encoder.py's functions add to it
    directly and call `large` for a payload, which starts a new buffer after it."""

    __slots__ = ("_chunks", "buffer")

    def __init__(self) -> None:
        self.buffer = bytearray()
        self._chunks: list[bytes | bytearray | memoryview] = [self.buffer]

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """File-like writing (what kio's writers call)."""
        if len(data) >= LARGE:
            self.large(data)
        else:
            self.buffer += data
        return len(data)

    def large(self, data: bytes | bytearray | memoryview) -> bytearray:
        """Keep `data` by reference; returns the buffer that small writes go to next."""
        self._chunks.append(data)
        self.buffer = bytearray()
        self._chunks.append(self.buffer)
        return self.buffer

    def chunks(self) -> list[bytes | bytearray | memoryview]:
        """What was written, in order."""
        if len(self._chunks) == 1:  # nothing large: the one buffer
            return self._chunks
        return [chunk for chunk in self._chunks if len(chunk)]

    def finish_frame(self) -> list[bytes | bytearray | memoryview]:
        """The chunks, with the first 4 bytes (written as a placeholder) set to the frame size."""
        chunks = self.chunks()
        first = chunks[0]
        assert isinstance(first, bytearray), "a frame starts with its small length placeholder"
        size = len(first) if len(chunks) == 1 else sum(map(len, chunks))
        _INT32.pack_into(first, 0, size - 4)
        return chunks
