"""A localbroker process started with KRaft settings: checked at start-up as Kafka checks them.

A node whose settings could never join a quorum stops before it binds anything, with Kafka's
message; the settings of Kafka's shipped KRaft server.properties (a controller listener,
advertised too) start a broker that serves its PLAINTEXT listener.
"""

from __future__ import annotations

from pathlib import Path

from secured import localbroker, refused_start
from waiting import TIMEOUT

NODE = (
    "process.roles=broker,controller",
    "controller.listener.names=CONTROLLER",
    "listeners=PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
)


def test_a_controller_outside_its_voters_refuses_to_start(tmp_path: Path) -> None:
    stderr = refused_start(
        tmp_path, *NODE, "node.id=3", "controller.quorum.voters=0@127.0.0.1:19093"
    )
    assert (
        "requirement failed: If process.roles contains the 'controller' role, the node id 3"
        " must be included in the set of voters controller.quorum.voters=Set(0)"
    ) in stderr


def test_kafkas_shipped_kraft_settings_start_a_broker(tmp_path: Path) -> None:
    process = localbroker(
        tmp_path,
        *NODE,
        "node.id=1",
        "controller.quorum.voters=1@localhost:9093",
        "inter.broker.listener.name=PLAINTEXT",
        "advertised.listeners=PLAINTEXT://127.0.0.1:0,CONTROLLER://localhost:9093",
    )
    try:
        assert process.stdout is not None
        assert "localbroker listening on" in process.stdout.readline()
        process.terminate()
        process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 0
