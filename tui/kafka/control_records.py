"""Control records (a transaction's COMMIT or ABORT marker) for a tail that asks for them.

Each transaction ends in every partition it wrote with a control batch of one record: its
key says COMMIT or ABORT, its value the coordinator's epoch, and the batch header the
producer id and epoch of the transaction. Consumers never hand them to an application
(aiokafka drops them in its fetcher, as the Java client does), but they take an offset, so a
tail sees a gap where they are: after the last record of a transaction, and, under
read_committed, in place of an aborted transaction's records too. `ControlRecords.between`
reads such a gap from the partition's leader with a plain Fetch and returns the markers in
it, shown as records whose value reads like DumpLogSegments' line for them
(`endTxnMarker: COMMIT coordinatorEpoch: 0`), with the producer beside it.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from localbroker.public import HEADER_SIZE, ApiKey, BatchHeader, IsolationLevel, read_header

from .admin import KafkaAdmin
from .aiokafka_private import batch_records
from .errors import KafkaToolError, raise_for

if TYPE_CHECKING:
    from .tail import RawRecord

CONTROL_TYPES = {0: "ABORT", 1: "COMMIT"}
"""ControlRecordType of a control record's key (org.apache.kafka.common.record)."""
_KEY = struct.Struct(">hh")
_VALUE = struct.Struct(">hi")
_FETCH_BYTES = 1024 * 1024
_FETCH_MAX_VERSION = 12
"""Topics by name (v13 names them by id)."""
_NO_HEADERS: tuple[tuple[str, bytes | None], ...] = ()


def marker_text(kind: str, producer_id: int, producer_epoch: int, coordinator_epoch: int) -> str:
    return (
        f"endTxnMarker: {kind} coordinatorEpoch: {coordinator_epoch}"
        f" producerId: {producer_id} producerEpoch: {producer_epoch}"
    )


def _marker(topic: str, partition: int, header: BatchHeader, batch: bytes) -> RawRecord | None:
    """The batch's control record as a record of the tail; None for a control type other
    than a transaction marker (Kafka has others, e.g. KRaft's LEADER_CHANGE)."""
    for record in batch_records(batch):
        key, value = bytes(record.key or b""), bytes(record.value or b"")
        if len(key) < _KEY.size or len(value) < _VALUE.size:
            return None
        _, kind = _KEY.unpack_from(key)
        _, coordinator_epoch = _VALUE.unpack_from(value)
        if kind not in CONTROL_TYPES:
            return None
        text = marker_text(
            CONTROL_TYPES[kind], header.producer_id, header.producer_epoch, coordinator_epoch
        )
        return (
            topic,
            partition,
            record.offset,
            record.timestamp,
            record.timestamp_type,
            None,
            text.encode(),
            _NO_HEADERS,
        )
    return None


class ControlRecords:
    """Reads the transaction markers of offset ranges, at each partition's leader."""

    def __init__(self, admin: KafkaAdmin) -> None:
        self.admin = admin
        self._leaders: dict[tuple[str, int], int] = {}

    async def between(self, topic: str, partition: int, start: int, end: int) -> list[RawRecord]:
        """The markers with offsets from `start` up to (not including) `end`."""
        found: list[RawRecord] = []
        offset = start
        while offset < end:
            records = await self._fetch(topic, partition, offset)
            position, before = 0, offset
            while position + HEADER_SIZE <= len(records) and offset < end:
                header = read_header(records, position)
                stop = position + header.size
                if stop > len(records):
                    break  # cut at the size limit; the next fetch starts there
                if header.is_control and start <= header.base_offset < end:
                    marker = _marker(topic, partition, header, records[position:stop])
                    if marker is not None:
                        found.append(marker)
                offset = max(offset, header.next_offset)
                position = stop
            if offset == before:
                break  # nothing more there (the range was truncated or deleted)
        return found

    async def _fetch(self, topic: str, partition: int, offset: int) -> bytes:
        where = (topic, partition)
        if where not in self._leaders:
            for leader, partitions in (await self.admin.leaders([where])).items():
                self._leaders.update(dict.fromkeys(partitions, leader))
        try:
            response = await self.admin.send(
                ApiKey.FETCH,
                _fetch_request(topic, partition, offset),
                node=self._leaders[where],
                max_version=_FETCH_MAX_VERSION,
            )
            raise_for(response.error_code, None, f"fetch of {topic}-{partition}")
            (answer,) = response.responses[0].partitions
            raise_for(answer.error_code, None, f"{topic}-{partition}")
        except KafkaToolError:
            self._leaders.pop(where, None)  # a new leader, maybe: look it up next time
            raise
        return bytes(answer.records or b"")


def _fetch_request(topic: str, partition: int, offset: int) -> dict[str, Any]:
    return {
        "replica_id": -1,
        "max_wait": 0,
        "min_bytes": 0,
        "max_bytes": _FETCH_BYTES,
        "isolation_level": IsolationLevel.READ_UNCOMMITTED,
        "session_id": 0,
        "session_epoch": -1,
        "topics": [
            {
                "topic": topic,
                "partitions": [
                    {
                        "partition": partition,
                        "fetch_offset": offset,
                        "partition_max_bytes": _FETCH_BYTES,
                    }
                ],
            }
        ],
        "forgotten_topics_data": [],
    }
