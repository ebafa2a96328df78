"""The log's refusals: a KafkaError whose code the handler answers with."""

from __future__ import annotations

from ..errors import KafkaError


class LogError(KafkaError):
    """A request the log refuses."""
