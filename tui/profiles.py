"""Named connection profiles, and what the workbench remembers, in
~/.config/kafka-workbench/config.toml.

A profile names a cluster (bootstrap servers plus Kafka client properties) and gives it a
colour, so a production cluster never looks like the local one. The file may hold
credentials, so it is written with mode 0600. Its [preferences] table holds the theme, the
profile, the pane and the topics last used (k9s users expect them kept); each writer keeps
what the other wrote.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from .kafka.connection import Connection, SettingsError, from_properties

LOCAL_PROFILE = "local"
DEFAULT_THEME = "dark"
"""The theme when none is asked for or remembered (here, not in tui/themes.py, so that `kwb`
names it in its help without loading Textual before its broker starts)."""
DEFAULT_COLOURS = {"local": "green"}
_NAME_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def config_home() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kafka-workbench"


def config_path() -> Path:
    return config_home() / "config.toml"


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    bootstrap_servers: str | None = None
    colour: str = "yellow"
    properties: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def embedded(self) -> bool:
        return self.bootstrap_servers is None

    def connection(self, bootstrap_override: str | None = None) -> Connection:
        return from_properties(bootstrap_override or self.bootstrap_servers, self.properties)


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the last run used (None: nothing remembered)."""

    theme: str | None = None
    profile: str | None = None
    pane: str | None = None
    tail_topics: str | None = None
    """What the Tail pane last tailed, as typed (`orders, audit:0,1`)."""
    produce_topic: str | None = None
    """The topic the Produce pane last sent to."""

    @property
    def topic_to_produce(self) -> str:
        """The topic last produced to, or else the first one last tailed ("" for neither)."""
        if self.produce_topic:
            return self.produce_topic
        from .kafka.tail import parse_topics  # aiokafka's modules: not before kwb's broker starts

        try:
            return parse_topics(self.tail_topics or "")[0].topic
        except ValueError:
            return ""


PREFERENCE_NAMES = tuple(f.name for f in fields(Preferences))


def _document(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from None


def load_preferences(path: Path | None = None) -> Preferences:
    """The [preferences] table; a missing or unreadable file remembers nothing."""
    try:
        table = _document(path or config_path()).get("preferences", {})
    except SettingsError:
        return Preferences()
    if not isinstance(table, dict):
        return Preferences()
    return Preferences(*(str(table[k]) if k in table else None for k in PREFERENCE_NAMES))


def save_preferences(preferences: Preferences, path: Path | None = None) -> None:
    """Remember `preferences`, keeping the profiles (SettingsError if the file is broken:
    it is not overwritten)."""
    path = path or config_path()
    _write(path, load_profiles(path), preferences)


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """Profiles from the config file; `local` (the embedded broker) always exists."""
    path = path or config_path()
    profiles = {LOCAL_PROFILE: Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE])}
    document = _document(path)
    tables = document.get("profiles", {})
    if not isinstance(tables, dict):
        raise SettingsError(f"{path}: [profiles] must be a table")
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: [profiles.{name}] must be a table")
        properties = {str(k): str(v) for k, v in table.get("properties", {}).items()}
        profiles[name] = Profile(
            name, table.get("bootstrap_servers"), str(table.get("colour", "yellow")), properties
        )
    return profiles


def save_profiles(profiles: dict[str, Profile], path: Path | None = None) -> Path:
    """Write every profile but `local`, readable by the user only (it may hold passwords);
    the preferences remembered are kept."""
    path = path or config_path()
    _write(path, profiles, load_preferences(path))
    return path


def _write(path: Path, profiles: dict[str, Profile], preferences: Preferences) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# kafka-workbench connection profiles", ""]
    remembered = [
        f"{name} = {_quote(value)}"
        for name in PREFERENCE_NAMES
        if (value := getattr(preferences, name)) is not None
    ]
    if remembered:
        lines += ["[preferences]", *remembered, ""]
    for profile in profiles.values():
        if profile.name == LOCAL_PROFILE:
            continue
        if not set(profile.name) <= _NAME_OK:
            raise SettingsError(f"profile name {profile.name!r} may use letters, digits, - _ .")
        lines.append(f"[profiles.{profile.name}]")
        if profile.bootstrap_servers:
            lines.append(f"bootstrap_servers = {_quote(profile.bootstrap_servers)}")
        lines.append(f"colour = {_quote(profile.colour)}")
        if profile.properties:
            lines.append(f"[profiles.{profile.name}.properties]")
            lines += [f"{_quote(k)} = {_quote(v)}" for k, v in profile.properties.items()]
        lines.append("")
    tmp = path.with_name(path.name + ".tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write("\n".join(lines))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
