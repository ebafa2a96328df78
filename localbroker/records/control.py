"""Transaction markers: the control batches that end a transaction in each partition.

Kafka's format (EndTransactionMarker, ControlRecordType): a batch with the transactional and
control attributes, the producer's id and epoch, no sequence, and one record whose key is
(version int16 = 0, type int16: 0 ABORT, 1 COMMIT) and whose value is (version int16 = 0,
coordinator epoch int32).
"""

from __future__ import annotations

import struct
from enum import IntEnum

from .batch import CONTROL_BIT, TRANSACTIONAL_BIT
from .builder import NewRecord, build_batch
from .reader import iter_records


class ControlRecordType(IntEnum):
    """The type in a control record's key (org.apache.kafka.common.record.ControlRecordType);
    defined with the record format, which the protocol layer builds on."""

    ABORT = 0
    COMMIT = 1
    LEADER_CHANGE = 2
    """KRaft's first record in each epoch of the metadata log (a LeaderChangeMessage)."""


_KEY = struct.Struct(">hh")
_VALUE = struct.Struct(">hi")
CONTROL_ATTRIBUTES = TRANSACTIONAL_BIT | CONTROL_BIT
COORDINATOR_EPOCH = 0
"""The coordinator epoch of localbroker's markers: its one transaction coordinator never
moves, as a single Kafka broker's is 0 (the epoch of its __transaction_state partition)."""
NO_COORDINATOR_EPOCH = -1
"""A producer's coordinator epoch before any marker of it (RecordBatch.NO_PARTITION_LEADER_EPOCH
in Kafka's ProducerStateEntry)."""


def build_marker(
    producer_id: int, producer_epoch: int, commit: bool, coordinator_epoch: int, now_ms: int
) -> bytes:
    kind = ControlRecordType.COMMIT if commit else ControlRecordType.ABORT
    record = NewRecord(_VALUE.pack(0, coordinator_epoch), _KEY.pack(0, kind))
    return build_batch(
        [record],
        now_ms=now_ms,
        attributes=CONTROL_ATTRIBUTES,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
    )


def marker_coordinator_epoch(batch: bytes) -> int:
    """The coordinator epoch a stored marker carries (-1 for a control record without one)."""
    for record in iter_records(batch):
        if record.value is None or len(record.value) < _VALUE.size:
            return NO_COORDINATOR_EPOCH
        return int(_VALUE.unpack_from(record.value)[1])
    return NO_COORDINATOR_EPOCH


def marker_type(batch: bytes) -> ControlRecordType | None:
    """The marker a stored control batch holds; None for other control records (Kafka's
    leader-change and snapshot records), which end no transaction."""
    for record in iter_records(batch):
        if record.key is None or len(record.key) < _KEY.size:
            return None
        _, kind = _KEY.unpack_from(record.key)
        if kind in (ControlRecordType.ABORT, ControlRecordType.COMMIT):
            return ControlRecordType(kind)
        return None
    return None
