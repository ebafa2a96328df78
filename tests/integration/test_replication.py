"""Data replication between running brokers: leaders, followers, the ISR and acks=all.

Three LocalBrokers replicate one partition (tests/replicated.py: one event loop, one
MetadataImage from real records, the controller's real AlterPartition decisions); real
clients produce and consume: confluent-kafka and the raw wire client.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from kio.schema.errors import ErrorCode
from replicated import (
    NODES,
    TIMEOUT,
    TOPIC,
    Nodes,
    consumer_high_watermark,
    delete_records_before,
    produce_raw,
    replica_fetch,
)
from waiting import wait_until
from wire import RawClient

from localbroker.cluster.records import (
    PartitionChangeRecord,
    RegisterBrokerRecord,
    RemoveTopicRecord,
)
from localbroker.cluster.replication.leader import FollowerState
from localbroker.protocol.names import ApiKey

SHORT_LAG_MAX_MS = 1_500
"""replica.lag.time.max.ms for tests where a stopped follower is to leave the ISR soon; the
others keep Kafka's 30 s, so that none leaves it meanwhile."""


@pytest.fixture
def nodes(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Nodes]:
    """The three nodes; a test may set (min.insync.replicas, replica.lag.time.max.ms) by
    parametrizing this fixture indirectly."""
    min_insync_replicas, lag_max_ms = getattr(request, "param", (1, 30_000))
    cluster = Nodes(tmp_path)
    cluster.thread.start()
    try:
        cluster.run(cluster.start(min_insync_replicas, lag_max_ms))
        yield cluster
    finally:
        try:
            cluster.run(cluster.stop())
        finally:
            cluster.loop.call_soon_threadsafe(cluster.loop.stop)
            cluster.thread.join(TIMEOUT)


def produce_acks_all(bootstrap: str, count: int) -> list[Any]:
    """`count` records with confluent-kafka, acks=all; each one's delivery error (or None)."""
    errors: list[Any] = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    for i in range(count):
        producer.produce(TOPIC, f"value-{i}".encode(), on_delivery=lambda e, _: errors.append(e))
    assert producer.flush(TIMEOUT) == 0
    return errors


def test_followers_hold_byte_identical_logs_and_acks_all_waits_for_them(nodes: Nodes) -> None:
    errors = produce_acks_all(nodes.bootstrap(0), 50)
    assert errors == [None] * 50
    # acknowledged with acks=all: every ISR member holds them already
    ends = nodes.ends()
    assert ends[1] >= 50 and ends[2] >= 50, ends
    assert nodes.registration().isr == NODES
    wait_until(lambda: len(set(nodes.ends().values())) == 1, "every replica at one end")
    assert nodes.stored(1) == nodes.stored(0) == nodes.stored(2)
    assert consumer_high_watermark(nodes.bootstrap(0)) == ends[0]
    wait_until(
        lambda: nodes.call(lambda: nodes.log(1).high_watermark) == ends[0],
        "the follower learning the leader's high watermark",
    )


def test_the_high_watermark_waits_for_every_in_sync_replica(nodes: Nodes) -> None:
    assert produce_raw(nodes.bootstrap(0), acks=-1).error_code == ErrorCode.none
    nodes.stop_replicating(2)
    # acks=all waits for node 2 too, until the produce's timeout: written, not acknowledged
    answer = produce_raw(nodes.bootstrap(0), acks=-1, timeout_ms=500)
    assert (answer.error_code, answer.base_offset) == (ErrorCode.request_timed_out, 1)
    wait_until(lambda: nodes.ends()[1] == 2, "follower 1 fetching the second record")
    # node 2, in the ISR, lacks it: consumers do not see it
    assert nodes.registration().isr == NODES
    assert consumer_high_watermark(nodes.bootstrap(0)) == 1
    nodes.call(lambda: nodes.replicate_again(2))
    wait_until(lambda: consumer_high_watermark(nodes.bootstrap(0)) == 2, "the HW moving on")


@pytest.mark.parametrize("nodes", [(2, SHORT_LAG_MAX_MS)], indirect=True)
def test_acks_all_is_refused_while_the_isr_is_smaller_than_min_insync_replicas(
    nodes: Nodes,
) -> None:
    assert produce_raw(nodes.bootstrap(0), acks=-1).error_code == ErrorCode.none
    nodes.stop_replicating(1)
    nodes.stop_replicating(2)
    # behind the leader's log end for replica.lag.time.max.ms (a follower that stops at the
    # log end stays in sync while nothing is written, as in Kafka), both are dropped, and
    # the controller agrees
    assert produce_raw(nodes.bootstrap(0), acks=1).error_code == ErrorCode.none
    wait_until(lambda: nodes.registration().isr == (0,), "the ISR shrinking to the leader")
    refused = produce_raw(nodes.bootstrap(0), acks=-1)
    assert refused.error_code == ErrorCode.not_enough_replicas
    assert nodes.ends()[0] == 2  # refused before the append
    # a follower catching up rejoins, and acks=all is taken again
    nodes.call(lambda: nodes.replicate_again(1))
    wait_until(lambda: nodes.registration().isr == (0, 1), "follower 1 rejoining the ISR")
    assert produce_raw(nodes.bootstrap(0), acks=-1).error_code == ErrorCode.none
    assert nodes.refused == []


def test_a_new_leader_truncates_the_old_leaders_unacknowledged_tail(nodes: Nodes) -> None:
    errors = produce_acks_all(nodes.bootstrap(0), 10)
    assert errors == [None] * 10
    acknowledged = nodes.stored(0)
    nodes.stop_replicating(1)
    nodes.stop_replicating(2)
    # written on the leader only: never acknowledged to an acks=all producer
    for _ in range(3):
        assert produce_raw(nodes.bootstrap(0), acks=1).error_code == ErrorCode.none
    assert nodes.ends()[0] == 13

    # the controller moves leadership to node 1 (node 0 lost, say): a new leader epoch,
    # which nodes 1 and 2 take on as they come back
    def elect_node_1() -> None:
        nodes.commit([PartitionChangeRecord(0, nodes.topic_id, isr=(1, 2), leader=1)])
        nodes.replicate_again(1)
        nodes.replicate_again(2)

    nodes.call(elect_node_1)
    assert nodes.registration().leader_epoch == 1
    wait_until(lambda: nodes.ends() == {0: 10, 1: 10, 2: 10}, "node 0's tail truncated")
    assert nodes.stored(0) == nodes.stored(1) == acknowledged
    # the new leader takes writes in epoch 1, and both followers replicate them
    assert produce_raw(nodes.bootstrap(1), acks=-1).error_code == ErrorCode.none
    wait_until(lambda: set(nodes.ends().values()) == {11}, "epoch 1's record everywhere")
    assert nodes.stored(0) == nodes.stored(1) == nodes.stored(2)
    epochs = nodes.call(lambda: nodes.log(0).epochs.latest())
    assert epochs == (1, 10)
    # a follower still holding epoch 0's old tail is told where epoch 0 ended, and no records
    diverged = replica_fetch(nodes, 1, replica_id=2, fetch_offset=13, last_fetched_epoch=0)
    assert diverged.error_code == ErrorCode.none
    assert (diverged.diverging_epoch.epoch, diverged.diverging_epoch.end_offset) == (0, 10)
    assert diverged.records in (None, b"")


def test_produces_waiting_on_a_leader_that_moves_fail_and_a_removed_topic_goes(
    nodes: Nodes,
) -> None:
    nodes.stop_replicating(2)
    with ThreadPoolExecutor(1) as background:
        waiting = background.submit(produce_raw, nodes.bootstrap(0), -1, b"v", 10_000)
        wait_until(lambda: nodes.ends()[0] == 1, "the acks=all record written on the leader")
        nodes.call(lambda: nodes.commit([PartitionChangeRecord(0, nodes.topic_id, leader=1)]))
        answer = waiting.result(TIMEOUT)
    assert answer.error_code == ErrorCode.not_leader_or_follower
    directories = [nodes.call(lambda n=n: nodes.log(n).directory) for n in NODES]

    def remove_topic() -> None:
        nodes.replicate_again(2)
        nodes.commit([RemoveTopicRecord(nodes.topic_id)])

    nodes.call(remove_topic)
    assert nodes.call(lambda: [nodes.state(n).logs.get(TOPIC, 0) for n in NODES]) == [None] * 3
    assert not any(directory.exists() for directory in directories)


@pytest.mark.parametrize("nodes", [(1, SHORT_LAG_MAX_MS)], indirect=True)
def test_a_follower_behind_the_leaders_log_start_starts_again_there(nodes: Nodes) -> None:
    nodes.stop_replicating(2)
    for _ in range(3):
        assert produce_raw(nodes.bootstrap(0), acks=1).error_code == ErrorCode.none
    wait_until(lambda: nodes.registration().isr == (0, 1), "node 2 leaving the ISR")
    wait_until(lambda: consumer_high_watermark(nodes.bootstrap(0)) == 3, "the HW at 3")
    delete_records_before(nodes.bootstrap(0), 2)
    nodes.call(lambda: nodes.replicate_again(2))
    wait_until(lambda: nodes.ends()[2] == 3, "node 2 replicating from the leader's log start")
    assert nodes.call(lambda: nodes.log(2).log_start_offset) == 2
    assert nodes.stored(2) == nodes.call(lambda: list(nodes.log(0).stored_batches()))
    wait_until(lambda: nodes.registration().isr == (0, 1, 2), "node 2 back in the ISR")
    # the followers' log start follows the leader's, as the Fetch answers tell it
    assert produce_raw(nodes.bootstrap(0), acks=-1).error_code == ErrorCode.none
    delete_records_before(nodes.bootstrap(0), 4)
    assert produce_raw(nodes.bootstrap(0), acks=-1).error_code == ErrorCode.none
    wait_until(
        lambda: nodes.call(lambda: [nodes.log(n).log_start_offset for n in NODES]) == [4] * 3,
        "every replica's log starting at 4",
    )


@pytest.mark.parametrize("nodes", [(1, SHORT_LAG_MAX_MS)], indirect=True)
def test_a_follower_that_registers_again_fetches_in_its_new_broker_epoch(nodes: Nodes) -> None:
    """A broker that registers again (a new broker epoch) keeps following; the leader
    refuses fetches that carry the old epoch, so its fetchers must carry the new one.

    Node 2 leaves the ISR by lagging behind a record, not by an ISR the test writes: a
    follower that was caught up holds the high watermark back for replica.lag.time.max.ms
    even outside the ISR (Kafka's maybeIncrementLeaderHW), so an ISR shrunk by hand left the
    produce waiting on node 2 in the runs where it had fetched before it stopped."""

    def register_node_1_again() -> None:
        endpoints = nodes.image.brokers[1].endpoints
        nodes.commit([RegisterBrokerRecord(1, uuid.uuid4(), 10, endpoints, None, fenced=False)])

    nodes.call(register_node_1_again)
    nodes.stop_replicating(2)
    assert produce_raw(nodes.bootstrap(0), acks=1).error_code == ErrorCode.none
    wait_until(lambda: nodes.registration().isr == (0, 1), "node 2 leaving the ISR")
    answer = produce_raw(nodes.bootstrap(0), acks=-1, timeout_ms=10_000)
    assert answer.error_code == ErrorCode.none


def test_a_fetch_still_waiting_says_nothing_new_about_its_follower(nodes: Nodes) -> None:
    """Kafka updates a follower's state when its fetch arrives, not when a delayed fetch
    completes: a long poll left waiting after the follower was dropped from the ISR must not
    bring it back when an append wakes it."""
    assert produce_raw(nodes.bootstrap(0), acks=-1).error_code == ErrorCode.none
    nodes.stop_replicating(1)
    nodes.stop_replicating(2)
    fetched_at = nodes.call(lambda: follower_2(nodes).last_fetch_time_ms)
    with ThreadPoolExecutor(1) as background:
        waiting = background.submit(
            replica_fetch, nodes, 0, replica_id=2, fetch_offset=1, last_fetched_epoch=0,
            current_leader_epoch=0, max_wait=10_000,
        )  # fmt: skip
        wait_until(
            lambda: nodes.call(lambda: follower_2(nodes).last_fetch_time_ms) > fetched_at,
            "the replica's fetch waiting on the leader",
        )
        nodes.call(lambda: nodes.commit([PartitionChangeRecord(0, nodes.topic_id, isr=(0,))]))
        assert produce_raw(nodes.bootstrap(0), acks=1).error_code == ErrorCode.none
        assert waiting.result(TIMEOUT).records
    assert nodes.registration().isr == (0,)


def follower_2(nodes: Nodes) -> FollowerState:
    """On the loop: what node 0, the leader, knows of node 2."""
    replicas = nodes.state(0).replicas
    leader = replicas.leader_replica(TOPIC, 0)
    return leader.state.followers[2]


def test_a_new_leader_answers_offset_for_leader_epoch_in_its_epoch(nodes: Nodes) -> None:
    """A consumer validating its position after a leader change asks the new leader with the
    epoch Metadata gave it (KIP-320); the leader checks it against the partition's epoch, not
    a single broker's 0, and a follower refuses (only a leader answers, as in Kafka)."""
    assert produce_acks_all(nodes.bootstrap(0), 3) == [None] * 3
    nodes.call(
        lambda: nodes.commit([PartitionChangeRecord(0, nodes.topic_id, isr=(1, 2), leader=1)])
    )
    assert nodes.registration().leader_epoch == 1
    answers = {node: last_offset_for_epoch_0(nodes.bootstrap(node)) for node in (1, 2)}
    assert answers[1] == (ErrorCode.none, 0, 3)
    assert answers[2][0] == ErrorCode.not_leader_or_follower


def last_offset_for_epoch_0(bootstrap: str) -> tuple[ErrorCode, int, int]:
    """A consumer's OffsetForLeaderEpoch v4 for partition 0's epoch 0, in current epoch 1."""
    with RawClient(bootstrap) as client:
        answer = client.call(
            ApiKey.OFFSET_FOR_LEADER_EPOCH,
            4,
            {
                "replica_id": -1,
                "topics": [
                    {
                        "topic": TOPIC,
                        "partitions": [
                            {"partition": 0, "current_leader_epoch": 1, "leader_epoch": 0}
                        ],
                    }
                ],
            },
        )
    (entry,) = answer.topics[0].partitions
    return entry.error_code, entry.leader_epoch, entry.end_offset
