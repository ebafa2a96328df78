"""Message sets of magic 0 and 1 (Kafka before 0.11), to and from magic-2 batches.

Produce v0-2 carry these and Fetch v0-3 answer with them; Kafka 3.9 converted both ways (its
LogValidator up, RecordsUtil.downConvert down; Kafka 4.0 removed them, KIP-724 and KIP-896).
localbroker stores v2 only, so it converts the same way. Up: every message (those inside a
compressed wrapper message too) becomes a record in order, magic 0's missing timestamp becomes
-1 (NO_TIMESTAMP), and the batch is compressed with the producer's codec, as Kafka's
`compression.type=producer` does. Down: each batch becomes its messages, in a wrapper message
compressed with the batch's codec when it was compressed (inner offsets relative for magic 1);
record headers are dropped, and zstd, which these formats cannot carry, is
UNSUPPORTED_COMPRESSION_TYPE, as in Kafka.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from .batch import HEADER_SIZE, TIMESTAMP_TYPE_BIT, read_header
from .builder import NewRecord, build_batch
from .codecs import UnsupportedCodec, compress, decompress
from .reader import Record, iter_records

_LOG_OVERHEAD = struct.Struct(">qi")  # offset, message size
_MESSAGE_V0 = struct.Struct(">Ibb")  # crc, magic, attributes
_TIMESTAMP = struct.Struct(">q")
_LENGTH = struct.Struct(">i")
_CODEC_MASK = 0x07
_SNAPPY, _ZSTD = 2, 4
_XERIAL_HEADER = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)
NO_TIMESTAMP = -1


def _corrupt(message: str) -> KafkaError:
    return KafkaError(ErrorCode.corrupt_message, message)


def _read_bytes(message: bytes, position: int) -> tuple[bytes | None, int]:
    (length,) = _LENGTH.unpack_from(message, position)
    position += _LENGTH.size
    if length < 0:
        return None, position
    if position + length > len(message):
        raise _corrupt("a message's key or value runs past its end")
    return message[position : position + length], position + length


def _messages(message_set: bytes, codecs: list[int]) -> Iterator[NewRecord]:
    """The records of a message set, in order; a compressed wrapper's codec goes to `codecs`."""
    position = 0
    while position + _LOG_OVERHEAD.size <= len(message_set):
        _, size = _LOG_OVERHEAD.unpack_from(message_set, position)
        start = position + _LOG_OVERHEAD.size
        message = message_set[start : start + size]
        if size < _MESSAGE_V0.size + 2 * _LENGTH.size or len(message) < size:
            if codecs or position > 0:
                return  # a partial message at the end of a set is dropped, as Kafka does
            raise _corrupt(f"message of {size} bytes does not fit the message set")
        position = start + size
        crc, magic, attributes = _MESSAGE_V0.unpack_from(message)
        if magic not in (0, 1):
            raise _corrupt(f"message format magic {magic} inside a magic 0/1 message set")
        if zlib.crc32(message[4:]) != crc:
            raise _corrupt("message CRC does not match its contents")
        cursor = _MESSAGE_V0.size
        timestamp = NO_TIMESTAMP
        if magic == 1:
            (timestamp,) = _TIMESTAMP.unpack_from(message, cursor)
            cursor += _TIMESTAMP.size
        key, cursor = _read_bytes(message, cursor)
        value, cursor = _read_bytes(message, cursor)
        codec = attributes & _CODEC_MASK
        if codec == 0:
            yield NewRecord(value, key, timestamp=timestamp)
            continue
        if value is None:
            raise _corrupt("a compressed wrapper message without a value")
        try:
            inner = decompress(codec, value)
        except (UnsupportedCodec, ValueError, OSError) as exc:
            raise _corrupt(f"compressed message does not decompress: {exc}") from exc
        codecs.append(codec)
        yield from _messages(inner, codecs)


def to_batch(message_set: bytes, now_ms: int) -> bytes:
    """One magic-2 batch holding every message of a Produce v0-2 message set."""
    codecs: list[int] = []
    try:
        records = list(_messages(message_set, codecs))
    except struct.error as exc:
        raise _corrupt(f"message set cut short: {exc}") from exc
    if not records:
        raise _corrupt("the message set holds no complete message")
    return build_batch(records, now_ms=now_ms, compression=codecs[0] if codecs else 0)


def _message(
    offset: int, magic: int, attributes: int, timestamp: int, key: bytes | None, value: bytes | None
) -> bytes:
    body = struct.pack(">bb", magic, attributes)
    if magic == 1:
        body += _TIMESTAMP.pack(timestamp)
    for data in (key, value):
        body += _LENGTH.pack(-1) if data is None else _LENGTH.pack(len(data)) + data
    message = struct.pack(">I", zlib.crc32(body)) + body
    return _LOG_OVERHEAD.pack(offset, len(message)) + message


def _compressed(codec: int, data: bytes) -> bytes:
    """Snappy framed the xerial way, as the Java clients that read these formats expect it."""
    if codec != _SNAPPY:
        return compress(codec, data)
    block = compress(codec, data)
    return _XERIAL_HEADER + _LENGTH.pack(len(block)) + block


def _messages_of(records: list[Record], magic: int, attributes: int, relative: bool) -> bytes:
    first = records[0].offset if relative else 0
    return b"".join(
        _message(r.offset - first, magic, attributes, r.timestamp, r.key, r.value) for r in records
    )


def to_message_set(batches: bytes, magic: int, fetch_offset: int) -> bytes:
    """The records of stored batches from `fetch_offset` on, as a message set of `magic`."""
    out = bytearray()
    position = 0
    while position + HEADER_SIZE <= len(batches):
        header = read_header(batches, position)
        batch = batches[position : position + header.size]
        position += header.size
        if len(batch) < header.size or header.is_control:
            continue
        if header.compression == _ZSTD:
            raise KafkaError(
                ErrorCode.unsupported_compression_type,
                f"zstd-compressed records cannot be down-converted to message format {magic}",
            )
        records = [r for r in iter_records(batch) if r.offset >= fetch_offset]
        if not records:
            continue
        attributes = TIMESTAMP_TYPE_BIT if magic == 1 and header.log_append_time else 0
        if header.compression == 0:
            out += _messages_of(records, magic, attributes, relative=False)
            continue
        inner = _messages_of(records, magic, attributes, relative=magic == 1)
        out += _message(
            records[-1].offset,
            magic,
            attributes | header.compression,
            max(r.timestamp for r in records),
            None,
            _compressed(header.compression, inner),
        )
    return bytes(out)
