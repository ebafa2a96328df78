"""TLS listeners with Python's ssl module, configured with Kafka's `ssl.*` properties.

Python reads PEM, not Java's JKS or PKCS12 stores, so localbroker takes Kafka's PEM options
(KIP-651): `ssl.keystore.type=PEM` with either `ssl.keystore.location` (one file holding the
private key and the certificate chain) or `ssl.keystore.key` and `ssl.keystore.certificate.chain`
(PEM text in the property itself); `ssl.key.password` if the key is encrypted; trusted client
CAs in `ssl.truststore.location` or `ssl.truststore.certificates` with `ssl.truststore.type=PEM`.
Any other store type stops start-up, naming the setting, rather than serving without TLS.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from collections.abc import Callable, Iterator

from .listeners import config_error

Lookup = Callable[[str], str | None]
CLIENT_AUTH = {
    "required": ssl.CERT_REQUIRED,
    "requested": ssl.CERT_OPTIONAL,
    "none": ssl.CERT_NONE,
}
_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


@contextlib.contextmanager
def _pem_file(text: str) -> Iterator[str]:
    """Inline PEM text as a private (0600) file for as long as ssl needs to read it."""
    descriptor, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text.replace("\\n", "\n"))
        yield path
    finally:
        os.unlink(path)


def _store_type(lookup: Lookup, store: str) -> None:
    kind = (lookup(f"ssl.{store}.type") or "JKS").upper()
    if kind != "PEM":
        raise config_error(
            f"ssl.{store}.type={kind}: localbroker reads PEM stores only; set"
            f" ssl.{store}.type=PEM (convert with keytool and openssl)"
        )


def _load_keystore(context: ssl.SSLContext, lookup: Lookup, listener: str) -> None:
    location, key, chain = (
        lookup("ssl.keystore.location"),
        lookup("ssl.keystore.key"),
        lookup("ssl.keystore.certificate.chain"),
    )
    if not location and not (key and chain):
        raise config_error(
            f"listener {listener} uses TLS but has no key: set ssl.keystore.location, or"
            " ssl.keystore.key and ssl.keystore.certificate.chain"
        )
    _store_type(lookup, "keystore")
    if lookup("ssl.keystore.password"):
        raise config_error(
            "SSL key store password cannot be specified with PEM format, only key password"
            " may be specified (ssl.keystore.password)"
        )
    password = lookup("ssl.key.password")
    try:
        if location:
            context.load_cert_chain(location, password=password)
            return
        assert key is not None and chain is not None
        with _pem_file(chain) as chain_file, _pem_file(key) as key_file:
            context.load_cert_chain(chain_file, key_file, password=password)
    except (OSError, ssl.SSLError) as exc:
        setting = "ssl.keystore.location" if location else "ssl.keystore.key"
        raise config_error(
            f"cannot load the key of listener {listener} ({setting}): {exc}"
        ) from None


def _load_truststore(context: ssl.SSLContext, lookup: Lookup) -> bool:
    location, certificates = (
        lookup("ssl.truststore.location"),
        lookup("ssl.truststore.certificates"),
    )
    if not location and not certificates:
        return False
    _store_type(lookup, "truststore")
    try:
        if location:
            context.load_verify_locations(cafile=location)
        else:
            context.load_verify_locations(cadata=(certificates or "").replace("\\n", "\n"))
    except (OSError, ssl.SSLError) as exc:
        setting = "ssl.truststore.location" if location else "ssl.truststore.certificates"
        raise config_error(f"cannot load {setting}: {exc}") from None
    return True


def server_context(lookup: Lookup, listener: str) -> ssl.SSLContext:
    """The SSLContext of a TLS listener; `lookup` resolves its listener-prefixed settings."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    enabled = [v.strip() for v in (lookup("ssl.enabled.protocols") or "TLSv1.2,TLSv1.3").split(",")]
    unknown = [v for v in enabled if v not in _VERSIONS]
    if unknown or not enabled:
        raise config_error(
            f"ssl.enabled.protocols={','.join(enabled)}: localbroker serves TLSv1.2 and TLSv1.3"
        )
    context.minimum_version = min(_VERSIONS[v] for v in enabled)
    context.maximum_version = max(_VERSIONS[v] for v in enabled)
    _load_keystore(context, lookup, listener)
    client_auth = (lookup("ssl.client.auth") or "none").lower()
    if client_auth not in CLIENT_AUTH:
        raise config_error(
            f"Invalid value {client_auth} for configuration ssl.client.auth: String must be one"
            " of: required, requested, none"
        )
    trusted = _load_truststore(context, lookup)
    if client_auth != "none" and not trusted:
        raise config_error(
            f"ssl.client.auth={client_auth} on listener {listener} needs the CAs to trust:"
            " set ssl.truststore.location or ssl.truststore.certificates"
        )
    context.verify_mode = CLIENT_AUTH[client_auth]
    return context
