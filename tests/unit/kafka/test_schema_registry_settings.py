"""Where the registry is and how to log in, from the properties Confluent's tools read."""

from __future__ import annotations

import pytest

from tui.kafka.connection import SettingsError
from tui.kafka.schema_registry.settings import registry_settings
from tui.kafka.schema_registry.wire import framed, schema_id_of


def test_no_url_no_registry() -> None:
    assert registry_settings({"bootstrap.servers": "b:9092"}) is None


def test_user_info_source_logs_in_and_keeps_the_password_out_of_sight() -> None:
    settings = registry_settings(
        {
            "schema.registry.url": "https://sr.example.com:8081/, https://sr2.example.com",
            "basic.auth.credentials.source": "USER_INFO",
            "basic.auth.user.info": "alice:s3cr:et",
        }
    )
    assert settings is not None
    assert settings.urls == ("https://sr.example.com:8081", "https://sr2.example.com")
    assert (settings.username, settings.password) == ("alice", "s3cr:et")
    assert "s3cr" not in repr(settings)


def test_url_source_takes_the_login_from_the_url_and_strips_it() -> None:
    settings = registry_settings({}, url="http://bob:pw@localhost:8081")
    assert settings is not None
    assert settings.urls == ("http://localhost:8081",)
    assert (settings.username, settings.password) == ("bob", "pw")


def test_prefixed_auth_properties_as_connect_spells_them() -> None:
    settings = registry_settings(
        {
            "schema.registry.url": "http://localhost:8081",
            "schema.registry.basic.auth.credentials.source": "USER_INFO",
            "schema.registry.basic.auth.user.info": "carol:pw",
        }
    )
    assert settings is not None and settings.username == "carol"


@pytest.mark.parametrize(
    ("properties", "says"),
    [
        ({"schema.registry.url": "localhost:8081"}, "not an http"),
        (
            {"schema.registry.url": "http://h:1", "basic.auth.credentials.source": "USER_INFO"},
            "needs basic.auth.user.info",
        ),
        (
            {"schema.registry.url": "http://h:1", "basic.auth.credentials.source": "SASL_INHERIT"},
            "not supported",
        ),
    ],
)
def test_wrong_settings_say_what_to_change(properties: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        registry_settings(properties)


def test_a_bad_url_never_shows_its_password() -> None:
    with pytest.raises(SettingsError) as caught:
        registry_settings({"schema.registry.url": "ftp://dave:hunter2@h"})
    assert "hunter2" not in str(caught.value)


def test_wire_format_header() -> None:
    data = framed(258, b"\x02\x06abc")
    assert data[:5] == b"\x00\x00\x00\x01\x02"
    assert schema_id_of(data) == 258
    assert schema_id_of(b"\x00\x00\x00\x01") is None  # too short for an id
    assert schema_id_of(b"\x01\x00\x00\x00\x01body") is None  # another magic byte
    assert schema_id_of(b'{"a":1}') is None
    assert schema_id_of(None) is None
