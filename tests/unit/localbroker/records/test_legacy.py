"""Produce v0-2's message sets (magic 0 and 1) become one magic-2 batch, as Kafka 3.9's
LogValidator converted them: every message in order, compressed wrappers opened, the
producer's codec kept, magic 0's missing timestamp as -1; damage is CORRUPT_MESSAGE. Fetch v0-3
get stored batches down-converted to magic 0 or 1 (read back here through the conversion up)."""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Callable

import pytest
from kio.schema.errors import ErrorCode

from localbroker.errors import KafkaError
from localbroker.records.batch import TIMESTAMP_TYPE_BIT, BatchHeader, read_header
from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.legacy import to_batch, to_message_set
from localbroker.records.reader import iter_records

NOW = 1_700_000_000_000
GZIP, SNAPPY, LZ4, ZSTD = 1, 2, 3, 4


def _bytes(data: bytes | None) -> bytes:
    return struct.pack(">i", -1) if data is None else struct.pack(">i", len(data)) + data


def message(
    value: bytes | None,
    key: bytes | None = None,
    *,
    magic: int = 1,
    timestamp: int = NOW,
    codec: int = 0,
    offset: int = 0,
) -> bytes:
    """One entry of a message set: offset, size, then the message with its CRC."""
    body = struct.pack(">bb", magic, codec)
    if magic == 1:
        body += struct.pack(">q", timestamp)
    body += _bytes(key) + _bytes(value)
    with_crc = struct.pack(">I", zlib.crc32(body)) + body
    return struct.pack(">qi", offset, len(with_crc)) + with_crc


def records_of(batch: bytes) -> tuple[list[tuple[bytes | None, bytes | None, int]], BatchHeader]:
    """(key, value, timestamp) of each record, and the batch's header."""
    return [(r.key, r.value, r.timestamp) for r in iter_records(batch)], read_header(batch)


def test_plain_messages_of_both_magics_become_records_in_order() -> None:
    message_set = message(b"a", b"k", timestamp=NOW + 1) + message(b"b", magic=0, offset=1)
    records, header = records_of(to_batch(message_set, NOW))
    assert records == [(b"k", b"a", NOW + 1), (None, b"b", -1)]
    assert (header.magic, header.compression, header.record_count) == (2, 0, 2)


def test_a_compressed_wrapper_is_opened_and_its_codec_kept() -> None:
    inner = message(b"x", offset=0) + message(b"y", offset=1)
    wrapper = message(gzip.compress(inner), codec=GZIP, offset=1)
    records, header = records_of(to_batch(wrapper, NOW))
    assert records == [(None, b"x", NOW), (None, b"y", NOW)]
    assert header.compression == GZIP


def test_a_partial_message_at_the_end_is_dropped() -> None:
    message_set = message(b"whole") + message(b"cut short")[:-3]
    records, _ = records_of(to_batch(message_set, NOW))
    assert records == [(None, b"whole", NOW)]


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m[:-1] + bytes([m[-1] ^ 1]),  # a bit flipped: the CRC no longer matches
        lambda m: m[:16] + b"\x02" + m[17:],  # magic 2 inside a magic 0/1 set
        lambda m: m[:10],  # not even one whole message
        lambda m: b"",
    ],
    ids=["crc", "magic", "cut", "empty"],
)
def test_damage_is_corrupt_message(damage: Callable[[bytes], bytes]) -> None:
    with pytest.raises(KafkaError) as refused:
        to_batch(damage(message(b"value")), NOW)
    assert refused.value.code == ErrorCode.corrupt_message


def stored(codec: int, count: int = 3, **kwargs: int) -> bytes:
    records = [
        NewRecord(f"v{i}".encode(), f"k{i}".encode(), timestamp=NOW + i) for i in range(count)
    ]
    return build_batch(records, now_ms=NOW, compression=codec, **kwargs)


@pytest.mark.parametrize("codec", [0, GZIP, SNAPPY, LZ4])
@pytest.mark.parametrize("magic", [0, 1])
def test_down_converted_batches_read_back_as_they_were_stored(codec: int, magic: int) -> None:
    """From offset 11 of a batch at 10: the records from 11 on, offsets absolute once read."""
    message_set = to_message_set(stored(codec, base_offset=10), magic, 11)
    records, header = records_of(to_batch(message_set, NOW))
    timestamp = (lambda i: NOW + i) if magic == 1 else (lambda i: -1)
    assert records == [(f"k{i}".encode(), f"v{i}".encode(), timestamp(i)) for i in (1, 2)]
    assert header.compression == codec
    first_offset = struct.unpack_from(">q", message_set)[0]
    if codec == 0:
        assert first_offset == 11
    else:  # one wrapper message, at the offset of its last inner message
        assert first_offset == 12


def test_magic_1_inner_offsets_are_relative() -> None:
    message_set = to_message_set(stored(GZIP, base_offset=10), 1, 10)
    wrapper_value_at = 8 + 4 + 4 + 1 + 1 + 8 + 4  # offset, size, crc, magic, attributes, ts, key
    inner = gzip.decompress(message_set[wrapper_value_at + 4 :])
    assert struct.unpack_from(">q", inner)[0] == 0


def test_zstd_cannot_be_down_converted() -> None:
    with pytest.raises(KafkaError) as refused:
        to_message_set(stored(ZSTD), 1, 0)
    assert refused.value.code == ErrorCode.unsupported_compression_type


def test_log_append_time_is_marked_on_magic_1_messages() -> None:
    message_set = to_message_set(stored(0, attributes=TIMESTAMP_TYPE_BIT), 1, 0)
    attributes = message_set[8 + 4 + 4 + 1]
    assert attributes & TIMESTAMP_TYPE_BIT


def test_snappy_wrappers_are_framed_the_xerial_way() -> None:
    """As Kafka's SnappyOutputStream writes them, which the Java clients of these formats read."""
    message_set = to_message_set(stored(SNAPPY), 1, 0)
    wrapper_value_at = 8 + 4 + 4 + 1 + 1 + 8 + 4 + 4  # ..., timestamp, null key, value length
    assert message_set[wrapper_value_at:].startswith(b"\x82SNAPPY\x00\x00\x00\x00\x01")
