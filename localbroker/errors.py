"""The one exception type every broker layer raises for a refusal a client should see.

`error` is the name of a member of kio's `ErrorCode` (Kafka's error names in snake case,
e.g. "unknown_topic_or_partition"), so the handler that catches it can answer with the
right code and the message, without each layer knowing about the protocol.
"""

from __future__ import annotations

from kio.schema.errors import ErrorCode


class KafkaError(Exception):
    def __init__(self, error: str, message: str = "") -> None:
        super().__init__(message or error)
        self.error = error
        self.message = message

    @property
    def code(self) -> ErrorCode:
        return ErrorCode[self.error]
