"""The one exception type every broker layer raises for a refusal a client should see.

It carries kio's `ErrorCode` member, so the handler that catches it answers with that code and
the message without each layer knowing about the protocol, and a misspelt error is a type
error for mypy rather than a KeyError while serving a request.
"""

from __future__ import annotations

from kio.schema.errors import ErrorCode


class KafkaError(Exception):
    def __init__(self, code: ErrorCode, message: str = "") -> None:
        super().__init__(message or code.name)
        self.code = code
        self.message = message
