"""The fixtures aiokafka's KafkaIntegrationTestCase asks for, pointed at a localbroker.

aiokafka's own conftest.py starts Kafka in Docker (an aiolibs/kafka image: topics created on
first use with 2 partitions) and gives each test class `loop`, `hosts` and `kafka_version`.
Here one localbroker per session, on a free port, configured as that image is, stands in for
it; `loop` is aiokafka's own fixture, copied unchanged (aio-libs/aiokafka v0.14.0, commit
672947afe85c91b7d953f0259e69837a711d3246, Apache License 2.0).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from brokers import running_broker

from tui.embedded import EmbeddedBroker

KAFKA_VERSION = "4.1.1"
"""The Kafka version the tests' `kafka_versions` checks compare with: the one localbroker
is checked against (tests/reference/pom.xml)."""


@pytest.fixture(scope="session")
def aiokafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    config = {"auto.create.topics.enable": "true", "num.partitions": "2"}
    with running_broker(tmp_path_factory.mktemp("aiokafka-suite"), config) as broker:
        yield broker


@pytest.fixture(scope="class")
def loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    yield loop

    if not loop._closed:  # type: ignore[attr-defined]
        loop.call_soon(loop.stop)
        loop.run_forever()
        loop.close()
    gc.collect()
    asyncio.set_event_loop(None)


@pytest.fixture(scope="class")
def setup_test_class(
    request: pytest.FixtureRequest, loop: asyncio.AbstractEventLoop, aiokafka_broker: EmbeddedBroker
) -> None:
    cls: Any = request.cls
    cls.loop = loop
    cls.hosts = [aiokafka_broker.bootstrap]
    cls.kafka_version = KAFKA_VERSION
