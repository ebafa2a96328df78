"""The workbench on Apache Kafka: `kwb --bootstrap-server` on the reference broker, each pane
driven with the keys and helpers of its own localbroker tests.

What Kafka does differently is what these look at: a KRaft node that is broker and
controller, hundreds of broker configs with sources localbroker never uses, topic configs
with cluster-wide defaults, `__consumer_offsets` created on the first group request (its
coordinator not ready for a few seconds), Kafka's own refusals word for word. The Brokers
pane, the Tail and Produce panes and a topic made in the Topics pane's dialog are checked on
Kafka by tests that run on both brokers (test_external_cluster.py, test_brokers_pane.py,
test_tail_pane.py, test_produce_pane.py). Every name here is this module's own (`kp-` and a
random part), since the session's Kafka is shared with other tests.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from reference_kafka import ReferenceUnavailable, reference_kafka, unavailable
from test_demo_pane import run_on_another_cluster, settings
from workbench_pilot import external_app

from tui.kafka.admin import KafkaAdmin
from tui.kafka.connection import from_properties

pytestmark = pytest.mark.timeout(180)


def unique(what: str) -> str:
    return f"kp-{what}-{uuid.uuid4().hex[:8]}"


async def test_on_a_cluster_just_started_groups_wait_for_their_coordinator(
    tmp_path: Path,
) -> None:
    """A Kafka of its own, with no `__consumer_offsets` yet: the first group requests find no
    coordinator (COORDINATOR_NOT_AVAILABLE, then NOT_COORDINATOR for a few seconds) and
    are retried, as Kafka's clients retry them. The demo's consumers join and a reset's
    commit (what the Groups pane's reset dialog sends) lands, both at once on the new
    cluster; the demo then goes through a takeover with Kafka's own session timeout."""
    try:
        started = reference_kafka(tmp_path / "kafka")
        kafka = started.__enter__()
    except ReferenceUnavailable as exc:
        unavailable(exc)
    try:
        topic, group = unique("reset"), unique("reset-group")
        async with KafkaAdmin(from_properties(kafka.bootstrap, {})) as admin:
            await admin.create_topic(topic, 2)

            async def reset() -> None:
                await admin.commit_group_offsets(group, {(topic, 0): 0, (topic, 1): 0})

            demo = settings(
                session_timeout_ms=6000,  # group.min.session.timeout.ms's default
                group_id=unique("demo-group"),
                topic=unique("demo-orders"),
            )
            app = external_app(kafka.bootstrap)
            await asyncio.gather(run_on_another_cluster(app, demo), reset())
            assert {tp: c.offset for tp, c in (await admin.group_offsets(group)).items()} == {
                (topic, 0): 0,
                (topic, 1): 0,
            }
    finally:
        started.__exit__(None, None, None)
