"""LeaderReplica: a real PartitionLog's high watermark and acks=all answers follow the ISR."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from kio.schema.errors import ErrorCode

from localbroker.cluster.partitions import BrokerRegistration, PartitionRegistration
from localbroker.cluster.replication.leader import IsrProposal
from localbroker.cluster.replication.leading import LeaderReplica
from localbroker.log.log_config import LogConfig
from localbroker.log.partition import PartitionLog
from localbroker.records.batch import read_header
from localbroker.records.builder import NewRecord, build_batch
from tests.waiting import TIMEOUT

NOW = 1_700_000_000_000
LAG_MS = 30_000
EPOCH = 4
BROKER_EPOCH = 7


class Clock:
    def __init__(self) -> None:
        self.ms = NOW

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def partition_log(tmp_path: Path) -> Iterator[PartitionLog]:
    opened = PartitionLog(tmp_path / "t-0", "t", 0, LogConfig(), now_ms=NOW)
    try:
        yield opened
    finally:
        opened.close()


def leading(
    partition_log: PartitionLog, clock: Clock, proposals: list[IsrProposal]
) -> LeaderReplica:
    """Leader 0 of replicas 0, 1, 2 with ISR 0, 1 and min.insync.replicas 2."""
    return LeaderReplica(
        0,
        partition_log,
        PartitionRegistration((0, 1, 2), (0, 1), 0, EPOCH, 9),
        min_insync_replicas=2,
        replica_lag_time_max_ms=LAG_MS,
        brokers={b: BrokerRegistration(b, BROKER_EPOCH, (), None, False) for b in (0, 1, 2)},
        propose=proposals.append,
        now_ms=clock,
    )


def produce(replica: LeaderReplica, count: int = 3) -> int:
    """Append one batch as the leader; its last offset."""
    batch = build_batch([NewRecord(b"v", timestamp=NOW) for _ in range(count)], now_ms=NOW)
    result = replica.log.append(read_header(batch), batch, NOW, leader_epoch=EPOCH)
    replica.appended()
    return result.last_offset


def test_acks_all_answers_once_the_isr_holds_the_batch(partition_log: PartitionLog) -> None:
    proposals: list[IsrProposal] = []
    replica = leading(partition_log, Clock(), proposals)

    async def produce_and_replicate() -> ErrorCode:
        last_offset = produce(replica)
        assert partition_log.high_watermark == 0  # consumers see nothing yet
        assert partition_log.read(0, 1 << 20) == b""
        waiting = asyncio.ensure_future(replica.acks_all(last_offset, 30_000))
        await asyncio.sleep(0)
        replica.follower_fetched(1, 2, 0, BROKER_EPOCH)  # holds 0..1 of 0..2
        await asyncio.sleep(0)
        assert not waiting.done() and partition_log.high_watermark == 2
        replica.follower_fetched(1, 3, 0, BROKER_EPOCH)
        async with asyncio.timeout(TIMEOUT):
            return await waiting

    assert asyncio.run(produce_and_replicate()) == ErrorCode.none
    assert partition_log.high_watermark == 3
    assert proposals == []


def test_acks_all_times_out(partition_log: PartitionLog) -> None:
    replica = leading(partition_log, Clock(), [])
    last_offset = produce(replica)

    async def bounded() -> ErrorCode:
        async with asyncio.timeout(TIMEOUT):
            return await replica.acks_all(last_offset, 20)

    assert asyncio.run(bounded()) == ErrorCode.request_timed_out


def test_resigning_fails_waiting_produces(partition_log: PartitionLog) -> None:
    replica = leading(partition_log, Clock(), [])

    async def produce_then_resign() -> ErrorCode:
        waiting = asyncio.ensure_future(replica.acks_all(produce(replica), 30_000))
        await asyncio.sleep(0)
        replica.resign()
        async with asyncio.timeout(TIMEOUT):
            return await waiting

    assert asyncio.run(produce_then_resign()) == ErrorCode.not_leader_or_follower


def test_a_lagging_follower_is_proposed_out_and_a_caught_up_one_in(
    partition_log: PartitionLog,
) -> None:
    clock, proposals = Clock(), list[IsrProposal]()
    replica = leading(partition_log, clock, proposals)
    produce(replica)
    replica.follower_fetched(2, 3, 0, BROKER_EPOCH)  # outside the ISR, caught up: proposed in
    assert proposals == [IsrProposal((0, 1, 2), EPOCH, 9)]
    replica.update(PartitionRegistration((0, 1, 2), (0, 1, 2), 0, EPOCH, 10))
    clock.ms += LAG_MS + 1
    replica.follower_fetched(2, 3, 0, BROKER_EPOCH)
    replica.check_isr()  # follower 1 never fetched in this epoch
    assert proposals[-1] == IsrProposal((0, 2), EPOCH, 10)
    assert partition_log.high_watermark == 0  # follower 1 is still in the ISR
