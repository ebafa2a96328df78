"""Decompression of record batch payloads, for the rare paths that must look inside a batch.

The produce and fetch paths never decompress: batches are stored and served as the
producer compressed them. Timestamp lookups (ListOffsets) read records of one batch, and
those may be compressed with any codec a client can choose.
"""

from __future__ import annotations

import gzip
import struct

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


def decompress(codec: int, data: bytes) -> bytes:
    if codec == 0:
        return data
    if codec == 1:
        return gzip.decompress(data)
    if codec == 2:
        return _snappy(data)
    if codec == 3:
        return bytes(cramjam.lz4.decompress(data))
    if codec == 4:
        return bytes(cramjam.zstd.decompress(data))
    raise UnsupportedCodec(f"unknown compression codec {codec}")
