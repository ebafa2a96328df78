"""The rebalance and offsets demo: N simulated consumers in one group, a producer feeding their
topic, and one picture of the group built from its events, all on the caller's event loop.

Presenter operations: `add()` a consumer, `stop()` one gracefully (LeaveGroup), `kill()` one
without a goodbye (the broker expires it after session.timeout.ms), `pause()` one (it keeps
heartbeating, so it stays in the group while its lag grows), change its processing delay, and
start or stop the feeder. The members are DemoMembers (see demo_member.py for why they speak
the group protocol themselves rather than through AIOKafkaConsumer).

Where the group's events come from:
- on the embedded localbroker, from its GroupCoordinator (`tap`): the broker's own account of
  joins, leaves, session expiries and generations. Those events arrive on the broker's thread;
  they are queued and handed to this loop in one batch (`call_soon_threadsafe`), so a burst of
  commits costs one wake-up;
- on any other cluster, from the client side (demo_client_events.py): the members know when they
  join, what the leader assigned in each generation, what they commit and when they leave,
  and report the same event types. A killed member's expiry is inferred when a generation
  completes without it.
Either way `GroupPicture` (demo_events.py) applies the one stream, and `view()` turns it,
with the members' positions and the log's offsets, into what the pane draws.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from kio.schema.errors import ErrorCode

from localbroker.public import GroupEvent

from .admin import KafkaAdmin
from .connection import Connection
from .demo_client_events import ClientSideEvents
from .demo_events import GroupPicture, wall_ms
from .demo_feed import Feeder, LogWatcher
from .demo_member import DemoMember, MemberSettings
from .demo_view import DemoView, build_view
from .errors import KafkaToolError

EventTap = Callable[[Callable[[GroupEvent], None]], Callable[[], None]]
"""Subscribes a listener to the broker's group events, which may call it on another thread;
returns the function that unsubscribes."""

_CLOSE_TIMEOUT_S = 5.0
MIN_DELAY_MS, MAX_DELAY_MS = 0, 2000


@dataclass(slots=True)
class DemoSettings(MemberSettings):
    """The members' settings (every consumer starts with them) and the demo's own."""

    partitions: int = 6
    consumers: int = 3
    feed_rate: float = 20.0
    """Records a second over all partitions."""
    poll_interval_ms: int = 500


@dataclass(slots=True)
class PartitionLedger:
    """What was processed of one partition over the whole demo: the highest offset, and how
    many records were processed twice (after a takeover) or skipped (never: a test checks)."""

    highest: int | None = None
    reprocessed: int = 0
    skipped: int = 0

    def processed(self, offset: int) -> None:
        if self.highest is None:
            self.highest = offset
        elif offset <= self.highest:
            self.reprocessed += 1
        else:
            self.skipped += offset - self.highest - 1
            self.highest = offset


@dataclass(frozen=True, slots=True)
class Resumption:
    """A partition taken over by a new owner, and the committed offset it started from."""

    partition: int
    generation: int
    owner: str
    offset: int
    previous_owner: str | None


class DemoGroup:
    """The demo's engine. `await start()`, then operate; `await close()` leaves cleanly."""

    def __init__(
        self, connection: Connection, settings: DemoSettings, tap: EventTap | None = None
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.source = "broker" if tap is not None else "client"
        self.picture = GroupPicture(settings.group_id, settings.topic)
        self.members: dict[str, DemoMember] = {}
        self.ledger: dict[int, PartitionLedger] = {}
        self.resumptions: list[Resumption] = []
        self.errors: deque[str] = deque(maxlen=20)
        self.started_ms = wall_ms()
        self.running = False
        self.partitions = settings.partitions
        self.version = 0
        """Bumped on every change a view may want to redraw for."""
        self._tap = tap
        self._untap: Callable[[], None] | None = None
        self._admin: KafkaAdmin | None = None
        self.feeder: Feeder | None = None
        self.watcher: LogWatcher | None = None
        self._holders: dict[int, str] = {}
        self._numbered = 0
        self._pending: list[GroupEvent] = []
        self._pending_lock = threading.Lock()
        self._drain_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client_side = ClientSideEvents(self)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the topic (or use it as it is), start the feeder and the first consumers."""
        self._loop = asyncio.get_running_loop()
        self.started_ms = wall_ms()
        admin = KafkaAdmin(self.connection)
        await admin.__aenter__()
        self._admin = admin
        try:
            self.partitions = await self._ensure_topic(admin)
            await self._read_committed(admin)
            if self._tap is not None:
                self._untap = self._tap(self._from_broker)
            self.watcher = LogWatcher(
                admin,
                self.settings.topic,
                self.partitions,
                self.settings.poll_interval_ms / 1000,
                self._polled,
                self.report_error,
            )
            await self.watcher.poll()
            self.watcher.start()
            self.feeder = Feeder(
                self.connection,
                self.settings.topic,
                self.partitions,
                self.settings.feed_rate,
                self.report_error,
            )
            await self.feeder.start()
        except BaseException:
            await self.close()
            raise
        self.running = True
        self.picture.note(
            self.started_ms,
            "action",
            f"demo starts: topic {self.settings.topic} ({self.partitions} partitions),"
            f" group {self.settings.group_id}, session.timeout.ms"
            f" {self.settings.session_timeout_ms}, {self.settings.assignor} assignor",
        )
        for _ in range(self.settings.consumers):
            self.add()

    async def close(self) -> None:
        """Stop every consumer gracefully, then the feeder and the watcher."""
        self.running = False
        live = [m for m in self.members.values() if m.status not in ("left", "killed", "failed")]
        if live:
            await asyncio.wait(
                [asyncio.create_task(m.stop()) for m in live], timeout=_CLOSE_TIMEOUT_S
            )
        for member in self.members.values():
            if member.status not in ("left", "killed", "failed"):
                await member.kill()
        if self.feeder is not None:
            await self.feeder.close()
        if self.watcher is not None:
            await self.watcher.close()
        if self._untap is not None:
            self._untap()
            self._untap = None
        if self._admin is not None:
            await self._admin.__aexit__(None, None, None)
            self._admin = None

    async def _ensure_topic(self, admin: KafkaAdmin) -> int:
        try:
            await admin.create_topic(self.settings.topic, self.settings.partitions)
        except KafkaToolError as exc:
            if exc.code != ErrorCode.topic_already_exists:
                raise
        for _ in range(50):  # a new topic's leaders take a moment to be known
            (topic,) = await admin.topics([self.settings.topic])
            if topic.partitions and all(p.leader >= 0 for p in topic.partitions):
                return len(topic.partitions)
            await asyncio.sleep(0.1)
        raise KafkaToolError(f"topic {self.settings.topic} has no leaders")

    async def _read_committed(self, admin: KafkaAdmin) -> None:
        """Offsets committed before this demo started (a second run continues from them)."""
        try:
            offsets = await admin.group_offsets(self.settings.group_id)
        except KafkaToolError:
            return
        for (topic, partition), committed in offsets.items():
            if topic == self.settings.topic:
                self.picture.committed[partition] = committed.offset

    # -- presenter operations -----------------------------------------------------------------

    def add(self) -> DemoMember:
        """A new consumer joins the group (which rebalances to give it partitions)."""
        self._numbered += 1
        name = f"consumer-{self._numbered}"
        member = DemoMember(name, self.connection, self.settings, self._client_side)
        self.members[name] = member
        self._action(f"{name} starts and asks to join {self.settings.group_id}")
        member.start()
        return member

    async def stop(self, name: str) -> None:
        member = self._live(name)
        if member is None:
            return
        self._action(f"{name} shuts down gracefully: commits, then sends LeaveGroup")
        await member.stop()

    async def kill(self, name: str) -> None:
        member = self._live(name)
        if member is None:
            return
        seconds = self.settings.session_timeout_ms / 1000
        self._action(
            f"{name} killed: no LeaveGroup, no last commit. The broker notices only when"
            f" session.timeout.ms ({seconds:g} s) passes without a heartbeat"
        )
        await member.kill()

    def pause(self, name: str) -> bool | None:
        """Pause or resume; the new paused state, None if there is no such live member."""
        member = self._live(name)
        if member is None:
            return None
        member.pause(not member.paused)
        if member.paused:
            self._action(f"{name} paused: still heartbeating, so it keeps its partitions")
        else:
            self._action(f"{name} resumes processing")
        return member.paused

    def set_delay(self, name: str, delay_ms: int) -> None:
        member = self._live(name)
        if member is not None:
            member.processing_delay_ms = max(MIN_DELAY_MS, min(MAX_DELAY_MS, delay_ms))
            self.version += 1

    async def toggle_feeder(self) -> bool:
        """Start or stop the producer; whether it now runs."""
        if self.feeder is None:
            return False
        if self.feeder.running:
            await self.feeder.pause()
            self._action("producer stopped")
        else:
            self.feeder.resume()
            self._action(f"producer restarted ({self.feeder.rate:g} records/s)")
        return self.feeder.running

    def _live(self, name: str) -> DemoMember | None:
        member = self.members.get(name)
        if member is None or member.status in ("left", "killed", "failed", "stopping"):
            return None
        return member

    def _action(self, text: str) -> None:
        self.picture.note(wall_ms(), "action", text)
        self.version += 1

    def report_error(self, message: str) -> None:
        self.errors.append(message)
        self.version += 1

    # -- events -----------------------------------------------------------------------------

    def apply(self, event: GroupEvent) -> None:
        self.picture.apply(event)
        self.version += 1

    def _from_broker(self, event: GroupEvent) -> None:
        """Called on the broker's thread: queue, and wake this loop once per batch."""
        if event.group_id != self.settings.group_id or self._loop is None:
            return
        with self._pending_lock:
            self._pending.append(event)
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody watches any more
            self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._pending_lock:
            events, self._pending = self._pending, []
            self._drain_scheduled = False
        for event in events:
            self.apply(event)

    def _polled(self) -> None:
        watcher = self.watcher
        if watcher is None:
            return
        for partition, history in watcher.lag_history.items():
            end = watcher.log_end.get(partition)
            if end is None:
                continue
            committed = self.picture.committed.get(partition, watcher.log_start.get(partition, 0))
            history.append(max(end - committed, 0))
        self.version += 1

    # -- what the members report (both sources) -----------------------------------------------

    def record_processed(self, partition: int, offset: int) -> None:
        self.ledger.setdefault(partition, PartitionLedger()).processed(offset)

    def record_assigned(self, member: DemoMember, starts: dict[int, int]) -> None:
        """Say where the member starts each partition it did not hold: a takeover on a line
        of its own (the offset it resumes from is the lesson), first starts on one line."""
        first: list[str] = []
        for partition, offset in sorted(starts.items()):
            previous = self._holders.get(partition)
            self._holders[partition] = member.name
            if previous == member.name:
                continue
            self.resumptions.append(
                Resumption(partition, member.generation, member.name, offset, previous)
            )
            if previous is None:
                first.append(f"P{partition} at offset {offset}")
                continue
            self.picture.note(
                wall_ms(),
                "resume",
                f"{member.name} takes over P{partition} from {previous} at offset {offset},"
                " the group's last committed offset",
            )
        if first:
            self.picture.note(wall_ms(), "resume", f"{member.name} starts {', '.join(first)}")
        self.version += 1

    # -- for the view --------------------------------------------------------------------------

    def view(self, now: float | None = None) -> DemoView:
        return build_view(self, time.monotonic() if now is None else now)

    @property
    def reprocessed(self) -> int:
        return sum(entry.reprocessed for entry in self.ledger.values())

    @property
    def skipped(self) -> int:
        return sum(entry.skipped for entry in self.ledger.values())
