"""The Topics pane, driven with keys through Pilot against a real embedded localbroker.

Each test checks what the pane shows and what the broker holds afterwards (its state, read on
the broker's own loop), and produces with confluent-kafka where records are needed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Static, TabbedContent, TextArea
from workbench_pilot import (
    busy_said,
    press_until,
    screen_after,
    wait_connected,
    wait_focused,
    wait_until,
    workbench_app,
)

from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker, free_port
from tui.kafka.connection import from_properties
from tui.profiles import Profile, save_profiles
from tui.screens.add_partitions import AddPartitionsScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.create_topic import CreateTopicScreen
from tui.screens.edit_configs import EditConfigsScreen
from tui.screens.profiles import ProfilesScreen
from tui.screens.record_detail import RecordDetailScreen
from tui.screens.topic_detail import TopicDetailScreen
from tui.widgets.list_table import ListTable
from tui.widgets.table_sync import cursor_key
from tui.workbench import Workbench

pytestmark = pytest.mark.timeout(90)
SIZE = (120, 36)


# -- helpers ---------------------------------------------------------------------------------


def create(embedded: EmbeddedBroker, name: str, partitions: int = 1) -> None:
    embedded.call(lambda: embedded.state.create_topic(name, partitions))


def topic_configs(embedded: EmbeddedBroker, name: str) -> dict[str, str]:
    return embedded.call(lambda: dict(embedded.state.topics[name].configs))


def topic_names(embedded: EmbeddedBroker) -> set[str]:
    return embedded.call(lambda: set(embedded.state.topics))


def produce(bootstrap: str, topic: str, count: int, partition: int = 0) -> None:
    """`count` records to one partition, acknowledged (acks=all) before returning."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for i in range(count):
        producer.produce(topic, key=f"k{i}".encode(), value=b"v" * 64, partition=partition)
    assert producer.flush(15) == 0, "records were not acknowledged"


async def produced(embedded: EmbeddedBroker, topic: str, count: int, partition: int = 0) -> None:
    await asyncio.to_thread(produce, embedded.bootstrap, topic, count, partition)


def table(app: WorkbenchApp) -> ListTable:
    return app.query_one("#topic-list", ListTable)


def shown(app: WorkbenchApp) -> list[str]:
    return table(app).keys


def cell(app: WorkbenchApp, topic: str, column: str) -> str:
    return str(table(app).cell(topic, column))


def status_text(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


def external_app(embedded: EmbeddedBroker) -> WorkbenchApp:
    """The app as `kwb --bootstrap-server` starts it: a cluster it did not start itself."""
    workbench = Workbench(
        Profile("staging", None, "yellow"), from_properties(embedded.bootstrap, {}), None
    )
    return WorkbenchApp(workbench, watch_theme_files=False)


async def open_topics(pilot: Pilot[None], app: WorkbenchApp, *expected: str) -> None:
    """Go to the Topics pane and wait until it lists `expected` (at least)."""
    await wait_connected(pilot, app)
    await pilot.press("2")
    await wait_until(pilot, lambda: set(expected) <= set(shown(app)), f"topics {expected}")
    await wait_until(pilot, lambda: app.focused is table(app), "the topic list focused")


async def open_configs(
    pilot: Pilot[None], app: WorkbenchApp
) -> tuple[EditConfigsScreen, DataTable[object]]:
    """`e` on the topic under the cursor: the configs dialog and its table, once it lists
    the topic's configs."""
    dialog = await screen_after(pilot, "e", EditConfigsScreen, "the dialog")
    configs = dialog.query_one("#configs-table", DataTable)
    await wait_until(pilot, lambda: configs.row_count > 20, "the topic's configs")
    return dialog, configs


async def set_by_name(
    pilot: Pilot[None], app: WorkbenchApp, line: str
) -> tuple[EditConfigsScreen, Static]:
    """`e`, then `a` and `line` typed with enter: the dialog and its status line."""
    dialog, _ = await open_configs(pilot, app)
    status = dialog.query_one("#configs-status", Static)
    value = dialog.query_one("#configs-value", Input)
    await press_until(pilot, "a", lambda: app.focused is value, "the name=value field")
    await pilot.press(*line, "enter")
    return dialog, status


async def select(pilot: Pilot[None], app: WorkbenchApp, topic: str) -> None:
    """Move the topic list's cursor onto `topic` with the arrow keys."""
    await select_row(pilot, table(app), topic)


async def select_row(pilot: Pilot[None], rows: DataTable[object] | ListTable, key: str) -> None:
    """Move a focused table's cursor onto the row `key` with the arrow keys, one row at a
    time: each key's move is waited for before the next key, else a key still on its way
    when the cursor is read would overshoot."""
    lists = isinstance(rows, ListTable)
    for _ in range(rows.row_count):
        target = rows.keys.index(key) if lists else rows.get_row_index(key)
        row = rows.cursor_row
        if row == target:
            break
        await press_until(
            pilot, "down" if row < target else "up", lambda r=row: rows.cursor_row != r, "a move"
        )
    assert (rows.cursor_key if lists else cursor_key(rows)) == key


async def type_into(pilot: Pilot[None], widget: Input, text: str) -> None:
    """Replace an Input's text by typing, as a user would after selecting it all."""
    widget.focus()
    await pilot.pause()
    widget.select_all()
    await pilot.press("backspace", *text)


CREATE_FIELDS = ("create-name", "create-partitions", "create-replication", "create-configs")


async def type_in_turn(pilot: Pilot[None], *texts: str) -> None:
    """Type `texts` into the create dialog's fields in turn with tab between them, as a user
    does, each once its field has the focus: the dialog focuses its first field a moment
    after it opens and tab moves the focus a moment after the key, so keys sent in one go
    could reach the field before."""
    for index, text in enumerate(texts):
        if index:
            await pilot.press("tab")
        await wait_focused(pilot, CREATE_FIELDS[index])
        await pilot.press(*text)


# -- the list ----------------------------------------------------------------------------------


async def test_create_topic_through_the_dialog(embedded: EmbeddedBroker) -> None:
    create(embedded, "aaa")
    create(embedded, "zzz")
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "aaa", "zzz")
        await screen_after(pilot, "c", CreateTopicScreen, "the dialog")
        await type_in_turn(pilot, "orders", "3", "1", "retention.ms=3600000")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, CreateTopicScreen), "closing")
        await wait_until(pilot, lambda: "orders" in shown(app), "the new topic in the list")
        assert shown(app) == ["aaa", "orders", "zzz"]
        assert table(app).cursor_key == "orders", "the new topic is selected"
        assert cell(app, "orders", "partitions") == "3"
        assert cell(app, "orders", "replication") == "1"
    assert embedded.call(lambda: embedded.state.topics["orders"].partitions) == 3
    assert topic_configs(embedded, "orders") == {"retention.ms": "3600000"}


async def test_refused_replication_factor_keeps_the_dialog_open(embedded: EmbeddedBroker) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        # The pane's keys work once the focus is in it (it moves a moment after the key).
        await press_until(pilot, "2", lambda: app.focused is table(app), "the topic list")
        dialog = await screen_after(pilot, "n", CreateTopicScreen, "the dialog")
        await type_in_turn(pilot, "events", "2", "3")
        await pilot.press("enter")
        error = dialog.query_one("#create-error", Static)
        await wait_until(
            pilot, lambda: "INVALID_REPLICATION_FACTOR" in str(error.render()), "error"
        )
        message = str(error.render())
        assert "replication factor of 3 cannot be reached" in message
        assert "only 1 broker(s) are registered" in message
        assert app.screen is dialog, "the dialog stays open to fix the value"
        assert "events" not in topic_names(embedded)
        # Fix the one wrong field and submit again.
        await type_into(pilot, dialog.query_one("#create-replication", Input), "1")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is not dialog, "the dialog to close")
        await wait_until(pilot, lambda: "events" in shown(app), "the topic in the list")
    assert "events" in topic_names(embedded)


async def test_a_bad_config_line_is_explained_before_anything_is_sent(
    embedded: EmbeddedBroker,
) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        await press_until(pilot, "2", lambda: app.focused is table(app), "the topic list")
        await screen_after(pilot, "c", CreateTopicScreen, "the dialog")
        await type_in_turn(pilot, "t1", "", "", "retention.ms")
        await pilot.press("ctrl+s")
        error = app.screen.query_one("#create-error", Static)
        await wait_until(pilot, lambda: "expected key=value" in str(error.render()), "the error")
        assert "configs line 1" in str(error.render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, CreateTopicScreen), "cancel")
    assert "t1" not in topic_names(embedded)


async def test_filter_as_you_type_substring_and_regex(embedded: EmbeddedBroker) -> None:
    for name in ("orders", "orders-dlq", "payments", "shipments"):
        create(embedded, name)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "orders", "orders-dlq", "payments", "shipments")
        field = app.query_one("#topic-filter", Input)
        await press_until(pilot, "slash", lambda: app.focused is field, "the filter focused")
        await pilot.press(*"ORD")
        await wait_until(pilot, lambda: shown(app) == ["orders", "orders-dlq"], "substring")
        facts = app.query_one("#topics-facts", Static)
        assert str(facts.render()).startswith("2 of 4 topics")
        await type_into(pilot, app.query_one("#topic-filter", Input), "^pay|ments$")
        await wait_until(pilot, lambda: shown(app) == ["payments", "shipments"], "the regex")
        await type_into(pilot, app.query_one("#topic-filter", Input), "orders[")
        await wait_until(pilot, lambda: shown(app) == [], "an invalid regex as plain text")
        await type_into(pilot, app.query_one("#topic-filter", Input), "dlq")
        await wait_until(pilot, lambda: shown(app) == ["orders-dlq"], "the last filter")
        await press_until(pilot, "enter", lambda: app.focused is table(app), "back to the list")
        # The filter holds while snapshots keep coming.
        create(embedded, "payments-dlq")
        await wait_until(pilot, lambda: shown(app) == ["orders-dlq", "payments-dlq"], "new match")


async def test_sort_cycles_columns_and_reverses(embedded: EmbeddedBroker) -> None:
    create(embedded, "big")
    create(embedded, "empty", 3)
    create(embedded, "small")
    await produced(embedded, "big", 30)
    await produced(embedded, "small", 5)
    app = workbench_app(embedded)

    def sorted_by(order: str) -> bool:
        return f"sorted by {order}" in status_text(app, "#topics-facts")

    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "big", "empty", "small")
        await wait_until(pilot, lambda: cell(app, "big", "records") == "30", "the record counts")
        assert shown(app) == ["big", "empty", "small"]
        # Each wait is for what only the keys before it bring about: a key's effect comes a
        # moment after press() returns.
        await press_until(pilot, "s", lambda: sorted_by("partitions descending"), "partitions")
        assert shown(app) == ["empty", "big", "small"]
        assert "▼" in str(table(app).columns["partitions"].label)
        # replication, size, records
        await press_until(pilot, ["s"] * 3, lambda: sorted_by("records descending"), "records")
        assert shown(app) == ["big", "small", "empty"]
        await press_until(pilot, "S", lambda: sorted_by("records ascending"), "reversed")
        assert shown(app) == ["empty", "small", "big"]
        # rate, then back to names
        await press_until(pilot, ["s"] * 2, lambda: sorted_by("topic ascending"), "names")
        assert shown(app) == ["big", "empty", "small"]


async def test_internal_topics_are_hidden_until_toggled(embedded: EmbeddedBroker) -> None:
    create(embedded, "events")
    await produced(embedded, "events", 3)

    def commit() -> None:
        consumer = Consumer(
            {"bootstrap.servers": embedded.bootstrap, "group.id": "g", "enable.auto.commit": False}
        )
        try:
            consumer.commit(offsets=[TopicPartition("events", 0, 3)], asynchronous=False)
        finally:
            consumer.close()

    await asyncio.to_thread(commit)  # creates __consumer_offsets
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "events")
        facts = app.query_one("#topics-facts", Static)
        await wait_until(pilot, lambda: "1 internal hidden" in str(facts.render()), "the note")
        assert "__consumer_offsets" not in shown(app)
        # A pressed key reaches the pane's binding through several message queues; press()
        # returning says only that the CPU went quiet, which a loaded machine fakes.
        await pilot.press("i")
        await wait_until(pilot, lambda: "1 internal shown" in str(facts.render()), "shown")
        assert "__consumer_offsets" in shown(app)
        await pilot.press("i")
        await wait_until(pilot, lambda: "1 internal hidden" in str(facts.render()), "hidden")
        assert "__consumer_offsets" not in shown(app)


async def test_updates_keep_the_cursor_and_the_rows(embedded: EmbeddedBroker) -> None:
    """Snapshots every second build only the cells that changed (a row showing the same
    keeps its cells); the cursor follows its topic."""
    for name in ("a", "b", "c"):
        create(embedded, name)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "a", "b", "c")
        await select(pilot, app, "b")
        rows_before = {name: table(app).row(name) for name in ("a", "c")}
        await produced(embedded, "b", 12)
        await wait_until(pilot, lambda: cell(app, "b", "records") == "12", "the new count")
        await wait_until(
            pilot,
            lambda: cell(app, "b", "size") not in ("0 B", "-") and cell(app, "a", "size") == "0 B",
            "b's bytes on disk (DescribeLogDirs)",
        )
        create(embedded, "aa")  # sorts between a and b: b moves down one row
        await wait_until(pilot, lambda: shown(app) == ["a", "aa", "b", "c"], "the new topic")
        for _ in range(2):  # and another snapshot or two
            before = app.snapshot
            await wait_until(pilot, lambda b=before: app.snapshot is not b, "another snapshot")
        assert table(app).cursor_key == "b"
        assert table(app).cursor_row == 2
        for name, before in rows_before.items():
            assert table(app).row(name) is before, f"row {name} was rebuilt"
        # A sort that moves the selected row keeps it selected too.
        facts = app.query_one("#topics-facts", Static)
        await press_until(
            pilot,
            ["s"] * 4,
            lambda: "sorted by records descending" in str(facts.render()),
            "the sort by records",
        )
        assert shown(app)[0] == "b" and table(app).cursor_key == "b"


# -- changes -----------------------------------------------------------------------------------


async def test_delete_asks_first(embedded: EmbeddedBroker) -> None:
    create(embedded, "keep")
    create(embedded, "scratch")
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "keep", "scratch")
        await select(pilot, app, "scratch")
        await screen_after(pilot, "d", ConfirmScreen, "the question")
        assert "scratch" in status_text(app.screen, "#confirm-title")
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "backing out")
        await pilot.press("enter")  # nothing pending: opens the detail, not a deletion
        await wait_until(pilot, lambda: isinstance(app.screen, TopicDetailScreen), "detail")
        await press_until(
            pilot, "escape", lambda: not isinstance(app.screen, TopicDetailScreen), "closed"
        )
        assert "scratch" in topic_names(embedded)
        await screen_after(pilot, "d", ConfirmScreen, "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: "scratch" not in shown(app), "the topic to go")
        assert shown(app) == ["keep"]
        assert table(app).cursor_key == "keep"
    assert topic_names(embedded) == {"keep"}


async def test_delete_on_another_cluster_wants_the_name_typed(
    embedded: EmbeddedBroker, tmp_path: Path
) -> None:
    """Not the embedded broker: `y` is not enough, the topic's name must be typed."""
    create(embedded, "prod-orders")
    app = external_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "prod-orders")
        await screen_after(pilot, "d", ConfirmScreen, "the question")
        assert "y" not in app.screen.active_bindings, "no `y Yes` in the footer here"
        typed = await wait_focused(pilot, "confirm-typed")
        assert isinstance(typed, Input)
        await press_until(pilot, "y", lambda: typed.value == "y", "y typed into the name")
        # Keys are handled in order: once the backspace after enter is, enter was too.
        await press_until(pilot, ["enter", "backspace"], lambda: typed.value == "", "y erased")
        assert isinstance(app.screen, ConfirmScreen), "y alone does not delete"
        await pilot.press(*"prod-orders", "enter")
        await wait_until(pilot, lambda: "prod-orders" not in shown(app), "the topic to go")
    assert "prod-orders" not in topic_names(embedded)


async def test_edit_retention_and_remove_the_override(embedded: EmbeddedBroker) -> None:
    create(embedded, "logs")
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "logs")
        dialog, configs = await open_configs(pilot, app)
        assert configs.get_cell("retention.ms", "source") == "default"
        # Find retention.ms with the filter, then edit it. Keys that move the focus are
        # waited out before the next key: the focus moves a moment after them.
        field = dialog.query_one("#configs-filter", Input)
        await press_until(pilot, "slash", lambda: app.focused is field, "the filter focused")
        await pilot.press(*"retention")
        await press_until(pilot, "enter", lambda: app.focused is configs, "back in the table")
        await select_row(pilot, configs, "retention.ms")
        value = dialog.query_one("#configs-value", Input)
        await press_until(pilot, "enter", lambda: app.focused is value, "the value field")
        await pilot.press(*"3600000", "enter")
        status = dialog.query_one("#configs-status", Static)
        await wait_until(pilot, lambda: "retention.ms = 3600000" in str(status.render()), "done")
        assert "(1 h)" in str(status.render()), "the value as a person reads it"
        assert topic_configs(embedded, "logs") == {"retention.ms": "3600000"}
        assert configs.get_cell("retention.ms", "source") == "topic"
        assert str(configs.get_cell("retention.ms", "value")) == "3600000  1 h"
        await wait_until(pilot, lambda: app.focused is configs, "the table focused once set")
        # A value the broker refuses: its reason word for word (brackets are not markup).
        await press_until(pilot, "enter", lambda: app.focused is value, "the value field")
        await pilot.press(*"[soon]", "enter")
        await wait_until(pilot, lambda: status.has_class("-error"), "the refusal")
        assert "INVALID_CONFIG: Invalid value [soon] for configuration retention.ms:" in str(
            status.render()
        )
        assert topic_configs(embedded, "logs") == {"retention.ms": "3600000"}
        # Remove the override: back to the default.
        await press_until(pilot, "escape", lambda: app.focused is configs, "the value left")
        await pilot.press("x")
        await wait_until(pilot, lambda: "removed the override" in str(status.render()), "removal")
        assert topic_configs(embedded, "logs") == {}
        assert configs.get_cell("retention.ms", "source") == "default"
        await wait_until(pilot, lambda: app.focused is configs, "the table focused once removed")
        # Saving the value it already has does not turn the default into an override.
        await press_until(pilot, "enter", lambda: app.focused is value, "the value field")
        await press_until(
            pilot, "enter", lambda: "nothing changed" in str(status.render()), "no-op"
        )
        await wait_until(pilot, lambda: app.focused is configs, "the table focused again")
        assert topic_configs(embedded, "logs") == {}
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not dialog, "closing")


async def test_set_a_config_by_name(embedded: EmbeddedBroker) -> None:
    """`a` sets any config by name: the way on brokers that describe no configs (Tansu)."""
    create(embedded, "logs")
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "logs")
        _, status = await set_by_name(pilot, app, "retention.ms")
        await wait_until(pilot, lambda: "name=value" in str(status.render()), "the hint")
        assert status.has_class("-error")
        await pilot.press("ctrl+a", "ctrl+k", *"retention.ms=7200000", "enter")
        await wait_until(pilot, lambda: "retention.ms = 7200000" in str(status.render()), "done")
        assert topic_configs(embedded, "logs") == {"retention.ms": "7200000"}


async def test_actions_that_wait_for_the_cluster_say_so_at_once(
    embedded: EmbeddedBroker,
) -> None:
    """Issue 14, point 5: an action gave no sign it was under way until it was done. Each one
    that calls the cluster shows what it waits for in the top line, and clears it after;
    the views it changed show the change without waiting for the next poll."""
    create(embedded, "grow")
    create(embedded, "scratch")
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "grow", "scratch")
        said = busy_said(app)
        dialog, status = await set_by_name(pilot, app, "retention.ms=7200000")
        await wait_until(pilot, lambda: "retention.ms = 7200000" in str(status.render()), "set")
        assert said == ["altering the configs of grow", ""]
        await press_until(pilot, "escape", lambda: app.screen is not dialog, "closed")
        await screen_after(pilot, "p", AddPartitionsScreen, "the add-partitions dialog")
        await pilot.press("enter")
        await wait_until(pilot, lambda: cell(app, "grow", "partitions") == "2", "2 partitions")
        assert said[2:] == ["adding partitions to grow", ""]
        await select(pilot, app, "scratch")
        await screen_after(pilot, "d", ConfirmScreen, "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: "scratch" not in shown(app), "the topic to go")
        assert said[4:] == ["deleting topic scratch", ""]


async def test_add_partitions_and_the_refused_decrease(embedded: EmbeddedBroker) -> None:
    create(embedded, "grow", 2)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "grow")
        await screen_after(pilot, "p", AddPartitionsScreen, "dialog")
        count = await wait_focused(pilot, "partitions-count")
        assert isinstance(count, Input) and count.value == "3", "one more, ready to change"
        await pilot.press("4", "enter")
        await wait_until(pilot, lambda: cell(app, "grow", "partitions") == "4", "4 partitions")
        assert embedded.call(lambda: embedded.state.topics["grow"].partitions) == 4
        dialog = await screen_after(pilot, "p", AddPartitionsScreen, "dialog")
        await wait_focused(pilot, "partitions-count")
        await pilot.press("2", "enter")
        error = dialog.query_one("#partitions-error", Static)
        await wait_until(pilot, lambda: "INVALID_PARTITIONS" in str(error.render()), "refusal")
        assert "currently has 4 partition(s); 2 would not be an increase." in str(error.render())
        assert app.screen is dialog
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not dialog, "closing")
    assert embedded.call(lambda: embedded.state.topics["grow"].partitions) == 4


async def test_partition_detail_shows_offsets(embedded: EmbeddedBroker) -> None:
    create(embedded, "trades", 2)
    await produced(embedded, "trades", 7, partition=0)
    await produced(embedded, "trades", 3, partition=1)

    def delete_first_two() -> None:
        admin = AdminClient({"bootstrap.servers": embedded.bootstrap})
        futures = admin.delete_records([TopicPartition("trades", 0, 2)], request_timeout=15)
        for future in futures.values():
            future.result(15)

    await asyncio.to_thread(delete_first_two)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "trades")
        await screen_after(pilot, "enter", TopicDetailScreen, "the detail")
        partitions = app.screen.query_one("#detail-partitions", DataTable)

        def row(partition: int) -> list[str]:
            return [str(c) for c in partitions.get_row(str(partition))]

        await wait_until(pilot, lambda: partitions.row_count == 2, "two partitions")
        await wait_until(pilot, lambda: row(0)[4] == "2", "log start offset 2")
        # partition, leader, replicas, ISR, log start, end offset, LSO, records
        assert row(0)[:8] == ["0", "0", "0", "0", "2", "7", "7", "5"]
        assert row(1)[:8] == ["1", "0", "0", "0", "0", "3", "3", "3"]
        assert row(0)[8].endswith("B") and row(0)[8] != "0 B"
        assert "2 partitions · replication factor 1" in status_text(app.screen, "#detail-summary")
        assert "8 records" in status_text(app.screen, "#detail-traffic")
        # The detail follows the snapshots while open.
        await produced(embedded, "trades", 4, partition=1)
        await wait_until(pilot, lambda: row(1)[5] == "7", "the new end offset")
        assert row(1)[7] == "7"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, TopicDetailScreen), "close")


async def test_partition_detail_shows_the_last_stable_offset(embedded: EmbeddedBroker) -> None:
    """An open transaction holds the LSO at its first record while the end offset moves on;
    its commit releases it (issue 15, point 4)."""
    create(embedded, "payments", 1)
    await produced(embedded, "payments", 2, partition=0)
    producer = Producer({"bootstrap.servers": embedded.bootstrap, "transactional.id": "pay"})
    await asyncio.to_thread(producer.init_transactions, 15)
    producer.begin_transaction()
    for n in range(3):
        producer.produce("payments", f"in-txn-{n}".encode(), partition=0)
    await asyncio.to_thread(producer.flush, 15)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "payments")
        await screen_after(pilot, "enter", TopicDetailScreen, "the detail")
        partitions = app.screen.query_one("#detail-partitions", DataTable)

        def end_and_stable() -> list[str]:
            if partitions.row_count == 0:
                return []
            return [str(c) for c in partitions.get_row("0")][5:7]

        await wait_until(pilot, lambda: end_and_stable() == ["5", "2"], "LSO before the txn")
        await asyncio.to_thread(producer.commit_transaction, 15)
        # the commit marker takes an offset too
        await wait_until(pilot, lambda: end_and_stable() == ["6", "6"], "LSO after commit")


async def fill_create_dialog(
    pilot: Pilot[None], dialog: CreateTopicScreen, *fields: str, configs: str = ""
) -> None:
    """Type name, partitions and replication factor, and the configs, into the dialog."""
    for selector, text in zip(
        ("#create-name", "#create-partitions", "#create-replication"), fields, strict=True
    ):
        await type_into(pilot, dialog.query_one(selector, Input), text)
    area = dialog.query_one("#create-configs", TextArea)
    area.focus()
    await pilot.pause()
    area.select_all()
    await pilot.press("backspace", *configs)


async def test_refusals_read_as_kafka_wrote_them_on_another_cluster(
    embedded: EmbeddedBroker,
) -> None:
    """Connected as to any cluster (not the embedded broker): every refusal keeps the dialog
    open with Kafka's error name and message word for word, brackets and all (Kafka echoes
    the value typed, and a message is never read as markup)."""
    create(embedded, "orders")
    app = external_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "orders")
        dialog = await screen_after(pilot, "c", CreateTopicScreen, "the dialog")
        error = dialog.query_one("#create-error", Static)
        refusals = [
            (("orders", "", ""), "", "TOPIC_ALREADY_EXISTS: Topic 'orders' already exists."),
            (("bad name!", "", ""), "", "INVALID_TOPIC_EXCEPTION: Topic name"),
            (
                ("fresh", "0", ""),
                "",
                "INVALID_PARTITIONS: Number of partitions was set to an invalid non-positive"
                " value.",
            ),
            (
                ("fresh", "1", "0"),
                "",
                "INVALID_REPLICATION_FACTOR: Replication factor must be larger than 0",
            ),
            (
                ("fresh", "1", "1"),
                "retention.ms=[1d]",
                "INVALID_CONFIG: Invalid value [1d] for configuration retention.ms:",
            ),
            (("fresh", "1", "1"), "retention.minutes=5", "Unknown topic config name"),
        ]
        for fields, configs, expected in refusals:
            await fill_create_dialog(pilot, dialog, *fields, configs=configs)
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda e=expected: e in str(error.render()), expected)
            assert app.screen is dialog
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not dialog, "closing")
    assert topic_names(embedded) == {"orders"}


async def test_a_topic_gone_behind_the_dialog_is_reported_not_crashed_on(
    embedded: EmbeddedBroker,
) -> None:
    create(embedded, "a")
    create(embedded, "b")
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "a", "b")
        await screen_after(pilot, "d", ConfirmScreen, "the question")
        embedded.call(lambda: embedded.state.delete_topic("a"))  # someone else was quicker
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: any("UNKNOWN_TOPIC_OR_PARTITION" in str(n.message) for n in app._notifications),
            "the refusal as a notification",
        )
        await wait_until(pilot, lambda: shown(app) == ["b"], "the list without a")
        assert app.is_running


async def test_every_column_stays_in_view_at_80_columns(embedded: EmbeddedBroker) -> None:
    """Long names give way (cut in the middle, both ends kept) so the numbers never scroll
    out of view; columns narrow again when the rows that needed the room go away."""
    long_name = "com.example." + "very-long-segment." * 4 + "v2"
    create(embedded, long_name)
    create(embedded, "orders")
    app = workbench_app(embedded)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_topics(pilot, app, long_name, "orders")
        topics = table(app)

        def fits() -> bool:
            return topics.virtual_size.width <= topics.scrollable_content_region.width

        await wait_until(pilot, fits, "the columns to fit in 80 columns")
        name = cell(app, long_name, "topic")
        assert len(name) < len(long_name) and "…" in name
        assert name.startswith("com.exa") and name.endswith("nt.v2")
        field = app.query_one("#topic-filter", Input)
        await press_until(pilot, "slash", lambda: app.focused is field, "the filter focused")
        await pilot.press(*"orders", "enter")
        await wait_until(pilot, lambda: shown(app) == ["orders"], "the filter")
        name_column = topics.columns["topic"]
        await wait_until(
            pilot,
            lambda: fits() and name_column.width == len("topic ▲"),
            "the name column narrowed to its header",
        )
        await pilot.resize_terminal(160, 40)
        await type_into(pilot, app.query_one("#topic-filter", Input), "")
        await wait_until(pilot, lambda: cell(app, long_name, "topic") == long_name, "whole")
        assert fits()


async def test_switching_clusters_forgets_the_old_clusters_topics(
    embedded: EmbeddedBroker,
) -> None:
    """Until the other cluster answers, the list is empty, not the last cluster's topics
    (a delete must never act on a topic of the cluster left behind)."""
    create(embedded, "orders")
    save_profiles({"gone": Profile("gone", f"127.0.0.1:{free_port('127.0.0.1', 20000)}", "red")})
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "orders")
        await screen_after(pilot, "ctrl+o", ProfilesScreen, "profiles")
        await wait_until(pilot, lambda: isinstance(app.focused, OptionList), "the profiles list")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.workbench.profile.name == "gone", "the switch")
        await wait_until(pilot, lambda: shown(app) == [], "an empty list")
        assert "waiting for the cluster" in status_text(app, "#topics-facts")
        await pilot.pause(1.5)  # snapshots would have come by now, had there been any
        assert shown(app) == []


async def test_actions_without_a_topic_say_so(embedded: EmbeddedBroker) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        await pilot.press("2")
        facts = app.query_one("#topics-facts", Static)
        await wait_until(pilot, lambda: "no topics yet" in str(facts.render()), "empty note")
        await wait_until(pilot, lambda: app.focused is table(app), "the topic list focused")

        warned: set[str] = set()  # toasts expire: count each one seen

        def warnings() -> int:
            mine = (n for n in app._notifications if "no topic selected" in str(n.message))
            warned.update(n.identity for n in mine)
            return len(warned)

        # Each key says so: the count of warnings, not a fixed pause, shows it was handled.
        # Enter on an empty list says nothing, so a `d` follows it: keys are handled in
        # order, so once that `d` has warned, enter has been handled too.
        for count, keys in enumerate((["d"], ["e"], ["p"], ["enter", "d"]), start=1):
            await press_until(pilot, keys, lambda c=count: warnings() == c, f"{keys} handled")
            assert app.screen is app.screen_stack[0], f"{keys} opened a dialog with no topic"


async def test_k9s_habits_j_k_g_G_y_and_colon_jumps(embedded: EmbeddedBroker) -> None:
    """Issue 14, point 6: j/k/g/G move in the lists, y copies the name under the cursor,
    `:` jumps to a pane (`:groups orders` with its filter set), as k9s and kaskade do."""
    names = ["audit", "orders", "payments", "shipments"]
    for name in names:
        create(embedded, name)
    app = workbench_app(embedded)
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, *names)
        topics = table(app)
        rows = shown(app)
        for key, row in (("G", len(rows) - 1), ("k", len(rows) - 2), ("g", 0), ("j", 1)):
            await pilot.press(key)
            await wait_until(pilot, lambda row=row: topics.cursor_row == row, f"{key}: row {row}")
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(copied), "y: the name copied")
        assert copied == [rows[1]]
        await pilot.press("colon", *"groups orders", "enter")
        groups_filter = app.query_one("#group-filter", Input)
        await wait_until(
            pilot,
            lambda: (
                app.query_one("#panes", TabbedContent).active == "groups"
                and groups_filter.value == "orders"
            ),
            ":groups orders",
        )
        await pilot.press("colon", *"top", "enter")
        await wait_until(
            pilot,
            lambda: (
                app.query_one("#panes", TabbedContent).active == "topics" and app.focused is topics
            ),
            ":top(ics)",
        )


async def test_the_topic_detail_names_the_groups_that_read_it_with_their_lag(
    embedded: EmbeddedBroker,
) -> None:
    """Issue 14, point 7: from a topic, the groups that consume it and their lag, without
    switching to the Groups pane."""
    create(embedded, "trades")
    await produced(embedded, "trades", 10)

    def commit(group: str, offset: int) -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": embedded.bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
            }
        )
        try:
            consumer.commit(offsets=[TopicPartition("trades", 0, offset)], asynchronous=False)
        finally:
            consumer.close()

    await asyncio.to_thread(commit, "billing", 10)
    await asyncio.to_thread(commit, "audit", 4)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "trades")
        await screen_after(pilot, "enter", TopicDetailScreen, "the detail")
        await wait_until(
            pilot,
            lambda: (
                status_text(app.screen, "#detail-consumers")
                == "consumed by audit (lag 6), billing (lag 0)"
            ),
            "the groups reading it",
        )


async def test_the_topic_detail_shows_its_configs_and_newest_records(
    embedded: EmbeddedBroker,
) -> None:
    """Issue 14, point 7: from a topic, the configs set on it and a sample of its newest
    records across partitions, and a record opened from there, without switching panes."""
    create(embedded, "trades", 2)

    def produce_timed() -> None:
        now = int(time.time() * 1000)  # within retention.ms, set below
        producer = Producer({"bootstrap.servers": embedded.bootstrap, "linger.ms": 0})
        for i in range(8):  # newer than partition 1's, though read before them
            producer.produce(
                "trades", value=f"p0-{i}".encode(), partition=0, timestamp=now + 100 + i
            )
        for i in range(7):  # older: only the last two are among the newest ten
            producer.produce("trades", value=f"p1-{i}".encode(), partition=1, timestamp=now + i)
        assert producer.flush(15) == 0, "records were not acknowledged"
        admin = AdminClient({"bootstrap.servers": embedded.bootstrap})
        resource = ConfigResource(
            "topic",
            "trades",
            incremental_configs=[
                ConfigEntry("retention.ms", "86400000", incremental_operation=AlterConfigOpType.SET)
            ],
        )
        admin.incremental_alter_configs([resource])[resource].result(15)

    await asyncio.to_thread(produce_timed)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_topics(pilot, app, "trades")
        detail = await screen_after(pilot, "enter", TopicDetailScreen, "the detail")
        await wait_until(
            pilot,
            lambda: "retention.ms=86400000 (1 d)" in status_text(detail, "#detail-configs"),
            "the config set on the topic",
        )
        assert "cleanup.policy" not in status_text(detail, "#detail-configs")
        await wait_until(
            pilot,
            lambda: len(detail.sample) == 10,
            "ten records",
        )
        places = [(r.partition, r.offset) for r in detail.sample.records()]
        assert places == [(1, 5), (1, 6), *((0, o) for o in range(8))]
        detail.sample_log.focus()
        record = await screen_after(pilot, "enter", RecordDetailScreen, "the record")
        assert (record.record.partition, record.record.offset) == (1, 5)
