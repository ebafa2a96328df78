"""A write target for kio's encoders that avoids copying large payloads.

kio writes a response field by field. Small fields are gathered in one bytearray while
record sets (often hundreds of kilobytes read from a segment) are kept as references, so
`transport.writelines` can hand them to the kernel without another copy.
"""

from __future__ import annotations

import struct

_LARGE = 4096
_INT32 = struct.Struct(">i")


class ChunkWriter:
    __slots__ = ("_chunks", "_size", "_small")

    def __init__(self) -> None:
        self._chunks: list[bytes | bytearray | memoryview] = []
        self._small = bytearray()
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        size = len(data)
        if size >= _LARGE:
            if self._small:
                self._chunks.append(self._small)
                self._small = bytearray()
            self._chunks.append(data)
        else:
            self._small += data
        self._size += size
        return size

    def finish_frame(self) -> list[bytes | bytearray | memoryview]:
        """The chunks, with the first 4 bytes (written as a placeholder) set to the frame size."""
        if self._small:
            self._chunks.append(self._small)
            self._small = bytearray()
        first = self._chunks[0]
        assert isinstance(first, bytearray), "a frame starts with its small length placeholder"
        _INT32.pack_into(first, 0, self._size - 4)
        return self._chunks
