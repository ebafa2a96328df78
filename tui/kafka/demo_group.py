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

The engine owns the parts and wires them; each stands alone: the roster of members
(demo_roster.py), the ledger of processed offsets (demo_ledger.py), the client-side events
(demo_client_events.py) and the view (demo_view.build_view, from explicit inputs). The
members report to the engine (it is their MemberObserver), which hands each report on.
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
from .demo_ledger import DemoLedger
from .demo_member import DemoMember, MemberSettings
from .demo_roster import Roster
from .demo_view import DemoView, RunFacts, build_view
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


class DemoGroup:
    """The demo's engine. `await start()`, then operate; `await close()` leaves cleanly."""

    def __init__(
        self, connection: Connection, settings: DemoSettings, tap: EventTap | None = None
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.source = "broker" if tap is not None else "client"
        self.picture = GroupPicture(settings.group_id, settings.topic)
        self.roster = Roster()
        self.ledger = DemoLedger(self.picture.note)
        self.errors: deque[str] = deque(maxlen=20)
        self.started_ms = wall_ms()
        self.running = False
        self.partitions = settings.partitions
        self._tap = tap
        self._untap: Callable[[], None] | None = None
        self._admin: KafkaAdmin | None = None
        self.feeder: Feeder | None = None
        self.watcher: LogWatcher | None = None
        self._pending: list[GroupEvent] = []
        self._pending_lock = threading.Lock()
        self._drain_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client_side = (
            ClientSideEvents(settings, self.picture, self.roster, self.apply)
            if tap is None
            else None
        )
        """The group's events as the members see them; None where the broker tells them."""

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
        present = self.roster.present()
        if present:
            await asyncio.wait(
                [asyncio.create_task(m.stop()) for m in present], timeout=_CLOSE_TIMEOUT_S
            )
        for member in self.roster.present():
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
        name = self.roster.next_name()
        member = DemoMember(name, self.connection, self.settings, self)
        self.roster.add(member)
        self._action(f"{name} starts and asks to join {self.settings.group_id}")
        member.start()
        return member

    async def stop(self, name: str) -> None:
        member = self.roster.taking_orders(name)
        if member is None:
            return
        self._action(f"{name} shuts down gracefully: commits, then sends LeaveGroup")
        await member.stop()

    async def kill(self, name: str) -> None:
        member = self.roster.taking_orders(name)
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
        member = self.roster.taking_orders(name)
        if member is None:
            return None
        member.pause(not member.paused)
        if member.paused:
            self._action(f"{name} paused: still heartbeating, so it keeps its partitions")
        else:
            self._action(f"{name} resumes processing")
        return member.paused

    def set_delay(self, name: str, delay_ms: int) -> None:
        member = self.roster.taking_orders(name)
        if member is not None:
            member.processing_delay_ms = max(MIN_DELAY_MS, min(MAX_DELAY_MS, delay_ms))

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

    def _action(self, text: str) -> None:
        self.picture.note(wall_ms(), "action", text)

    def report_error(self, message: str) -> None:
        self.errors.append(message)

    # -- events -----------------------------------------------------------------------------

    def apply(self, event: GroupEvent) -> None:
        self.picture.apply(event)

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

    # -- what the members report (MemberObserver) ------------------------------------------

    def joining(self, member: DemoMember) -> None:
        if self._client_side is not None:
            self._client_side.joining(member)

    def rebalance_noticed(self, member: DemoMember, reason: str) -> None:
        if self._client_side is not None:
            self._client_side.rebalance_noticed(member, reason)

    def joined(self, member: DemoMember, members: list[str] | None) -> None:
        if self._client_side is not None and members is not None:
            self._client_side.joined(members)

    def assigned(
        self, member: DemoMember, assignments: dict[str, list[int]] | None, starts: dict[int, int]
    ) -> None:
        if self._client_side is not None and assignments is not None:
            self._client_side.assigned(member, assignments)
        self.ledger.assigned(member.name, member.generation, starts)

    def processed(self, member: DemoMember, partition: int, offset: int) -> None:
        self.ledger.processed(partition, offset)

    def committed(self, member: DemoMember, offsets: dict[int, int]) -> None:
        if self._client_side is not None:
            self._client_side.committed(member, offsets)

    def left(self, member: DemoMember) -> None:
        if self._client_side is not None:
            self._client_side.left(member)

    def failed(self, member: DemoMember, message: str) -> None:
        self.report_error(message)

    # -- for the view --------------------------------------------------------------------------

    def view(self, now: float | None = None) -> DemoView:
        feeder = self.feeder
        run = RunFacts(
            self.settings.group_id,
            self.settings.topic,
            self.partitions,
            self.settings.session_timeout_ms,
            self.source,
            self.started_ms,
            feeder.rate if feeder is not None and feeder.running else None,
            self.ledger.reprocessed,
            self.running,
        )
        at = time.monotonic() if now is None else now
        return build_view(run, self.picture, self.roster, self.watcher, at)

    @property
    def reprocessed(self) -> int:
        return self.ledger.reprocessed

    @property
    def skipped(self) -> int:
        return self.ledger.skipped
