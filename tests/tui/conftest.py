"""Workbench tests run against an embedded localbroker in a temporary home directory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from brokers import running_broker
from launched import OVERRIDES
from workbench_pilot import Cluster, external_app, workbench_app

from tui.embedded import EmbeddedBroker
from tui.local_cluster import LocalCluster


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Profiles, user themes and embedded data go under tmp_path, never the user's home."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def embedded(broker: EmbeddedBroker) -> EmbeddedBroker:
    """The cluster the workbench starts on: the tests' one broker (tests/conftest.py)."""
    return broker


@pytest.fixture
def other_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A second cluster to switch to."""
    with running_broker(tmp_path / "other") as broker:
        yield broker


@pytest.fixture(params=["localbroker", "kafka"])
def cluster(request: pytest.FixtureRequest) -> Cluster:
    """For tests that run unchanged on both brokers: the app as `kwb` opens it on the
    embedded localbroker, or as `kwb --bootstrap-server` opens it on the session's Apache
    Kafka (shared: such a test's topic and group names must be its own)."""
    if request.param == "localbroker":
        embedded: EmbeddedBroker = request.getfixturevalue("embedded")
        return Cluster(embedded.bootstrap, lambda: workbench_app(embedded))
    kafka = request.getfixturevalue("reference_kafka")
    return Cluster(kafka.bootstrap, lambda: external_app(kafka.bootstrap))


@pytest.fixture
async def local_cluster(tmp_path: Path) -> AsyncIterator[LocalCluster]:
    """The workbench's own cluster of three nodes (`kwb --brokers 3`), fencing a dead broker
    within seconds; every node stopped at the end."""
    started = await LocalCluster.start(
        tmp_path / "cluster", brokers=3, config={k: str(v) for k, v in OVERRIDES.items()}
    )
    try:
        yield started
    finally:
        await started.close()
