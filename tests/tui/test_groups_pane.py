"""The Groups pane, a group's detail, the reset dialog and the offsets view, driven with keys
through Pilot against a real embedded localbroker and a real consumer group.

The group's member is a confluent-kafka consumer on its own thread (tests/group_members.py)
that consumes and commits; the tests check what the screens show against what was produced
and committed, and what the broker holds afterwards (committed offsets read back with
confluent-kafka's admin client, log start offsets on the broker's own loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from brokers import running_broker
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from group_members import Member, admin_offsets, commit, start_members
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static
from workbench_pilot import (
    busy_said,
    screen_after,
    wait_connected,
    wait_until,
    workbench_app,
)

from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker
from tui.screens.confirm import ConfirmScreen
from tui.screens.delete_records import DeleteRecordsScreen
from tui.screens.group_detail import GroupDetailScreen
from tui.screens.offsets_view import OffsetsScreen
from tui.screens.reset_offsets import ResetOffsetsScreen
from tui.widgets.groups_pane import GroupsPane
from tui.widgets.list_table import ListTable
from tui.widgets.offsets_bar import OffsetsBars

pytestmark = pytest.mark.timeout(120)
SIZE = (120, 36)
GROUP = "orders-app"
TOPIC = "orders"
RECORDS = {0: 10, 1: 20, 2: 30}
"""Records produced to each partition of TOPIC."""


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def members() -> Iterator[Callable[..., Member]]:
    """Start group members; every member still running at the end is closed."""
    yield from start_members()


def produce(bootstrap: str, topic: str, counts: dict[int, int]) -> None:
    """`counts[p]` records to each partition p, acknowledged before returning."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for partition, count in counts.items():
        for i in range(count):
            producer.produce(topic, value=b"v%d" % i, partition=partition)
    assert producer.flush(15) == 0, "records were not acknowledged"


def committed(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    """The group's committed offsets, read back with confluent-kafka's admin client."""
    return admin_offsets(AdminClient({"bootstrap.servers": bootstrap}), group)


def log_start(embedded: EmbeddedBroker, topic: str, partition: int) -> int:
    """The partition's log start offset as the broker holds it (read on its own loop)."""
    return embedded.call(lambda: embedded.state.partition_log(topic, partition).log_start_offset)


async def consuming_group(
    embedded: EmbeddedBroker, members: Callable[..., Member], offsets: dict[int, int]
) -> Member:
    """TOPIC with RECORDS, and GROUP with one confluent-kafka member owning every partition
    that has committed `offsets`."""
    embedded.call(lambda: embedded.state.create_topic(TOPIC, len(RECORDS)))
    await asyncio.to_thread(produce, embedded.bootstrap, TOPIC, RECORDS)
    member = await asyncio.to_thread(
        members, "confluent", "consumer-a", embedded.bootstrap, GROUP, [TOPIC]
    )
    for _ in range(400):
        if len(member.tps) == len(RECORDS):
            break
        await asyncio.sleep(0.05)
    assert len(member.tps) == len(RECORDS), "the member never got every partition"
    await asyncio.to_thread(commit, member, TOPIC, offsets)
    return member


def commit_as(bootstrap: str, group: str, offsets: dict[int, int]) -> None:
    """Commit `offsets` of TOPIC for `group` with no member (a group that consumed and left)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    try:
        consumer.commit(
            offsets=[TopicPartition(TOPIC, p, o) for p, o in offsets.items()], asynchronous=False
        )
    finally:
        consumer.close()


def pane(app: WorkbenchApp) -> GroupsPane:
    return app.query_one(GroupsPane)


def group_table(app: WorkbenchApp) -> ListTable:
    return app.query_one("#group-list", ListTable)


def cell(table: DataTable[object] | ListTable, row: str, column: str) -> str:
    if isinstance(table, ListTable):
        return str(table.cell(row, column) or "")
    if row not in table.rows:
        return ""
    return str(table.get_cell(row, column))


def shown(app: WorkbenchApp) -> list[str]:
    return group_table(app).keys


def text_of(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


def notified(app: WorkbenchApp, text: str) -> bool:
    return any(text in str(n.message) for n in app._notifications)


async def open_groups(pilot: Pilot[None], app: WorkbenchApp, lag: str) -> None:
    """Go to the Groups pane and wait until GROUP shows with total lag `lag`."""
    await wait_connected(pilot, app)
    await pilot.press("5")
    table = group_table(app)
    await wait_until(pilot, lambda: cell(table, GROUP, "lag") == lag, f"{GROUP} with lag {lag}")
    await wait_until(pilot, lambda: app.focused is table, "the group list focused")


# -- the list and the detail -----------------------------------------------------------------


async def test_list_and_detail_show_lag_members_and_trend(
    embedded: EmbeddedBroker, members: Callable[..., Member]
) -> None:
    member = await consuming_group(embedded, members, {0: 4, 1: 20, 2: 25})
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_groups(pilot, app, "11")  # (10-4) + (20-20) + (30-25)
        table = group_table(app)
        assert cell(table, GROUP, "state") == "Stable"
        assert cell(table, GROUP, "protocol") == "range"
        assert cell(table, GROUP, "members") == "1"

        detail = await screen_after(pilot, "enter", GroupDetailScreen, "the detail")
        partitions = detail.query_one("#group-partitions", DataTable)
        await wait_until(pilot, lambda: partitions.row_count == 3, "three partitions")
        expected = {0: ("4", "10", "6"), 1: ("20", "20", "0"), 2: ("25", "30", "5")}
        for p, (offset, end, lag) in expected.items():
            row = f"{TOPIC}-{p}"
            assert cell(partitions, row, "committed") == offset
            assert cell(partitions, row, "log-end") == end
            assert cell(partitions, row, "lag") == lag
            assert cell(partitions, row, "consumer") == "consumer-a"
        summary = text_of(detail, "#group-summary")
        assert "Stable" in summary and "1 member(s)" in summary and "total lag 11" in summary

        members_table = detail.query_one("#group-members", DataTable)
        assert members_table.row_count == 1
        (row_key,) = list(members_table.rows)
        assert cell(members_table, str(row_key.value), "client") == "consumer-a"
        assert cell(members_table, str(row_key.value), "assignment") == "orders 0,1,2"
        assert "127.0.0.1" in cell(members_table, str(row_key.value), "host")

        # The member catches up on partition 0: the lag drops and the history has the story.
        await asyncio.to_thread(commit, member, TOPIC, {0: 10})
        await wait_until(pilot, lambda: cell(partitions, f"{TOPIC}-0", "lag") == "0", "lag 0")
        history = pane(app).history.partition(GROUP, TOPIC, 0)
        assert [p.lag for p in history][-1] == 0
        assert 6 in [p.lag for p in history], "the earlier lag stays in the history"
        assert cell(partitions, f"{TOPIC}-0", "trend").strip(), "a trend is drawn"
        assert "total lag 5" in text_of(detail, "#group-summary")

        # The history outlives the detail screen and the pane being out of view.
        await pilot.press("escape", "1")
        before = len(pane(app).history.group(GROUP))
        await wait_until(
            pilot, lambda: len(pane(app).history.group(GROUP)) > before + 1, "more samples"
        )


def transaction_with_offsets(bootstrap: str, offsets: dict[int, int]) -> Producer:
    """A transactional producer left open with `offsets` of TOPIC for GROUP in it
    (TxnOffsetCommit: pending until the transaction ends)."""
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "orders-txn"})
    producer.init_transactions(15)
    producer.begin_transaction()
    group = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP})
    try:
        producer.send_offsets_to_transaction(
            [TopicPartition(TOPIC, p, o) for p, o in offsets.items()],
            group.consumer_group_metadata(),
            15,
        )
    finally:
        group.close()
    return producer


async def test_pending_transactional_offsets_are_marked(embedded: EmbeddedBroker) -> None:
    """Offsets sent to an open transaction show as "pending transaction" in the group's detail
    and in the offsets view, until the commit makes them the committed offsets (issue 15)."""
    embedded.call(lambda: embedded.state.create_topic(TOPIC, len(RECORDS)))
    await asyncio.to_thread(produce, embedded.bootstrap, TOPIC, RECORDS)
    await asyncio.to_thread(commit_as, embedded.bootstrap, GROUP, {0: 2, 1: 5, 2: 5})
    producer = await asyncio.to_thread(transaction_with_offsets, embedded.bootstrap, {0: 7})
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_groups(pilot, app, "48")
        detail = await screen_after(pilot, "enter", GroupDetailScreen, "the detail")
        partitions = detail.query_one("#group-partitions", DataTable)
        pending = "2 · pending transaction"
        await wait_until(
            pilot, lambda: cell(partitions, f"{TOPIC}-0", "committed") == pending, "pending"
        )
        assert cell(partitions, f"{TOPIC}-1", "committed") == "5"
        assert "1 partition(s) with a pending transaction" in text_of(detail, "#group-summary")
        await pilot.press("escape")
        view = await screen_after(pilot, "o", OffsetsScreen, "the view")
        await wait_until(
            pilot,
            lambda: "committed 2 · lag 8 · pending transaction" in text_of(view, "#offsets-legend"),
            "the pending mark in the legend",
        )
        await pilot.press("escape")
        await asyncio.to_thread(producer.commit_transaction, 15)
        detail = await screen_after(pilot, "enter", GroupDetailScreen, "the detail")
        partitions = detail.query_one("#group-partitions", DataTable)
        await wait_until(
            pilot, lambda: cell(partitions, f"{TOPIC}-0", "committed") == "7", "the commit"
        )


# -- filtering and sorting the list ---------------------------------------------------------


async def filter_by(pilot: Pilot[None], app: WorkbenchApp, text: str) -> None:
    """Clear the filter field, then type `text` into it key by key (it has the focus)."""
    field = app.query_one("#group-filter", Input)
    assert app.focused is field
    field.value = ""
    await pilot.press(*text)


async def test_filter_as_you_type_and_sort_by_lag_keep_the_cursor(
    embedded: EmbeddedBroker, members: Callable[..., Member]
) -> None:
    """Four real groups: orders-app has a confluent-kafka member, the others only committed
    offsets. Sorting by lag puts the biggest first; the cursor stays on its group through
    every reorder, also when a commit changes the lag under the sort."""
    member = await consuming_group(embedded, members, {0: 4, 1: 20, 2: 25})  # lag 11
    lags = {"orders-replay": {0: 1, 1: 1, 2: 1}, "billing": RECORDS}  # 57, 0
    lags["shipping-orders"] = {0: 5, 1: 10, 2: 15}  # 30
    for group_id, offsets in lags.items():
        await asyncio.to_thread(commit_as, embedded.bootstrap, group_id, offsets)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_groups(pilot, app, "11")
        table = group_table(app)
        facts = app.query_one("#groups-facts", Static)
        await wait_until(pilot, lambda: cell(table, "orders-replay", "lag") == "57", "all lags")
        assert shown(app) == ["billing", "orders-app", "orders-replay", "shipping-orders"]
        assert str(facts.render()).startswith("4 groups · sorted by group ascending (s, S)")

        async def shows(order: list[str], what: str) -> None:
            await wait_until(pilot, lambda: shown(app) == order, what)

        await pilot.press("down")
        await wait_until(pilot, lambda: table.cursor_key == "orders-app", "the cursor moved")

        await pilot.press("s", "s", "s", "s")  # state, protocol, members, lag: biggest first
        by_lag = ["orders-replay", "shipping-orders", "orders-app", "billing"]
        await shows(by_lag, "sorted by lag, biggest first")
        assert "sorted by lag descending" in str(facts.render())
        assert "▼" in str(table.columns["lag"].label)  # type: ignore[index]
        assert table.cursor_key == "orders-app", "the cursor stays on its group"
        await pilot.press("S")
        await shows(by_lag[::-1], "sorted by lag, smallest first")
        assert table.cursor_key == "orders-app"
        await pilot.press("S")
        await shows(by_lag, "sorted by lag, biggest first again")

        # The lag changes under the sort: orders-app rewinds partition 2 and climbs.
        await asyncio.to_thread(commit, member, TOPIC, {2: 0})  # lag 6 + 0 + 30
        await wait_until(pilot, lambda: cell(table, GROUP, "lag") == "36", "the new lag")
        await shows(["orders-replay", "orders-app", "shipping-orders", "billing"], "reordered")
        assert table.cursor_key == "orders-app"

        # A click on a header sorts by it: members, most first, ties by name.
        x = 0
        for column in table.columns.values():
            if column.key == "members":
                break
            x += column.width + 2 * table.cell_padding
        await pilot.click("#group-list", offset=(x + 2, 0))
        await shows(["orders-app", "billing", "orders-replay", "shipping-orders"], "by members")
        assert "sorted by members descending" in str(facts.render())
        assert table.cursor_key == "orders-app"

        # Filter as you type: a case-insensitive substring, then a regex.
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.focused, Input), "the filter focused")
        await pilot.press(*"ORD")
        await shows(["orders-app", "orders-replay", "shipping-orders"], "the substring")
        assert str(facts.render()).startswith("3 of 4 groups")
        await filter_by(pilot, app, "^orders-(app|replay)$")
        await shows(["orders-app", "orders-replay"], "the regex")
        await filter_by(pilot, app, "orders[")
        await shows([], "an invalid regex as plain text")
        assert "0 of 4 groups" in str(facts.render())
        await filter_by(pilot, app, "replay")
        await shows(["orders-replay"], "the last filter")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.focused is table, "escape back to the list")
        assert "total lag 57" in str(facts.render()), "the facts are of the groups shown"
        detail = await screen_after(pilot, "enter", GroupDetailScreen, "the detail")
        assert detail.group_id == "orders-replay"


# -- resetting offsets -----------------------------------------------------------------------


async def test_reset_is_refused_while_active_and_works_once_empty(
    embedded: EmbeddedBroker, members: Callable[..., Member]
) -> None:
    member = await consuming_group(embedded, members, {0: 4, 1: 20, 2: 25})
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_groups(pilot, app, "11")
        dialog = await screen_after(pilot, "r", ResetOffsetsScreen, "the dialog")
        preview = dialog.query_one("#reset-preview", DataTable)

        # Dry run to earliest: every partition to 0, shown next to where it stands.
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: preview.row_count == 3, "the dry run")
        rows = [[str(c) for c in preview.get_row_at(i)] for i in range(3)]
        assert rows == [
            ["orders", "0", "4", "→", "0", "-4"],
            ["orders", "1", "20", "→", "0", "-20"],
            ["orders", "2", "25", "→", "0", "-25"],
        ]
        assert "Kafka will refuse" in text_of(dialog, "#reset-status")

        # Execute while the member is there: refused, with Kafka's reason, nothing moved.
        await pilot.press("ctrl+e")
        reason = (
            "Assignments can only be reset if the group 'orders-app' is inactive, but the"
            " current state is Stable."
        )
        await wait_until(pilot, lambda: "Refused" in text_of(dialog, "#reset-status"), "refusal")
        assert reason in text_of(dialog, "#reset-status")
        assert app.screen is dialog, "the dialog stays open"
        offsets = await asyncio.to_thread(committed, embedded.bootstrap, GROUP)
        assert offsets == {(TOPIC, 0): 4, (TOPIC, 1): 20, (TOPIC, 2): 25}

        # The member leaves; shift by -2 through the form, dry run, execute.
        await asyncio.to_thread(member.stop)
        strategy = dialog.query_one("#reset-strategy", Select)
        strategy.focus()
        await pilot.press("enter", "down", "down", "down", "down", "enter")
        await wait_until(pilot, lambda: strategy.value == "shift", "shift by N chosen")
        value = dialog.query_one("#reset-value", Input)
        await wait_until(pilot, lambda: not value.disabled, "the value field enabled")
        value.focus()
        await pilot.press("minus", "2", "enter")  # enter in the value field is a dry run
        await wait_until(
            pilot,
            lambda: (
                "no members" in text_of(dialog, "#reset-state")
                and preview.row_count == 3
                and str(preview.get_row_at(0)[4]) == "2"
            ),
            "a dry run of the empty group",
        )
        assert [str(preview.get_row_at(i)[4]) for i in range(3)] == ["2", "18", "23"]
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: app.screen is not dialog, "the dialog to close")
        await wait_until(
            pilot,
            lambda: notified(app, "committed new offsets for 3 partition(s) of group orders-app"),
            "the notification",
        )
        offsets = await asyncio.to_thread(committed, embedded.bootstrap, GROUP)
        assert offsets == {(TOPIC, 0): 2, (TOPIC, 1): 18, (TOPIC, 2): 23}
        table = group_table(app)
        await wait_until(pilot, lambda: cell(table, GROUP, "lag") == "17", "the new lag")
        assert cell(table, GROUP, "state") == "Empty"
        assert cell(table, GROUP, "members") == "0"


async def test_the_detail_shows_the_new_offsets_when_the_reset_is_announced(
    embedded: EmbeddedBroker,
) -> None:
    """Issue 14, point 5: the toast said "committed new offsets" while the group's detail
    kept the old ones until the next sample of every group (seconds on a loaded machine),
    and the dry run and the commit gave no sign they were under way.
    The group is read again before the toast, a sample begun before the reset is not shown,
    and the detail says it is updating meanwhile."""
    embedded.call(lambda: embedded.state.create_topic(TOPIC, 3))
    await asyncio.to_thread(produce, embedded.bootstrap, TOPIC, {0: 10, 1: 10, 2: 10})
    await asyncio.to_thread(commit_as, embedded.bootstrap, GROUP, {0: 7, 1: 8, 2: 9})
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_groups(pilot, app, "6")
        detail = await screen_after(pilot, "enter", GroupDetailScreen, "the group's detail")
        partitions = detail.query_one("#group-partitions", DataTable)
        await wait_until(pilot, lambda: partitions.row_count == 3, "its partitions")
        dialog = await screen_after(pilot, "r", ResetOffsetsScreen, "the reset dialog")
        said = busy_said(app)  # the dry run and the commit say they are under way
        await pilot.press("ctrl+r")
        preview = dialog.query_one("#reset-preview", DataTable)
        await wait_until(pilot, lambda: preview.row_count == 3, "the dry run")
        assert said == [f"working out the new offsets of {GROUP}", ""]
        seen: list[list[str]] = []
        notify = app.notify

        def noted(message: str, **kwargs: Any) -> None:
            # What the detail shows as the reset is announced, read in the same turn.
            if message.startswith("committed new offsets"):
                seen.append([cell(partitions, f"{TOPIC}-{p}", "committed") for p in range(3)])
            notify(message, **kwargs)

        app.notify = noted  # type: ignore[method-assign]
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: bool(seen), "the reset announced")
        assert seen == [["0", "0", "0"]]
        assert app.screen is detail
        assert said[2:] == [f"committing the offsets of {GROUP}", ""]


async def test_a_bad_value_is_explained_before_anything_is_sent(
    embedded: EmbeddedBroker, members: Callable[..., Member]
) -> None:
    await consuming_group(embedded, members, {0: 1, 1: 1, 2: 1})
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_groups(pilot, app, "57")
        dialog = await screen_after(pilot, "r", ResetOffsetsScreen, "the dialog")
        dialog.query_one("#reset-strategy", Select).value = "timestamp"
        value = dialog.query_one("#reset-value", Input)
        await wait_until(pilot, lambda: not value.disabled, "the value field enabled")
        value.focus()
        await pilot.press(*"yesterday", "enter")
        status = "#reset-status"
        await wait_until(pilot, lambda: "not a time" in text_of(dialog, status), "the error")
        await pilot.press("ctrl+e")
        assert "make a dry run first" in text_of(dialog, status)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not dialog, "the dialog to close")


# -- deleting a group ------------------------------------------------------------------------


async def test_delete_is_refused_with_members_and_works_once_empty(
    embedded: EmbeddedBroker, members: Callable[..., Member]
) -> None:
    member = await consuming_group(embedded, members, {0: 1, 1: 2, 2: 3})
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_groups(pilot, app, "54")
        await screen_after(pilot, "d", ConfirmScreen, "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: notified(app, "NON_EMPTY_GROUP"), "the refusal")
        assert GROUP in group_table(app).keys

        await asyncio.to_thread(member.stop)
        table = group_table(app)
        await wait_until(pilot, lambda: cell(table, GROUP, "state") == "Empty", "an empty group")
        await screen_after(pilot, "d", ConfirmScreen, "the question")
        said = busy_said(app)  # issue 14, point 5: under way, said at once
        await pilot.press("y")
        await wait_until(pilot, lambda: GROUP not in table.keys, "the group gone from the list")
        assert notified(app, f"deleted group {GROUP}")
        assert said == [f"deleting group {GROUP}", ""]
        assert pane(app).history.group(GROUP) == [], "its history is forgotten"
    assert await asyncio.to_thread(committed, embedded.bootstrap, GROUP) == {}


# -- the offsets view ------------------------------------------------------------------------


def marker_column(bars: OffsetsBars, index: int) -> int:
    """Where the one group's marker sits under the index-th partition's bar."""
    return bars.render().plain.split("\n")[bars.marks_row(index)].index("▲")


async def test_offsets_view_follows_commits_and_delete_records(
    embedded: EmbeddedBroker, members: Callable[..., Member]
) -> None:
    member = await consuming_group(embedded, members, {0: 2, 1: 5, 2: 5})
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_groups(pilot, app, "48")
        view = await screen_after(pilot, "o", OffsetsScreen, "the view")
        bars = view.query_one(OffsetsBars)

        def first() -> tuple[int, int, int] | None:
            reading = view.offsets.partition(0) if view.offsets else None
            if reading is None or not reading.marks:
                return None
            return reading.log_start, reading.high_watermark, reading.marks[0].offset

        await wait_until(pilot, lambda: first() == (0, 10, 2), "partition 0 read")
        before = marker_column(bars, 0)
        assert "orders-app" in text_of(view, "#offsets-legend")

        # A commit moves the marker right.
        await asyncio.to_thread(commit, member, TOPIC, {0: 8})
        await wait_until(pilot, lambda: first() == (0, 10, 8), "the new commit")
        await pilot.pause()
        assert marker_column(bars, 0) > before

        # DeleteRecords up to the suggested offset (what every group has read) moves the start.
        await screen_after(pilot, "x", DeleteRecordsScreen, "prompt")
        assert app.screen.query_one("#delete-offset", Input).value == "8"
        await pilot.press("enter")
        await wait_until(pilot, lambda: first() == (8, 10, 8), "the log start at 8")
        assert "8 records deleted since opened" in text_of(view, "#offsets-facts")
        assert "░" in bars.render().plain.split("\n")[bars.bar_row(0)], "the deleted part"
        assert notified(app, "log start is now 8")
    assert log_start(embedded, TOPIC, 0) == 8


async def test_offsets_view_shows_retention_moving_the_start(tmp_path: Path) -> None:
    """Any pane can push the view for a topic; the broker's own retention moves the start."""
    config = {"log.retention.check.interval.ms": "200"}
    with running_broker(tmp_path / "broker", config) as embedded:
        small = {"segment.bytes": "1000", "retention.ms": "3600000"}
        embedded.call(lambda: embedded.state.create_topic("events", 1, configs=dict(small)))
        for _ in range(6):  # batch by batch, so segments roll
            await asyncio.to_thread(produce, embedded.bootstrap, "events", {0: 10})
        app = workbench_app(embedded)
        async with app.run_test(size=SIZE) as pilot:
            await wait_connected(pilot, app)
            app.push_screen(OffsetsScreen("events"))
            await wait_until(pilot, lambda: isinstance(app.screen, OffsetsScreen), "the view")
            view = app.screen
            assert isinstance(view, OffsetsScreen)

            def start() -> int | None:
                reading = view.offsets.partition(0) if view.offsets else None
                return reading.log_start if reading is not None else None

            await wait_until(pilot, lambda: start() == 0, "the first reading")
            assert view.offsets is not None and view.offsets.partitions[0].high_watermark == 60
            expire = {**small, "retention.ms": "1"}
            embedded.call(lambda: embedded.state.set_topic_configs("events", expire))
            await wait_until(pilot, lambda: (start() or 0) > 0, "retention to move the start")
            moved = start()
            assert f"{moved:,} records deleted since opened" in text_of(view, "#offsets-facts")
        assert log_start(embedded, "events", 0) >= (moved or 1)
