"""The workbench on Apache Kafka: `kwb --bootstrap-server` on the reference broker, each pane
driven with the keys and helpers of its own localbroker tests.

What Kafka does differently is what these look at: a KRaft node that is broker and
controller, hundreds of broker configs with sources localbroker never uses, topic configs
with cluster-wide defaults, `__consumer_offsets` created on the first group request (its
coordinator not ready for a few seconds), new partitions led a moment after Metadata names
their leaders, retention deleting old-stamped records, Kafka's own refusals word for word.
The Brokers pane, a topic made in the Topics pane's dialog, a record sent from the Produce
pane and seen in the Tail pane, and the Produce pane's unknown topic are checked on Kafka by
tests that run on both brokers (`cluster` fixtures: test_external_cluster.py,
test_brokers_pane.py, test_produce_pane.py). Every name here is this module's own (`kp-` and
a random part), since the session's Kafka is shared with other tests.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from group_members import Member, commit
from reference_kafka import ReferenceKafka, ReferenceUnavailable, reference_kafka, unavailable
from test_demo_pane import run_on_another_cluster, settings
from test_generator_pane import TOTAL, end_offsets, fill, number, read_records, rows
from test_generator_pane import open_pane as open_generators
from test_groups_pane import cell as group_cell
from test_groups_pane import committed, group_table, members, notified, produce, text_of
from test_tail_pane import SIZE as TAIL_SIZE
from test_tail_pane import create_topic, in_thread, start_tail, wait_received
from test_tail_pane import produce as produce_records
from test_topics_pane import (
    SIZE,
    cell,
    open_configs,
    open_topics,
    select,
    select_row,
    shown,
    type_in_turn,
)
from textual.widgets import DataTable, Input, Static
from waiting import wait_until as wait_for
from workbench_pilot import (
    external_app,
    press_until,
    screen_after,
    wait_connected,
    wait_focused,
    wait_until,
)

from localbroker.public import ConfigResourceType, ConfigSource
from tui.kafka.admin import KafkaAdmin
from tui.kafka.connection import from_properties
from tui.screens.add_partitions import AddPartitionsScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.create_topic import CreateTopicScreen
from tui.screens.delete_records import DeleteRecordsScreen
from tui.screens.group_detail import GroupDetailScreen
from tui.screens.offsets_view import OffsetsScreen
from tui.screens.reset_offsets import ResetOffsetsScreen
from tui.screens.topic_detail import TopicDetailScreen

pytestmark = pytest.mark.timeout(180)
__all__ = ["members"]  # the fixture, from test_groups_pane


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


# -- on the session's Kafka ---------------------------------------------------------------------


async def test_topics_configs_partitions_and_deletion(reference_kafka: ReferenceKafka) -> None:
    """A topic's configs on Kafka (defaults of the cluster shown as such, an override set,
    refused with Kafka's reason, removed), partitions added and a decrease refused, the
    detail, `__consumer_offsets` among the internal topics, and a deletion (Kafka's is
    asynchronous) followed at once by a topic of the same name made in the dialog."""
    name = unique("topic")
    async with KafkaAdmin(from_properties(reference_kafka.bootstrap, {})) as admin:
        await admin.create_topic(name, 2)
        await admin.commit_group_offsets(unique("group"), {(name, 0): 0})  # __consumer_offsets
    app = external_app(reference_kafka.bootstrap)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, name)
        await select(pilot, app, name)
        dialog, configs = await open_configs(pilot, app)
        assert configs.get_cell("retention.ms", "source") == "default"
        assert configs.get_cell("min.insync.replicas", "source") == "cluster"
        status = dialog.query_one("#configs-status", Static)
        value = dialog.query_one("#configs-value", Input)
        await select_row(pilot, configs, "retention.ms")

        async def enter_value(typed: str, outcome: Callable[[str], bool], what: str) -> None:
            await press_until(pilot, "enter", lambda: app.focused is value, "the value field")
            await press_until(pilot, [*typed, "enter"], lambda: outcome(str(status.render())), what)

        await enter_value("3600000", lambda said: "retention.ms = 3600000" in said, "set")
        assert configs.get_cell("retention.ms", "source") == "topic"
        await wait_until(pilot, lambda: app.focused is configs, "the table focused once set")
        refusal = "INVALID_CONFIG: Invalid value -7 for configuration retention.ms:"
        await enter_value("-7", lambda said: refusal in said, "Kafka's refusal")
        await press_until(pilot, "escape", lambda: app.focused is configs, "the value left")
        await pilot.press("x")
        await wait_until(pilot, lambda: "removed the override" in str(status.render()), "removal")
        assert configs.get_cell("retention.ms", "source") == "default"
        async with KafkaAdmin(from_properties(reference_kafka.bootstrap, {})) as admin:
            described = await admin.describe_configs(ConfigResourceType.TOPIC, name)
        assert [c.name for c in described if c.source == ConfigSource.DYNAMIC_TOPIC_CONFIG] == []
        await press_until(pilot, "escape", lambda: app.screen is not dialog, "closing")

        await screen_after(pilot, "p", AddPartitionsScreen, "the dialog")
        await wait_focused(pilot, "partitions-count")
        await pilot.press("backspace", "4", "enter")
        await wait_until(pilot, lambda: cell(app, name, "partitions") == "4", "4 partitions")
        adding = await screen_after(pilot, "p", AddPartitionsScreen, "the dialog")
        await wait_focused(pilot, "partitions-count")
        await pilot.press("backspace", "2", "enter")
        error = adding.query_one("#partitions-error", Static)
        await wait_until(pilot, lambda: "INVALID_PARTITIONS" in str(error.render()), "refusal")
        await press_until(pilot, "escape", lambda: app.screen is not adding, "closing")

        detail = await screen_after(pilot, "enter", TopicDetailScreen, "the detail")
        partitions = detail.query_one("#detail-partitions", DataTable)
        await wait_until(pilot, lambda: partitions.row_count == 4, "four partitions")
        # partition, leader, replicas, ISR: Kafka's node 1
        assert [str(c) for c in partitions.get_row("0")][:4] == ["0", "1", "1", "1"]
        await press_until(pilot, "escape", lambda: app.screen is not detail, "closing")

        facts = app.query_one("#topics-facts", Static)
        await press_until(pilot, "i", lambda: "internal shown" in str(facts.render()), "shown")
        assert "__consumer_offsets" in shown(app)
        await press_until(pilot, "i", lambda: "internal hidden" in str(facts.render()), "hidden")

        await select(pilot, app, name)
        await screen_after(pilot, "d", ConfirmScreen, "the question")
        await wait_focused(pilot, "confirm-typed")
        await pilot.press(*name, "enter")
        await wait_until(pilot, lambda: name not in shown(app), "the topic to go")
        creating = await screen_after(pilot, "c", CreateTopicScreen, "the dialog")
        await type_in_turn(pilot, name, "3")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is not creating, "the dialog closed")
        await wait_until(pilot, lambda: cell(app, name, "partitions") == "3", "the new topic")


async def test_groups_lag_reset_offsets_view_and_deletion(
    reference_kafka: ReferenceKafka, members: Callable[..., Member]
) -> None:
    """A confluent-kafka consumer's group on Kafka: its lag in the list and the detail, a
    reset refused with Kafka's reason while it is active and done once it has left, the
    offsets view deleting records, then the group deleted (its name typed: another
    cluster)."""
    bootstrap = reference_kafka.bootstrap
    topic, group = unique("orders"), unique("orders-app")
    async with KafkaAdmin(from_properties(bootstrap, {})) as admin:
        await admin.create_topic(topic, 3)
    await asyncio.to_thread(produce, bootstrap, topic, {0: 10, 1: 20, 2: 30})
    member = await asyncio.to_thread(members, "confluent", "consumer-a", bootstrap, group, [topic])
    wait_for(lambda: len(member.tps) == 3, "the member to own every partition")
    await asyncio.to_thread(commit, member, topic, {0: 4, 1: 20, 2: 25})
    app = external_app(bootstrap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        await pilot.press("5")
        table = group_table(app)
        await wait_until(pilot, lambda: group_cell(table, group, "lag") == "11", "lag 11")
        assert group_cell(table, group, "state") == "Stable"
        await wait_until(pilot, lambda: app.focused is table, "the group list focused")
        await select_row(pilot, table, group)

        detail = await screen_after(pilot, "enter", GroupDetailScreen, "the detail")
        partitions = detail.query_one("#group-partitions", DataTable)
        await wait_until(pilot, lambda: partitions.row_count == 3, "three partitions")
        lags = [group_cell(partitions, f"{topic}-{p}", "lag") for p in range(3)]
        assert lags == ["6", "0", "5"]
        summary = text_of(detail, "#group-summary")
        assert "Stable" in summary and "1 member(s)" in summary and "total lag 11" in summary
        await press_until(pilot, "escape", lambda: app.screen is not detail, "closing")

        dialog = await screen_after(pilot, "r", ResetOffsetsScreen, "the dialog")
        preview = dialog.query_one("#reset-preview", DataTable)
        await pilot.press("ctrl+r")  # a dry run to the earliest offsets
        await wait_until(pilot, lambda: preview.row_count == 3, "the dry run")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: "Refused" in text_of(dialog, "#reset-status"), "refusal")
        assert (
            f"Assignments can only be reset if the group '{group}' is inactive, but the"
            " current state is Stable." in text_of(dialog, "#reset-status")
        )
        await asyncio.to_thread(member.stop)
        await press_until(
            pilot,
            "ctrl+r",
            lambda: "no members" in text_of(dialog, "#reset-state"),
            "a dry run of the empty group",
        )
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: app.screen is not dialog, "the dialog to close")
        assert await asyncio.to_thread(committed, bootstrap, group) == {
            (topic, p): 0 for p in range(3)
        }
        await wait_until(pilot, lambda: group_cell(table, group, "lag") == "60", "lag 60")

        view = await screen_after(pilot, "o", OffsetsScreen, "the view")
        await wait_until(pilot, lambda: view.offsets is not None, "the offsets read")
        await screen_after(pilot, "x", DeleteRecordsScreen, "the prompt")
        await pilot.press("ctrl+a", "ctrl+k", "3", "enter")
        await wait_until(
            pilot, lambda: notified(app, f"{topic}-0: records before 3 deleted"), "the deletion"
        )
        await wait_until(
            pilot, lambda: "3 records deleted since opened" in text_of(view, "#offsets-facts"), "3"
        )
        await press_until(pilot, "escape", lambda: app.screen is not view, "closing")

        await screen_after(pilot, "d", ConfirmScreen, "the question")
        await wait_focused(pilot, "confirm-typed")
        await pilot.press(*group, "enter")
        await wait_until(pilot, lambda: group not in table.keys, "the group gone from the list")
    assert await asyncio.to_thread(committed, bootstrap, group) == {}


async def test_a_generator_on_a_topic_just_created(reference_kafka: ReferenceKafka) -> None:
    """Made and started at once, as a user does on a new cluster: Kafka's producer meets a
    topic its broker may not know yet. What the pane says was sent is what Kafka holds."""
    bootstrap, topic = reference_kafka.bootstrap, unique("clicks")
    app = external_app(bootstrap)
    async with app.run_test(size=SIZE) as pilot:
        await open_generators(pilot, app, (topic, 3))
        await fill(pilot, app, topic=topic, rate="500", template="json", keys="distinct")
        await wait_until(pilot, lambda: len(rows(app)) == 1, "the generator in the table")
        await wait_until(pilot, lambda: number(rows(app)[0]["sent"]) >= 300, "300 records sent")
        app.query_one("#gen-table").focus()
        await pilot.press("x")
        await wait_until(pilot, lambda: rows(app)[0]["state"] == "stopped", "the stop")
        final = TOTAL.fullmatch(str(app.query_one("#gen-totals", Static).render()))
        assert final is not None
        sent = int(final.group(1))
    assert await asyncio.to_thread(end_offsets, bootstrap, topic, 3) == sent
    records = await asyncio.to_thread(read_records, bootstrap, topic, 3, sent)
    assert len(records) == sent
    assert all("seq" in json.loads(r.value()) for r in records)  # type: ignore[attr-defined]


async def test_tail_start_positions(reference_kafka: ReferenceKafka) -> None:
    """Each way to start a tail, answered by Kafka's ListOffsets (by timestamp too). The
    records are stamped a minute ago, not at a fixed date: Kafka deletes a segment whose
    newest record is older than retention.ms (7 days) a few minutes after it starts."""
    bootstrap, topic = reference_kafka.bootstrap, unique("positions")
    base = int(time.time() * 1000) - 60_000
    await in_thread(create_topic, bootstrap, topic, 1)
    sent = [{"value": f"v{i}".encode(), "timestamp": base + i * 1000} for i in range(30)]
    await in_thread(produce_records, bootstrap, topic, sent)
    app = external_app(bootstrap)
    async with app.run_test(size=TAIL_SIZE) as pilot:
        await wait_connected(pilot, app)

        async def first_offset(mode: str, value: str, expected: int) -> int:
            pane = await start_tail(pilot, app, topic, mode, value)
            await wait_received(pilot, pane, expected)
            assert pane.ring.total == expected
            return pane.ring.records()[0].offset

        assert await first_offset("beginning", "", 30) == 0
        assert await first_offset("offset", "12", 18) == 12
        assert await first_offset("timestamp", str(base + 20_500), 9) == 21
        assert await first_offset("last", "5", 5) == 25
