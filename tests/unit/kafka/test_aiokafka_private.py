"""aiokafka's private parts (the clients' `_client`, its record batch reader), used only in
tui/kafka/aiokafka_private.py, checked against the installed aiokafka: an upgrade that moves
them fails here, by name."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient

from localbroker.public import iter_records
from localbroker.records.builder import NewRecord, build_batch
from tui.kafka.aiokafka_private import batch_records, client_of


async def test_aiokafka_clients_keep_their_client_where_the_adapter_looks() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:9")
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:9")
    try:
        assert isinstance(client_of(admin), AIOKafkaClient)
        assert isinstance(client_of(consumer), AIOKafkaClient)
    finally:
        await admin.close()
        await consumer.stop()


def test_the_batch_reader_reads_what_localbroker_reads() -> None:
    records = [
        NewRecord(b"v1", b"k1", (("h", b"x"),), 1_700_000_000_000),
        NewRecord(b"v2", None, (), 1_700_000_000_005),
    ]
    for codec in (0, 1, 4):  # none, gzip, zstd
        batch = build_batch(records, now_ms=0, base_offset=40, compression=codec)
        expected = [(r.offset, r.timestamp, r.key, r.value) for r in iter_records(batch)]
        read = [(r.offset, r.timestamp, r.key, r.value) for r in batch_records(batch)]
        assert read == expected
        assert expected == [
            (40, 1_700_000_000_000, b"k1", b"v1"),
            (41, 1_700_000_000_005, None, b"v2"),
        ]
        assert [list(r.headers) for r in batch_records(batch)] == [[("h", b"x")], []]
