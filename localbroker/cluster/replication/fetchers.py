"""`ReplicaFetchers`: which leader each followed partition is fetched from (Kafka's
ReplicaFetcherManager).

One `ReplicaFetcher` per leader broker, so that one Fetch carries every partition that
broker leads for us; a partition whose leader changes moves to the new leader's fetcher;
a fetcher left with nothing to fetch is stopped and its connection closed, as Kafka shuts
down idle fetcher threads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ...log.partition import PartitionLog
from .fetcher import ReplicaFetcher


class ReplicaFetchers:
    def __init__(self, connect: Callable[[int], ReplicaFetcher]) -> None:
        """`connect(leader_id)` makes the (unstarted) fetcher for a leader broker: its
        PeerClient to that broker's inter-broker listener, this broker's id and epoch."""
        self._connect = connect
        self.fetchers: dict[int, ReplicaFetcher] = {}
        self._leaders: dict[tuple[str, int], int] = {}

    def follow(
        self, partition_log: PartitionLog, topic_id: uuid.UUID, leader_id: int, leader_epoch: int
    ) -> None:
        """Fetch this partition from `leader_id` in `leader_epoch` from now on."""
        key = (partition_log.topic, partition_log.partition)
        previous = self._leaders.get(key)
        if previous is not None and previous != leader_id:
            self.fetchers[previous].remove(*key)
        fetcher = self.fetchers.get(leader_id)
        if fetcher is None:
            fetcher = self.fetchers[leader_id] = self._connect(leader_id)
            fetcher.start()
        fetcher.add(partition_log, topic_id, leader_epoch)
        self._leaders[key] = leader_id

    def unfollow(self, topic: str, partition: int) -> None:
        """Stop fetching this partition: this broker leads it now, or holds no replica."""
        leader_id = self._leaders.pop((topic, partition), None)
        if leader_id is not None:
            self.fetchers[leader_id].remove(topic, partition)

    async def shutdown_idle(self) -> None:
        """Stop the fetchers that have no partition left, and close their connections."""
        for leader_id, fetcher in list(self.fetchers.items()):
            if not fetcher.partitions:
                del self.fetchers[leader_id]
                await _stopped(fetcher)

    async def close(self) -> None:
        fetchers = list(self.fetchers.values())
        self.fetchers.clear()
        self._leaders.clear()
        for fetcher in fetchers:
            await _stopped(fetcher)


async def _stopped(fetcher: ReplicaFetcher) -> None:
    await fetcher.stop()
    await fetcher.leader.close()
