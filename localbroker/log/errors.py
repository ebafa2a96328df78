"""The log's refusals: a KafkaError whose code the handler answers with."""

from __future__ import annotations

from kio.schema.errors import ErrorCode

from ..errors import KafkaError


class LogError(KafkaError):
    """A request the log refuses."""


class InvalidTimestamps(LogError):
    """Records whose create time is outside the topic's bounds, each by its index in the batch
    with Kafka's words for it: Kafka answers a RecordValidationException with this message and
    one record error per record (LogValidator)."""

    def __init__(self, record_errors: list[tuple[int, str]]) -> None:
        super().__init__(
            ErrorCode.invalid_timestamp,
            "One or more records have been rejected due to invalid timestamp",
        )
        self.record_errors = record_errors
