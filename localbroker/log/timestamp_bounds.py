"""The per-record checks of Kafka's LogValidator on produced batches: create times against
the topic's bounds (each record within [now - message.timestamp.before.max.ms,
now + message.timestamp.after.max.ms]) and keys on compacted topics; every record refused
is named in the refusal."""

from __future__ import annotations

from ..records.batch import BatchHeader
from ..records.reader import iter_records
from .errors import InvalidRecords, InvalidTimestamps
from .segment import NO_TIMESTAMP

_LONG = 1 << 64


def _java_long(value: int) -> int:
    """`value` as Kafka's Java arithmetic prints it: wrapped to a signed 64-bit long (now plus
    the longest time is negative there)."""
    return (value + (1 << 63)) % _LONG - (1 << 63)


def check_create_times(header: BatchHeader, records: bytes, earliest: int, latest: int) -> None:
    """Refuse the batch if a record's create time is outside [earliest, latest]. The header
    bounds the latest; the earliest needs the records themselves, read only when the lower
    bound can refuse anything (not with Kafka's default, the longest time), or when the
    header already shows a record out of range."""
    if header.max_timestamp <= latest and earliest <= 0:
        return
    errors = [
        (
            index,
            f"Timestamp {record.timestamp} of message with offset {record.offset} is out of"
            f" range. The timestamp should be within [{_java_long(earliest)},"
            f" {_java_long(latest)}]",
        )
        for index, record in enumerate(iter_records(records))
        if record.timestamp != NO_TIMESTAMP and not earliest <= record.timestamp <= latest
    ]
    if errors:
        raise InvalidTimestamps(errors)


def check_keys(records: bytes, partition: str) -> None:
    """Refuse the batch if a record has no key: a compacted topic keeps records by key
    (LogValidator.validateKey); this reads every record, for compacted topics only."""
    errors = [
        (
            index,
            f"Compacted topic cannot accept message without key in topic partition {partition}.",
        )
        for index, record in enumerate(iter_records(records))
        if record.key is None
    ]
    if errors:
        raise InvalidRecords(errors)
