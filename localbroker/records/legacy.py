"""Message sets of magic 0 and 1 (Kafka before 0.11), converted into one magic-2 batch.

Produce v0-2 carry these; Kafka 3.9 accepted them and its LogValidator converted them to the
v2 format it stores (Kafka 4.0 removed both, KIP-724 and KIP-896). localbroker stores v2 only,
so it converts the same way: every message (those inside a compressed wrapper message too)
becomes a record in order, magic 0's missing timestamp becomes -1 (NO_TIMESTAMP), and the batch
is compressed with the codec the producer chose, as Kafka's `compression.type=producer` does.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from .builder import NewRecord, build_batch
from .codecs import UnsupportedCodec, decompress

_LOG_OVERHEAD = struct.Struct(">qi")  # offset, message size
_MESSAGE_V0 = struct.Struct(">Ibb")  # crc, magic, attributes
_TIMESTAMP = struct.Struct(">q")
_LENGTH = struct.Struct(">i")
_CODEC_MASK = 0x07
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
