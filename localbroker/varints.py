"""Kafka's variable-length integers: unsigned (the protocol's compact lengths and tag counts)
and zigzag (a record's fields, Confluent's message indexes)."""

from __future__ import annotations

_ONE_BYTE = tuple(bytes((value,)) for value in range(128))


def uvarint(value: int) -> bytes:
    """An unsigned varint: seven bits a byte, low bits first, the top bit set on all but the
    last byte."""
    if value < 128:
        return _ONE_BYTE[value]
    out = bytearray()
    while value >= 128:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def zigzag(value: int) -> bytes:
    """A signed value as Kafka's varlong (zigzag, then an unsigned varint); the same bytes
    as its varint for a value within 32 bits."""
    return uvarint((value << 1) ^ (value >> 63))
