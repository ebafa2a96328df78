"""The workbench app: wires the panes, the cluster monitor and the themes together.

Everything that talks to Kafka lives in tui/kafka (no Textual); panes live in tui/widgets,
one per module. The app only owns the shared state: the latest cluster snapshot, the
connection status, the admin client, and the theme. It is the panes' Host (tui/host.py): they
watch its `snapshot` and `generation` and post messages up; it does not reach into them.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from functools import partial
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import AwaitMount, Widget
from textual.widgets import Input, TabbedContent, TabPane, TextArea

from .commands import WorkbenchCommands
from .embedded import BrokerInUse, data_home, open_local
from .kafka.admin import KafkaAdmin
from .kafka.cluster import ClusterSnapshot
from .kafka.cluster_monitor import ClusterMonitor, ConnectionStatus
from .kafka.connection import SettingsError
from .kafka.generator import GeneratorFleet
from .key_order import KeysInOrderApp
from .panes import PaneSpec, pane_named, panes
from .profiles import load_preferences, load_profiles, save_preferences
from .screens.broker_log import BrokerLogScreen
from .screens.help import HelpScreen
from .screens.jump import JumpScreen
from .screens.profiles import ProfilesScreen
from .themes import DEFAULT_THEME, ThemeError, available_themes, load_theme, watch_themes
from .widgets.cluster_bar import ClusterBar
from .widgets.footer import WorkbenchFooter
from .widgets.pane import Pane
from .widgets.pane_tabs import PaneTabs
from .workbench import Workbench

GC_THRESHOLDS = (10_000, 10, 100)
"""The collector's thresholds once the app is built (Python's are 700, 10, 10). A snapshot
of 10,000 partitions lives a second, long enough to be promoted; with the defaults that set
off a full collection every second or two, each stopping every thread for 50-150 ms. With
these: 2 full collections in two minutes instead of 113, the longest pause 68 ms instead of
104 (bench/scale.py --parts tui, gc.callbacks)."""


class WorkbenchApp(KeysInOrderApp[None]):
    TITLE = "kafka-workbench"
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    BINDINGS = [
        ("q", "quit", "Quit"),
        ("question_mark", "help", "Help"),
        ("ctrl+o", "profiles", "Clusters"),
        Binding("colon", "jump", "Jump", show=False),
        Binding("escape", "leave_field", "Leave field", show=False),
        Binding("ctrl+l", "broker_log", "Broker log", show=False),
    ]
    CSS = """
    #panes { height: 1fr; }
    #panes TabPane { height: 1fr; padding: 0; }
    """

    snapshot: reactive[ClusterSnapshot | None] = reactive(None)
    status: reactive[ConnectionStatus | None] = reactive(None)
    generation: reactive[int] = reactive(0, init=False)
    """Bumped when the workbench connects to another cluster: panes holding clients of the
    previous one watch it and start over. Not set at start (init=False): Textual would call
    the panes' watchers then, and the demo pane would stop the demo `kwb demo` just began."""

    def __init__(
        self,
        workbench: Workbench,
        theme_name: str | None = None,
        watch_theme_files: bool = True,
    ) -> None:
        super().__init__()
        self.workbench = workbench
        self.pane_specs: list[PaneSpec] = self.pane_list()
        self.monitor = ClusterMonitor(workbench.connection)
        self._gc_thresholds = gc.get_threshold()
        """The collector's thresholds before the app set GC_THRESHOLDS, given back at exit."""
        self.generators = GeneratorFleet()
        """Traffic generators live here, not in their pane: they run while other panes are
        shown, and stop when the app quits or connects to another cluster."""
        self._watch_theme_files = watch_theme_files
        self.theme_names: list[str] = []
        self._preferences_failed = False
        self._busy: list[str] = []
        """What the actions under way wait for, the latest last (see `busy`)."""
        self._remembering = False
        """Set once mounted: the theme set while starting is not a change to keep."""
        self._stop_notices: Callable[[], None] | None = None
        for spec in self.pane_specs:
            self.bind(spec.key, f"show_pane('{spec.pane_id}')", description=spec.title, show=False)
        # Themes before the first frame: setting one later restyles every widget again
        # (0.6 s of a 1.4 s start with seven panes).
        self._register_themes()
        self.preferences = load_preferences()
        """The theme, profile and pane last used (tui/profiles.py), kept as they change."""
        remembered = self.preferences.theme
        self.switch_theme(
            theme_name or (remembered if remembered in self.theme_names else DEFAULT_THEME)
        )

    def pane_list(self) -> list[PaneSpec]:
        """The panes, in tab order: a demo app adds the pane it plays its story on."""
        return panes()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """The workbench's own variables ($kwb-*), from the default theme, for any theme
        (Textual's built-in ones included) that does not declare them."""
        defaults = dict(super().get_theme_variable_defaults())
        default_theme = available_themes().get(DEFAULT_THEME)
        if default_theme is not None:
            defaults.update(load_theme(default_theme).variables)
        return defaults

    @property
    def admin(self) -> KafkaAdmin | None:
        """The connected admin client, or None while the cluster is unreachable."""
        return self.monitor.admin

    def compose(self) -> ComposeResult:
        # Bound, not set by query: the monitor may report a status while the app shuts down,
        # when the bar has already left the screen.
        yield ClusterBar(self.workbench.label, self.workbench.profile.colour).data_bind(
            WorkbenchApp.status
        )
        first = self._first_pane()
        with PaneTabs(id="panes"):
            for spec in self.pane_specs:
                with TabPane(f"{spec.key} {spec.title}", id=spec.pane_id):
                    if spec.pane_id == first:
                        yield spec.factory()
        yield WorkbenchFooter()

    def _first_pane(self) -> str:
        """The pane shown at start: the one last shown, else the first."""
        remembered = self.preferences.pane
        if any(spec.pane_id == remembered for spec in self.pane_specs):
            return str(remembered)
        return self.pane_specs[0].pane_id

    def on_mount(self) -> None:
        pane = self._first_pane()
        if pane != self.pane_specs[0].pane_id:
            self.show_pane(pane)
        # What this start shows counts as remembered: the file is written on a change only.
        self.preferences = replace(self.preferences, theme=self.theme, pane=pane)
        self._remembering = True
        self._follow_broker_notices()
        self.call_after_refresh(self._build_hidden_panes)  # then it follows the cluster
        if self._watch_theme_files:
            self._reload_themes_on_change()

    async def on_unmount(self) -> None:
        gc.unfreeze()
        gc.set_threshold(*self._gc_thresholds)
        if self._stop_notices is not None:
            self._stop_notices()
        # The panes are gone by now: no more snapshots for them while generators stop.
        self.workers.cancel_group(self, "cluster-monitor")
        await self.generators.stop_all()

    # -- cluster --------------------------------------------------------------------------

    @work(exclusive=True, group="cluster-monitor")
    async def _monitor_cluster(self) -> None:
        await self.monitor.run(self._set_snapshot, self._set_status)

    def _follow_broker_notices(self) -> None:
        """Show what the supervisor of the workbench's own broker says (it died and was
        restarted, or not); it says it on its own thread."""
        if self._stop_notices is not None:
            self._stop_notices()
            self._stop_notices = None
        broker = self.workbench.embedded
        if broker is None:
            return
        loop = asyncio.get_running_loop()

        def notice(text: str) -> None:
            with suppress(RuntimeError):  # a closed loop: the app has quit
                loop.call_soon_threadsafe(
                    partial(self.notify, text, title="Broker", severity="warning", timeout=10)
                )

        self._stop_notices = broker.follow_notices(notice)

    def _set_snapshot(self, snapshot: ClusterSnapshot) -> None:
        self.snapshot = snapshot

    @contextmanager
    def busy(self, what: str) -> Iterator[None]:
        """Say in the top line that `what` is under way until the block ends (actions that
        wait for the cluster: create, delete, alter configs, delete records, reset)."""
        self._busy.append(what)
        self._show_busy()
        try:
            yield
        finally:
            self._busy.remove(what)
            self._show_busy()

    def _show_busy(self) -> None:
        for bar in self.query(ClusterBar):  # none once the app is closing
            bar.busy = self._busy[-1] if self._busy else ""

    def _set_status(self, status: ConnectionStatus) -> None:
        self.status = status

    @on(Pane.ClusterChanged)
    def refresh_cluster(self) -> None:
        """Take a fresh snapshot now (after a change made from the UI)."""
        self.monitor.refresh()

    @on(Pane.BringForward)
    def _bring_forward(self, event: Pane.BringForward) -> None:
        tab = next((a for a in event.pane.ancestors if isinstance(a, TabPane)), None)
        if tab is not None and tab.id is not None:
            self.show_pane(tab.id, event.focus)

    # -- switching clusters -----------------------------------------------------------------

    def action_profiles(self) -> None:
        try:
            profiles = load_profiles()
        except SettingsError as exc:
            self.notify(str(exc), title="Profiles", severity="error")
            return

        def chosen(name: str | None) -> None:
            if name is not None and name != self.workbench.profile.name:
                self._switch_profile(name)

        self.push_screen(ProfilesScreen(profiles, self.workbench.profile.name), chosen)

    @work(exclusive=True, group="switch-profile")
    async def _switch_profile(self, name: str) -> None:
        current = self.workbench
        try:
            profile = load_profiles()[name]
            if profile.embedded:
                local = current.embedded or current.joined
                if local is None:
                    local = await asyncio.to_thread(open_local, data_home())
                workbench = Workbench.local(profile, local)
            else:
                workbench = Workbench(
                    profile, profile.connection(), current.embedded, current.joined
                )
        except (SettingsError, OSError, KeyError, BrokerInUse) as exc:
            self.notify(f"cannot switch to {name}: {exc}", title="Profiles", severity="error")
            return
        await self.generators.stop_all()
        self.workbench = workbench
        self.workers.cancel_group(self, "cluster-monitor")
        self.monitor = ClusterMonitor(workbench.connection)
        self.snapshot = None
        self.query_one(ClusterBar).set_cluster(self.workbench.label, profile.colour)
        self.generation += 1
        self._follow_broker_notices()
        self._monitor_cluster()
        self.remember(profile=name)

    # -- panes and help ---------------------------------------------------------------------

    def action_show_pane(self, pane_id: str) -> None:
        self.show_pane(pane_id)

    def show_pane(self, pane_id: str, focus: Widget | None = None) -> None:
        """Bring the pane forward with the focus inside it (on `focus` if given), now: a key
        typed straight after the pane key (keys arrive in order, tui/key_order.py) goes to
        the pane shown. The pane already in front keeps its focus, or gets it back if it
        had none."""
        tabs = self.query_one("#panes", TabbedContent)
        built = self._build_pane(pane_id) is not None
        if tabs.active != pane_id:
            # Let go of the focus first: a focused widget that the switch hides hands the
            # focus to a sibling in its own (hidden) pane, and focus there brings it back.
            self.screen.set_focus(None)
            tabs.active = pane_id
        pane = tabs.active_pane
        if focus is not None:
            self.screen.set_focus(focus)
        elif pane is not None and built:  # its fields are composed after this refresh
            self.call_after_refresh(self._focus_into, pane)
        elif pane is not None:
            self._focus_into(pane)

    def _build_pane(self, pane_id: str) -> AwaitMount | None:
        """Mount the pane of tab `pane_id` unless it is there (None then).

        The first frame holds only the pane it shows: composing and styling all eight took
        0.6 s of CPU before anything was drawn (bench/launch.py). The others are built one
        per frame after it (`_build_hidden_panes`), or at once when shown before that."""
        tab = self.query_one(f"#{pane_id}", TabPane)
        if tab.query_children(Pane):
            return None
        spec = next(spec for spec in self.pane_specs if spec.pane_id == pane_id)
        return tab.mount(spec.factory())

    async def _build_hidden_panes(self) -> None:
        """Build the next pane not built yet, then the next after the following frame: one
        pane's composing at a time, so that keys typed meanwhile wait for one at most. Each
        is awaited here, on the app's own queue, so that quitting waits until the pane
        being built is whole (a pane torn down halfway fails in its on_mount).

        The cluster is followed once all are built: every pane sees the first snapshot, and
        once connected, every pane is there to be found."""
        for spec in self.pane_specs:
            building = self._build_pane(spec.pane_id)
            if building is not None:
                await building
                self.call_after_refresh(self._build_hidden_panes)
                return
        # What exists now (the modules, kio's thousand schemas, every pane) lives as long as
        # the app: out of the collector's sight, a full collection no longer walks it (120-170
        # ms a pause before, 50-60 after, with 10,000 partitions). Garbage first, so that none
        # is kept for good; on_unmount gives it all back (tests run many apps in one process).
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        self._monitor_cluster()

    @on(TabbedContent.TabActivated, "#panes")
    def _focus_into_pane(self, event: TabbedContent.TabActivated) -> None:
        """A tab chosen with the mouse: focus into its pane once it is laid out. The pane in
        front is remembered for the next start."""
        self.call_after_refresh(self._focus_into, event.pane)
        if event.pane.id is not None:
            self.remember(pane=event.pane.id)

    def _focus_into(self, pane: TabPane) -> None:
        """Put the focus inside `pane` (unless it is there already or the pane has been left
        since), so its keys (`/`, `r`, …) work straight away.

        Prefer a table or list to a text field: the pane keys (1-9) must keep working. A pane
        that knows better (the Tail pane, empty, wants its topics) says so in
        `focus_default`."""
        if self.query_one("#panes", TabbedContent).active_pane is not pane:
            return
        focused = self.screen.focused
        if focused is not None and pane in focused.ancestors:
            return
        if any(isinstance(widget, Pane) and widget.focus_default() for widget in pane.children):
            return
        inside = [widget for widget in self.screen.focus_chain if pane in widget.ancestors]
        typing = (Input, TextArea)
        target = next((w for w in inside if not isinstance(w, typing)), None)
        if target is None and inside:
            target = inside[0]
        if target is not None:
            self.screen.set_focus(target)

    def action_leave_field(self) -> None:
        """escape in a pane's text field (one that does not use escape itself, like the
        produce form's value) gives the keys back to the pane: 1-9 switch panes again."""
        focused = self.screen.focused
        if not isinstance(focused, Input | TextArea):
            return
        pane = next((a for a in focused.ancestors if isinstance(a, TabPane)), None)
        if pane is None:
            return
        inside = [w for w in self.screen.focus_chain if pane in w.ancestors]
        target = next((w for w in inside if not isinstance(w, Input | TextArea)), None)
        if target is not None:
            target.focus()

    def action_broker_log(self) -> None:
        if not isinstance(self.screen, BrokerLogScreen):
            self.push_screen(BrokerLogScreen())

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.pane_specs))

    def action_jump(self) -> None:
        names = ", ".join(spec.pane_id for spec in self.pane_specs)
        self.push_screen(JumpScreen(f":pane [filter] · {names}"), self.jump)

    def jump(self, text: str | None) -> None:
        """`topics`, `groups orders`, `gr`, `5`: the pane whose id, title or key it starts
        with, given the rest (a filter) to take."""
        name, _, argument = (text or "").strip().partition(" ")
        if not name:
            return
        spec = pane_named(self.pane_specs, name)
        if spec is None:
            names = ", ".join(s.pane_id for s in self.pane_specs)
            self.notify(f"no pane {name!r}; panes: {names}", title="Jump", severity="warning")
            return
        self.show_pane(spec.pane_id)
        if argument.strip():
            self.query_one(f"#{spec.pane_id}", TabPane).query_one(Pane).jump(argument.strip())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's palette entries but two: its Theme (the workbench lists each of its
        themes, "Theme: dark", ...) and its Screenshot, which saves into ~/Downloads and
        fails where there is none (ours says where it saved)."""
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":
                yield SystemCommand(
                    "Screenshot", "save an SVG of the screen and say where", self.save_svg
                )
            elif command.title != "Theme":
                yield command

    def save_svg(self) -> None:
        """The screen as SVG, in ~/Downloads if there is one, else the working directory."""
        downloads = Path.home() / "Downloads"
        directory = downloads if downloads.is_dir() else Path.cwd()
        try:
            saved = self.save_screenshot(path=str(directory))
        except OSError as exc:
            self.notify(f"cannot save a screenshot: {exc}", title="Screenshot", severity="error")
            return
        self.notify(f"saved {saved}", title="Screenshot")

    # -- themes -----------------------------------------------------------------------------

    def _register_themes(self) -> None:
        self.theme_names = []
        for name, path in available_themes().items():
            try:
                self.register_theme(load_theme(path))
            except ThemeError as exc:
                self.notify(str(exc), title="Theme", severity="error")
                continue
            self.theme_names.append(name)

    def switch_theme(self, name: str) -> None:
        if name not in self.theme_names:
            self.notify(
                f"no theme called {name!r}; themes: {', '.join(self.theme_names)}",
                title="Theme",
                severity="error",
            )
            return
        self.theme = name

    def watch_theme(self, theme: str) -> None:
        self.remember(theme=theme)

    def remember(self, **changes: str) -> None:
        """Keep a preference in the config file (theme=, profile=, pane=); a file that
        cannot be written is said once, not at every change."""
        preferences = replace(self.preferences, **changes)
        if preferences == self.preferences or not self._remembering:
            return
        self.preferences = preferences
        try:
            save_preferences(preferences)
        except (SettingsError, OSError) as exc:
            if not self._preferences_failed:
                self._preferences_failed = True
                self.notify(f"preferences not kept: {exc}", title="Config", severity="warning")

    @work(exclusive=True, group="theme-watch")
    async def _reload_themes_on_change(self) -> None:
        await watch_themes(self._theme_file_changed)

    def _theme_file_changed(self, path: Path) -> None:
        try:
            theme = load_theme(path)
        except ThemeError as exc:
            self.notify(str(exc), title="Theme", severity="error")
            return
        self.register_theme(theme)
        if theme.name not in self.theme_names:
            self.theme_names.append(theme.name)
        if self.theme == theme.name:
            self.theme = theme.name
            self.refresh_css()
        self.notify(f"theme {theme.name} reloaded", title="Theme")
