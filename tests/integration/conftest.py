"""Fixtures of the integration tests: broker processes to kill and restart, a broker shared by
a module's tests, and the consumer-group tests' members and admin clients (their machinery is
in tests/group_members.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from brokers import BrokerProcess, running_broker
from confluent_kafka.admin import AdminClient
from group_members import GROUP_BROKER, Member, start_members
from kafka import KafkaAdminClient
from restarts import Launch

from tui.embedded import EmbeddedBroker


@pytest.fixture
def launch() -> Iterator[Launch]:
    """Start `python -m localbroker` processes (BrokerProcess's arguments); every one is
    SIGKILLed at the end if still alive."""
    started: list[BrokerProcess] = []

    def start(
        data_dir: Path,
        overrides: Mapping[str, str] | None = None,
        port: int = 0,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> BrokerProcess:
        process = BrokerProcess(data_dir, overrides, port, log_path, env)
        started.append(process)
        return process.start()

    try:
        yield start
    finally:
        for process in started:
            process.kill()


@pytest.fixture
def members() -> Iterator[Callable[..., Member]]:
    yield from start_members()


@pytest.fixture
def group_broker(start_broker: Callable[..., EmbeddedBroker]) -> EmbeddedBroker:
    return start_broker(GROUP_BROKER)


@pytest.fixture
def admin(group_broker: EmbeddedBroker) -> AdminClient:
    return AdminClient({"bootstrap.servers": group_broker.bootstrap})


@pytest.fixture
def kp_admin(group_broker: EmbeddedBroker) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=group_broker.bootstrap, request_timeout_ms=10_000)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def module_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One localbroker for a whole module, for tests that share an expensive run against it
    (a JVM program's): they use topic and group names of their own."""
    with running_broker(tmp_path_factory.mktemp("localbroker")) as broker:
        yield broker
