"""Named connection profiles in ~/.config/kafka-workbench/config.toml.

A profile names a cluster (bootstrap servers plus Kafka client properties) and gives it a
colour, so a production cluster never looks like the local one. The file may hold
credentials, so it is written with mode 0600.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .kafka.connection import Connection, SettingsError, from_properties

LOCAL_PROFILE = "local"
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


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """Profiles from the config file; `local` (the embedded broker) always exists."""
    path = path or config_path()
    profiles = {LOCAL_PROFILE: Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE])}
    if not path.exists():
        return profiles
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from None
    for name, table in document.get("profiles", {}).items():
        if not isinstance(table, dict):
            raise SettingsError(f"{path}: [profiles.{name}] must be a table")
        properties = {str(k): str(v) for k, v in table.get("properties", {}).items()}
        profiles[name] = Profile(
            name, table.get("bootstrap_servers"), str(table.get("colour", "yellow")), properties
        )
    return profiles


def save_profiles(profiles: dict[str, Profile], path: Path | None = None) -> Path:
    """Write every profile but `local`, readable by the user only (it may hold passwords)."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# kafka-workbench connection profiles", ""]
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
    return path
