"""The Brokers pane against a real embedded broker, and the help that lists every pane's keys.

test_app.py checks what the pane shows at launch (nodes, API versions, configs, the filter);
these check that it keeps the user's place while snapshots arrive every second, that `v`
swaps configs and API versions where both don't fit, that configs are cut for the width
their table has, and that the help screen is built from the panes' own bindings.
"""

from __future__ import annotations

import pytest
from snapshot_host import PaneHost
from textual.binding import Binding
from textual.widgets import DataTable, Static
from workbench_pilot import Cluster, press_until, wait_connected, wait_until, workbench_app

from localbroker.public import ConfigSource
from tui.embedded import EmbeddedBroker
from tui.kafka.models import ConfigInfo
from tui.panes import panes
from tui.screens.help import help_sections
from tui.widgets.brokers_pane import BrokersPane

pytestmark = pytest.mark.timeout(90)


async def test_configs_keep_the_cursor_while_snapshots_arrive(cluster: Cluster) -> None:
    """On Apache Kafka too, whose broker (node 1, broker and KRaft controller at once) has
    hundreds of configs from more sources than localbroker's."""
    app = cluster.app()
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_connected(pilot, app)
        configs = app.query_one("#broker-configs", DataTable)
        await wait_until(pilot, lambda: configs.row_count > 50, "the broker configs")
        configs.focus()
        await press_until(pilot, ["down"] * 7, lambda: configs.cursor_row == 7, "row 7")
        chosen = configs.get_row_at(7)[0]
        doc = app.query_one("#config-doc", Static)
        await wait_until(pilot, lambda: str(doc.render()).startswith(str(chosen)), "its doc")
        first = app.snapshot
        await wait_until(
            pilot,
            lambda: app.snapshot is not first and app.snapshot is not None,
            "another snapshot",
            timeout=5,
        )
        await pilot.pause(0.2)  # nothing to wait for: had it moved the cursor, it would have
        assert configs.cursor_row == 7
        assert configs.get_row_at(configs.cursor_row)[0] == chosen
        assert str(doc.render()).startswith(str(chosen))
        count = str(app.query_one("#configs-count", Static).render())
        (node,) = app.snapshot.cluster.brokers
        total = configs.row_count
        assert count == f"broker {node.node_id} · {total} of {total} configs"


async def test_broker_configs_read_long_max_as_topic_configs_do(embedded: EmbeddedBroker) -> None:
    """Issue 14, point 6: log.flush.interval.messages showed 9223372036854775807 where the
    topic's flush.messages read "no limit"; the broker's values now read as the topic's."""
    app = workbench_app(embedded)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_connected(pilot, app)
        configs = app.query_one("#broker-configs", DataTable)
        await wait_until(pilot, lambda: configs.row_count > 50, "the broker configs")
        values = {
            name: str(configs.get_cell(name, configs.ordered_columns[1].key))
            for name in (
                "log.flush.interval.messages",
                "log.retention.bytes",
                "log.retention.check.interval.ms",
            )
        }
        assert values == {
            "log.flush.interval.messages": f"{2**63 - 1}  no limit",
            "log.retention.bytes": "-1  no limit",
            "log.retention.check.interval.ms": "300000  5 min",
        }


async def test_v_swaps_configs_and_api_versions_at_80_columns(embedded: EmbeddedBroker) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot, app)
        configs_side = app.query_one("#configs-side")
        versions = app.query_one("#api-versions", DataTable)
        await wait_until(pilot, lambda: versions.row_count > 20, "the API versions")
        assert configs_side.display and not versions.display
        # `v` shows the versions and then moves the focus there, a moment later still.
        await press_until(pilot, "v", lambda: versions.has_focus, "the API versions focused")
        assert versions.display and not configs_side.display
        await press_until(pilot, "v", lambda: configs_side.display, "the configs back")
        assert configs_side.display and not versions.display


async def test_configs_are_cut_again_when_their_table_widens() -> None:
    """At 120 columns the API versions sit beside the configs, whose long names are cut to
    fit; `v` hides them and the configs' table widens while the pane keeps its size. The
    names were cut for the pane's resize only, so they stayed cut for the old width: the
    mechanism of test_brokers_pane[80x24]'s flake, where the cut ran before the layout
    that gave the table its width. They are now cut for the table's own width."""
    name = "remote.log.manager.copier.thread.pool.size"
    dirs = "/var/lib/kafka/data-1,/var/lib/kafka/data-2"
    configs = [
        ConfigInfo(name, "10", ConfigSource.DEFAULT_CONFIG, True),
        ConfigInfo("log.dirs", dirs, ConfigSource.STATIC_BROKER_CONFIG, True),
    ]
    app = PaneHost(BrokersPane(), focus="#nodes", prepare=lambda p: show_configs(p, configs))
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#broker-configs", DataTable)

        def shown_name() -> str:
            return str(table.get_cell(name, "config")) if name in table.rows else ""

        await wait_until(pilot, lambda: "…" in shown_name(), "the name cut beside the versions")
        await pilot.press("v")
        await wait_until(pilot, lambda: shown_name() == name, "the name in full")


def show_configs(pane: object, configs: list[ConfigInfo]) -> None:
    assert isinstance(pane, BrokersPane)
    pane.show_configs("1", configs)


def test_help_lists_each_panes_keys() -> None:
    """Every pane appears with every key its BINDINGS describe: nothing to keep in sync."""
    specs = panes()
    sections = [str(s) for s in help_sections(specs, lambda b: b.key)]
    assert sections[0].startswith("Everywhere")
    assert f"{specs[0].key} … {specs[-1].key}" in sections[0]
    for spec in specs:
        bindings = [
            b for b in Binding.make_bindings(getattr(spec.factory, "BINDINGS", ())) if b.description
        ]
        if not bindings:
            continue
        text = next(t for t in sections if t.startswith(f"{spec.key}  {spec.title}\n"))
        for binding in bindings:
            assert f"{binding.key}" in text and binding.description in text
