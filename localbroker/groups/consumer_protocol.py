"""Reading the "consumer" embedded protocol: which topics a member subscribes to and which
partitions it was assigned. The coordinator treats these bytes as opaque; they are decoded
only to describe a group (events, OffsetDelete's subscription check)."""

from __future__ import annotations

import struct
from functools import cache
from typing import Any

from kio.index import UnknownEntity, load_entity_schema
from kio.serial import entity_reader
from kio.static.constants import EntityType

from ..protocol.guard import entity_check

CONSUMER_PROTOCOL_TYPE = "consumer"
_VERSION = struct.Struct(">h")
_MAX_VERSION = 3


@cache
def _schema(name: str, version: int) -> Any:
    try:
        return load_entity_schema(name, version, EntityType.data)
    except UnknownEntity:
        return None


def _decode(name: str, data: bytes) -> Any | None:
    if len(data) < _VERSION.size:
        return None
    (version,) = _VERSION.unpack_from(data)
    schema = _schema(name, min(max(version, 0), _MAX_VERSION))
    if schema is None:
        return None
    body = memoryview(data)[_VERSION.size :].toreadonly()
    try:
        entity_check(schema)(body, 0)  # client bytes: never let kio size arrays from them
        value, _ = entity_reader(schema)(body, 0)
    except Exception:  # opaque client bytes: anything unreadable is simply not described
        return None
    return value


def subscribed_topics(metadata: bytes) -> list[str] | None:
    """Topics of a ConsumerProtocolSubscription, or None if the bytes don't decode."""
    subscription = _decode("consumer_protocol_subscription", metadata)
    if subscription is None or subscription.topics is None:
        return None
    return list(subscription.topics)


def assigned_partitions(assignment: bytes) -> dict[str, list[int]] | None:
    """Partitions of a ConsumerProtocolAssignment by topic, or None if they don't decode."""
    if not assignment:
        return {}
    decoded = _decode("consumer_protocol_assignment", assignment)
    if decoded is None or decoded.assigned_partitions is None:
        return None
    if any(tp.partitions is None for tp in decoded.assigned_partitions):
        return None
    return {tp.topic: sorted(tp.partitions) for tp in decoded.assigned_partitions}
