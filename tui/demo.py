"""`kwb demo rebalance`: the workbench on its Demo pane, telling the story of a consumer group.

Each step does one thing to the group (start consumers, add one, kill one, pause one, stop one
gracefully), says in a caption what to watch and why and waits until the group has got there;
tui/story.py plays the steps. Written for someone who has never used Kafka: every caption
names the thing on screen it is about.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from localbroker.public import GroupState

from .demo_app import DemoApp
from .kafka.demo_group import DemoGroup, DemoSettings
from .kafka.demo_status import MemberStatus
from .story import Step
from .widgets.demo_pane import DemoPane

Action = Callable[[DemoGroup], Awaitable[None]]
Condition = Callable[[DemoGroup], bool]


# -- conditions ---------------------------------------------------------------------------------


def _fed(demo: DemoGroup) -> bool:
    watcher = demo.watcher
    return watcher is not None and all(
        watcher.log_end.get(p, 0) > 0 for p in range(demo.partitions)
    )


def _stable_with(count: int) -> Condition:
    def check(demo: DemoGroup) -> bool:
        picture = demo.picture
        owned = {p for ps in picture.assignments.values() for p in ps}
        return (
            picture.state is GroupState.STABLE
            and len(picture.assignments) == count
            and owned == set(range(demo.partitions))
            and all(
                m.status in (MemberStatus.RUNNING, MemberStatus.PAUSED)
                for m in demo.roster.present()
            )
        )

    return check


def _caught_up(demo: DemoGroup) -> bool:
    """Every partition's owner is within a couple of records of the log end."""
    view = demo.view()
    return all(
        p.position is not None and p.log_end - p.position <= 2 and p.state == "consuming"
        for p in view.partitions
    )


def _drained(demo: DemoGroup) -> bool:
    view = demo.view()
    return bool(view.partitions) and view.total_lag == 0


def _expired(name: str) -> Condition:
    def check(demo: DemoGroup) -> bool:
        member = demo.roster.get(name)
        gone = member is not None and member.member_id not in demo.picture.members
        return gone and _stable_with(len(demo.roster.present()))(demo)

    return check


# -- actions ------------------------------------------------------------------------------------


def _add(count: int) -> Action:
    async def act(demo: DemoGroup) -> None:
        for _ in range(count):
            demo.add()

    return act


def _kill(name: str) -> Action:
    async def act(demo: DemoGroup) -> None:
        await demo.kill(name)

    return act


def _stop(name: str) -> Action:
    async def act(demo: DemoGroup) -> None:
        await demo.stop(name)

    return act


def _pause(name: str) -> Action:
    async def act(demo: DemoGroup) -> None:
        demo.pause(name)

    return act


async def _stop_producer(demo: DemoGroup) -> None:
    if demo.feeder is not None and demo.feeder.running:
        await demo.toggle_feeder()


def story(settings: DemoSettings) -> list[Step[DemoGroup]]:
    seconds = f"{settings.session_timeout_ms / 1000:g}"
    commit = f"{settings.commit_interval_ms / 1000:g}"
    return [
        Step(
            f"A topic is a log split into partitions. Topic {settings.topic} has"
            f" {settings.partitions} partitions (P0 to P{settings.partitions - 1}); a producer"
            " appends records to all of them. Each record gets the next offset of its partition.",
            until=_fed,
        ),
        Step(
            f"Three consumers join the consumer group {settings.group_id}. The group shares the"
            " partitions out: each partition is read by exactly one consumer of the group.",
            _add(3),
            _stable_with(3),
        ),
        Step(
            "Each consumer reads its partitions in order. Its position is the offset of the next"
            f" record to read; every {commit} s it commits that position to Kafka."
            " Lag = log end offset - committed offset.",
        ),
        Step(
            "A fourth consumer joins. The group rebalances: every consumer rejoins, the"
            " generation goes up and the partitions are shared out again.",
            _add(1),
            _stable_with(4),
        ),
        Step(
            "consumer-2 is killed: no goodbye, like kill -9 or a pulled cable. The broker still"
            " thinks it owns its partitions, so nobody reads them: they are orphaned and their"
            " lag grows.",
            _kill("consumer-2"),
        ),
        Step(
            f"No heartbeat for session.timeout.ms ({seconds} s): the broker expires consumer-2"
            " and rebalances. The others take over its partitions from its last committed"
            " offset, so the records it processed after that commit are processed again.",
            until=_expired("consumer-2"),
        ),
        Step(
            "The new owners catch up and the lag drains.",
            until=_caught_up,
        ),
        Step(
            "consumer-1 pauses. It keeps sending heartbeats, so it stays in the group and keeps"
            " its partitions (no rebalance), but processes nothing: its lag grows.",
            _pause("consumer-1"),
        ),
        Step(
            "consumer-1 resumes and catches up.",
            _pause("consumer-1"),
            _caught_up,
        ),
        Step(
            "consumer-3 stops gracefully: it commits, then says goodbye (LeaveGroup). The group"
            " rebalances at once, without waiting for a timeout, and nothing is processed twice.",
            _stop("consumer-3"),
            _expired("consumer-3"),
        ),
        Step(
            "The producer stops. Once every record is processed and committed, the lag is 0"
            " on every partition.",
            _stop_producer,
            _drained,
        ),
        Step(
            "That is a consumer group: partitions shared among consumers, offsets committed,"
            " and a rebalance whenever a consumer joins, leaves or dies. Press q to quit.",
        ),
    ]


class RebalanceDemoApp(DemoApp[DemoGroup, DemoSettings]):
    """The workbench that opens on the Demo pane and plays `story()`."""

    DEMO_PANE = "demo"

    def on_mount(self) -> None:
        super().on_mount()
        pane = self.query_one(DemoPane)
        pane.settings = self.demo_settings
        self.run_worker(self._play(pane), group="demo-story", exclusive=True)

    def show_caption(self, caption: str) -> None:
        self.query_one(DemoPane).caption = caption

    async def _play(self, pane: DemoPane) -> None:
        demo = await pane.begin()
        if demo is None:
            pane.caption = "The demo could not start (see the message). Press q to quit."
            return
        await self.tell(demo, story(self.demo_settings))
