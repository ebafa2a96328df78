"""Record batch headers, read and rewritten without touching individual records.

A v2 batch starts with a fixed 61-byte header. Everything the broker needs on the hot path
(offsets, sizes, timestamps, producer id and sequence) lives there, and the CRC covers the
bytes from `attributes` on, so the broker can stamp `base_offset` and
`partition_leader_epoch` into a batch exactly as received without recomputing anything.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from crc32c import crc32c
from kio.schema.errors import ErrorCode

from ..errors import KafkaError

HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE = HEADER.size  # 61
LOG_OVERHEAD = 12  # base offset + batch length: the part of a batch its length does not count
CRC_START = 21
MAGIC_OFFSET = 16
ATTRIBUTES = struct.Struct(">h")
MAX_TIMESTAMP = struct.Struct(">q")
_OFFSET_AND_LENGTH = struct.Struct(">qi")
_PREFIX = struct.Struct(">qii")  # base offset, batch length, partition leader epoch

COMPRESSION_MASK = 0x07
TIMESTAMP_TYPE_BIT = 0x08
TRANSACTIONAL_BIT = 0x10
CONTROL_BIT = 0x20

NO_PRODUCER_ID = -1
NO_SEQUENCE = -1

CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
ZSTD = 4


class InvalidBatch(KafkaError):
    """A batch the broker must refuse."""


class MalformedRecordSet(InvalidBatch):
    """A record set refused before any log sees it (Kafka's ProduceRequest.validateRecords): no
    batch in it, not magic 2, or more than one batch. Kafka answers these without the
    partition's log start offset."""


@dataclass(slots=True)
class BatchHeader:
    """The header of one batch and where the batch sits in the buffer it was read from."""

    position: int
    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int

    @property
    def size(self) -> int:
        """Bytes the whole batch occupies, header included."""
        return self.batch_length + LOG_OVERHEAD

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.base_offset + self.last_offset_delta + 1

    @property
    def last_sequence(self) -> int:
        if self.base_sequence == NO_SEQUENCE:
            return NO_SEQUENCE
        return (self.base_sequence + self.last_offset_delta) % 2**31

    @property
    def compression(self) -> int:
        return self.attributes & COMPRESSION_MASK

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & TRANSACTIONAL_BIT)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & CONTROL_BIT)

    @property
    def log_append_time(self) -> bool:
        return bool(self.attributes & TIMESTAMP_TYPE_BIT)

    @property
    def has_producer_id(self) -> bool:
        return self.producer_id >= 0


def read_header(buffer: bytes | bytearray | memoryview, position: int = 0) -> BatchHeader:
    """The batch header at `position`; the caller guarantees 61 bytes are there."""
    return BatchHeader(position, *HEADER.unpack_from(buffer, position))


def is_transactional(buffer: bytes | bytearray | memoryview) -> bool:
    """Whether the batch at the start of `buffer` is transactional, from its attributes
    alone (needs 23 bytes)."""
    return bool(ATTRIBUTES.unpack_from(buffer, 21)[0] & TRANSACTIONAL_BIT)


def peek_offsets(buffer: bytes | bytearray | memoryview, position: int) -> tuple[int, int]:
    """Base offset and total size of the batch at `position` (needs only 12 bytes)."""
    base_offset, batch_length = _OFFSET_AND_LENGTH.unpack_from(buffer, position)
    return base_offset, batch_length + LOG_OVERHEAD


def crc_matches(buffer: bytes | bytearray | memoryview, header: BatchHeader) -> bool:
    start = header.position + CRC_START
    end = header.position + header.size
    return crc32c(memoryview(buffer)[start:end]) == header.crc


def validate_produced(records: bytes, max_message_bytes: int) -> BatchHeader:
    """Check a produce request's record set the way Kafka's log validator does for clients.

    Produce v3+ carries exactly one magic-2 batch per partition; size, CRC, the offset
    range against the record count, control flags and sequence numbers are checked per
    batch, and nothing per record, so validation costs the same for 1 or 10,000 records.
    """
    total = len(records)
    header = read_header(records) if total >= HEADER_SIZE else None
    if header is None or header.size > total:
        raise MalformedRecordSet(
            ErrorCode.invalid_record,
            "Produce requests must have at least one record batch per partition",
        )
    if header.batch_length < HEADER_SIZE - LOG_OVERHEAD:
        raise MalformedRecordSet(
            ErrorCode.corrupt_message,
            f"batch length {header.batch_length} is smaller than a batch header",
        )
    if header.magic != 2:
        raise MalformedRecordSet(
            ErrorCode.invalid_record,
            "Produce requests are only allowed to contain record batches with magic version 2",
        )
    if header.size < total:
        raise MalformedRecordSet(
            ErrorCode.invalid_record,
            "Produce requests are only allowed to contain exactly one record batch per partition",
        )
    if header.base_offset != 0:
        raise InvalidBatch(
            ErrorCode.invalid_record,
            f"The baseOffset of the record batch should be 0, but it is {header.base_offset}",
        )
    if header.size > max_message_bytes:
        raise InvalidBatch(
            ErrorCode.message_too_large,
            f"batch of {header.size} bytes exceeds max.message.bytes={max_message_bytes}",
        )
    if not crc_matches(records, header):
        raise InvalidBatch(
            ErrorCode.corrupt_message, "record batch CRC does not match its contents"
        )
    if header.last_offset_delta < 0 or header.record_count != header.last_offset_delta + 1:
        raise InvalidBatch(
            ErrorCode.invalid_record,
            f"inner record count {header.record_count} does not match the offset range"
            f" 0..{header.last_offset_delta} of the batch",
        )
    if header.is_control:
        raise InvalidBatch(
            ErrorCode.invalid_record, "clients are not allowed to write control records"
        )
    if header.has_producer_id and header.base_sequence < 0:
        raise InvalidBatch(
            ErrorCode.invalid_record,
            f"invalid sequence number {header.base_sequence} for producer {header.producer_id}",
        )
    return header


def stamp_prefix(header: BatchHeader, base_offset: int, leader_epoch: int) -> bytes:
    """The first 16 bytes of the batch as stored: its offset and the leader's epoch written in."""
    return _PREFIX.pack(base_offset, header.batch_length, leader_epoch)


def set_log_append_time(batch: bytearray, now_ms: int) -> None:
    """Mark a batch as LogAppendTime with `now_ms` and recompute its CRC, as Kafka does."""
    (attributes,) = ATTRIBUTES.unpack_from(batch, 21)
    ATTRIBUTES.pack_into(batch, 21, attributes | TIMESTAMP_TYPE_BIT)
    MAX_TIMESTAMP.pack_into(batch, 35, now_ms)
    struct.pack_into(">I", batch, 17, crc32c(memoryview(batch)[CRC_START:]))
