"""Records as Kafka's console consumer prints them: a port of DefaultMessageFormatter.

print.key, print.timestamp, print.partition, print.offset, print.headers and the others, the
separators and null.literal, and the deserializers whose toString() kwb can reproduce; plus
the record as one JSON object for `--output json`.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from aiokafka import ConsumerRecord

from .common import UsageError

TIMESTAMP_TYPES = {0: "CreateTime", 1: "LogAppendTime"}


class FormatError(Exception):
    """A record the formatter cannot print (a deserializer refused its bytes)."""


def _java_bytes_string(data: bytes) -> bytes:
    """org.apache.kafka.common.utils.Bytes.toString: printable ASCII as is, else \\xHH."""
    return "".join(
        chr(b) if 0x20 <= b <= 0x7E and b != 0x5C else f"\\x{b:02X}" for b in data
    ).encode()


def _fixed_width(name: str, size: int, fmt: str) -> Callable[[bytes], bytes]:
    def deserialize(data: bytes) -> bytes:
        if len(data) != size:
            raise FormatError(f"Size of data received by {name} is not {size}")
        return str(struct.unpack(fmt, data)[0]).encode()

    return deserialize


def _uuid(data: bytes) -> bytes:
    try:
        return str(uuid.UUID(data.decode())).encode()
    except ValueError:
        raise FormatError(f"Error parsing data into UUID: {data!r}") from None


DESERIALIZERS: dict[str, Callable[[bytes], bytes]] = {
    "StringDeserializer": lambda data: data.decode("utf-8", "replace").encode(),
    "BytesDeserializer": _java_bytes_string,
    "IntegerDeserializer": _fixed_width("IntegerDeserializer", 4, ">i"),
    "LongDeserializer": _fixed_width("LongDeserializer", 8, ">q"),
    "ShortDeserializer": _fixed_width("ShortDeserializer", 2, ">h"),
    "UUIDDeserializer": _uuid,
}
_SERDE_PACKAGE = "org.apache.kafka.common.serialization."


def deserializer(name: str | None, what: str) -> Callable[[bytes], bytes] | None:
    """Kafka's deserializers whose toString() kwb can reproduce; None prints the raw bytes."""
    if name is None:
        return None
    simple = name.removeprefix(_SERDE_PACKAGE)
    if simple not in DESERIALIZERS:
        known = ", ".join(_SERDE_PACKAGE + n for n in DESERIALIZERS)
        raise UsageError(f"{what} {name} is not available; kwb knows {known}")
    return DESERIALIZERS[simple]


class DefaultMessageFormatter:
    """A port of org.apache.kafka.tools.consumer.DefaultMessageFormatter.

    Columns in Kafka's order (timestamp, partition, offset, delivery, epoch, headers, key,
    value), joined by key.separator and ended by line.separator; null prints null.literal.
    aiokafka hands over neither the delivery count (share groups only) nor the leader epoch,
    so those columns read NOT_PRESENT, as Kafka prints them when unknown.
    """

    def __init__(self, props: Mapping[str, str]) -> None:
        def flag(name: str, default: bool) -> bool:
            value = props.get(name)
            return default if value is None else value.strip().lower() == "true"

        self.print_timestamp = flag("print.timestamp", False)
        self.print_partition = flag("print.partition", False)
        self.print_offset = flag("print.offset", False)
        self.print_delivery = flag("print.delivery", False)
        self.print_epoch = flag("print.epoch", False)
        self.print_headers = flag("print.headers", False)
        self.print_key = flag("print.key", False)
        self.print_value = flag("print.value", True)
        self.key_separator = props.get("key.separator", "\t").encode()
        self.line_separator = props.get("line.separator", "\n").encode()
        self.headers_separator = props.get("headers.separator", ",").encode()
        self.null_literal = props.get("null.literal", "null").encode()
        self.key_deserializer = deserializer(props.get("key.deserializer"), "key.deserializer")
        self.value_deserializer = deserializer(
            props.get("value.deserializer"), "value.deserializer"
        )
        self.headers_deserializer = deserializer(
            props.get("headers.deserializer"), "headers.deserializer"
        )

    def _bytes(self, data: bytes | None, convert: Callable[[bytes], bytes] | None) -> bytes:
        raw = self.null_literal if data is None else data
        return raw if convert is None else convert(raw)

    def _headers(self, record: ConsumerRecord[bytes, bytes]) -> bytes:
        if not record.headers:
            return b"NO_HEADERS"
        return self.headers_separator.join(
            key.encode() + b":" + self._bytes(value, self.headers_deserializer)
            for key, value in record.headers
        )

    def _place_columns(self, record: ConsumerRecord[bytes, bytes]) -> list[bytes]:
        """Timestamp, partition and offset, as far as asked for (Confluent's formatters
        print them the same way)."""
        columns: list[bytes] = []
        if self.print_timestamp:
            kind = TIMESTAMP_TYPES.get(record.timestamp_type)
            columns.append(f"{kind}:{record.timestamp}".encode() if kind else b"NO_TIMESTAMP")
        if self.print_partition:
            columns.append(b"Partition:%d" % record.partition)
        if self.print_offset:
            columns.append(b"Offset:%d" % record.offset)
        return columns

    def format(self, record: ConsumerRecord[bytes, bytes]) -> bytes:
        columns = self._place_columns(record)
        if self.print_delivery:
            columns.append(b"Delivery:NOT_PRESENT")
        if self.print_epoch:
            columns.append(b"Epoch:NOT_PRESENT")
        if self.print_headers:
            columns.append(self._headers(record))
        if self.print_key:
            columns.append(self._bytes(record.key, self.key_deserializer))
        if self.print_value:
            columns.append(self._bytes(record.value, self.value_deserializer))
        if not columns:
            return b""
        return self.key_separator.join(columns) + self.line_separator


def record_json(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    def text(data: bytes | None) -> str | None:
        return None if data is None else data.decode("utf-8", "replace")

    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "timestamp_type": TIMESTAMP_TYPES.get(record.timestamp_type, "NO_TIMESTAMP"),
        "key": text(record.key),
        "value": text(record.value),
        "headers": [[k, text(v)] for k, v in record.headers],
    }
