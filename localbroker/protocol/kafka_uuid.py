"""Kafka's textual form of a UUID (topic ids, cluster ids, directory ids): URL-safe base64 of
the 16 bytes without padding, as Kafka's `Uuid.toString` prints them and its tools show them."""

from __future__ import annotations

import base64
import uuid


def kafka_uuid_string(value: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(value.bytes).decode().rstrip("=")


def parse_kafka_uuid(text: str) -> uuid.UUID:
    return uuid.UUID(bytes=base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
