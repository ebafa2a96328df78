"""ReplicaFetcher against a real localbroker: a follower's log ends byte for byte the leader's.

The leader is a single-broker LocalBroker, fetched from as a consumer (replica id -1) until
the leader side of cluster mode exists; the follower is a PartitionLog of the test's own,
fed by the fetcher while a real client (confluent-kafka) produces to the leader.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from confluent_kafka import Producer

from localbroker.cluster.peer import PeerClient
from localbroker.cluster.replication.fetcher import (
    CONSUMER_REPLICA_ID,
    FetchState,
    ReplicaFetcher,
)
from localbroker.cluster.replication.fetchers import ReplicaFetchers
from localbroker.log.log_config import LogConfig
from localbroker.log.partition import LEADER_EPOCH, PartitionLog
from localbroker.records.batch import read_header
from tests.waiting import polling
from tui.embedded import EmbeddedBroker

TOPIC = "replicated"
PARTITION_MAX_BYTES = 700
"""Small enough that the leader cuts some answers inside a batch: the follower must drop
the partial batch and fetch it again."""
_values = itertools.count()


def produce(bootstrap: str, rounds: int, *, idempotent: bool = True) -> None:
    """Several batches per round, some compressed, from an idempotent producer (its producer
    ids and sequences must reach the follower unchanged)."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": idempotent,
            "linger.ms": 5,
            "compression.type": "lz4",
        }
    )
    for _ in range(rounds):
        for _ in range(20):
            producer.produce(TOPIC, key=b"k", value=f"value {next(_values)} ".encode() * 8)
        assert producer.flush(20) == 0


def leader_log(broker: EmbeddedBroker) -> PartitionLog:
    return broker.call(lambda: broker.state.partition_log(TOPIC, 0))


def segment_bytes(partition_log: PartitionLog) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(partition_log.directory.glob("*.log")))


def create_topic(broker: EmbeddedBroker) -> uuid.UUID:
    return broker.call(lambda: broker.state.create_topic(TOPIC, 1)).topic_id


@asynccontextmanager
async def following(
    broker: EmbeddedBroker, follower: PartitionLog, topic_id: uuid.UUID
) -> AsyncIterator[ReplicaFetcher]:
    host, port = broker.bootstrap.rsplit(":", 1)
    peer = PeerClient(host, int(port), client_id="replica-fetcher-test")
    fetcher = ReplicaFetcher(
        peer,
        replica_id=CONSUMER_REPLICA_ID,
        backoff_ms=100,
        partition_max_bytes=PARTITION_MAX_BYTES,
    )
    fetcher.add(follower, topic_id, LEADER_EPOCH)
    fetcher.start()
    try:
        yield fetcher
    finally:
        await fetcher.stop()
        await peer.close()


async def caught_up(broker: EmbeddedBroker, follower: PartitionLog) -> None:
    leader = leader_log(broker)
    for pause in polling(
        "the follower to hold everything the leader has",
        showing=lambda: (
            f"leader {broker.call(lambda: leader.log_end_offset)},"
            f" follower {follower.log_end_offset}"
        ),
    ):
        ends = broker.call(lambda: (leader.log_end_offset, leader.high_watermark))
        if (follower.log_end_offset, follower.high_watermark) == ends:
            return
        await asyncio.sleep(pause)


def follower_log(tmp_path: Path) -> PartitionLog:
    return PartitionLog(
        tmp_path / "follower" / f"{TOPIC}-0",
        TOPIC,
        0,
        LogConfig(segment_bytes=16 * 1024),
        now_ms=int(time.time() * 1000),
    )


def test_the_follower_holds_the_leaders_batches_byte_for_byte(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    topic_id = create_topic(broker)
    produce(broker.bootstrap, 2)  # some before the follower starts, more while it fetches
    follower = follower_log(tmp_path)
    try:
        asyncio.run(_replicate_until_caught_up(broker, follower, topic_id, then_produce=4))
        leader = leader_log(broker)
        assert broker.call(lambda: segment_bytes(leader)) == segment_bytes(follower)
        assert follower.log_end_offset == 120
    finally:
        follower.close()


def test_an_unreplicated_tail_is_truncated_before_fetching(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """The follower led before and wrote a batch nobody replicated: the leader's
    OffsetForLeaderEpoch answer makes it cut that batch, then it fetches the leader's."""
    topic_id = create_topic(broker)
    produce(broker.bootstrap, 1, idempotent=False)
    follower = follower_log(tmp_path)
    try:
        asyncio.run(_replicate_until_caught_up(broker, follower, topic_id))
        data = next(reversed(list(follower.stored_batches())))
        follower.append(read_header(data), data, int(time.time() * 1000))
        assert follower.log_end_offset > leader_log(broker).log_end_offset
        # the leader grows only after the cut: in one leader epoch, as here, offsets are
        # all a follower can compare (records of a newer epoch would show the divergence)
        asyncio.run(
            _replicate_until_caught_up(broker, follower, topic_id, then_produce=2, idempotent=False)
        )
        leader = leader_log(broker)
        assert broker.call(lambda: segment_bytes(leader)) == segment_bytes(follower)
    finally:
        follower.close()


async def _replicate_until_caught_up(
    broker: EmbeddedBroker,
    follower: PartitionLog,
    topic_id: uuid.UUID,
    *,
    then_produce: int = 0,
    idempotent: bool = True,
) -> None:
    """Follow the leader until caught up; then, if asked, produce while following and catch
    up again."""
    async with following(broker, follower, topic_id):
        await caught_up(broker, follower)
        if then_produce:
            await asyncio.to_thread(produce, broker.bootstrap, then_produce, idempotent=idempotent)
            await caught_up(broker, follower)


def test_a_partition_moves_to_its_new_leaders_fetcher_and_idle_fetchers_stop(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """ReplicaFetchers keeps one fetcher per leader broker (both "leaders" here are the one
    real broker, reached under two broker ids)."""
    topic_id = create_topic(broker)
    produce(broker.bootstrap, 1)
    follower = follower_log(tmp_path)
    host, port = broker.bootstrap.rsplit(":", 1)

    def connect(leader_id: int) -> ReplicaFetcher:
        peer = PeerClient(host, int(port), client_id=f"fetcher-{leader_id}")
        return ReplicaFetcher(peer, replica_id=CONSUMER_REPLICA_ID, backoff_ms=100)

    async def follow_two_leaders() -> None:
        fetchers = ReplicaFetchers(connect)
        try:
            fetchers.follow(follower, topic_id, 1, LEADER_EPOCH)
            await caught_up(broker, follower)
            fetchers.follow(follower, topic_id, 2, LEADER_EPOCH)
            await fetchers.shutdown_idle()
            assert list(fetchers.fetchers) == [2]
            await asyncio.to_thread(produce, broker.bootstrap, 1)
            await caught_up(broker, follower)
            fetchers.unfollow(TOPIC, 0)
            await fetchers.shutdown_idle()
            assert fetchers.fetchers == {}
        finally:
            await fetchers.close()

    try:
        asyncio.run(follow_two_leaders())
        assert follower.log_end_offset == 40
    finally:
        follower.close()


def test_a_follower_ahead_of_the_leaders_epoch_waits_for_metadata(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """Told of leader epoch 1 by (future) metadata, the follower hears UNKNOWN_LEADER_EPOCH
    from a leader still in epoch 0, backs off without appending, and follows once added in
    the leader's epoch."""
    topic_id = create_topic(broker)
    produce(broker.bootstrap, 1)
    follower = follower_log(tmp_path)

    async def ahead_then_current() -> None:
        async with following(broker, follower, topic_id) as fetcher:
            fetcher.add(follower, topic_id, LEADER_EPOCH + 1)
            for pause in polling("the fetcher to back off after UNKNOWN_LEADER_EPOCH"):
                if fetcher.partitions[(TOPIC, 0)].state is FetchState.DELAYED:
                    break
                await asyncio.sleep(pause)
            assert follower.log_end_offset == 0
            fetcher.add(follower, topic_id, LEADER_EPOCH)
            await caught_up(broker, follower)

    try:
        asyncio.run(ahead_then_current())
    finally:
        follower.close()
