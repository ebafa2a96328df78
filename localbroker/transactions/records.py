"""The records of `__transaction_state`, in Kafka's binary formats.

Kafka's transaction coordinator writes one record per change of a transactional id: key
TransactionLogKey v0 (the id) and value TransactionLogValue, version 1 (flexible, what Kafka
writes once transaction.version 1 is enabled, as this coordinator behaves), or a null value
(a tombstone) when the id expires. Version 0 values are read too. Writing the same bytes lets
`kafka-dump-log.sh --transaction-log-decoder` read the topic.

The tagged fields PreviousProducerId, NextProducerId and ClientTransactionVersion (0-2) are
written when they differ from their defaults, as Kafka's generated writer does.

Kafka's value has no room for two things this coordinator keeps with the transaction: Kafka
keeps offsets committed inside a transaction in `__consumer_offsets` (as transactional
records, ended by the markers), and forgets the last producer epoch at a restart. The offsets
are carried in a tagged field of localbroker's own (tag `PENDING_OFFSETS_TAG`, far past
Kafka's 0-2): Kafka's readers skip tags they do not know, as KIP-482 requires.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TypeVar

from kio.serial import readers as r
from kio.serial import writers as w
from kio.static.primitive import i8, i16, i32, i64, uvarint

from ..protocol.names import TransactionState
from .metadata import PendingOffset, TransactionMetadata

KEY_VERSION = 0
VALUE_VERSION = 1
PREVIOUS_PRODUCER_ID_TAG = 0
NEXT_PRODUCER_ID_TAG = 1
CLIENT_TRANSACTION_VERSION_TAG = 2
PENDING_OFFSETS_TAG = 10_000

_S = TransactionState
STATE_IDS = {
    _S.EMPTY: 0,
    _S.ONGOING: 1,
    _S.PREPARE_COMMIT: 2,
    _S.PREPARE_ABORT: 3,
    _S.COMPLETE_COMMIT: 4,
    _S.COMPLETE_ABORT: 5,
    _S.DEAD: 6,
    _S.PREPARE_EPOCH_FENCE: 7,
}
"""TransactionState.id in Kafka's coordinator."""
_STATES = {code: state for state, code in STATE_IDS.items()}

T = TypeVar("T")
Offsets = dict[str, dict[tuple[str, int], PendingOffset]]


class TransactionRecordError(ValueError):
    """A key or value that is not a transaction log record of a version Kafka has used."""


def encode_key(transactional_id: str) -> bytes:
    buffer = io.BytesIO()
    w.write_int16(buffer, i16(KEY_VERSION))
    w.write_legacy_string(buffer, transactional_id)
    return buffer.getvalue()


def decode_key(data: bytes) -> str:
    version, at = r.read_int16(data, 0)
    if version != KEY_VERSION:
        raise TransactionRecordError(f"unknown __transaction_state key version {version}")
    transactional_id, _ = r.read_legacy_string(data, at)
    return transactional_id


def _partitions_by_topic(metadata: TransactionMetadata) -> dict[str, list[int]]:
    topics: dict[str, list[int]] = {}
    for topic, partition in sorted(metadata.partitions):
        topics.setdefault(topic, []).append(partition)
    return topics


def _write_offsets(buffer: io.BytesIO, offsets: Offsets) -> None:
    w.write_compact_array_length(buffer, len(offsets))
    for group_id, entries in sorted(offsets.items()):
        w.write_compact_string(buffer, group_id)
        w.write_compact_array_length(buffer, len(entries))
        for (topic, partition), pending in sorted(entries.items()):
            w.write_compact_string(buffer, topic)
            w.write_int32(buffer, i32(partition))
            w.write_int64(buffer, i64(pending.offset))
            w.write_int32(buffer, i32(pending.leader_epoch))
            w.write_compact_string(buffer, pending.metadata)
            w.write_empty_tagged_fields(buffer)
        w.write_empty_tagged_fields(buffer)


def encode_value(metadata: TransactionMetadata) -> bytes:
    """TransactionLogValue v1; partitions are null when Empty, as Kafka writes them."""
    buffer = io.BytesIO()
    w.write_int16(buffer, i16(VALUE_VERSION))
    w.write_int64(buffer, i64(metadata.producer_id))
    w.write_int16(buffer, i16(metadata.producer_epoch))
    w.write_int32(buffer, i32(metadata.timeout_ms))
    w.write_int8(buffer, i8(STATE_IDS[metadata.state]))
    if metadata.state == _S.EMPTY:
        w.write_compact_array_length(buffer, None)
    else:
        topics = _partitions_by_topic(metadata)
        w.write_compact_array_length(buffer, len(topics))
        for topic, partitions in topics.items():
            w.write_compact_string(buffer, topic)
            w.write_compact_array_length(buffer, len(partitions))
            for partition in partitions:
                w.write_int32(buffer, i32(partition))
            w.write_empty_tagged_fields(buffer)
    w.write_int64(buffer, i64(metadata.last_update_ms))
    w.write_int64(buffer, i64(metadata.start_ms))
    tagged: list[tuple[int, Callable[[io.BytesIO], None]]] = []
    if metadata.previous_producer_id != -1:
        previous = i64(metadata.previous_producer_id)
        tagged.append((PREVIOUS_PRODUCER_ID_TAG, lambda b: w.write_int64(b, previous)))
    if metadata.next_producer_id != -1:
        following = i64(metadata.next_producer_id)
        tagged.append((NEXT_PRODUCER_ID_TAG, lambda b: w.write_int64(b, following)))
    if metadata.client_transaction_version != 0:
        version = i16(metadata.client_transaction_version)
        tagged.append((CLIENT_TRANSACTION_VERSION_TAG, lambda b: w.write_int16(b, version)))
    if metadata.offsets:
        tagged.append((PENDING_OFFSETS_TAG, lambda b: _write_offsets(b, metadata.offsets)))
    w.write_unsigned_varint(buffer, uvarint(len(tagged)))
    for tag, write in tagged:
        field = io.BytesIO()
        write(field)
        w.write_unsigned_varint(buffer, uvarint(tag))
        w.write_unsigned_varint(buffer, uvarint(len(field.getvalue())))
        buffer.write(field.getvalue())
    return buffer.getvalue()


class _Cursor:
    """Reads fields one after another with kio's readers."""

    def __init__(self, data: bytes, at: int = 0) -> None:
        self.data = data
        self.at = at

    def take(self, reader: Callable[[bytes, int], tuple[T, int]]) -> T:
        value, size = reader(self.data, self.at)
        self.at += size
        return value

    def array_length(self, flexible: bool) -> int:
        """The length of an array; 0 for a null one."""
        if flexible:
            length = self.take(r.read_compact_array_length)
        else:
            length = self.take(r.read_legacy_array_length)
        return 0 if length is None else max(length, 0)

    def string(self, flexible: bool) -> str:
        return self.take(r.read_compact_string if flexible else r.read_legacy_string)

    def skip_tagged_fields(self) -> None:
        for _ in range(self.take(r.read_unsigned_varint)):
            self.take(r.read_unsigned_varint)
            self.at += self.take(r.read_unsigned_varint)


def _read_offsets(cursor: _Cursor) -> Offsets:
    offsets: Offsets = {}
    for _ in range(cursor.array_length(True)):
        group = offsets.setdefault(cursor.string(True), {})
        for _ in range(cursor.array_length(True)):
            topic = cursor.string(True)
            partition = cursor.take(r.read_int32)
            offset = cursor.take(r.read_int64)
            leader_epoch = cursor.take(r.read_int32)
            group[(topic, partition)] = PendingOffset(offset, leader_epoch, cursor.string(True))
            cursor.skip_tagged_fields()
        cursor.skip_tagged_fields()
    return offsets


def decode_value(transactional_id: str, data: bytes) -> TransactionMetadata:
    """The id's state as Kafka's readTxnRecordValue restores it: the last producer epoch is
    not stored, and partitions of an Empty transaction are ignored."""
    try:
        return _decode_value(transactional_id, data)
    except (IndexError, ValueError, KeyError) as exc:
        raise TransactionRecordError(f"unreadable value of {transactional_id!r}: {exc}") from exc


def _decode_value(transactional_id: str, data: bytes) -> TransactionMetadata:
    cursor = _Cursor(data)
    version = cursor.take(r.read_int16)
    if version not in (0, 1):
        raise TransactionRecordError(f"Unknown version {version} from the transaction log value")
    flexible = version >= 1
    producer_id = cursor.take(r.read_int64)
    epoch = cursor.take(r.read_int16)
    timeout_ms = cursor.take(r.read_int32)
    state = _STATES[cursor.take(r.read_int8)]
    partitions: set[tuple[str, int]] = set()
    for _ in range(cursor.array_length(flexible)):
        topic = cursor.string(flexible)
        for _ in range(cursor.array_length(flexible)):
            partitions.add((topic, cursor.take(r.read_int32)))
        if flexible:
            cursor.skip_tagged_fields()
    metadata = TransactionMetadata(
        transactional_id,
        producer_id,
        timeout_ms,
        producer_epoch=epoch,
        state=state,
        partitions=set() if state == _S.EMPTY else partitions,
        last_update_ms=cursor.take(r.read_int64),
        start_ms=cursor.take(r.read_int64),
    )
    if flexible:
        for _ in range(cursor.take(r.read_unsigned_varint)):
            tag = cursor.take(r.read_unsigned_varint)
            end = cursor.take(r.read_unsigned_varint) + cursor.at
            if tag == PREVIOUS_PRODUCER_ID_TAG:
                metadata.previous_producer_id = r.read_int64(data, cursor.at)[0]
            elif tag == NEXT_PRODUCER_ID_TAG:
                metadata.next_producer_id = r.read_int64(data, cursor.at)[0]
            elif tag == CLIENT_TRANSACTION_VERSION_TAG:
                metadata.client_transaction_version = r.read_int16(data, cursor.at)[0]
            elif tag == PENDING_OFFSETS_TAG:
                metadata.offsets = _read_offsets(_Cursor(data, cursor.at))
            cursor.at = end
    return metadata
