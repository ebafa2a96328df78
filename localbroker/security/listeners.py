"""Kafka's listeners: `listeners`, `listener.security.protocol.map` and `advertised.listeners`.

A listener is a name, a security protocol and an address (`SASL_SSL://127.0.0.1:9093`); the
name maps to a protocol through the map, whose default maps each protocol's own name to it.
Parsing and the checks Kafka makes at start-up (KafkaConfig, SocketServerConfigs) live here, with
Kafka's messages, so a listener the broker cannot serve stops it before it binds anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..errors import KafkaError
from ..protocol.names import ErrorCode, SecurityProtocol

DEFAULT_PROTOCOL_MAP = ",".join(f"{p.name}:{p.name}" for p in SecurityProtocol)
WILDCARD_HOST = "0.0.0.0"
_URI = re.compile(r"^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$")
_LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|::1|localhost)$")


def config_error(message: str) -> KafkaError:
    """A setting the broker cannot honour: start-up stops with this message."""
    return KafkaError(ErrorCode.invalid_config, message)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One listener: its name (upper case, as Kafka normalises it), protocol and address."""

    name: str
    protocol: SecurityProtocol
    host: str
    port: int

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.name}://{self.address}"

    def at(self, host: str | None = None, port: int | None = None) -> Endpoint:
        return replace(
            self,
            host=self.host if host is None else host,
            port=self.port if port is None else port,
        )

    @property
    def loopback(self) -> bool:
        return bool(_LOOPBACK.match(self.host))


def parse_protocol_map(text: str) -> dict[str, SecurityProtocol]:
    """`listener.security.protocol.map`: `NAME:PROTOCOL,...`."""
    mapping: dict[str, SecurityProtocol] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, protocol = item.partition(":")
        if not sep or protocol.strip().upper() not in SecurityProtocol.__members__:
            raise config_error(
                f"Invalid value {text} for configuration listener.security.protocol.map:"
                f" Map entry '{item}' must be LISTENER_NAME:SECURITY_PROTOCOL with one of"
                f" {', '.join(SecurityProtocol.__members__)}"
            )
        mapping[name.strip().upper()] = SecurityProtocol[protocol.strip().upper()]
    return mapping


def parse_endpoints(
    setting: str, text: str, protocols: dict[str, SecurityProtocol]
) -> list[Endpoint]:
    """A listener list (SocketServerConfigs.listenerListToEndPoints), names checked unique."""
    endpoints = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        match = _URI.match(entry)
        if match is None:
            raise config_error(
                f"Error creating broker listeners from '{text}': Unable to parse {entry} to a"
                " broker endpoint"
            )
        name = match.group(1).upper()
        protocol = protocols.get(name)
        if protocol is None:
            raise config_error(
                f"Error creating broker listeners from '{text}': No security protocol defined"
                f" for listener {name}"
            )
        endpoints.append(Endpoint(name, protocol, match.group(2), int(match.group(3))))
    names = [endpoint.name for endpoint in endpoints]
    if len(names) != len(set(names)):
        raise config_error(
            f"{setting} must not contain duplicate listener names, but {text} does"
            " (each listener must have a different name)"
        )
    return endpoints


def check_advertised(advertised: list[Endpoint], listener_names: set[str]) -> None:
    """Kafka's start-up checks of the effective advertised listeners (KafkaConfig)."""
    unknown = {endpoint.name for endpoint in advertised} - listener_names
    if unknown:
        raise config_error(
            "requirement failed: advertised.listeners listener names must be equal to or a"
            " subset of the ones defined in listeners. Found"
            f" {','.join(e.name for e in advertised)}. The valid options based on the current"
            f" configuration are {','.join(sorted(listener_names))}"
        )
    if any(endpoint.host == WILDCARD_HOST for endpoint in advertised):
        raise config_error(
            "requirement failed: advertised.listeners cannot use the nonroutable meta-address"
            " 0.0.0.0. Use a routable IP address."
        )
