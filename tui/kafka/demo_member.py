"""One simulated consumer of the rebalance demo, speaking the classic group protocol itself.

Why not AIOKafkaConsumer: the demo must kill a consumer *without a goodbye*, and aiokafka's
`stop()` always sends LeaveGroup (GroupCoordinator.close -> _maybe_leave_group). Killing one
would mean cancelling its coordinator's private tasks and closing its private client, tied to
one aiokafka version, and the generation, leader and assignment it works with stay private too.
A member written against the protocol (JoinGroup, SyncGroup, Heartbeat, OffsetFetch, Fetch,
OffsetCommit, LeaveGroup, each a kio request over its own connections: demo_wire.GroupClient)
does exactly what the demo shows and no more:

- `stop()` is a graceful close: finish the record in hand, commit, send LeaveGroup, so the
  group rebalances at once;
- `kill()` cancels its tasks and closes its connections. No LeaveGroup, no last commit: the
  broker still counts it as a member until session.timeout.ms passes without a heartbeat,
  exactly what happens when a consumer's process is killed or its host vanishes;
- `pause()` stops processing but keeps heartbeating (like KafkaConsumer.pause): the member
  stays in the group, nothing rebalances, and its partitions' lag grows.

It is an eager-protocol member, as Kafka's consumer is with the range or sticky assignor: when a
rebalance starts (a heartbeat answers REBALANCE_IN_PROGRESS) it commits what it processed,
gives up all its partitions and rejoins. A new owner starts a partition at the group's
committed offset, so records processed after the last commit of a member that died are
processed again: at-least-once delivery, visible in the demo. Processing is simulated by
sleeping `processing_delay_ms` per record; offsets are committed every `commit_interval_ms`
(the consumer's auto-commit), before a rebalance and on a graceful stop.

Everything runs on the caller's event loop; the observer is told of every step.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka.errors import KafkaError as AIOKafkaError
from kio.schema.errors import ErrorCode

from .connection import Connection
from .demo_assignor import assign, assignment, partitions_of, read_subscription
from .demo_assignor import subscription as encode_subscription
from .demo_status import MemberStatus
from .demo_wire import FETCH_WAIT_MS, GroupClient
from .errors import KafkaToolError, raise_for
from .not_ready import COORDINATOR_NOT_READY

_RETRY_S = 0.5
_ROUND_MS = 500
_MAX_ROUND = 500
_REJOIN_ERRORS = (
    ErrorCode.rebalance_in_progress,
    ErrorCode.illegal_generation,
    ErrorCode.unknown_member_id,
    ErrorCode.fenced_instance_id,
)


@dataclass(slots=True)
class MemberSettings:
    group_id: str = "demo-group"
    topic: str = "demo-orders"
    session_timeout_ms: int = 6000
    """Short for a demo (Kafka's default is 45 s): a killed consumer is expired within it."""
    rebalance_timeout_ms: int = 15000
    heartbeat_interval_ms: int = 500
    commit_interval_ms: int = 2000
    processing_delay_ms: int = 50
    assignor: str = "sticky"


class MemberObserver(Protocol):
    """What the engine hears from a member, on the event loop, as it happens."""

    def joining(self, member: DemoMember) -> None:
        """About to send a JoinGroup with its member id (the one the coordinator parks)."""

    def rebalance_noticed(self, member: DemoMember, reason: str) -> None: ...

    def joined(self, member: DemoMember, members: list[str] | None) -> None:
        """JoinGroup answered; `members` (every member id) only for the leader."""

    def assigned(
        self, member: DemoMember, assignments: dict[str, list[int]] | None, starts: dict[int, int]
    ) -> None:
        """SyncGroup answered: `member.assignment` holds its share and `starts` where it
        starts each partition; `assignments` (everyone's) only for the leader."""

    def processed(self, member: DemoMember, partition: int, offset: int) -> None: ...

    def committed(self, member: DemoMember, offsets: dict[int, int]) -> None: ...

    def left(self, member: DemoMember) -> None: ...

    def failed(self, member: DemoMember, message: str) -> None: ...


class DemoMember:
    """A consumer of `settings.topic` in `settings.group_id`; `start()` and it runs."""

    def __init__(
        self,
        name: str,
        connection: Connection,
        settings: MemberSettings,
        observer: MemberObserver,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.settings = settings
        self.processing_delay_ms = settings.processing_delay_ms
        self.member_id = ""
        self.generation = -1
        self.leader_id = ""
        self.assignment: tuple[int, ...] = ()
        self.positions: dict[int, int] = {}
        self.committed: dict[int, int] = {}
        self.processed_count = 0
        self.status = MemberStatus.STARTING
        self.paused = False
        self.killed_at: float | None = None
        self._observer = observer
        self._clock = clock
        self._wire = GroupClient(connection, name, settings.group_id, settings.topic)
        self._rejoin = asyncio.Event()
        self._rejoin_reason = ""
        self._stopping = False
        self._in_generation = False
        self._last_commit = 0.0
        self._previous: tuple[int, ...] = ()
        self._tasks: list[asyncio.Task[None]] = []

    # -- what the presenter does --------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"demo-{self.name}"),
            asyncio.create_task(self._heartbeats(), name=f"demo-{self.name}-heartbeat"),
        ]

    def pause(self, paused: bool) -> None:
        self.paused = paused
        if self.status in (MemberStatus.RUNNING, MemberStatus.PAUSED):
            self.status = MemberStatus.PAUSED if paused else MemberStatus.RUNNING

    async def stop(self) -> None:
        """Leave gracefully: commit what was processed, then LeaveGroup."""
        if self.status.gone:
            return
        self._stopping = True
        self.status = MemberStatus.STOPPING
        run = self._tasks[0] if self._tasks else None
        if run is not None and not run.done():
            try:
                await asyncio.wait_for(asyncio.shield(run), self._stop_wait_s())
            except TimeoutError:
                run.cancel()
        await self._cancel_tasks()
        try:
            if self._in_generation:
                await self._commit()
            if self.member_id and self._wire.coordinator is not None:
                await self._wire.leave(self.member_id, f"{self.name} is shutting down")
        except (KafkaToolError, AIOKafkaError, OSError):
            pass  # the broker will expire it instead
        finally:
            self._in_generation = False
            self.assignment = ()
            self.status = MemberStatus.LEFT
            await self._wire.close()
            self._observer.left(self)

    async def kill(self) -> None:
        """Vanish: no commit, no LeaveGroup; connections dropped, heartbeats stop."""
        if self.status.gone:
            return
        self.status = MemberStatus.KILLED
        self.killed_at = self._clock()
        await self._cancel_tasks()
        await self._wire.close()

    def _stop_wait_s(self) -> float:
        return max(self.processing_delay_ms / 1000 * 2, 1.0)

    async def _cancel_tasks(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current and not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- the group protocol ---------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._wire.bootstrap()
            while not self._stopping:
                if not self._in_generation:
                    await self._join_and_sync()
                    continue
                if self._rejoin.is_set():
                    await self._revoke()
                    continue
                if self.paused or not self.assignment:
                    await self._idle()
                else:
                    await self._consume_once()
                if self._clock() - self._last_commit >= self.settings.commit_interval_ms / 1000:
                    await self._commit()
        except asyncio.CancelledError:
            raise
        except (KafkaToolError, AIOKafkaError, OSError) as exc:
            self.status = MemberStatus.FAILED
            self._observer.failed(self, f"{self.name}: {exc}")

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._rejoin.wait(), FETCH_WAIT_MS / 1000)

    async def _revoke(self) -> None:
        """Eager protocol: commit, give up every partition, then rejoin."""
        self.status = MemberStatus.REBALANCING
        with contextlib.suppress(KafkaToolError):
            await self._commit()
        self._previous = self.assignment
        self.assignment = ()
        self.positions = {}
        self._in_generation = False

    async def _join_and_sync(self) -> None:
        self.status = MemberStatus.JOINING if self.generation < 0 else MemberStatus.REBALANCING
        reason = self._rejoin_reason or f"{self.name} joins"
        self._rejoin.clear()
        self._rejoin_reason = ""
        if self.member_id:
            self._observer.joining(self)
        join = await self._wire.join(
            self.member_id,
            self.settings.session_timeout_ms,
            self.settings.rebalance_timeout_ms,
            self.settings.assignor,
            encode_subscription(self.settings.topic, self._previous),
            reason,
        )
        error = ErrorCode(join.error_code)
        if error == ErrorCode.member_id_required:
            self.member_id = join.member_id
            return
        if error == ErrorCode.unknown_member_id:
            self.member_id = ""
            return
        if error in COORDINATOR_NOT_READY:
            self._wire.coordinator = None
            await asyncio.sleep(_RETRY_S)
            return
        if error == ErrorCode.rebalance_in_progress:
            return
        raise_for(error, None, f"JoinGroup of {self.name}")
        self.member_id = join.member_id
        self.generation = join.generation_id
        self.leader_id = join.leader
        is_leader = join.leader == join.member_id
        everyone = [m.member_id for m in join.members] if is_leader else None
        self._observer.joined(self, everyone)
        assignments = await self._assignments(join) if is_leader else None
        sync = await self._wire.sync(
            self.generation,
            self.member_id,
            self.settings.assignor,
            {m: assignment(self.settings.topic, ps) for m, ps in (assignments or {}).items()},
        )
        if ErrorCode(sync.error_code) in _REJOIN_ERRORS:
            if ErrorCode(sync.error_code) == ErrorCode.unknown_member_id:
                self.member_id = ""
            return
        raise_for(sync.error_code, None, f"SyncGroup of {self.name}")
        self.assignment = tuple(partitions_of(sync.assignment, self.settings.topic))
        starts = await self._starting_offsets(self.assignment)
        self.positions = dict(starts)
        self._in_generation = True
        self._last_commit = self._clock()
        self.status = MemberStatus.PAUSED if self.paused else MemberStatus.RUNNING
        self._observer.assigned(self, assignments, starts)

    async def _assignments(self, join: Any) -> dict[str, list[int]]:
        await self._wire.refresh_metadata()
        count = self._wire.partition_count()
        subscriptions = {
            m.member_id: read_subscription(m.member_id, m.metadata, self.settings.topic)
            for m in join.members
        }
        return assign(self.settings.assignor, subscriptions, count)

    async def _heartbeats(self) -> None:
        interval = self.settings.heartbeat_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            if not self._in_generation or self._rejoin.is_set() or self._stopping:
                continue
            try:
                error = await self._wire.heartbeat(self.generation, self.member_id)
            except (KafkaToolError, AIOKafkaError, OSError):
                self._wire.coordinator = None
                continue
            if error == ErrorCode.none:
                continue
            if error in COORDINATOR_NOT_READY:
                self._wire.coordinator = None
                continue
            if error == ErrorCode.unknown_member_id:
                self.member_id = ""
            self._rejoin_reason = f"{self.name}: heartbeat answered {error.name.upper()}"
            self._rejoin.set()
            self._observer.rebalance_noticed(self, error.name.upper())

    # -- offsets ------------------------------------------------------------------------------

    async def _starting_offsets(self, partitions: tuple[int, ...]) -> dict[int, int]:
        """The group's committed offset of each partition; the earliest where there is none
        (auto.offset.reset=earliest)."""
        if not partitions:
            return {}
        starts = await self._wire.committed(list(partitions))
        self.committed = {p: o for p, o in starts.items() if p in partitions}
        missing = [p for p in partitions if p not in starts]
        if missing:
            starts.update(await self._wire.earliest(missing))
        return {p: starts[p] for p in partitions}

    async def _commit(self) -> None:
        self._last_commit = self._clock()
        offsets = {p: o for p, o in self.positions.items() if self.committed.get(p) != o}
        if not offsets or not self._in_generation:
            return
        errors = await self._wire.commit(self.generation, self.member_id, offsets, self.name)
        done: dict[int, int] = {}
        for partition, error in errors.items():
            if error == ErrorCode.none:
                done[partition] = offsets[partition]
            elif error in _REJOIN_ERRORS:
                self._rejoin_reason = f"{self.name}: commit answered {error.name.upper()}"
                self._rejoin.set()
        self.committed.update(done)
        if done:
            self._observer.committed(self, done)

    # -- fetching and processing ----------------------------------------------------------------

    async def _consume_once(self) -> None:
        wanted = [p for p in self.assignment if p in self.positions]
        by_node = self._wire.by_leader(wanted)
        if not by_node:
            await asyncio.sleep(_RETRY_S)
            return
        fetched = await asyncio.gather(
            *(self._wire.fetch(n, {p: self.positions[p] for p in ps}) for n, ps in by_node.items())
        )
        records = [r for rs, _ in fetched for r in rs]
        out_of_range = [p for _, ps in fetched for p in ps]
        if out_of_range:
            self.positions.update(await self._wire.earliest(out_of_range))
        for partition, offset in _interleaved(records, self._round_size()):
            if self._rejoin.is_set() or self.paused or self._stopping:
                return
            if partition not in self.positions or offset != self.positions[partition]:
                continue
            if self.processing_delay_ms > 0:
                await asyncio.sleep(self.processing_delay_ms / 1000)
            self.positions[partition] = offset + 1
            self.processed_count += 1
            self._observer.processed(self, partition, offset)

    def _round_size(self) -> int:
        """Records processed between two fetches: about half a second's worth, so commits,
        pauses and rebalances are never far away (the consumer's max.poll.records)."""
        if self.processing_delay_ms <= 0:
            return _MAX_ROUND
        return max(1, min(_MAX_ROUND, _ROUND_MS // self.processing_delay_ms))


def _interleaved(records: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Up to `limit` (partition, offset) pairs taking each partition in turn, in offset order
    within a partition, so that no partition waits behind another's backlog."""
    queues: dict[int, list[int]] = {}
    for partition, offset in sorted(records):
        queues.setdefault(partition, []).append(offset)
    out: list[tuple[int, int]] = []
    depth = 0
    while len(out) < limit and any(depth < len(q) for q in queues.values()):
        for partition, offsets in queues.items():
            if depth < len(offsets) and len(out) < limit:
                out.append((partition, offsets[depth]))
        depth += 1
    return out
