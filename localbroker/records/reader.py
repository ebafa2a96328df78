"""Reading individual records out of stored batches (off the hot path)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kio.serial.readers import read_int8, read_signed_varint, read_signed_varlong

from .batch import HEADER_SIZE, read_header
from .codecs import decompress


@dataclass(frozen=True, slots=True)
class Record:
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]


def _read_bytes(buffer: bytes, position: int) -> tuple[bytes | None, int]:
    length, size = read_signed_varint(buffer, position)
    position += size
    if length < 0:
        return None, position
    return bytes(buffer[position : position + length]), position + length


def iter_records(data: bytes) -> Iterator[Record]:
    """Records of every complete batch in `data`, with absolute offsets and timestamps."""
    position = 0
    while position + HEADER_SIZE <= len(data):
        header = read_header(data, position)
        end = position + header.size
        if end > len(data):
            return
        body = decompress(header.compression, data[position + HEADER_SIZE : end])
        append_time = header.max_timestamp if header.log_append_time else None
        cursor = 0
        for _ in range(header.record_count):
            length, size = read_signed_varint(body, cursor)
            cursor += size
            record_end = cursor + length
            _attributes, size = read_int8(body, cursor)
            cursor += size
            timestamp_delta, size = read_signed_varlong(body, cursor)
            cursor += size
            offset_delta, size = read_signed_varint(body, cursor)
            cursor += size
            key, cursor = _read_bytes(body, cursor)
            value, cursor = _read_bytes(body, cursor)
            count, size = read_signed_varint(body, cursor)
            cursor += size
            headers = []
            for _ in range(count):
                name, cursor = _read_bytes(body, cursor)
                header_value, cursor = _read_bytes(body, cursor)
                headers.append(((name or b"").decode("utf-8", "replace"), header_value))
            yield Record(
                header.base_offset + offset_delta,
                append_time if append_time is not None else header.base_timestamp + timestamp_delta,
                key,
                value,
                tuple(headers),
            )
            cursor = record_end
        position = end
