"""Record batches: produce-time validation, stamping, and the builder/reader round trip.

`validate_produced` is the broker's only defence against a bad record set, so every refusal
is checked with Kafka's error name; batches are built with `build_batch` and then damaged
in exactly one way each. The builder/reader round trip is a property over records, codecs
and timestamps, since tests everywhere else rely on both being exact.
"""

from __future__ import annotations

import struct

import cramjam
import pytest
from crc32c import crc32c
from hypothesis import given, settings
from hypothesis import strategies as st
from kio.schema.errors import ErrorCode

from localbroker.records.batch import (
    CONTROL_BIT,
    CRC_START,
    HEADER_SIZE,
    TRANSACTIONAL_BIT,
    InvalidBatch,
    MalformedRecordSet,
    crc_matches,
    peek_offsets,
    read_header,
    set_log_append_time,
    stamp_prefix,
    validate_produced,
)
from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.codecs import UnsupportedCodec, decompress
from localbroker.records.reader import Record, iter_records

NOW = 1_700_000_000_000
MAX = 1_048_588  # Kafka's default max.message.bytes


def batch(count: int = 3, **kwargs: int) -> bytes:
    records = [NewRecord(f"value-{i}".encode(), key=f"k{i}".encode()) for i in range(count)]
    return build_batch(records, now_ms=NOW, **kwargs)


def with_field(data: bytes, offset: int, fmt: str, value: int, *, fix_crc: bool) -> bytes:
    """`data` with one header field overwritten, its CRC recomputed only when asked."""
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    if fix_crc:
        struct.pack_into(">I", out, 17, crc32c(memoryview(out)[CRC_START:]))
    return bytes(out)


def refusal(records: bytes, max_message_bytes: int = MAX) -> InvalidBatch:
    with pytest.raises(InvalidBatch) as caught:
        validate_produced(records, max_message_bytes)
    return caught.value


# -- validate_produced ----------------------------------------------------------------------


def test_valid_batch_passes_and_reports_its_header() -> None:
    data = batch(3, producer_id=17, producer_epoch=2, base_sequence=40)
    header = validate_produced(data, MAX)
    assert header.size == len(data)
    assert header.record_count == 3
    assert header.last_offset_delta == 2
    assert (header.producer_id, header.producer_epoch, header.base_sequence) == (17, 2, 40)
    assert header.last_sequence == 42
    assert header.base_timestamp == header.max_timestamp == NOW


def test_batch_exactly_at_the_size_limit_passes() -> None:
    data = batch()
    assert validate_produced(data, len(data)).size == len(data)


def test_record_set_shorter_than_a_header() -> None:
    error = refusal(batch()[: HEADER_SIZE - 1])
    assert isinstance(error, MalformedRecordSet)
    assert error.code == ErrorCode.invalid_record
    assert "at least one record batch" in error.message


def test_empty_record_set() -> None:
    assert refusal(b"").code == ErrorCode.invalid_record


@pytest.mark.parametrize("magic", [0, 1, 3])
def test_magic_other_than_2(magic: int) -> None:
    error = refusal(with_field(batch(), 16, ">b", magic, fix_crc=True))
    assert error.code == ErrorCode.invalid_record
    assert "magic version 2" in error.message


def test_batch_length_longer_than_the_record_set() -> None:
    """A producer that declares more bytes than it sent (truncated request)."""
    data = batch()
    error = refusal(data[:-1])
    assert isinstance(error, MalformedRecordSet)
    assert error.code == ErrorCode.invalid_record


def test_batch_length_shorter_than_a_header() -> None:
    error = refusal(with_field(batch(), 8, ">i", 48, fix_crc=False))
    assert error.code == ErrorCode.corrupt_message


def test_base_offset_other_than_0() -> None:
    """Kafka's UnifiedLog refuses a client's batch that claims an offset of its own."""
    error = refusal(with_field(batch(), 0, ">q", 3, fix_crc=False))
    assert (error.code, type(error)) == (ErrorCode.invalid_record, InvalidBatch)
    assert "should be 0, but it is 3" in error.message


def test_two_batches_in_one_partition() -> None:
    error = refusal(batch() + batch())
    assert error.code == ErrorCode.invalid_record
    assert "exactly one record batch" in error.message


def test_trailing_garbage_counts_as_a_second_batch() -> None:
    assert refusal(batch() + b"\x00").code == ErrorCode.invalid_record


def test_batch_larger_than_max_message_bytes() -> None:
    data = batch()
    error = refusal(data, len(data) - 1)
    assert error.code == ErrorCode.message_too_large
    assert error.message == (
        f"batch of {len(data)} bytes exceeds max.message.bytes={len(data) - 1}"
    )


def test_bad_crc() -> None:
    data = bytearray(batch())
    data[-1] ^= 0xFF  # a payload byte the CRC covers
    error = refusal(bytes(data))
    assert error.code == ErrorCode.corrupt_message
    assert "CRC" in error.message


def test_bad_crc_in_attributes() -> None:
    """The CRC starts at attributes, so flipping a codec bit is corruption, not a new codec."""
    assert (
        refusal(with_field(batch(), 21, ">h", 1, fix_crc=False)).code == ErrorCode.corrupt_message
    )


@pytest.mark.parametrize("count", [2, 4, 0])
def test_record_count_not_matching_the_offset_range(count: int) -> None:
    error = refusal(with_field(batch(3), 57, ">i", count, fix_crc=True))
    assert error.code == ErrorCode.invalid_record
    assert f"inner record count {count} does not match the offset range 0..2" in error.message


def test_negative_last_offset_delta() -> None:
    data = with_field(batch(1), 23, ">i", -1, fix_crc=True)
    assert refusal(data).code == ErrorCode.invalid_record


def test_control_batch_from_a_client() -> None:
    error = refusal(batch(attributes=CONTROL_BIT | TRANSACTIONAL_BIT))
    assert error.code == ErrorCode.invalid_record
    assert "control records" in error.message


def test_producer_id_with_negative_sequence() -> None:
    error = refusal(batch(producer_id=9, producer_epoch=0, base_sequence=-1))
    assert error.code == ErrorCode.invalid_record
    assert "invalid sequence number -1 for producer 9" in error.message


def test_no_producer_id_with_no_sequence_passes() -> None:
    assert validate_produced(batch(), MAX).has_producer_id is False


def test_error_maps_to_kafka_error_codes() -> None:
    assert (
        refusal(with_field(batch(), -1, ">B", 1, fix_crc=False)).code.value == 2
    )  # CORRUPT_MESSAGE
    assert refusal(batch() + batch()).code.value == 87  # INVALID_RECORD
    assert refusal(batch(), 10).code.value == 10  # MESSAGE_TOO_LARGE


# -- stamping -------------------------------------------------------------------------------


def test_stamp_prefix_writes_offset_and_epoch_without_touching_the_crc() -> None:
    data = batch(4)
    header = read_header(data)
    prefix = stamp_prefix(header, 1234, 7)
    assert prefix == struct.pack(">qii", 1234, header.batch_length, 7)
    stamped = prefix + data[len(prefix) :]
    restamped = read_header(stamped)
    assert (restamped.base_offset, restamped.partition_leader_epoch) == (1234, 7)
    assert restamped.last_offset == 1237
    assert crc_matches(stamped, restamped)
    assert [r.offset for r in iter_records(stamped)] == [1234, 1235, 1236, 1237]
    assert peek_offsets(stamped, 0) == (1234, len(data))


@pytest.mark.parametrize("codec", [0, 1, 2, 3, 4])
def test_set_log_append_time_keeps_the_crc_valid(codec: int) -> None:
    records = [NewRecord(b"a", timestamp=NOW - 5), NewRecord(b"b", timestamp=NOW - 1)]
    stamped = bytearray(build_batch(records, now_ms=NOW, compression=codec))
    set_log_append_time(stamped, NOW + 500)
    header = read_header(stamped)
    assert header.log_append_time
    assert header.compression == codec
    assert header.max_timestamp == NOW + 500
    assert header.base_timestamp == NOW - 5  # Kafka leaves the first timestamp alone
    assert crc_matches(stamped, header)
    assert validate_produced(bytes(stamped), MAX) is not None
    assert [r.timestamp for r in iter_records(bytes(stamped))] == [NOW + 500, NOW + 500]


# -- builder and reader -------------------------------------------------------------------


keys_and_values = st.one_of(st.none(), st.binary(max_size=300))
new_records = st.builds(
    NewRecord,
    value=keys_and_values,
    key=keys_and_values,
    headers=st.lists(st.tuples(st.text(max_size=20), keys_and_values), max_size=3),
    timestamp=st.one_of(st.none(), st.integers(min_value=0, max_value=2**41)),
)


@settings(max_examples=150, deadline=None)
@given(
    records=st.lists(new_records, min_size=1, max_size=12),
    codec=st.sampled_from([0, 1, 2, 3, 4]),
    base_offset=st.integers(min_value=0, max_value=2**40),
)
def test_builder_reader_round_trip(records: list[NewRecord], codec: int, base_offset: int) -> None:
    """Every field of every record comes back; headers describe the batch exactly."""
    data = build_batch(records, now_ms=NOW, compression=codec, base_offset=base_offset)
    header = read_header(data)
    assert crc_matches(data, header)
    timestamps = [NOW if r.timestamp is None else r.timestamp for r in records]
    assert header.compression == codec
    assert header.base_offset == base_offset
    assert header.record_count == len(records)
    assert header.base_timestamp == timestamps[0]
    assert header.max_timestamp == max(timestamps)
    assert list(iter_records(data)) == [
        Record(base_offset + i, timestamps[i], r.key, r.value, tuple(r.headers))
        for i, r in enumerate(records)
    ]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(new_records, min_size=1, max_size=4), min_size=1, max_size=5))
def test_reader_walks_consecutive_batches_and_drops_a_partial_tail(
    batches: list[list[NewRecord]],
) -> None:
    """A fetch response may end in a cut batch; the reader yields only whole ones."""
    offset, data, expected = 0, b"", []
    for records in batches:
        data += build_batch(records, now_ms=NOW, base_offset=offset)
        expected += [r.value for r in records]
        offset += len(records)
    assert [r.value for r in iter_records(data)] == expected
    assert [r.offset for r in iter_records(data)] == list(range(offset))
    tail = build_batch([NewRecord(b"tail")], now_ms=NOW, base_offset=offset)
    for cut in (1, HEADER_SIZE, len(tail) - 1):
        assert [r.value for r in iter_records(data + tail[:cut])] == expected


def test_builder_refuses_an_empty_batch() -> None:
    with pytest.raises(ValueError):
        build_batch([], now_ms=NOW)


def test_xerial_framed_snappy_from_java_clients() -> None:
    """Java producers frame snappy in xerial blocks; both framings decode to the same bytes."""
    first, second = b"a" * 1000, b"bc" * 700
    blocks = b"".join(
        struct.pack(">i", len(c)) + c
        for c in (
            bytes(cramjam.snappy.compress_raw(first)),
            bytes(cramjam.snappy.compress_raw(second)),
        )
    )
    framed = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1) + blocks
    assert decompress(2, framed) == first + second
    assert decompress(2, bytes(cramjam.snappy.compress_raw(first))) == first


def test_unknown_codec() -> None:
    with pytest.raises(UnsupportedCodec):
        decompress(5, b"")
