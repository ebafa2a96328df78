"""How to reach a cluster: bootstrap servers plus Kafka's client properties.

Kafka's tools take `--command-config client.properties` (and `--producer.config`,
`--consumer.config`) with Java property names; the same file must work here unchanged, so
this module maps security.protocol, sasl.mechanism, sasl.jaas.config and ssl.* onto
aiokafka's arguments. Secrets stay out of reprs and error messages.

`kwb` reads its profiles before it starts its broker, so this module loads no more than the
standard library: what it needs of localbroker (the Kafka protocol's modules, a tenth of a
second) is imported where used.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_LOGIN_MODULES = {
    "org.apache.kafka.common.security.plain.PlainLoginModule": "PLAIN",
    "org.apache.kafka.common.security.scram.ScramLoginModule": "SCRAM",
}


class SettingsError(Exception):
    """Settings that cannot work; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Connection:
    """Everything a client needs to connect, built from flags and properties files."""

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_key_password: str | None = field(default=None, repr=False)
    ssl_check_hostname: bool = True
    client_id: str | None = None
    request_timeout_ms: int = 30000
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Every property as given (sasl.jaas.config and passwords included: never print it)."""

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL")

    @property
    def uses_ssl(self) -> bool:
        return self.security_protocol.endswith("SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.uses_ssl:
            return None
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile, self.ssl_key_password)
        context.check_hostname = self.ssl_check_hostname
        if not self.ssl_check_hostname:
            context.verify_mode = ssl.CERT_REQUIRED if self.ssl_cafile else ssl.CERT_NONE
        return context

    def aiokafka_args(self) -> dict[str, Any]:
        """Keyword arguments shared by aiokafka's admin client, producer and consumer."""
        args: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
            "request_timeout_ms": self.request_timeout_ms,
        }
        if self.client_id:
            args["client_id"] = self.client_id
        if self.uses_ssl:
            args["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            args.update(
                sasl_mechanism=self.sasl_mechanism or "PLAIN",
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return args


def parse_jaas(text: str) -> tuple[str, dict[str, str]]:
    """The login module family (PLAIN or SCRAM) and options of a sasl.jaas.config value."""
    from localbroker.public import parse_jaas as parse_jaas_entry

    module, options = parse_jaas_entry(text)
    family = _LOGIN_MODULES.get(module)
    if family is None:
        supported = ", ".join(_LOGIN_MODULES)
        raise SettingsError(
            f"sasl.jaas.config uses {module or 'no login module'}; supported: {supported}"
        )
    return family, options


def _path(properties: Mapping[str, str], key: str) -> str | None:
    value = properties.get(key)
    if not value:
        return None
    if not Path(value).is_file():
        raise SettingsError(f"{key}={value}: no such file")
    return value


def _ssl_settings(properties: Mapping[str, str]) -> dict[str, Any]:
    for store in ("ssl.truststore", "ssl.keystore"):
        kind = properties.get(
            f"{store}.type", "JKS" if f"{store}.location" in properties else "PEM"
        ).upper()
        if f"{store}.location" in properties and kind != "PEM":
            raise SettingsError(
                f"{store}.location is a {kind} store, which Python cannot read; convert it"
                f" to PEM and set {store}.type=PEM (or use ssl.ca.location /"
                " ssl.certificate.location / ssl.key.location)"
            )
    check = properties.get("ssl.endpoint.identification.algorithm", "https")
    return {
        "ssl_cafile": _path(properties, "ssl.truststore.location")
        or _path(properties, "ssl.ca.location"),
        "ssl_certfile": _path(properties, "ssl.keystore.location")
        or _path(properties, "ssl.certificate.location"),
        "ssl_keyfile": _path(properties, "ssl.key.location"),
        "ssl_key_password": properties.get("ssl.key.password")
        or properties.get("ssl.keystore.password"),
        "ssl_check_hostname": check.lower() == "https",
    }


def from_properties(bootstrap_servers: str | None, properties: Mapping[str, str]) -> Connection:
    """A Connection from Kafka client properties; `bootstrap_servers` overrides the file's."""
    bootstrap = bootstrap_servers or properties.get("bootstrap.servers")
    if not bootstrap:
        raise SettingsError("no bootstrap servers: pass --bootstrap-server host:port")
    protocol = properties.get("security.protocol", "PLAINTEXT").upper()
    if protocol not in SECURITY_PROTOCOLS:
        raise SettingsError(
            f"security.protocol={protocol} is not one of {', '.join(SECURITY_PROTOCOLS)}"
        )
    settings: dict[str, Any] = {}
    if protocol.startswith("SASL"):
        mechanism = properties.get("sasl.mechanism", "GSSAPI").upper()
        if mechanism not in SASL_MECHANISMS:
            raise SettingsError(
                f"sasl.mechanism={mechanism} is not supported; use one of"
                f" {', '.join(SASL_MECHANISMS)}"
            )
        username = properties.get("sasl.username")
        password = properties.get("sasl.password")
        if "sasl.jaas.config" in properties:
            family, options = parse_jaas(properties["sasl.jaas.config"])
            if not mechanism.startswith(family):
                raise SettingsError(
                    f"sasl.mechanism={mechanism} does not match the login"
                    " module in sasl.jaas.config"
                )
            username, password = options.get("username"), options.get("password")
        if not username or password is None:
            raise SettingsError(f"{mechanism} needs a username and a password in sasl.jaas.config")
        settings.update(sasl_mechanism=mechanism, sasl_username=username, sasl_password=password)
    if protocol.endswith("SSL"):
        settings.update(_ssl_settings(properties))
    timeout = properties.get("request.timeout.ms")
    return Connection(
        bootstrap_servers=bootstrap,
        security_protocol=protocol,
        client_id=properties.get("client.id"),
        request_timeout_ms=int(timeout) if timeout else 30000,
        extra=dict(properties),
        **settings,
    )


def read_properties(path: Path | None) -> dict[str, str]:
    """A Java properties file ({} without one); one line that says why when it is unreadable."""
    if path is None:
        return {}
    from localbroker.public import load_properties

    try:
        return load_properties(path)
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror}") from None


def load_connection(
    bootstrap_servers: str | None,
    config_file: Path | None,
    overrides: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
) -> Connection:
    """Flags plus an optional client.properties file, `k=v` overrides over it and a tool's
    defaults under it."""
    properties = {**(defaults or {}), **read_properties(config_file), **(overrides or {})}
    return from_properties(bootstrap_servers, properties)
