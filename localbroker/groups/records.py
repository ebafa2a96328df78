"""The records of `__consumer_offsets`, in Kafka's binary formats.

Keys and values are written as Kafka 4.0 writes them (OffsetCommitKey v1 / OffsetCommitValue
v3, GroupMetadataKey v2 / GroupMetadataValue v3), so Kafka's own tools can read the topic,
and read back in every version Kafka has used. A record with a null value is a tombstone.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")

OFFSET_KEY_VERSION = 1
GROUP_KEY_VERSION = 2
OFFSET_VALUE_VERSION = 3
OFFSET_VALUE_VERSION_WITH_EXPIRY = 1
GROUP_VALUE_VERSION = 3


class RecordFormatError(Exception):
    pass


class _Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def int16(self, value: int) -> _Writer:
        self.parts.append(_INT16.pack(value))
        return self

    def int32(self, value: int) -> _Writer:
        self.parts.append(_INT32.pack(value))
        return self

    def int64(self, value: int) -> _Writer:
        self.parts.append(_INT64.pack(value))
        return self

    def string(self, value: str | None) -> _Writer:
        if value is None:
            return self.int16(-1)
        data = value.encode()
        self.int16(len(data))
        self.parts.append(data)
        return self

    def blob(self, value: bytes) -> _Writer:
        self.int32(len(value))
        self.parts.append(value)
        return self

    def done(self) -> bytes:
        return b"".join(self.parts)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def _take(self, layout: struct.Struct) -> int:
        if self.offset + layout.size > len(self.data):
            raise RecordFormatError("record ends early")
        (value,) = layout.unpack_from(self.data, self.offset)
        self.offset += layout.size
        return int(value)

    def int16(self) -> int:
        return self._take(_INT16)

    def int32(self) -> int:
        return self._take(_INT32)

    def int64(self) -> int:
        return self._take(_INT64)

    def _chunk(self, size: int) -> bytes:
        if size < 0 or self.offset + size > len(self.data):
            raise RecordFormatError("record ends early")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def string(self) -> str | None:
        size = self.int16()
        return None if size < 0 else self._chunk(size).decode()

    def blob(self) -> bytes:
        size = self.int32()
        return b"" if size < 0 else self._chunk(size)


@dataclass(frozen=True, slots=True)
class OffsetKey:
    group_id: str
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class GroupKey:
    group_id: str


@dataclass(frozen=True, slots=True)
class OffsetValue:
    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp: int
    expire_timestamp: int = -1


@dataclass(frozen=True, slots=True)
class MemberValue:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    subscription: bytes
    assignment: bytes


@dataclass(frozen=True, slots=True)
class GroupValue:
    protocol_type: str
    generation_id: int
    protocol_name: str | None
    leader_id: str | None
    state_timestamp: int
    members: tuple[MemberValue, ...] = field(default_factory=tuple)


def encode_key(key: OffsetKey | GroupKey) -> bytes:
    if isinstance(key, OffsetKey):
        writer = _Writer().int16(OFFSET_KEY_VERSION).string(key.group_id)
        return writer.string(key.topic).int32(key.partition).done()
    return _Writer().int16(GROUP_KEY_VERSION).string(key.group_id).done()


def encode_offset(value: OffsetValue) -> bytes:
    """Value v3, or v1 when the commit carried a retention time (v1 has the expire time)."""
    if value.expire_timestamp >= 0:
        writer = _Writer().int16(OFFSET_VALUE_VERSION_WITH_EXPIRY).int64(value.offset)
        writer.string(value.metadata).int64(value.commit_timestamp)
        return writer.int64(value.expire_timestamp).done()
    writer = _Writer().int16(OFFSET_VALUE_VERSION).int64(value.offset).int32(value.leader_epoch)
    return writer.string(value.metadata).int64(value.commit_timestamp).done()


def encode_group(value: GroupValue) -> bytes:
    writer = _Writer().int16(GROUP_VALUE_VERSION).string(value.protocol_type)
    writer.int32(value.generation_id).string(value.protocol_name).string(value.leader_id)
    writer.int64(value.state_timestamp).int32(len(value.members))
    for member in value.members:
        writer.string(member.member_id).string(member.group_instance_id)
        writer.string(member.client_id).string(member.client_host)
        writer.int32(member.rebalance_timeout_ms).int32(member.session_timeout_ms)
        writer.blob(member.subscription).blob(member.assignment)
    return writer.done()


def decode_key(data: bytes) -> OffsetKey | GroupKey:
    reader = _Reader(data)
    version = reader.int16()
    if version in (0, 1):
        group_id, topic = reader.string(), reader.string()
        if group_id is None or topic is None:
            raise RecordFormatError("null group or topic in an offset key")
        return OffsetKey(group_id, topic, reader.int32())
    if version == 2:
        group_id = reader.string()
        if group_id is None:
            raise RecordFormatError("null group in a group metadata key")
        return GroupKey(group_id)
    raise RecordFormatError(f"unknown __consumer_offsets key version {version}")


def decode_offset(data: bytes) -> OffsetValue:
    reader = _Reader(data)
    version = reader.int16()
    if not 0 <= version <= 3:
        raise RecordFormatError(f"unknown offset value version {version}")
    offset = reader.int64()
    leader_epoch = reader.int32() if version >= 3 else -1
    metadata = reader.string() or ""
    commit_timestamp = reader.int64()
    expire_timestamp = reader.int64() if version == 1 else -1
    return OffsetValue(offset, leader_epoch, metadata, commit_timestamp, expire_timestamp)


def decode_group(data: bytes) -> GroupValue:
    reader = _Reader(data)
    version = reader.int16()
    if not 0 <= version <= 3:
        raise RecordFormatError(f"unknown group metadata value version {version}")
    protocol_type = reader.string() or ""
    generation_id = reader.int32()
    protocol_name = reader.string()
    leader_id = reader.string()
    state_timestamp = reader.int64() if version >= 2 else -1
    members = []
    for _ in range(reader.int32()):
        member_id = reader.string() or ""
        instance_id = reader.string() if version >= 3 else None
        client_id = reader.string() or ""
        client_host = reader.string() or ""
        rebalance_timeout = reader.int32() if version >= 1 else -1
        session_timeout = reader.int32()
        if rebalance_timeout < 0:
            rebalance_timeout = session_timeout
        members.append(
            MemberValue(
                member_id,
                instance_id,
                client_id,
                client_host,
                rebalance_timeout,
                session_timeout,
                reader.blob(),
                reader.blob(),
            )
        )
    return GroupValue(
        protocol_type, generation_id, protocol_name, leader_id, state_timestamp, tuple(members)
    )


def java_string_hash(text: str) -> int:
    """Java's String.hashCode, which Kafka uses to place a group in __consumer_offsets."""
    value = 0
    encoded = text.encode("utf-16-be")
    for index in range(0, len(encoded), 2):
        value = (31 * value + int.from_bytes(encoded[index : index + 2], "big")) & 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


def offsets_partition(group_id: str, partitions: int) -> int:
    """Kafka's `Utils.abs(groupId.hashCode) % offsets.topic.num.partitions`, where Utils.abs
    maps Integer.MIN_VALUE to 0."""
    value = java_string_hash(group_id)
    return 0 if value == -(2**31) else abs(value) % partitions
