"""The workbench app as a whole: launch, connection status, profiles, themes, help."""

from __future__ import annotations

import asyncio
import stat
import time
from pathlib import Path

import pytest
from textual.app import App
from textual.command import CommandInput, CommandList
from textual.pilot import Pilot
from textual.widgets import DataTable, Footer, Input, OptionList, Static, TabbedContent
from workbench_pilot import (
    SIZE,
    external_app,
    port_of,
    press_until,
    screen_after,
    wait_connected,
    wait_focused,
    wait_until,
    workbench_app,
)

from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker
from tui.launch import open_workbench, parser
from tui.profiles import Profile, config_home, config_path, load_profiles, save_profiles
from tui.screens.help import HelpScreen
from tui.screens.profiles import AddProfileScreen, ProfilesScreen
from tui.textual_private import EDGE_KEY_CLASS, FooterKey
from tui.widgets.cluster_bar import ClusterBar
from tui.widgets.pane import Pane
from tui.widgets.search_pane import SearchPane
from tui.widgets.tail_pane import TailPane

pytestmark = pytest.mark.timeout(90)


def bar_text(app: object, widget_id: str) -> str:
    return str(app.query_one(ClusterBar).query_one(f"#{widget_id}", Static).render())  # type: ignore[attr-defined]


async def open_add_profile(pilot: Pilot[None]) -> None:
    """ctrl+o, then `a` once the profiles screen has the focus (a key sent sooner could reach
    the screen before it), until the new profile form is shown and its first field focused."""
    app = pilot.app
    await screen_after(pilot, "ctrl+o", ProfilesScreen, "profiles")
    await wait_until(pilot, lambda: isinstance(app.focused, OptionList), "the profiles list")
    await screen_after(pilot, "a", AddProfileScreen, "the form")
    await wait_focused(pilot, "profile-name")


async def save_profile(pilot: Pilot[None]) -> str:
    """Click "Save and connect" once it is laid out, and what the form says then (once it
    says something: the click is handled a moment after it is sent)."""
    app = pilot.app
    save = app.screen.query_one("#profile-save")
    await wait_until(pilot, lambda: save.region.area > 0, "the save button on screen")
    error = app.screen.query_one("#profile-error", Static)
    assert str(error.render()) == ""
    assert await pilot.click(save), "the click missed the save button"
    await wait_until(pilot, lambda: str(error.render()) != "", "the form's answer")
    return str(error.render())


async def test_launch_shows_the_embedded_broker(embedded: EmbeddedBroker) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        assert "embedded localbroker" in bar_text(app, "cluster-label")
        assert bar_text(app, "cluster-status").startswith("● connected")
        nodes = app.query_one("#nodes", DataTable)
        await wait_until(pilot, lambda: nodes.row_count == 1, "the broker in the nodes table")
        assert str(nodes.get_row_at(0)[1]).endswith(f":{port_of(embedded)}")
        versions = app.query_one("#api-versions", DataTable)
        names = {versions.get_row_at(i)[0] for i in range(versions.row_count)}
        assert {"Produce", "Fetch", "JoinGroup", "ListOffsets", "DescribeLogDirs"} <= names
        configs = app.query_one("#broker-configs", DataTable)
        await wait_until(pilot, lambda: configs.row_count > 50, "the broker configs")
        await pilot.press("/")
        await wait_focused(pilot, "config-filter")  # the focus moves a moment after the key
        await pilot.press(*"num.partitions")
        await wait_until(pilot, lambda: configs.row_count < 10, "the config filter")
        rows = {
            str(name): str(value)
            for name, value, *_ in map(configs.get_row_at, range(configs.row_count))
        }
        assert all("num.partitions" in name for name in rows)
        assert rows["num.partitions"] == "1"


async def test_status_follows_the_broker_going_away_and_coming_back(
    embedded: EmbeddedBroker,
) -> None:
    port, data_dir = port_of(embedded), embedded.data_dir
    app = workbench_app(embedded)
    restarted: EmbeddedBroker | None = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_connected(pilot, app)
            await asyncio.to_thread(embedded.stop)
            await wait_until(
                pilot, lambda: app.status is not None and not app.status.connected, "status down"
            )
            status = app.query_one(ClusterBar).query_one("#cluster-status", Static)
            assert status.has_class("-down")
            assert "retrying in" in bar_text(app, "cluster-status")
            restarted = await asyncio.to_thread(EmbeddedBroker(data_dir, port=port).start)
            await wait_until(
                pilot,
                lambda: app.status is not None and app.status.connected,
                "the reconnect",
                timeout=30,
            )
            assert not status.has_class("-down")
    finally:
        if restarted is not None:
            restarted.stop()


async def test_switching_to_another_clusters_profile(
    embedded: EmbeddedBroker, other_broker: EmbeddedBroker
) -> None:
    save_profiles({"other": Profile("other", other_broker.bootstrap, "red")})
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        await screen_after(pilot, "ctrl+o", ProfilesScreen, "profiles")
        await wait_until(pilot, lambda: isinstance(app.focused, OptionList), "the list")
        options = app.screen.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(2)] == ["local", "other"]
        await pilot.press("down", "enter")
        await wait_until(
            pilot,
            lambda: (
                app.snapshot is not None
                and app.snapshot.cluster.brokers[0].port == port_of(other_broker)
            ),
            "a snapshot of the other cluster",
        )
        assert app.workbench.profile.name == "other"
        assert bar_text(app, "cluster-label") == f"other · {other_broker.bootstrap}"


async def test_adding_a_profile_saves_it_privately_and_connects(
    embedded: EmbeddedBroker, other_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    properties = tmp_path / "client.properties"
    properties.write_text("client.id=workbench-test\n")
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        await open_add_profile(pilot)
        assert "new name" in await save_profile(pilot)
        app.screen.query_one("#profile-name", Input).value = "staging"
        app.screen.query_one("#profile-bootstrap", Input).value = other_broker.bootstrap
        app.screen.query_one("#profile-properties", Input).value = str(properties)
        app.screen.query_one("#profile-properties", Input).focus()
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: app.workbench.profile.name == "staging" and app.snapshot is not None,
            "the new profile's cluster",
        )
    saved = load_profiles()["staging"]
    assert saved.bootstrap_servers == other_broker.bootstrap
    assert saved.properties == {"client.id": "workbench-test"}
    assert stat.S_IMODE(config_path().stat().st_mode) == 0o600


async def test_a_bad_properties_file_is_refused_with_the_reason(
    embedded: EmbeddedBroker, tmp_path: Path
) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_add_profile(pilot)
        app.screen.query_one("#profile-name", Input).value = "broken"
        app.screen.query_one("#profile-bootstrap", Input).value = "kafka-1:9092"
        app.screen.query_one("#profile-properties", Input).value = str(tmp_path / "missing")
        error = await save_profile(pilot)
        assert "missing" in error
        assert isinstance(app.screen, AddProfileScreen)
    assert not config_path().exists()


async def test_palette_switches_theme_and_help_opens(embedded: EmbeddedBroker) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "dark"
        assert {"dark", "light", "high-contrast"} <= set(app.theme_names)
        await press_until(
            pilot, "ctrl+p", lambda: isinstance(app.focused, CommandInput), "the palette's input"
        )
        await pilot.press(*"theme light")
        hits = app.screen.query_one(CommandList)
        await wait_until(pilot, lambda: hits.option_count > 0, "the palette's hits")
        assert "Theme: light" in str(hits.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.theme == "light", "the light theme")
        await screen_after(pilot, "question_mark", HelpScreen, "the help screen")
        # The help's own footer (esc Close), not the pane's keys, which do nothing under it.
        footer = app.screen.query_one(Footer)
        await wait_until(pilot, lambda: bool(footer.query(FooterKey)), "the help's footer")
        assert [key.description for key in footer.query(FooterKey)] == ["Close"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), "help closed")


async def palette_hits(pilot: Pilot[None], query: str) -> list[str]:
    """The palette opened and `query` typed: its hits, as text."""
    app = pilot.app
    await press_until(
        pilot, "ctrl+p", lambda: isinstance(app.focused, CommandInput), "the palette's input"
    )
    await pilot.press(*query)
    hits = app.screen.query_one(CommandList)
    await wait_until(pilot, lambda: hits.option_count > 0, f"the palette's hits for {query}")
    return [str(hits.get_option_at_index(i).prompt) for i in range(hits.option_count)]


async def test_one_palette_entry_per_theme_and_a_screenshot_that_says_where(
    embedded: EmbeddedBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14, point 6: Textual's own "Theme" entry sat beside the workbench's, and its
    screenshot went to ~/Downloads, failing where there is none. A home without Downloads:
    the screenshot lands in the working directory and the notification says so."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        themes = await palette_hits(pilot, "theme")
        assert themes and all(hit.startswith("Theme: ") for hit in themes), themes
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.focused, CommandInput), "closed")
        shots = await palette_hits(pilot, "screenshot")
        assert shots[0].startswith("Screenshot")
        await pilot.press("enter")
        await wait_until(pilot, lambda: list(work.glob("*.svg")), "the screenshot file")
        (saved,) = work.glob("*.svg")
        await wait_until(
            pilot,
            lambda: any(str(saved) in n.message for n in app._notifications),
            "the notification naming the file",
        )
        assert not (home / "Downloads").exists()


async def test_the_theme_cluster_and_pane_last_used_are_kept(embedded: EmbeddedBroker) -> None:
    """Issue 14, point 6: the theme, the cluster and the pane were forgotten on restart."""
    save_profiles({"other": Profile("other", embedded.bootstrap, "red")})
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        app.switch_theme("light")
        await pilot.press("5")
        panes = app.query_one("#panes", TabbedContent)
        await wait_until(pilot, lambda: panes.active == "groups", "the Groups pane")
        app._switch_profile("other")
        await wait_until(pilot, lambda: app.preferences.profile == "other", "the switch done")
    again = workbench_app(embedded)
    async with again.run_test(size=SIZE) as pilot:
        panes = again.query_one("#panes", TabbedContent)
        await wait_until(pilot, lambda: panes.active == "groups", "the Groups pane again")
        assert again.theme == "light"
    assert open_workbench(parser().parse_args([])).profile.name == "other"


async def test_the_topics_last_used_are_kept(embedded: EmbeddedBroker) -> None:
    """Issue 14, point 6: the last tailed topics come back in the Tail pane's field, ready for
    enter, and the Produce pane starts on the topic last produced to (the first one tailed
    when nothing was produced yet)."""
    embedded.call(lambda: embedded.state.create_topic("orders", 2))
    embedded.call(lambda: embedded.state.create_topic("audit", 1))

    def topics_field(app: App[None], selector: str) -> Input:
        return app.query_one(selector, Input)

    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        app.query_one(TailPane).tail("orders:1, audit")
        await wait_until(pilot, lambda: app.preferences.tail_topics == "orders:1, audit", "kept")
    again = workbench_app(embedded)
    async with again.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, again)
        assert topics_field(again, "#tail-topics").value == "orders:1, audit"
        topic = topics_field(again, "#topic")
        assert topic.value == "orders"
        topic.value = "audit"
        await pilot.press("4")
        await press_until(
            pilot, "ctrl+s", lambda: again.preferences.produce_topic == "audit", "a record sent"
        )
    third = workbench_app(embedded)
    async with third.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, third)
        assert topics_field(third, "#topic").value == "audit"
        assert topics_field(third, "#tail-topics").value == "orders:1, audit"


def footer(app: object) -> tuple[list[str], list[str]]:
    """The descriptions of the footer keys wholly in view left of its right edge, in order,
    and of the keys docked at that edge."""
    keys = list(app.screen.query_one(Footer).query(FooterKey))  # type: ignore[attr-defined]
    edge = [key for key in keys if key.has_class(EDGE_KEY_CLASS)]
    limit = min([key.region.x for key in edge], default=app.size.width)  # type: ignore[attr-defined]
    flow = sorted((key for key in keys if key not in edge), key=lambda key: key.region.x)
    return [key.description for key in flow if key.region.right <= limit], [
        key.description for key in edge
    ]


async def test_footer_fits_an_80_column_terminal(embedded: EmbeddedBroker) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot, app)
        await pilot.press("2")
        await wait_until(pilot, lambda: "Sort" in footer(app)[0], "the Topics keys to fit")
        shown, edge = footer(app)
        # Compact, and the help key at the right edge in place of the palette.
        assert shown[:7] == [
            "Detail",
            "Create",
            "Configs",
            "Delete",
            "Add partitions",
            "Filter",
            "Sort",
        ]
        assert edge == ["Help"]
        help_key = app.screen.query_one(Footer).query(FooterKey).filter(f".{EDGE_KEY_CLASS}")
        assert help_key.first().region.right == 80
        await pilot.resize_terminal(160, 48)
        await wait_until(pilot, lambda: footer(app)[1] == ["palette"], "the wide footer")
        assert "Help" in footer(app)[0] and "Internal" in footer(app)[0]


THEME = """\
/* a user theme */
$primary: {primary};
$background: #101010;
"""


async def test_theme_files_reload_when_edited(embedded: EmbeddedBroker) -> None:
    themes = config_home() / "themes"
    themes.mkdir(parents=True)
    mine = themes / "mine.tcss"
    mine.write_text(THEME.format(primary="#aa0000"))
    app = workbench_app(embedded)
    app._watch_theme_files = True
    async with app.run_test(size=SIZE) as pilot:
        assert "mine" in app.theme_names
        app.switch_theme("mine")
        # The watcher starts a moment after the app, and an edit made before it watches is
        # never seen: write the edit again until it is applied (bounded).
        deadline = time.monotonic() + 20
        while app.current_theme.primary != "#00aa00":
            assert time.monotonic() < deadline, "the edited theme was never applied"
            mine.write_text(THEME.format(primary="#00aa00"))
            written = time.monotonic()
            while app.current_theme.primary != "#00aa00" and time.monotonic() - written < 1:
                await pilot.pause(0.05)
        assert app.get_css_variables()["primary"].lower() == "#00aa00"
        mine.write_text("$background: #000000;\n")
        await wait_until(
            pilot,
            lambda: any("does not declare $primary" in n.message for n in app._notifications),
            "an error about the broken theme",
            timeout=20,
        )
        assert app.current_theme.primary == "#00aa00", "a broken edit keeps the last good theme"


class PanesAtMount(WorkbenchApp):
    """Counts the panes there when the app mounts, before its first frame."""

    panes_at_mount = -1

    def on_mount(self) -> None:
        self.panes_at_mount = len(self.query(Pane))
        super().on_mount()


async def test_the_first_frame_builds_only_the_pane_it_shows() -> None:
    """Issue 16: composing all eight panes was 0.6 s of CPU before the first frame. The
    others are built after it, and a pane shown before its turn at once. Mutation check:
    with compose yielding every pane again, 8 panes are there at mount and this fails."""
    app = PanesAtMount(external_app("127.0.0.1:1").workbench, watch_theme_files=False)
    async with app.run_test(size=SIZE) as pilot:
        assert app.panes_at_mount == 1
        app.show_pane("search")
        assert len(app.query(SearchPane)) == 1
        await wait_until(pilot, lambda: len(app.query(Pane)) == len(app.pane_specs), "built")
        await wait_until(pilot, lambda: app.status is not None, "the cluster followed")
