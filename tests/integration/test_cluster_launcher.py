"""`localbroker --cluster 3`: three node processes, seen by real clients; the active
controller killed with -9, another takes over, the dead broker is fenced once its session
expires and its partitions are led by ISR members; the launcher stops every node with it.
The same kill under a producer and a consumer group: produce goes on, topics and configs
change afterwards, the killed node rejoins.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
)
from failover import FAILOVER_TIMEOUT, create_topic, in_sync
from failover_clients import DRAIN_TIMEOUT, Observed, confluent
from kio.schema.errors import ErrorCode
from launched import Launched, agreed, create
from waiting import gone, wait_until
from wire import RawClient

from localbroker.protocol.client_codec import request_body
from localbroker.protocol.names import ApiKey

SET = AlterConfigOpType.SET


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

    assert all(gone(pid) for pid in pids)

    again = launcher()  # the same data directory: the same ports, brokers and topics
    assert again.addresses == addresses
    wait_until(lambda: agreed(addresses, {0, 1, 2}, "after"), "the cluster back", timeout=40)
    wait_until(lambda: agreed(addresses, {0, 1, 2}, "before"), "the first topic back")


def test_a_controller_killed_under_load_is_replaced_and_rejoins(
    launcher: Callable[[], Launched],
) -> None:
    """kill -9 of the active controller (as DescribeCluster names it) while an idempotent
    acks=all producer and a consumer group run: another controller is elected, produce goes
    on, topics are created and configs altered afterwards, and the killed node rejoins."""
    cluster = launcher()
    cluster.wait_registered()
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    create_topic(admin, "loaded")
    observed = Observed()
    threads = [
        threading.Thread(target=body, daemon=True)
        for body in confluent(cluster.bootstrap, "loaded", observed)
    ]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: observed.consumed_at, "the first record consumed")
        controller = admin.describe_cluster().result(30).controller.id
        killed_at = time.monotonic()
        cluster.kill(controller)
        rest = [a for node, a in enumerate(cluster.addresses) if node != controller]
        alive = {0, 1, 2} - {controller}
        elected, _ = wait_until(lambda: agreed(rest, alive), "another controller elected")
        assert elected in alive
        survivors = AdminClient({"bootstrap.servers": ",".join(rest)})
        wait_until(
            lambda: observed.first_after(observed.acked_at, killed_at) is not None,
            "a record produced after the kill acknowledged",
        )
        create(rest, "after-controller", 3)
        wait_until(lambda: agreed(rest, alive, "after-controller"), "the topic created")
        altered = ConfigResource(
            ConfigResource.Type.TOPIC,
            "after-controller",
            incremental_configs=[ConfigEntry("retention.ms", "3600000", incremental_operation=SET)],
        )
        survivors.incremental_alter_configs([altered])[altered].result(30)
        described = survivors.describe_configs([altered])[altered].result(30)
        assert described["retention.ms"].value == "3600000"
        cluster.restart(controller)
        wait_until(lambda: agreed(cluster.addresses, {0, 1, 2}, "loaded"), "the node back")
        wait_until(lambda: in_sync(admin, "loaded"), "the node back in the ISR")
    finally:
        observed.stopping.set()
        for thread in threads:
            thread.join(DRAIN_TIMEOUT + FAILOVER_TIMEOUT)
    assert observed.acked_at.keys() <= observed.consumed_at.keys()  # nothing acknowledged lost


def test_a_restarted_node_answers_once_it_knows_the_cluster(
    launcher: Callable[[], Launched],
) -> None:
    """Kafka's broker takes requests once the controller has unfenced it, after it caught up
    with the metadata log (BrokerServer.startup): a restarted Kafka 4.1 node refused
    connections for 8 s here, and its first Metadata answer named every broker and topic. A
    restarted localbroker node answered from the image it was still replaying: no brokers
    and no topics, which aiokafka ignored ("No broker metadata found") and a client could
    take for a deleted topic. localbroker takes the connection at once and holds the
    request until the node serves (a difference: its launchers take an accepted connection
    as "the node is up").

    Node 2 comes back while nodes 0 and 1 are down: with no quorum it cannot be unfenced,
    so the Metadata request sent then is answered only once node 1 is back. Mutation check:
    without dispatch waiting for `serving`, the answer comes at once, naming no broker:
    this fails. (Restarting one node beside two live ones no longer shows it: the node
    catches up within milliseconds since the quorum answers Fetch v18 at once.)"""
    cluster = launcher()
    addresses = cluster.addresses
    wait_until(lambda: agreed(addresses, {0, 1, 2}), "three brokers")
    create(addresses, "kept", 3)
    wait_until(lambda: agreed(addresses, {0, 1, 2}, "kept"), "the topic everywhere")

    for node in (0, 1, 2):
        cluster.kill(node)
    cluster.restart(2)  # returns once the node accepts connections
    body = request_body(
        ApiKey.METADATA,
        12,
        {
            "topics": [{"name": "kept"}],
            "allow_auto_topic_creation": False,
            "include_topic_authorized_operations": False,
        },
    )
    with RawClient(addresses[2], timeout=60) as client:
        sent = client.send(body)
        cluster.restart(1)
        answer = client.recv(ApiKey.METADATA, 12, sent)

    assert 2 in {broker.node_id for broker in answer.brokers}  # node 1 may be fenced yet
    assert [(t.name, t.error_code, len(t.partitions)) for t in answer.topics] == [
        ("kept", ErrorCode.none, 3)
    ]
