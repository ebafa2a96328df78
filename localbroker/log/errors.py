"""The log's refusals: a KafkaError whose code the handler answers with."""

from __future__ import annotations

from kio.schema.errors import ErrorCode

from ..errors import KafkaError


class LogError(KafkaError):
    """A request the log refuses."""


class RecordValidation(LogError):
    """Kafka's RecordValidationException: a message and one record error per refused record,
    each by its index in the batch with Kafka's words for it (LogValidator)."""

    def __init__(self, code: ErrorCode, message: str, record_errors: list[tuple[int, str]]):
        super().__init__(code, message)
        self.record_errors = record_errors


class InvalidTimestamps(RecordValidation):
    """Records whose create time is outside the topic's bounds."""

    def __init__(self, record_errors: list[tuple[int, str]]) -> None:
        super().__init__(
            ErrorCode.invalid_timestamp,
            "One or more records have been rejected due to invalid timestamp",
            record_errors,
        )


class InvalidRecords(RecordValidation):
    """Records refused for another reason (a compacted topic's record without a key), worded
    as LogValidator.processRecordErrors words it: at most three errors in the message."""

    def __init__(self, record_errors: list[tuple[int, str]]) -> None:
        shown = ", ".join(
            f"RecordError(batchIndex={index}, message='{message}')"
            for index, message in record_errors[:3]
        )
        super().__init__(
            ErrorCode.invalid_record,
            f"One or more records have been rejected due to {len(record_errors)} record errors"
            f" in total, and only showing the first three errors at most: [{shown}]",
            record_errors,
        )
