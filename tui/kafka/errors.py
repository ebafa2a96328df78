"""Failures of Kafka operations, as one readable line each.

kwb prints the Kafka error name and the broker's message (Kafka's default message when the
broker sent none), and what to do where there is something to do. The error also keeps what
Kafka's Java client would have raised (`java`, `detail`), for the CLI commands that print a
failure as Kafka's tools print it.
"""

from __future__ import annotations

from kio.schema.errors import ErrorCode

from .java_errors import default_message, java_exception

_HINTS = {
    ErrorCode.topic_already_exists: "",
    ErrorCode.unknown_topic_or_partition: "check the topic name with `kwb topics --list`",
    ErrorCode.invalid_replication_factor: "",
    ErrorCode.group_id_not_found: "list groups with `kwb groups --list`",
    ErrorCode.non_empty_group: "stop the group's consumers first",
    ErrorCode.sasl_authentication_failed: "check sasl.jaas.config in your properties file",
}


class KafkaToolError(Exception):
    """An operation failed; str() is the line to show the user.

    `detail` is the message of the exception Kafka's client raises for the failure (the whole
    line when no Kafka error code is behind it) and `java` that exception as Java prints it.
    """

    def __init__(self, message: str, code: ErrorCode | None = None, detail: str | None = None):
        super().__init__(message)
        self.code = code
        self.detail = message if detail is None else detail

    @property
    def java(self) -> str:
        if self.code is None or self.code == ErrorCode.none:
            return self.detail
        return java_exception(self.code, self.detail)


def raise_for(code: ErrorCode | int, message: str | None, what: str) -> None:
    """Raise KafkaToolError unless `code` is NONE; `what` names the thing it was about.

    A code newer than kio's table (a broker newer than the client) still makes one readable
    line, with the number, rather than a ValueError escaping into the UI.
    """
    if code == 0:  # most answers, before an enum lookup (10,000 a second for the snapshots)
        return
    try:
        error = ErrorCode(code)
    except ValueError:
        text = message or "unknown to this client"
        raise KafkaToolError(f"{what}: error code {code}: {text}") from None
    text = message or default_message(error)
    hint = _HINTS.get(error)
    line = f"{what}: {error.name.upper()}: {text}"
    raise KafkaToolError(f"{line} ({hint})" if hint else line, error, text)


def unreachable(bootstrap_servers: str, error: object) -> KafkaToolError:
    """The one line for a client (admin, producer or consumer) that could not connect, with
    what the client said (an exception, or librdkafka's error text)."""
    return KafkaToolError(
        f"cannot connect to {bootstrap_servers}: {error}"
        " (is the broker running and the address right?)"
    )
