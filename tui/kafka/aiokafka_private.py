"""aiokafka's private parts that the workbench relies on, in one place.

Checked against aiokafka 0.14.0. `AIOKafkaAdminClient` and `AIOKafkaConsumer` keep their
`AIOKafkaClient` (connections, metadata, `send`) in the private attribute `_client`; the
workbench sends kio-built requests over it (requests.py) and times a consumer's fetches
(`kwb consumer-perf --print-metrics`). The producer's client is public (`producer.client`).
aiokafka's record batch reader (`aiokafka.record.memory_records`, undocumented) is a C
extension: a topic search decodes the batches it could not rule out with it, at about
3 million records a second where localbroker's pure-Python `iter_records` reads 150,000.
The producer retries a failed produce request by itself and says so only in a warning of its
sender's logger (`producer_retries` listens to it: the failover demo shows each retry).
tests/unit checks this module against the installed aiokafka, so an upgrade that renames the
attribute or moves the reader fails there, by name, rather than in the middle of a command.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient
from aiokafka.record.memory_records import MemoryRecords
from kio.schema.errors import ErrorCode

CHECKED_AGAINST = "0.14.0"
SENDER_LOGGER = "aiokafka.producer.sender"
RETRY_WARNINGS = (
    "Got error produce response: %s",
    "Got error produce response on topic-partition %s, retrying. Error: %s",
)
"""The sender's warnings when a produce request fails (the request as a whole, or one
partition of it) and its batches go back in the queue to be sent again."""


def client_of(owner: AIOKafkaAdminClient | AIOKafkaConsumer) -> Any:
    """The AIOKafkaClient an admin client or a consumer sends its requests with."""
    client = owner._client
    if not isinstance(client, AIOKafkaClient):
        raise TypeError(
            f"aiokafka's {type(owner).__name__}._client is no longer an AIOKafkaClient"
            f" (checked against aiokafka {CHECKED_AGAINST}): update tui/kafka/aiokafka_private.py"
        )
    return client


def batch_records(batch: bytes) -> Any:
    """The records of the one v2 record batch `batch` (compressed or not), each with
    `offset`, `timestamp`, `timestamp_type`, `key`, `value` and `headers` (name, value)."""
    found = MemoryRecords(batch).next_batch()
    return found if found is not None else ()


def error_name(error: object) -> str:
    """Kafka's name for an aiokafka error (a class or an instance): NOT_LEADER_OR_FOLLOWER for
    NotLeaderForPartitionError; the class name for client-side errors (KafkaConnectionError)."""
    errno = getattr(error, "errno", None)
    if isinstance(errno, int) and errno > 0:
        with contextlib.suppress(ValueError):
            return ErrorCode(errno).name.upper()
    return error.__name__ if isinstance(error, type) else type(error).__name__


class _RetryListener(logging.Handler):
    def __init__(self, on_retry: Callable[[str], None]) -> None:
        super().__init__(logging.WARNING)
        self._on_retry = on_retry

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg in RETRY_WARNINGS and isinstance(record.args, tuple) and record.args:
            self._on_retry(error_name(record.args[-1]))


@contextlib.contextmanager
def producer_retries(on_retry: Callable[[str], None]) -> Iterator[None]:
    """Call `on_retry(error name)` for every produce request an aiokafka producer of this
    process retries, while the block runs."""
    listener = _RetryListener(on_retry)
    logger = logging.getLogger(SENDER_LOGGER)
    logger.addHandler(listener)
    try:
        yield
    finally:
        logger.removeHandler(listener)
