from __future__ import annotations

import functools
import itertools
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from brokers import BrokerProcess, running_broker
from java_programs import JavaPrograms, java_programs
from launched import Launched, launching
from reference_cluster import ReferenceCluster, running_cluster
from reference_kafka import (
    KafkaTool,
    ReferenceKafka,
    ReferenceUnavailable,
    kafka_classpath,
    run_kafka_tool,
    unavailable,
)

from tui.embedded import EmbeddedBroker


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """CI runs the suite on every core (`pytest -n auto --dist loadgroup`, .ci/run); a module
    goes whole to one worker, so a module-scoped fixture (a JVM program's run, a secured
    broker) is still made once. Modules that say otherwise (the real terminals' group) keep
    their own group: its tests run one at a time, as before."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.partition("::")[0]))


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A running localbroker (in a thread) on a free port with a fresh data directory."""
    with running_broker(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def broker_process(tmp_path: Path) -> Iterator[BrokerProcess]:
    """A localbroker process on a free port; killed at the end whatever happens."""
    process = BrokerProcess(tmp_path / "data").start()
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Callable[[], Launched]]:
    """Start `localbroker --cluster 3` on tmp_path/data (again: the same data, ports and
    topics); every launcher and node stopped at the end."""
    with launching(tmp_path) as launch:
        yield launch


@pytest.fixture
def start_broker(tmp_path: Path) -> Iterator[object]:
    """Start brokers with custom server properties: `start_broker({"num.partitions": "3"})`.

    Every broker started this way is stopped at the end of the test.
    """
    numbers = itertools.count()
    with ExitStack() as started:

        def start(
            config: dict[str, str] | None = None, data_dir: Path | None = None
        ) -> EmbeddedBroker:
            directory = data_dir or tmp_path / f"data{next(numbers)}"
            return started.enter_context(running_broker(directory, config))

        yield start


@pytest.fixture
def kwb() -> object:
    """Run the `kwb` command line: `kwb("topics", "--list", "--bootstrap-server", b)`.

    Returns the CompletedProcess (text mode); every run is bounded by `timeout` seconds.
    """
    import subprocess

    def run(
        *args: str, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui.cli", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def reference_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceKafka]:
    """Apache Kafka (tests/reference/pom.xml's version), one broker for the whole session,
    stopped at its end. Tests share it: each uses topic and group names of its own."""
    try:
        kafka = ReferenceKafka(tmp_path_factory.mktemp("apache-kafka")).start()
    except ReferenceUnavailable as exc:
        unavailable(exc)
    try:
        yield kafka
    finally:
        kafka.stop()


@pytest.fixture(scope="session")
def reference_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceCluster]:
    """Apache Kafka as three KRaft nodes (each broker and controller) for the whole session,
    stopped at its end. A test that stops or kills a node restarts it before it ends."""
    try:
        with running_cluster(tmp_path_factory.mktemp("apache-kafka-cluster")) as cluster:
            yield cluster
    except ReferenceUnavailable as exc:
        unavailable(exc)


@pytest.fixture(scope="session")
def kafka_tool() -> KafkaTool:
    """Kafka's own command-line tools, by script name or main class, against any broker (no
    Apache Kafka broker needed): `kafka_tool("kafka-topics", ["--list", "--bootstrap-server",
    b])`, with `input=` for standard input; returns the CompletedProcess (text mode)."""
    try:
        classpath = kafka_classpath()
    except ReferenceUnavailable as exc:
        unavailable(exc, "Apache Kafka's tools")
    return functools.partial(run_kafka_tool, classpath)


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> object:
    """A CA, a server certificate for 127.0.0.1 and client certificates (tests/certificates.py),
    made once per test session with openssl."""
    from certificates import make_certificates

    return make_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture(scope="session")
def java() -> JavaPrograms:
    """The Java programs of tests/java (Java client, Kafka Streams, Kafka Connect), built by
    Maven once (cached across sessions while their sources do not change)."""
    try:
        return java_programs()
    except ReferenceUnavailable as exc:
        unavailable(exc, "the Java programs of tests/java")
