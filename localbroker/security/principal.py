"""Principals: who a connection is, as Kafka names them ("User:alice").

A SASL connection is its authenticated user; a TLS connection with a client certificate is the
certificate's subject, in RFC 2253 form ("CN=alice,O=Example") as Java prints it, put through
`ssl.principal.mapping.rules` (SslPrincipalMapper); any other connection is User:ANONYMOUS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .listeners import config_error

USER_TYPE = "User"
ANONYMOUS = "User:ANONYMOUS"
# The attribute keywords Java's X500Principal.getName() (RFC 2253) prints, by Python's names.
_KEYWORDS = {
    "commonName": "CN",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "streetAddress": "STREET",
    "domainComponent": "DC",
    "userId": "UID",
}
_ESCAPED = re.compile(r'([,+"\\<>;])')
_RULE = r"(DEFAULT)|RULE:((?:\\.|[^\\/])*)/((?:\\.|[^\\/])*)/([LU]?).*?|(.*?)"
_RULE_SPLITTER = re.compile(r"\s*(" + _RULE + r")\s*(?:,\s*|$)")
_BACK_REFERENCE = re.compile(r"\$(\d+)")


def user(name: str) -> str:
    return f"{USER_TYPE}:{name}"


def distinguished_name(peer_certificate: dict[str, Any]) -> str:
    """The certificate subject as RFC 2253 writes it: last RDN first, specials escaped."""
    return ",".join(
        "+".join(f"{_KEYWORDS.get(key, key)}={_escape(str(value))}" for key, value in rdn)
        for rdn in reversed(peer_certificate.get("subject", ()))
    )


def _escape(value: str) -> str:
    return _ESCAPED.sub(r"\\\1", value)


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str] | None
    replacement: str
    case: str

    def apply(self, name: str) -> str | None:
        if self.pattern is None:
            return name
        if not self.pattern.fullmatch(name):
            return None
        result = self.pattern.sub(self.replacement, name)
        return (
            result.lower() if self.case == "L" else result.upper() if self.case == "U" else result
        )


class PrincipalMapper:
    """`ssl.principal.mapping.rules`: DEFAULT (the whole DN) or RULE:pattern/replacement/[LU]
    rules, tried in order; the first that matches names the principal."""

    def __init__(self, rules: str) -> None:
        self.rules = rules
        self._rules: list[_Rule] = []
        for match in _RULE_SPLITTER.finditer(rules.strip()):
            if not match.group(1):
                continue
            if match.group(2):
                self._rules.append(_Rule(None, "", ""))
            elif match.group(3) is not None:
                try:
                    pattern = re.compile(match.group(3))
                except re.error as exc:
                    raise config_error(
                        f"Invalid value {rules} for configuration ssl.principal.mapping.rules:"
                        f" {exc}"
                    ) from None
                replacement = _BACK_REFERENCE.sub(r"\\g<\1>", match.group(4))
                self._rules.append(_Rule(pattern, replacement, match.group(5)))
            else:
                raise config_error(
                    f"Invalid value {rules} for configuration ssl.principal.mapping.rules:"
                    f" Invalid rule: {match.group(1)}"
                )

    def principal(self, distinguished: str) -> str | None:
        """The principal for a certificate subject; None when no rule applies."""
        for rule in self._rules:
            name = rule.apply(distinguished)
            if name is not None:
                return user(name)
        return None
