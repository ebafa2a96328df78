"""SVG snapshots of the Topics pane and its dialogs, at 80x24 and 160x48.

Nothing here varies between runs: the pane is fed one fixed ClusterSnapshot (no broker, so
no ports, topic ids, cluster ids or rates that change), it runs in a small app with the
default theme, and cursors don't blink. The Pilot tests in test_topics_pane.py cover the same
pane against a real broker; these catch what it looks like. Where a dialog would show what a
broker said (its configs, a refusal), the test hands the dialog that answer itself, in the
words localbroker and Kafka use.

The host app and the fixed snapshot are in snapshot_host.py, shared by every pane. Update after
an intended change: `pytest tests/tui/test_snapshots_topics.py --snapshot-update`,
then look at the SVGs under __snapshots__ before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC

import pytest
from snapshot_host import SIZE_IDS, SIZES, PaneHost, snap_pane, steady
from textual.pilot import Pilot

from localbroker.public import ConfigSource
from tui.kafka.models import ConfigInfo
from tui.kafka.tail import RawRecord
from tui.screens.add_partitions import AddPartitionsScreen
from tui.screens.create_topic import CreateTopicScreen
from tui.screens.edit_configs import EditConfigsScreen
from tui.screens.topic_detail import TopicDetailScreen
from tui.widgets.topics_pane import TopicsPane

LONG_MAX = str(2**63 - 1)
RETENTION_DOC = (
    "This configuration controls the maximum time we will retain a log before we will discard"
    ' old log segments to free up space if we are using the "delete" retention policy.'
)
TOPIC_CONFIGS = [
    ConfigInfo("cleanup.policy", "delete", ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("compression.type", "producer", ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("delete.retention.ms", "86400000", ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("file.delete.delay.ms", "60000", ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("flush.messages", LONG_MAX, ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("flush.ms", LONG_MAX, ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("max.message.bytes", "1048588", ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("message.timestamp.type", "CreateTime", ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("min.cleanable.dirty.ratio", "0.5", ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("min.insync.replicas", "1", ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("retention.bytes", "-1", ConfigSource.DEFAULT_CONFIG),
    ConfigInfo(
        "retention.ms", "3600000", ConfigSource.DYNAMIC_TOPIC_CONFIG, documentation=RETENTION_DOC
    ),
    ConfigInfo("segment.bytes", "1073741824", ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("segment.ms", "604800000", ConfigSource.DEFAULT_CONFIG),
    ConfigInfo("unclean.leader.election.enable", "false", ConfigSource.DEFAULT_CONFIG),
]
REPLICATION_REFUSED = (
    "topic events: INVALID_REPLICATION_FACTOR: Unable to replicate the partition 3 time(s):"
    " The target replication factor of 3 cannot be reached because only 1 broker(s) are"
    " registered."
)
DECREASE_REFUSED = (
    "topic orders: INVALID_PARTITIONS: The topic orders currently has 6 partition(s);"
    " 2 would not be an increase."
)


ORDERS_NEWEST: list[RawRecord] = [
    (
        "orders",
        partition,
        offset,
        1_767_225_600_000 + 250 * index,  # 2026-01-01 00:00:00 UTC on
        0,
        f"order-{offset}".encode(),
        f'{{"order":{offset},"status":"{status}","amount":{offset % 97}.5}}'.encode(),
        ((("source", b"web"),) if index % 3 == 0 else ()),
    )
    for index, (partition, offset, status) in enumerate(
        [
            (2, 208_331, "PAID"),
            (0, 176_540, "NEW"),
            (5, 301_002, "FAILED"),
            (1, 198_770, "PAID"),
            (4, 250_118, "NEW"),
            (3, 222_905, "SHIPPED"),
            (2, 208_332, "NEW"),
            (0, 176_541, "PAID"),
            (5, 301_003, "NEW"),
            (1, 198_771, "FAILED"),
        ]
    )
]
"""The newest records of `orders` as the topic detail reads them, oldest first."""


def host() -> PaneHost:
    return PaneHost(TopicsPane(tz=UTC), focus="#topic-list")


def snap(
    snap_compare: Callable[..., bool], size: tuple[int, int], keys: Iterable[str] = ()
) -> bool:
    return snap_pane(snap_compare, host, size, keys)


def then(
    keys: Iterable[str], answer: Callable[[Pilot[None]], None]
) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Press `keys`, let `answer` give the dialog what the broker would have said, then
    settle like `steady` does."""

    async def run(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        answer(pilot)
        await steady()(pilot)

    return run


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_topics_pane(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """Sorted by name, internal topics hidden, the first topic under the cursor."""
    assert snap(snap_compare, size)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_topics_pane_filtered_sorted_with_internal(
    snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    """Filter `o`, sort by records (biggest first), internal topics shown; the cursor stayed
    on audit-log, now the last row."""
    keys = ["slash", "o", "enter", "s", "s", "s", "s", "i"]
    assert snap(snap_compare, size, keys)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_partition_detail(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """`orders` (the fourth row) opened: its log start offset moved past 0 on partition 0,
    retention.ms set on it, its newest ten records across partitions below."""

    def answer(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, TopicDetailScreen)
        screen.show_configs(TOPIC_CONFIGS)
        screen.show_sample(ORDERS_NEWEST)

    keys = ["down", "down", "down", "enter"]
    assert snap_compare(host(), terminal_size=size, run_before=then(keys, answer))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_create_dialog_with_a_local_error(
    snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    """Submitting without a name: the dialog says so and stays open."""
    assert snap(snap_compare, size, ["c", "enter"])


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_create_dialog_with_a_broker_refusal(
    snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    """Kafka's reason, whole and wrapped, under the fields the user filled in."""
    keys = ["c", *"events", "tab", "2", "tab", "3", "tab", *"retention.ms=3600000"]

    def refuse(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, CreateTopicScreen)
        screen.show_error(REPLICATION_REFUSED)

    assert snap_compare(host(), terminal_size=size, run_before=then(keys, refuse))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_delete_confirmation(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    assert snap(snap_compare, size, ["down", "d"])


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_add_partitions_dialog(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    assert snap(snap_compare, size, ["down", "down", "down", "p"])


def test_add_partitions_refused_decrease(snap_compare: Callable[..., bool]) -> None:
    keys = ["down", "down", "down", "p", "backspace", "2"]

    def refuse(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, AddPartitionsScreen)
        screen.show_error(DECREASE_REFUSED)

    assert snap_compare(host(), terminal_size=SIZES[0], run_before=then(keys, refuse))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_edit_configs_dialog(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """`orders`' configs, retention.ms set on the topic (bold) and highlighted: the value
    is ready to edit, its documentation below; long values read as durations and sizes."""
    keys = ["down", "down", "down", "e"]

    def describe(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        assert isinstance(screen, EditConfigsScreen)
        screen.show_configs(TOPIC_CONFIGS)
        screen.show_status(f"{len(TOPIC_CONFIGS)} configs, 1 set on this topic", False)

    async def to_retention(pilot: Pilot[None]) -> None:
        await then(keys, describe)(pilot)
        await pilot.press(*["down"] * 11)
        await pilot.pause()

    assert snap_compare(host(), terminal_size=size, run_before=to_retention)
