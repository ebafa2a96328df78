"""`kwb demo failover` played through with short steps on a real local cluster of three
localbroker nodes: the leader of the demo partition killed with SIGKILL under an acks=all
producer and a consumer, the screen showing the leader move and the ISR shrink and grow, and
the ledger counting, by record id, no acknowledged record lost.

The brokers' session is short (3 s, heartbeats every 300 ms) so the controller fences the
killed leader quickly; the screen says so. Assertions read what the pane draws (its timeline
and ledger); the lost count is also read from the ledger's ids, which is what it draws.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import Static
from workbench_pilot import wait_until

from tui.failover import FailoverDemoApp, story
from tui.kafka.connection import from_properties
from tui.kafka.failover_demo import FailoverSettings
from tui.local_cluster import LocalCluster
from tui.profiles import DEFAULT_COLOURS, LOCAL_PROFILE, Profile
from tui.story import NEXT_HINT
from tui.widgets.demo_timeline import DemoTimeline
from tui.widgets.failover_pane import FailoverPane
from tui.workbench import Workbench

pytestmark = [pytest.mark.timeout(90), pytest.mark.xdist_group("cluster")]

SETTINGS = FailoverSettings(broker_session_timeout_ms=3000, broker_heartbeat_interval_ms=300)
STORY_TIMEOUT_S = 60.0
ISR_CHANGE = re.compile(rf"{SETTINGS.topic}-0 ISR \[([\d,]+)\] → \[([\d,]+)\]")


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[LocalCluster]:
    started = await LocalCluster.start(tmp_path / "cluster", 3, SETTINGS.broker_config)
    try:
        yield started
    finally:
        await started.close()


def failover_app(cluster: LocalCluster) -> FailoverDemoApp:
    workbench = Workbench(
        Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE]),
        from_properties(cluster.bootstrap, {}),
        cluster,
    )
    return FailoverDemoApp(workbench, SETTINGS, step_delay=0.1, watch_theme_files=False)


async def test_the_story_kills_the_leader_and_loses_no_acknowledged_record(
    cluster: LocalCluster,
) -> None:
    """The screen shows the leader move from the killed node, the ISR shrink without it and
    grow with it again, leadership go back to the preferred replica (the killed node, which
    led at the start), and lost 0.

    Mutation check: with kill_leader killing a follower instead, the leader never moves and
    this fails; with the consumer dropping every 50th record, lost is not 0 and it fails;
    with elect_preferred asking for nothing, the leader never goes back and it fails."""
    app = failover_app(cluster)
    steps = len(story(SETTINGS))
    seen: list[str] = []
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.query_one(FailoverPane)
        timeline = pane.query_one(DemoTimeline)
        ledger = pane.query_one("#failover-ledger", Static)

        def waiting_at(number: int) -> bool:
            """Step `number` done (its condition held): the caption asks for space."""
            seen.append(timeline.text.plain)
            caption = pane.caption
            return caption.startswith(f"{number}/{steps}") and caption.endswith(NEXT_HINT)

        for number in range(1, steps):
            await wait_until(pilot, lambda n=number: waiting_at(n), f"step {number}", 40)
            app.action_advance()
        await wait_until(pilot, lambda: app.teller.finished, "the last step", STORY_TIMEOUT_S)
        await wait_until(pilot, lambda: "lost      0" in str(ledger.render()), "lost 0 shown")

        demo = pane.engine
        assert demo is not None and demo.killed is not None
        killed = demo.killed
        shown = timeline.text.plain
        assert f"node {killed}, the partition's leader, killed with SIGKILL" in shown
        assert any(f"{SETTINGS.topic}-0 leader {killed} → " in text for text in seen), seen[-1]
        isr_changes = [
            (set(before.split(",")), set(after.split(",")))
            for before, after in ISR_CHANGE.findall("\n".join(seen))
        ]
        assert any(str(killed) in b and str(killed) not in a for b, a in isr_changes), shown
        assert any(str(killed) not in b and str(killed) in a for b, a in isr_changes), shown
        partition = demo.partition
        assert partition is not None and partition.replicas[0] == killed, partition
        assert f"node {killed} elected leader of {SETTINGS.topic}-0 again" in shown
        assert any(
            f"{SETTINGS.topic}-0 leader " in t and t.endswith(f"→ {killed}")
            for t in (e.text for e in demo.timeline)
        ), shown
        assert partition.leader == killed
        assert "broker.session.timeout.ms 3000" in str(
            pane.query_one("#failover-facts", Static).render()
        )
        tally = demo.ledger.tally()
        assert tally.lost == 0 and tally.acknowledged > 0
        assert tally.consumed >= tally.acknowledged, tally
        assert tally.duplicates == 0, tally
        await pilot.press("q")
