"""Kafka's errors as its Java client reports them: the exception and default message of every
error code, from org.apache.kafka.common.protocol.Errors of Apache Kafka 4.1.1 (java_errors.tsv,
taken from its source).

Kafka's tools print a failure as the exception the client raised, with the broker's message when
it sent one and the default otherwise (`org.apache.kafka.common.errors.GroupNotEmptyException:
The group is not empty.`); kwb, printing what Kafka's tools print, names failures the same way.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from kio.schema.errors import ErrorCode

PACKAGE = "org.apache.kafka.common."


@cache
def _table() -> dict[int, tuple[str, str]]:
    """Error code -> (exception class under org.apache.kafka.common., default message)."""
    text = files(__package__).joinpath("java_errors.tsv").read_text(encoding="utf-8")
    table = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, exception, message = line.split("\t")
            table[int(code)] = (exception, message)
    return table


def default_message(code: ErrorCode) -> str:
    """Kafka's message for an error the broker sent without one of its own."""
    return _table()[code][1]


def java_exception(code: ErrorCode, message: str | None = None) -> str:
    """`org.apache.kafka.common.errors.XException: message`, as Throwable.toString() has it."""
    exception, default = _table()[code]
    return f"{PACKAGE}{exception}: {message or default}"
