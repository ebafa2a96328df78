"""`__cluster_metadata-0`: the quorum's log, a `PartitionLog` like any partition's.

Entries are record batches stamped with the epoch of the leader that wrote them, so the
log's leader-epoch cache answers the Raft questions (last epoch, where an epoch ends). The
leader writes a LeaderChangeMessage control record first in each epoch, as KRaft does.
Everything written is flushed before it counts: a leader counts its own entries towards
the majority, and a follower reports a fetch position, only once they are on disk, so a
committed entry survives any minority of crashes.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kio.schema.leader_change_message.v0.data import LeaderChangeMessage, Voter
from kio.static.primitive import i16, i32

from ...log.log_config import LogConfig
from ...log.partition import PartitionLog
from ...protocol.client_codec import encode
from ...records.batch import CONTROL_BIT, HEADER_SIZE, read_header
from ...records.builder import NewRecord, build_batch
from ...records.control import ControlRecordType
from ...records.reader import iter_records

METADATA_TOPIC = "__cluster_metadata"
METADATA_PARTITION = 0
_CONTROL_KEY = struct.Struct(">hh")


@dataclass(frozen=True, slots=True)
class CommittedRecord:
    """One metadata record the quorum has committed."""

    offset: int
    value: bytes


def now_ms() -> int:
    return int(time.time() * 1000)


class MetadataLog:
    def __init__(self, data_dir: Path, config: LogConfig | None = None) -> None:
        directory = data_dir / f"{METADATA_TOPIC}-{METADATA_PARTITION}"
        self.log = PartitionLog(
            directory, METADATA_TOPIC, METADATA_PARTITION, config or LogConfig(), now_ms=now_ms()
        )
        self._flushing = asyncio.Lock()

    @property
    def end_offset(self) -> int:
        return self.log.log_end_offset

    @property
    def last_epoch(self) -> int:
        latest = self.log.epochs.latest()
        return 0 if latest is None else latest[0]

    def end_offset_for(self, epoch: int) -> tuple[int, int]:
        return self.log.epochs.end_offset_for(epoch)

    def append_leader_change(self, leader_id: int, epoch: int, voters: list[int]) -> int:
        """The control record that opens `epoch`; its offset."""
        message = LeaderChangeMessage(
            version=i16(0),
            leader_id=i32(leader_id),  # type: ignore[arg-type]
            voters=tuple(Voter(voter_id=i32(v)) for v in voters),
            granting_voters=tuple(Voter(voter_id=i32(v)) for v in voters),
        )
        key = _CONTROL_KEY.pack(0, ControlRecordType.LEADER_CHANGE)
        return self._append([NewRecord(encode(message), key)], epoch, CONTROL_BIT)

    def append_values(self, values: list[bytes], epoch: int) -> int:
        """Metadata records as one batch of the leader's `epoch`; the last offset."""
        return self._append([NewRecord(value) for value in values], epoch, 0)

    def _append(self, records: list[NewRecord], epoch: int, attributes: int) -> int:
        now = now_ms()
        batch = build_batch(
            records, now_ms=now, attributes=attributes, partition_leader_epoch=epoch
        )
        return self.log.append(read_header(batch), batch, now, leader_epoch=epoch).last_offset

    def append_as_follower(self, batches: bytes) -> None:
        self.log.append_as_follower(batches, now_ms())

    def truncate_to(self, offset: int) -> None:
        self.log.truncate_to(offset)

    async def flush(self) -> int:
        """Make everything appended durable; the offset durable up to.

        Shielded from its caller's cancellation (a controller request whose connection
        closed): a flush job abandoned while its thread runs is never marked done, the log
        then refuses every later job, and the leader's own position stops counting."""
        return await asyncio.shield(self._flush())

    async def _flush(self) -> int:
        async with self._flushing:
            while (job := self.log.flush_job()) is not None:
                await asyncio.to_thread(job.run)
                self.log.flushed(job, now_ms())
            return self.log.recovery_point

    def read(self, offset: int, max_bytes: int) -> bytes:
        """Whole batches from `offset` (Fetch's records for a follower), up to the durable
        end: the log's own high watermark follows its flushes here, since the quorum's
        commit point is the Raft high watermark, kept apart from it."""
        return self.log.read(offset, max_bytes)

    def committed(self, start: int, end: int) -> Iterator[CommittedRecord]:
        """The metadata records in [start, end), control records left out."""
        offset = start
        while offset < end:
            data = self.log.read(offset, 1024 * 1024)
            position = 0
            while position + HEADER_SIZE <= len(data):
                header = read_header(data, position)
                batch = data[position : position + header.size]
                if len(batch) < header.size:
                    break
                position += header.size
                records = () if header.is_control else iter_records(batch)
                for record in records:
                    if offset <= record.offset < end and record.value is not None:
                        yield CommittedRecord(record.offset, record.value)
                offset = max(offset, header.next_offset)
            if position == 0:
                return

    def close(self) -> None:
        self.log.close()
