"""aiokafka's private parts that the workbench relies on, in one place.

Checked against aiokafka 0.14.0. `AIOKafkaAdminClient` and `AIOKafkaConsumer` keep their
`AIOKafkaClient` (connections, metadata, `send`) in the private attribute `_client`; the
workbench sends kio-built requests over it (requests.py) and times a consumer's fetches
(`kwb consumer-perf --print-metrics`). The producer's client is public (`producer.client`).
aiokafka's record batch reader (`aiokafka.record.memory_records`, undocumented) is a C
extension: a topic search decodes the batches it could not rule out with it, at about
3 million records a second where localbroker's pure-Python `iter_records` reads 150,000.
tests/unit checks this module against the installed aiokafka, so an upgrade that renames the
attribute or moves the reader fails there, by name, rather than in the middle of a command.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient
from aiokafka.record.memory_records import MemoryRecords

CHECKED_AGAINST = "0.14.0"


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
