"""Where a Schema Registry is and how to log in to it, from Kafka client properties.

Confluent's serializers, console tools and Connect read the same names (`schema.registry.url`,
`basic.auth.credentials.source`, `basic.auth.user.info`), so a profile or a properties file
written for them works here unchanged. Credentials never appear in a repr, a log line or an
error message: `RegistrySettings.urls` are stripped of any user info, which is kept apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from ..connection import SettingsError

URL = "schema.registry.url"
CREDENTIALS_SOURCE = "basic.auth.credentials.source"
USER_INFO = "basic.auth.user.info"
_PREFIX = "schema.registry."
"""Kafka Connect and ksqlDB spell the auth properties with this prefix; both are read."""
SOURCES = ("URL", "USER_INFO")
"""basic.auth.credentials.source values kwb supports (Confluent's SASL_INHERIT needs a
JAAS login the registry client cannot share here)."""


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """The registry's base URLs (tried in order) and the basic-auth login, if any."""

    urls: tuple[str, ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The URLs as `schema.registry.url` lists them, without credentials (to show)."""
        return ",".join(self.urls)


def _without_user_info(url: str) -> tuple[str, str | None]:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{URL}: {_shown(url)} is not an http:// or https:// URL")
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    if ":" in parts.hostname:  # an IPv6 address keeps its brackets
        netloc = f"[{parts.hostname}]" + ("" if parts.port is None else f":{parts.port}")
    plain = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    user_info = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else None
    return plain, user_info


def _shown(url: str) -> str:
    """A URL as an error message may show it: user info replaced."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}" if "@" in rest else url


def registry_settings(
    properties: Mapping[str, str], url: str | None = None
) -> RegistrySettings | None:
    """The registry the properties name (`url` overrides schema.registry.url); None when
    they name none. SettingsError says what is wrong, never with the password."""

    def get(name: str) -> str | None:
        return properties.get(name, properties.get(_PREFIX + name))

    listed = url or properties.get(URL)
    if not listed or not listed.strip():
        return None
    urls, infos = [], []
    for one in listed.split(","):
        plain, user_info = _without_user_info(one)
        urls.append(plain)
        infos.append(user_info)
    source = (get(CREDENTIALS_SOURCE) or "URL").strip().upper()
    if source not in SOURCES:
        raise SettingsError(f"{CREDENTIALS_SOURCE}={source} is not supported; use URL or USER_INFO")
    if source == "USER_INFO":
        user_info = get(USER_INFO)
        if not user_info:
            raise SettingsError(f"{CREDENTIALS_SOURCE}=USER_INFO needs {USER_INFO}=user:password")
    else:
        user_info = next((info for info in infos if info), None)
    if user_info is None:
        return RegistrySettings(tuple(urls))
    username, colon, password = user_info.partition(":")
    if not colon:
        raise SettingsError(f"{USER_INFO} must be user:password")
    return RegistrySettings(tuple(urls), username, password)
