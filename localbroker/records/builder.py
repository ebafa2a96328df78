"""Encoding record batches, for batches the broker writes itself and for tests.

Clients' batches are never re-encoded; this is for data that originates in the broker
(internal topics) and for building exact bytes in tests.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from crc32c import crc32c

from ..varints import zigzag
from .batch import CRC_START, HEADER, NO_PRODUCER_ID, NO_SEQUENCE
from .codecs import compress


@dataclass(frozen=True, slots=True)
class NewRecord:
    value: bytes | None
    key: bytes | None = None
    headers: Sequence[tuple[str, bytes | None]] = field(default_factory=tuple)
    timestamp: int | None = None


def _bytes_field(data: bytes | None) -> bytes:
    if data is None:
        return zigzag(-1)
    return zigzag(len(data)) + data


def encode_record(record: NewRecord, offset_delta: int, timestamp_delta: int) -> bytes:
    body = bytearray(b"\x00")
    body += zigzag(timestamp_delta)
    body += zigzag(offset_delta)
    body += _bytes_field(record.key)
    body += _bytes_field(record.value)
    body += zigzag(len(record.headers))
    for name, value in record.headers:
        body += _bytes_field(name.encode())
        body += _bytes_field(value)
    return zigzag(len(body)) + bytes(body)


def build_batch(
    records: Sequence[NewRecord],
    *,
    now_ms: int,
    base_offset: int = 0,
    compression: int = 0,
    attributes: int = 0,
    producer_id: int = NO_PRODUCER_ID,
    producer_epoch: int = -1,
    base_sequence: int = NO_SEQUENCE,
    partition_leader_epoch: int = -1,
) -> bytes:
    """One magic-2 batch holding `records`, CRC included."""
    if not records:
        raise ValueError("a record batch needs at least one record")
    timestamps = [now_ms if r.timestamp is None else r.timestamp for r in records]
    base_timestamp = timestamps[0]
    body = b"".join(
        encode_record(record, delta, timestamp - base_timestamp)
        for delta, (record, timestamp) in enumerate(zip(records, timestamps, strict=True))
    )
    payload = compress(compression, body)
    header = bytearray(
        HEADER.pack(
            base_offset,
            HEADER.size - 12 + len(payload),
            partition_leader_epoch,
            2,
            0,
            attributes | compression,
            len(records) - 1,
            base_timestamp,
            max(timestamps),
            producer_id,
            producer_epoch,
            base_sequence,
            len(records),
        )
    )
    batch = header + payload
    struct.pack_into(">I", batch, 17, crc32c(memoryview(batch)[CRC_START:]))
    return bytes(batch)
