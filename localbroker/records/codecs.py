"""Decompression of record batch payloads, for the rare paths that must look inside a batch.

The produce and fetch paths never decompress: batches are stored and served as the
producer compressed them. Timestamp lookups (ListOffsets) read records of one batch, and
those may be compressed with any codec a client can choose.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable

import cramjam

_XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER = 16
_INT32 = struct.Struct(">i")


class UnsupportedCodec(Exception):
    pass


def _snappy(data: bytes) -> bytes:
    # Java clients frame snappy the xerial way (magic, version, then length-prefixed blocks);
    # librdkafka and others send raw snappy. Both appear in the wild.
    if not data.startswith(_XERIAL_MAGIC):
        return bytes(cramjam.snappy.decompress_raw(data))
    out = bytearray()
    position = _XERIAL_HEADER
    while position < len(data):
        (length,) = _INT32.unpack_from(data, position)
        position += 4
        out += bytes(cramjam.snappy.decompress_raw(data[position : position + length]))
        position += length
    return bytes(out)


_CODECS: dict[int, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    0: (bytes, bytes),
    1: (gzip.compress, gzip.decompress),
    2: (lambda data: bytes(cramjam.snappy.compress_raw(data)), _snappy),
    3: (
        lambda data: bytes(cramjam.lz4.compress(data)),
        lambda data: bytes(cramjam.lz4.decompress(data)),
    ),
    4: (
        lambda data: bytes(cramjam.zstd.compress(data)),
        lambda data: bytes(cramjam.zstd.decompress(data)),
    ),
}


def _codec(codec: int) -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]:
    try:
        return _CODECS[codec]
    except KeyError:
        raise UnsupportedCodec(f"unknown compression codec {codec}") from None


def compress(codec: int, data: bytes) -> bytes:
    """Compress a batch payload as a client would (raw snappy, LZ4 frames)."""
    return _codec(codec)[0](data)


def decompress(codec: int, data: bytes) -> bytes:
    """Decompress a batch payload, accepting xerial-framed snappy as Java clients send it."""
    return _codec(codec)[1](data)
