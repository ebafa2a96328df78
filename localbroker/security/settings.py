"""Each listener's security settings, resolved and checked at start-up.

Kafka looks a listener's settings up under `listener.name.<name>.` first (the name in lower
case), then without the prefix; a SASL mechanism's JAAS entry only under
`listener.name.<name>.<mechanism>.sasl.jaas.config`. A setting localbroker cannot honour (a
mechanism, a store type, a class to load) stops start-up with a message naming it: a broker
that looks locked must not serve anyone who knocks.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..protocol.names import SecurityProtocol
from .acls import Authorizer
from .jaas import PLAIN_LOGIN_MODULE, parse_jaas, plain_users
from .listeners import Endpoint, config_error
from .principal import PrincipalMapper
from .session import PLAIN, SUPPORTED_MECHANISMS, ListenerSecurity
from .store import SecurityStore
from .tls import server_context

log = logging.getLogger(__name__)

STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
_LISTENER_PREFIX = re.compile(r"^listener\.name\.([^.]+)\.(.+)$")
# Settings localbroker honours, with or without a listener prefix.
_HONOURED = {
    "authorizer.class.name",
    "sasl.enabled.mechanisms",
    "connections.max.reauth.ms",
    "ssl.keystore.type",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.keystore.key",
    "ssl.keystore.certificate.chain",
    "ssl.key.password",
    "ssl.truststore.type",
    "ssl.truststore.location",
    "ssl.truststore.certificates",
    "ssl.client.auth",
    "ssl.enabled.protocols",
    "ssl.principal.mapping.rules",
}
# Settings that mean nothing for one broker without a controller quorum or peers.
_MOOT = {
    "sasl.mechanism.inter.broker.protocol",
    "sasl.mechanism.controller.protocol",
    "security.inter.broker.protocol",
    "inter.broker.listener.name",
    "ssl.endpoint.identification.algorithm",
    "ssl.protocol",
    "ssl.keystore.password.type",
}
_SECURITY_FAMILY = re.compile(r"^(ssl|sasl|security|principal\.builder|authorizer)\.")
_JAAS = re.compile(r"^([a-z0-9-]+)\.sasl\.jaas\.config$")


def _unsupported(key: str) -> bool:
    """Whether `key` is a security setting localbroker would silently ignore."""
    match = _LISTENER_PREFIX.match(key)
    name = match.group(2) if match else key
    if name in _HONOURED or name in _MOOT or (match and _JAAS.match(name)):
        return False
    return bool(_SECURITY_FAMILY.match(name)) or bool(match)


def check_supported(properties: Mapping[str, str]) -> None:
    """Stop start-up on any security setting localbroker does not implement."""
    refused = sorted(key for key in properties if _unsupported(key))
    if refused:
        raise config_error(
            f"{refused[0]} is not supported by localbroker; remove it (refusing to start"
            " rather than ignore a security setting)"
        )
    authorizer = properties.get("authorizer.class.name", "")
    if authorizer not in ("", STANDARD_AUTHORIZER):
        raise config_error(
            f"authorizer.class.name={authorizer} is not supported; localbroker implements"
            f" {STANDARD_AUTHORIZER}"
        )


@dataclass(frozen=True, slots=True)
class ResolvedListener:
    """A listener, its security and its TLS context (None without TLS)."""

    security: ListenerSecurity
    ssl_context: ssl.SSLContext | None
    principal_mapper: PrincipalMapper


def _lookup(properties: Mapping[str, str], listener: str) -> Callable[[str], str | None]:
    prefix = f"listener.name.{listener.lower()}."

    def lookup(name: str) -> str | None:
        value = properties.get(prefix + name)
        return value if value is not None else properties.get(name)

    return lookup


def _mechanisms(lookup: Callable[[str], str | None], endpoint: Endpoint) -> tuple[str, ...]:
    text = lookup("sasl.enabled.mechanisms") or "GSSAPI"
    mechanisms = tuple(m.strip().upper() for m in text.split(",") if m.strip())
    unsupported = [m for m in mechanisms if m not in SUPPORTED_MECHANISMS]
    if unsupported or not mechanisms:
        raise config_error(
            f"sasl.enabled.mechanisms={text} for listener {endpoint.name}: localbroker"
            f" supports {', '.join(SUPPORTED_MECHANISMS)}, not {', '.join(unsupported) or 'none'}"
        )
    return mechanisms


def _plain_users(properties: Mapping[str, str], endpoint: Endpoint) -> dict[str, str]:
    key = f"listener.name.{endpoint.name.lower()}.plain.sasl.jaas.config"
    text = properties.get(key)
    if text is None:
        raise config_error(
            f"listener {endpoint.name} enables PLAIN but {key} is not set; give it"
            f' {PLAIN_LOGIN_MODULE} required user_<name>="<password>";'
        )
    module, options = parse_jaas(text)
    if module != PLAIN_LOGIN_MODULE:
        raise config_error(f"{key} must use {PLAIN_LOGIN_MODULE}, not {module or 'nothing'}")
    users = plain_users(options)
    if not users:
        raise config_error(f'{key} has no users: add user_<name>="<password>" options')
    return users


def resolve(properties: Mapping[str, str], endpoint: Endpoint) -> ResolvedListener:
    """A listener's security from the broker's properties, or a config error naming the
    setting it cannot honour."""
    lookup = _lookup(properties, endpoint.name)
    protocol = endpoint.protocol
    mechanisms: tuple[str, ...] = ()
    users = None
    if protocol.uses_sasl:
        mechanisms = _mechanisms(lookup, endpoint)
        if PLAIN in mechanisms:
            users = _plain_users(properties, endpoint)
    context = server_context(lookup, endpoint.name) if protocol.uses_tls else None
    reauth = int(lookup("connections.max.reauth.ms") or "0")
    mapper = PrincipalMapper(lookup("ssl.principal.mapping.rules") or "DEFAULT")
    security = ListenerSecurity(endpoint, mechanisms, users, reauth)
    return ResolvedListener(security, context, mapper)


def warn_if_open(endpoint: Endpoint, properties: Mapping[str, str]) -> None:
    """A loud warning when a listener reachable from other machines lets anyone in."""
    if endpoint.loopback:
        return
    client_auth = _lookup(properties, endpoint.name)("ssl.client.auth") or "none"
    if endpoint.protocol.uses_sasl or (
        endpoint.protocol is SecurityProtocol.SSL and client_auth.lower() == "required"
    ):
        return
    where = endpoint.host or "every interface"
    log.warning(
        "\n%s\nWARNING: listener %s binds %s WITHOUT AUTHENTICATION: anyone who can reach"
        " port %d can read, write and delete every topic. Use SASL_PLAINTEXT or SASL_SSL"
        " (sasl.enabled.mechanisms) or bind 127.0.0.1.\n%s",
        "!" * 78,
        endpoint,
        where,
        endpoint.port,
        "!" * 78,
    )


def authorizer(properties: Mapping[str, str], store: SecurityStore) -> Authorizer:
    """The authorizer `authorizer.class.name` turns on, with `super.users` (principals split by
    semicolons) and `allow.everyone.if.no.acl.found` (default false: deny)."""
    supers = properties.get("super.users", "")
    return Authorizer(
        store,
        enabled=properties.get("authorizer.class.name", "") == STANDARD_AUTHORIZER,
        super_users=frozenset(p.strip() for p in supers.split(";") if p.strip()),
        allow_if_no_acl=properties.get("allow.everyone.if.no.acl.found", "false").lower() == "true",
    )
