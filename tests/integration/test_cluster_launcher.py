"""`localbroker --cluster 3`: three node processes, seen by real clients; the active
controller killed with -9, another takes over, the dead broker is fenced once its session
expires and its partitions are led by ISR members; the launcher stops every node with it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kio.schema.errors import ErrorCode
from launched_cluster import Launched
from waiting import wait_until
from wire import RawClient

from localbroker.protocol.client_codec import request_body
from localbroker.protocol.names import ApiKey

SESSION_MS = 3000
OVERRIDES = {"broker.session.timeout.ms": SESSION_MS, "broker.heartbeat.interval.ms": 300}


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Callable[[], Launched]]:
    """Start a launcher on tmp_path/data (again: the same data); every one stopped after."""
    started: list[Launched] = []

    def launch() -> Launched:
        output = tmp_path / f"launcher-{len(started)}.out"
        launched = Launched(tmp_path / "data", output, OVERRIDES)
        started.append(launched)
        return launched

    try:
        yield launch
    finally:
        for launched in started:
            launched.stop()


def metadata(address: str, topics: list[str] | None = None) -> Any:
    """The node's Metadata answer, or None while it does not answer."""
    body = request_body(
        ApiKey.METADATA,
        12,
        {
            "topics": None if topics is None else [{"name": t} for t in topics],
            "allow_auto_topic_creation": False,
            "include_topic_authorized_operations": False,
        },
    )
    try:
        with RawClient(address, timeout=5) as client:
            return client.recv(ApiKey.METADATA, 12, client.send(body))
    except (OSError, AssertionError):
        return None


def partitions(answer: Any) -> dict[int, tuple[int, tuple[int, ...]]] | None:
    """Each partition's (leader, isr) in the answer's only topic; None if it has none."""
    topic = answer.topics[0]
    if topic.error_code != ErrorCode.none or not topic.partitions:
        return None
    return {p.partition_index: (p.leader_id, tuple(p.isr_nodes)) for p in topic.partitions}


def agreed(addresses: list[str], brokers: set[int], topic: str | None = None) -> Any:
    """The nodes' common (controller, partitions of `topic`) once each lists `brokers`."""
    seen = []
    for address in addresses:
        answer = metadata(address, None if topic is None else [topic])
        if answer is None or {b.node_id for b in answer.brokers} != brokers:
            return None
        layout = partitions(answer) if topic is not None else {}
        if layout is None:
            return None
        seen.append((answer.controller_id, layout))
    return seen[0] if all(s == seen[0] for s in seen) and seen[0][0] >= 0 else None


def create(bootstrap: list[str], name: str, replicas: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": ",".join(bootstrap)})
    admin.create_topics([NewTopic(name, 3, replicas)], request_timeout=15)[name].result(20)


def test_the_cluster_survives_its_controller_killed_and_restarts(
    launcher: Callable[[], Launched],
) -> None:
    first = launcher()
    addresses, pids = first.addresses, first.pids
    controller, _ = wait_until(lambda: agreed(addresses, {0, 1, 2}), "three brokers")
    create(addresses, "before", 3)
    _, led = wait_until(lambda: agreed(addresses, {0, 1, 2}, "before"), "the topic everywhere")
    assert all(sorted(isr) == [0, 1, 2] for _, isr in led.values())

    os.kill(pids[controller], signal.SIGKILL)
    rest = [a for node, a in enumerate(addresses) if node != controller]
    alive = {0, 1, 2} - {controller}
    new_controller, after = wait_until(
        lambda: agreed(rest, alive, "before"), "the killed controller fenced", timeout=40
    )
    assert new_controller in alive
    for leader, isr in after.values():
        assert leader in alive and controller not in isr

    create(rest, "after", 2)
    wait_until(lambda: agreed(rest, alive, "after"), "a topic created afterwards")

    first.process.terminate()
    assert first.process.wait(30) == 0

    def gone(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    assert all(gone(pid) for pid in pids)

    again = launcher()  # the same data directory: the same ports, brokers and topics
    assert again.addresses == addresses
    wait_until(lambda: agreed(addresses, {0, 1, 2}, "after"), "the cluster back", timeout=40)
    wait_until(lambda: agreed(addresses, {0, 1, 2}, "before"), "the first topic back")
