"""`MetadataQuorum`: one voter of the controller quorum, on the network and the clock.

It runs the sans-IO `Raft` rules: a timer task polls them, a candidate asks the other voters
for their vote, a new leader writes its LeaderChangeMessage and announces itself with
BeginQuorumEpoch, a follower pulls the log from the leader with Fetch, and the committed
entries reach `on_commit` in offset order on every voter, including, after a restart, the
entries already in the log once the leader's high watermark says they are committed.
`rpc.py` answers the other voters' requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kio.schema.errors import ErrorCode

from ...protocol.names import ApiKey
from ..peer import PeerClient, PeerUnavailable
from .election import NO_LEADER, QuorumStateFile
from .listener import ControllerListener
from .metadata_log import (
    METADATA_PARTITION,
    CommittedRecord,
    MetadataLog,
    now_ms,
)
from .raft import Raft, Role, Timeouts
from .rpc import METADATA_TOPIC_ID, QuorumRpc, metadata_topics

log = logging.getLogger(__name__)

FETCH_MAX_WAIT_MS = 500
FETCH_MAX_BYTES = 8 * 1024 * 1024
VOTE_VERSION = 1
FETCH_VERSION = 18
"""v18 carries the follower's high watermark (KIP-1166), so the leader answers at once
when it knows a newer one instead of parking the fetch."""


class NotLeader(Exception):
    """Only the quorum's leader appends; `leader_id` is the leader known here, or -1."""

    def __init__(self, leader_id: int) -> None:
        super().__init__(f"this node is not the quorum leader (leader: {leader_id})")
        self.leader_id = leader_id


class MetadataQuorum:
    def __init__(
        self,
        node_id: int,
        voters: Mapping[int, tuple[str, int]],
        data_dir: Path,
        cluster_id: str,
        *,
        on_commit: Callable[[list[CommittedRecord]], None] = lambda records: None,
        on_leader_change: Callable[[int, int], None] = lambda leader_id, epoch: None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.node_id = node_id
        self.voters = dict(voters)
        self.data_dir = data_dir
        self.cluster_id = cluster_id
        self.timeouts = timeouts or Timeouts()
        self._on_commit = on_commit
        self._on_leader_change = on_leader_change
        self.listener = ControllerListener()
        self.log: MetadataLog | None = None
        self._raft: Raft | None = None
        self._peers = {
            voter: PeerClient(host, port, client_id=f"raft-client-{node_id}", timeout_s=2.0)
            for voter, (host, port) in self.voters.items()
            if voter != node_id
        }
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self.changed = asyncio.Condition()
        """Notified when the log or the high watermark moves (parked Fetches wake up)."""
        self._applied = 0
        self._waiting: list[tuple[int, int, asyncio.Future[int]]] = []
        self._known_leader = (NO_LEADER, -1)
        self._stopping = False

    # -- the API ---------------------------------------------------------------------------

    @property
    def raft(self) -> Raft:
        assert self._raft is not None, "start() first"
        return self._raft

    @property
    def leader_id(self) -> int:
        return self.raft.leader_id

    @property
    def epoch(self) -> int:
        return self.raft.epoch

    @property
    def is_leader(self) -> bool:
        return self.raft.is_leader

    @property
    def high_watermark(self) -> int:
        return self.raft.high_watermark

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = MetadataLog(self.data_dir)
        store = QuorumStateFile(self.data_dir, self.voters)
        self._raft = Raft(
            self.node_id, frozenset(self.voters), self.log, store, self.timeouts, now_ms()
        )
        QuorumRpc(self).register(self.listener)
        host, port = self.voters[self.node_id]
        await self.listener.start(host, port)
        self._spawn(self._run_timer())
        self._spawn(self._run_fetcher())
        self.leader_maybe_changed()

    async def stop(self) -> None:
        """Stop; a leader first resigns with EndQuorumEpoch so the others elect at once."""
        self._stopping = True
        raft = self._raft
        if raft is not None and raft.is_leader:
            raft.resign(now_ms())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._end_epoch()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.listener.stop()
        for peer in self._peers.values():
            await peer.close()
        self._fail_waiting()
        if self.log is not None:
            self.log.close()

    async def append(self, values: list[bytes]) -> int:
        """Append metadata records; the last one's offset, once committed."""
        raft, metadata_log = self.raft, self.log
        assert metadata_log is not None
        if not raft.is_leader:
            raise NotLeader(raft.leader_id)
        last_offset = metadata_log.append_values(values, raft.epoch)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((last_offset, raft.epoch, future))
        # Counted as flushed even if the caller is cancelled meanwhile: the records are in
        # the log and will commit; nothing else would count them until the next append.
        await asyncio.shield(self._leader_flush())
        return await future

    # -- the leader -------------------------------------------------------------------------

    async def _leader_flush(self) -> None:
        assert self.log is not None
        epoch = self.raft.epoch
        end_offset = await self.log.flush()
        if self.raft.is_leader and self.raft.epoch == epoch:
            self.raft.leader_flushed(end_offset, now_ms())
        await self.committed_moved()

    async def _become_leader(self) -> None:
        raft = self.raft
        assert self.log is not None
        raft.become_leader(now_ms())
        self.log.append_leader_change(self.node_id, raft.epoch, sorted(self.voters))
        self.leader_maybe_changed()
        await asyncio.gather(*(self._begin_epoch(voter) for voter in self._peers))
        await self._leader_flush()

    async def _begin_epoch(self, voter: int) -> None:
        request = {
            "cluster_id": self.cluster_id,
            "voter_id": voter,
            "topics": metadata_topics({"leader_id": self.node_id, "leader_epoch": self.raft.epoch}),
            "leader_endpoints": [self._endpoint()],
        }
        with contextlib.suppress(PeerUnavailable):
            await self._peers[voter].call(ApiKey.BEGIN_QUORUM_EPOCH, 1, request)

    async def _end_epoch(self) -> None:
        successors = sorted(
            (p for p in self.raft.progress.items() if p[0] != self.node_id),
            key=lambda item: -item[1].end_offset,
        )
        candidates = [{"candidate_id": voter} for voter, _ in successors]
        request = {
            "cluster_id": self.cluster_id,
            "topics": metadata_topics(
                {
                    "leader_id": self.node_id,
                    "leader_epoch": self.raft.epoch,
                    "preferred_candidates": candidates,
                }
            ),
            "leader_endpoints": [self._endpoint()],
        }

        async def tell(peer: PeerClient) -> None:
            with contextlib.suppress(PeerUnavailable):
                await peer.call(ApiKey.END_QUORUM_EPOCH, 1, request)

        await asyncio.gather(*(tell(peer) for peer in self._peers.values()))

    def _endpoint(self) -> dict[str, Any]:
        host, port = self.voters[self.node_id]
        return {"name": "CONTROLLER", "host": host, "port": port}

    # -- elections --------------------------------------------------------------------------

    async def _run_timer(self) -> None:
        while True:
            raft = self.raft
            delay = max(0, raft.next_deadline() - now_ms()) / 1000
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(delay, 0.1)):
                    await self._wake.wait()
            was_leader = raft.is_leader
            if raft.poll(now_ms()):
                await self._elect()
            elif was_leader and not raft.is_leader:
                await self._end_epoch()
            self.leader_maybe_changed()

    async def _elect(self) -> None:
        raft = self.raft
        assert self.log is not None
        if raft.start_election(now_ms()):
            await self._become_leader()
            return
        epoch = raft.epoch
        log.info("node %d stands for election in epoch %d", self.node_id, epoch)
        candidate = {
            "replica_epoch": epoch,
            "replica_id": self.node_id,
            "last_offset_epoch": self.log.last_epoch,
            "last_offset": self.log.end_offset,
        }
        request = {"cluster_id": self.cluster_id, "topics": metadata_topics(candidate)}
        for voter, peer in self._peers.items():
            self._spawn(self._ask_vote(voter, peer, {**request, "voter_id": voter}, epoch))

    async def _ask_vote(
        self, voter: int, peer: PeerClient, request: dict[str, Any], epoch: int
    ) -> None:
        try:
            response = await peer.call(ApiKey.VOTE, VOTE_VERSION, request)
        except PeerUnavailable:
            return
        if response.error_code != ErrorCode.none or not response.topics:
            return
        answer = response.topics[0].partitions[0]
        raft = self.raft
        if raft.epoch != epoch and answer.leader_epoch <= raft.epoch:
            return
        won = raft.vote_answered(
            voter, answer.leader_epoch, answer.leader_id, answer.vote_granted, now_ms()
        )
        if won:
            await self._become_leader()
        self.leader_maybe_changed()

    # -- the follower -----------------------------------------------------------------------

    async def _run_fetcher(self) -> None:
        """Pull the log from the leader while following one."""
        while True:
            raft = self.raft
            leader = raft.leader_id
            if raft.role is not Role.FOLLOWER or leader not in self._peers:
                await self._await_change()
                continue
            try:
                await self._fetch_once(leader)
            except PeerUnavailable:
                await self._await_change(0.05)

    async def _await_change(self, timeout_s: float = 0.1) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s), self.changed:
                await self.changed.wait()

    async def _fetch_once(self, leader: int) -> None:
        raft, metadata_log = self.raft, self.log
        assert metadata_log is not None
        epoch = raft.epoch
        request = {
            "cluster_id": self.cluster_id,
            "replica_state": {"replica_id": self.node_id, "replica_epoch": -1},
            "max_wait": FETCH_MAX_WAIT_MS,
            "min_bytes": 0,
            "max_bytes": FETCH_MAX_BYTES,
            "topics": [
                {
                    "topic_id": METADATA_TOPIC_ID,
                    "partitions": [
                        {
                            "partition": METADATA_PARTITION,
                            "current_leader_epoch": epoch,
                            "fetch_offset": metadata_log.end_offset,
                            "last_fetched_epoch": metadata_log.last_epoch,
                            "high_watermark": raft.high_watermark,
                            "partition_max_bytes": FETCH_MAX_BYTES,
                        }
                    ],
                }
            ],
            "forgotten_topics_data": [],
        }
        response = await self._peers[leader].call(
            ApiKey.FETCH, FETCH_VERSION, request, timeout_s=2.0 + FETCH_MAX_WAIT_MS / 1000
        )
        if raft.epoch != epoch or raft.leader_id != leader:
            return  # the quorum moved on while the fetch was out
        if response.error_code != ErrorCode.none or not response.responses:
            await self._await_change(0.05)
            return
        answer = response.responses[0].partitions[0]
        if answer.error_code != ErrorCode.none:
            current = answer.current_leader
            raft.observe(current.leader_epoch, current.leader_id, now_ms())
            self.leader_maybe_changed()
            if raft.epoch == epoch:
                await self._await_change(0.05)
            return
        raft.fetched(now_ms())
        if answer.diverging_epoch.epoch >= 0 or answer.diverging_epoch.end_offset >= 0:
            diverging = answer.diverging_epoch
            metadata_log.truncate_to(raft.truncation_offset(diverging.epoch, diverging.end_offset))
            return
        if answer.records:
            metadata_log.append_as_follower(bytes(answer.records))
            await metadata_log.flush()
        raft.follower_high_watermark(answer.high_watermark)
        await self.committed_moved()

    # -- commits and leadership ---------------------------------------------------------------

    async def committed_moved(self) -> None:
        """Hand newly committed records to `on_commit`, finish appends they commit, and wake
        parked Fetches."""
        raft, metadata_log = self.raft, self.log
        assert metadata_log is not None
        high_watermark = raft.high_watermark
        if high_watermark > self._applied:
            records = list(metadata_log.committed(self._applied, high_watermark))
            self._applied = high_watermark
            if records:
                self._on_commit(records)
        still: list[tuple[int, int, asyncio.Future[int]]] = []
        for offset, epoch, future in self._waiting:
            if future.done():
                continue
            if offset < high_watermark:
                future.set_result(offset)
            elif not raft.is_leader or raft.epoch != epoch:
                future.set_exception(NotLeader(raft.leader_id))
            else:
                still.append((offset, epoch, future))
        self._waiting = still
        async with self.changed:
            self.changed.notify_all()

    def _fail_waiting(self) -> None:
        for _, _, future in self._waiting:
            if not future.done():
                future.set_exception(NotLeader(NO_LEADER))
        self._waiting = []

    def leader_maybe_changed(self) -> None:
        raft = self.raft
        known = (raft.leader_id, raft.epoch)
        if known != self._known_leader:
            self._known_leader = known
            self._wake.set()
            if self._waiting:
                self._spawn(self.committed_moved())
            self._on_leader_change(*known)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("node %d: quorum task failed", self.node_id, exc_info=exc)
