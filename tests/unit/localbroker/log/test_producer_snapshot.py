"""Producer-state snapshot bytes in Kafka's format (ProducerSnapshot v1), and the refusals of
Kafka's readSnapshot. Kafka's own DumpLogSegments reads what localbroker writes in
tests/integration/test_reference_kafka.py."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from crc32c import crc32c

from localbroker.log.producer_snapshot import CorruptSnapshot, SnapshotEntry, decode, encode

ENTRIES = [
    SnapshotEntry(4000, 0, 41, 1234, 2, 1_700_000_000_000),
    SnapshotEntry(2**40, 32767, -1, -1, 0, -1, coordinator_epoch=7, current_txn_first_offset=9),
]


def test_the_layout_is_kafkas() -> None:
    """Version int16, CRC32C (uint32) of everything after it, int32 count, then 46-byte
    entries: ProducerId, Epoch, LastSequence, LastOffset, OffsetDelta, Timestamp,
    CoordinatorEpoch, CurrentTxnFirstOffset, all big-endian."""
    data = encode(ENTRIES)
    assert len(data) == 2 + 4 + 4 + 2 * 46
    version, crc, count = struct.unpack_from(">hIi", data)
    assert (version, crc, count) == (1, crc32c(data[6:]), 2)
    assert struct.unpack_from(">qhiqiqiq", data, 10) == (
        4000,
        0,
        41,
        1234,
        2,
        1_700_000_000_000,
        -1,
        -1,
    )
    assert decode(data) == ENTRIES
    assert decode(encode([])) == []


SCHEMA = "Snapshot failed schema validation: "
CRC = "Snapshot is corrupt (CRC is no longer valid). Stored crc: "


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: b'{"version": 2}', SCHEMA + "Snapshot contained an unknown file version 31522"),
        (lambda d: d[:1], SCHEMA),
        (lambda d: d[:-1], SCHEMA),
        (
            lambda d: d[:6] + struct.pack(">i", 1000) + d[10:],
            SCHEMA + "Tried to allocate a collection of size 1000, but there are only 92 bytes",
        ),
        (
            lambda d: d[:6] + struct.pack(">i", -1),
            SCHEMA + "non-nullable field producerEntries was serialized as null",
        ),
        (lambda d: d[:20] + bytes([d[20] ^ 1]) + d[21:], CRC),
        (lambda d: d + b"garbage", CRC),
    ],
    ids=["json", "cut-header", "cut-entry", "count", "null-array", "bit-flip", "extended"],
)
def test_what_kafka_refuses_is_refused(damage: Callable[[bytes], bytes], message: str) -> None:
    with pytest.raises(CorruptSnapshot) as refused:
        decode(damage(encode(ENTRIES)))
    assert str(refused.value).startswith(message)
