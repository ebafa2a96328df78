"""aiokafka's private `_client`, read only in tui/kafka/aiokafka_private.py, checked against the
installed aiokafka: an upgrade that moves it fails here, by name."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient

from tui.kafka.aiokafka_private import client_of


async def test_aiokafka_clients_keep_their_client_where_the_adapter_looks() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:9")
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:9")
    try:
        assert isinstance(client_of(admin), AIOKafkaClient)
        assert isinstance(client_of(consumer), AIOKafkaClient)
    finally:
        await admin.close()
        await consumer.stop()
