"""Connection profiles (config.toml, 0600) and themes (Textual CSS variables)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tui.kafka.connection import SettingsError
from tui.launch import open_workbench, parser
from tui.profiles import (
    LOCAL_PROFILE,
    Preferences,
    Profile,
    load_preferences,
    load_profiles,
    save_preferences,
    save_profiles,
)
from tui.themes import ThemeError, available_themes, load_theme, parse_theme
from tui.workbench import Workbench


def test_profiles_round_trip_and_are_private(tmp_path: Path) -> None:
    path = tmp_path / "kafka-workbench" / "config.toml"
    staging = Profile(
        "staging",
        "kafka-1:9093,kafka-2:9093",
        "red",
        {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "PLAIN",
            "sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required "
            'username="u" password="p\\"w";',
        },
    )
    save_profiles({LOCAL_PROFILE: Profile(LOCAL_PROFILE), "staging": staging}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_profiles(path)
    assert loaded["staging"] == staging
    assert loaded["staging"].properties == staging.properties
    assert loaded[LOCAL_PROFILE].embedded and not loaded["staging"].embedded
    assert 'p\\"w' not in repr(loaded["staging"]), "properties must not show in reprs"


def test_preferences_and_profiles_keep_each_other(tmp_path: Path) -> None:
    """Issue 14, point 6: the theme, cluster, pane and topics last used are kept in the config file,
    and writing profiles (ctrl+o, a) keeps them, as remembering them keeps the profiles."""
    path = tmp_path / "config.toml"
    assert load_preferences(path) == Preferences()
    staging = Profile("staging", "kafka-1:9093", "red")
    save_profiles({LOCAL_PROFILE: Profile(LOCAL_PROFILE), "staging": staging}, path)
    remembered = Preferences(
        theme="light",
        profile="staging",
        pane="groups",
        tail_topics='orders:0,1, "audit"',
        produce_topic="payments",
    )
    save_preferences(remembered, path)
    assert load_profiles(path)["staging"] == staging
    save_profiles({"staging": staging, "prod": Profile("prod", "kafka-9:9093")}, path)
    assert load_preferences(path) == remembered
    assert set(load_profiles(path)) == {LOCAL_PROFILE, "staging", "prod"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_profiles_without_a_file_offer_the_embedded_broker(tmp_path: Path) -> None:
    assert list(load_profiles(tmp_path / "missing.toml")) == [LOCAL_PROFILE]


def test_unreadable_profiles_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[profiles.x\nbootstrap_servers = 1")
    with pytest.raises(SettingsError, match="cannot read"):
        load_profiles(path)


def test_shipped_themes_parse() -> None:
    themes = available_themes()
    assert {"dark", "light", "high-contrast"} <= set(themes)
    for name, path in themes.items():
        theme = load_theme(path)
        assert theme.name == name and theme.primary.startswith("#")
        assert {"kwb-rate", "kwb-key", "kwb-muted"} <= set(theme.variables)
    assert load_theme(themes["light"]).dark is False


def test_theme_file_syntax() -> None:
    theme = parse_theme(
        "mine",
        "/* comment $primary: #000000; */\n$primary: #123456;\n"
        "$background: #000;\n$kwb-rate: red;\n$dark: false;\n",
    )
    assert (theme.primary, theme.background, theme.dark) == ("#123456", "#000", False)
    assert theme.variables == {"kwb-rate": "red"}
    with pytest.raises(ThemeError, match=r"\$primary"):
        parse_theme("broken", "$background: #000;")


def test_a_profiles_registry_and_kwb_schema_registry_reach_the_workbench(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile's schema.registry.url and basic-auth properties, or `kwb --schema-registry`,
    are the registry the panes decode through (Workbench.registry)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    staging = Profile(
        "staging",
        "kafka-1:9093",
        "red",
        {
            "schema.registry.url": "https://sr.example.com",
            "basic.auth.credentials.source": "USER_INFO",
            "basic.auth.user.info": "alice:pw",
        },
    )
    registry = Workbench(staging, staging.connection()).registry
    assert registry is not None
    assert (registry.url, registry.username, registry.password) == (
        "https://sr.example.com",
        "alice",
        "pw",
    )
    args = parser().parse_args(
        ["--bootstrap-server", "h:9092", "--schema-registry", "http://sr:8081"]
    )
    named = open_workbench(args).registry
    assert named is not None and named.urls == ("http://sr:8081",)
    assert open_workbench(parser().parse_args(["--bootstrap-server", "h:9092"])).registry is None
