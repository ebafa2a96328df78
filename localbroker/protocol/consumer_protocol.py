"""The "consumer" embedded protocol: the subscription a member sends in JoinGroup and the
assignment its leader hands out through SyncGroup (ConsumerProtocolSubscription and
ConsumerProtocolAssignment, each a version number followed by the body).

The coordinator treats these bytes as opaque; the broker decodes them only to describe a group
(events, OffsetDelete's subscription check), the workbench to show and make assignments. Both
read bytes written by any client, so decoding checks every count against the bytes that back it
and answers None for anything unreadable instead of raising.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from kio.index import UnknownEntity, load_entity_schema
from kio.serial import entity_reader, entity_writer
from kio.static.constants import EntityType

from .build import build
from .guard import entity_check

_VERSION = struct.Struct(">h")
_MAX_VERSION = 3
_SUBSCRIPTION = "consumer_protocol_subscription"
_ASSIGNMENT = "consumer_protocol_assignment"
SUBSCRIPTION_VERSION = 1
"""What `encode_subscription` writes: v1 is the first with owned partitions (the sticky
assignors' memory), and every consumer since Kafka 2.4 reads it."""
ASSIGNMENT_VERSION = 1


@cache
def _schema(name: str, version: int) -> Any:
    try:
        return load_entity_schema(name, version, EntityType.data)
    except UnknownEntity:
        return None


def _decode(name: str, data: bytes) -> Any | None:
    """The body of a versioned consumer-protocol message; a version newer than kio knows is
    read as the newest it knows, as Kafka's consumer reads newer versions."""
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


def _encode(name: str, version: int, data: dict[str, Any]) -> bytes:
    entity = build(_schema(name, version), data)
    out = io.BytesIO()
    out.write(_VERSION.pack(version))
    entity_writer(type(entity))(out, entity)
    return out.getvalue()


def _by_topic(partitions: Mapping[str, Iterable[int]]) -> list[dict[str, Any]]:
    return [{"topic": topic, "partitions": sorted(ps)} for topic, ps in partitions.items()]


# -- subscriptions ------------------------------------------------------------------------


def encode_subscription(topics: Iterable[str], owned: Mapping[str, Iterable[int]]) -> bytes:
    """ConsumerProtocolSubscription v1: the topics, and the partitions the member owns now
    (topics with no owned partitions are left out, as the Java consumer leaves them)."""
    return _encode(
        _SUBSCRIPTION,
        SUBSCRIPTION_VERSION,
        {
            "topics": list(topics),
            "user_data": None,
            "owned_partitions": _by_topic({t: ps for t, ps in owned.items() if ps}),
        },
    )


def subscribed_topics(metadata: bytes) -> list[str] | None:
    """Topics of a subscription, or None if the bytes don't decode."""
    subscription = _decode(_SUBSCRIPTION, metadata)
    if subscription is None or subscription.topics is None:
        return None
    return list(subscription.topics)


def owned_partitions(metadata: bytes) -> dict[str, list[int]] | None:
    """Partitions a subscription says its member owns, by topic (empty before v1), or None if
    the bytes don't decode."""
    subscription = _decode(_SUBSCRIPTION, metadata)
    if subscription is None:
        return None
    owned: dict[str, list[int]] = {}
    for tp in getattr(subscription, "owned_partitions", None) or ():
        owned.setdefault(tp.topic, []).extend(tp.partitions)
    return {topic: sorted(ps) for topic, ps in owned.items()}


# -- assignments --------------------------------------------------------------------------


def encode_assignment(partitions: Mapping[str, Iterable[int]]) -> bytes:
    """ConsumerProtocolAssignment v1."""
    return _encode(
        _ASSIGNMENT,
        ASSIGNMENT_VERSION,
        {"assigned_partitions": _by_topic(partitions), "user_data": None},
    )


def assigned_partitions(assignment: bytes) -> dict[str, list[int]] | None:
    """Partitions of an assignment by topic (empty bytes: nothing assigned yet), or None if
    they don't decode."""
    if not assignment:
        return {}
    decoded = _decode(_ASSIGNMENT, assignment)
    if decoded is None or decoded.assigned_partitions is None:
        return None
    if any(tp.partitions is None for tp in decoded.assigned_partitions):
        return None
    return {tp.topic: sorted(tp.partitions) for tp in decoded.assigned_partitions}
