"""Switch clusters without leaving the workbench, and add a profile for a new one.

Profiles are written to ~/.config/kafka-workbench/config.toml with mode 0600 because their
properties may carry SASL passwords; nothing here ever shows property values.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from ..kafka.connection import SettingsError, read_properties
from ..profiles import Profile, save_profiles
from ..widgets.footer import WorkbenchFooter

COLOURS = ("green", "yellow", "red", "magenta", "cyan", "blue")


class ProfilesScreen(ModalScreen[str | None]):
    """Pick a profile to connect to (the result is its name); `a` adds one first."""

    BINDINGS = [("escape", "dismiss(None)", "Close"), ("a", "add", "Add profile")]

    DEFAULT_CSS = """
    ProfilesScreen { align: center middle; }
    ProfilesScreen > Vertical {
        width: 80; max-width: 95%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    ProfilesScreen .title { text-style: bold; color: $primary; margin-bottom: 1; }
    ProfilesScreen OptionList { height: auto; max-height: 16; }
    ProfilesScreen .hint { color: $kwb-muted; margin-top: 1; }
    """

    def __init__(self, profiles: dict[str, Profile], current: str) -> None:
        super().__init__()
        self._profiles = profiles
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Connect to", classes="title")
            yield OptionList(
                *[
                    Option(
                        f"[{p.colour}]■[/] {name}  {p.bootstrap_servers or 'embedded localbroker'}"
                        + ("  (current)" if name == self._current else ""),
                        id=name,
                    )
                    for name, p in self._profiles.items()
                ],
                id="profile-list",
                compact=True,
            )
            yield Label("enter connects · a adds a profile · escape closes", classes="hint")
        # Its own footer: the pane's, below, would offer keys that do nothing while this is up.
        yield WorkbenchFooter()

    @on(OptionList.OptionSelected, "#profile-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_add(self) -> None:
        def added(profile: Profile | None) -> None:
            if profile is None:
                return
            try:
                save_profiles({**self._profiles, profile.name: profile})
            except (SettingsError, OSError) as exc:
                self.notify(f"cannot save the profile: {exc}", severity="error")
                return
            self.dismiss(profile.name)

        self.app.push_screen(AddProfileScreen(set(self._profiles)), added)


class AddProfileScreen(ModalScreen[Profile | None]):
    """Name, bootstrap servers, an optional client.properties (read once, stored 0600)."""

    BINDINGS = [("escape", "dismiss(None)", "Cancel")]

    DEFAULT_CSS = """
    AddProfileScreen { align: center middle; }
    AddProfileScreen > Vertical {
        width: 80; max-width: 95%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    AddProfileScreen .title { text-style: bold; color: $primary; margin-bottom: 1; }
    AddProfileScreen .field { height: 1; margin-bottom: 1; }
    AddProfileScreen .field Label { width: 19; color: $kwb-muted; }
    AddProfileScreen .field Input { width: 1fr; background: $panel; }
    AddProfileScreen #profile-error { color: $error; height: auto; }
    AddProfileScreen #profile-buttons { height: 1; margin-top: 1; align-horizontal: right; }
    AddProfileScreen Button { margin-left: 2; }
    """

    def __init__(self, taken: set[str]) -> None:
        super().__init__()
        self._taken = taken

    def compose(self) -> ComposeResult:
        fields = (
            ("name", "profile-name", "e.g. staging", ""),
            ("bootstrap servers", "profile-bootstrap", "e.g. kafka-1:9092,kafka-2:9092", ""),
            ("client.properties", "profile-properties", "optional path: SASL/TLS settings", ""),
            (
                "colour",
                "profile-colour",
                ", ".join(COLOURS),
                COLOURS[len(self._taken) % len(COLOURS)],
            ),
        )
        with Vertical():
            yield Label("New profile", classes="title")
            for label, field_id, placeholder, value in fields:
                with Horizontal(classes="field"):
                    yield Label(label)
                    yield Input(value, placeholder=placeholder, id=field_id, compact=True)
            yield Label("", id="profile-error")
            with Horizontal(id="profile-buttons"):
                yield Button("Save and connect", variant="primary", id="profile-save", compact=True)
                yield Button("Cancel", id="profile-cancel", compact=True)
        yield WorkbenchFooter()

    @on(Button.Pressed, "#profile-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#profile-save")
    @on(Input.Submitted)
    def _save(self) -> None:
        name = self.query_one("#profile-name", Input).value.strip()
        bootstrap = self.query_one("#profile-bootstrap", Input).value.strip()
        path = self.query_one("#profile-properties", Input).value.strip()
        colour = self.query_one("#profile-colour", Input).value.strip() or "yellow"
        error = self.query_one("#profile-error", Label)
        if not name or name in self._taken:
            error.update("give the profile a new name")
            return
        if not bootstrap:
            error.update("bootstrap servers are needed, e.g. kafka-1:9092")
            return
        try:
            properties = read_properties(Path(path).expanduser()) if path else {}
            profile = Profile(name, bootstrap, colour, properties)
            profile.connection()  # refuses settings that cannot work, with the reason
        except SettingsError as exc:
            error.update(str(exc))
            return
        self.dismiss(profile)
