"""A transaction store for the coordinator's unit tests: it keeps what the coordinator hands
over as `__transaction_state` records in Kafka's format, so a "restart" replays them exactly
as the broker would."""

from __future__ import annotations

from kio.schema.errors import ErrorCode

from localbroker.errors import KafkaError
from localbroker.transactions.metadata import TransactionMetadata
from localbroker.transactions.records import decode_key, decode_value, encode_key, encode_value


class RecordedStore:
    """The durable state as the coordinator hands it over, kept as `__transaction_state`
    records in Kafka's format; `fail` makes the next write fail."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes | None]] = []
        self.fail = False

    def _check(self) -> None:
        if self.fail:
            raise KafkaError(ErrorCode.kafka_storage_error)

    def write(self, metadata: TransactionMetadata) -> None:
        self._check()
        self.records.append((encode_key(metadata.transactional_id), encode_value(metadata)))

    def remove(self, transactional_ids: list[str]) -> None:
        self._check()
        self.records += [(encode_key(t), None) for t in transactional_ids]

    def latest(self) -> dict[str, TransactionMetadata]:
        """Each id's state as a replay of the records restores it."""
        latest: dict[str, TransactionMetadata] = {}
        for key, value in self.records:
            transactional_id = decode_key(key)
            latest.pop(transactional_id, None)
            if value is not None:
                latest[transactional_id] = decode_value(transactional_id, value)
        return latest
