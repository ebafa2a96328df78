"""Kafka's JAAS configuration strings (`sasl.jaas.config`), for brokers and clients alike.

    org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="secret";

A login module's class name, a control flag, then `key="value"` options. The broker reads its
PLAIN users from the `user_<name>` options; clients read `username` and `password`.
"""

from __future__ import annotations

import re

PLAIN_LOGIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM_LOGIN_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
_OPTION = re.compile(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')
_USER_PREFIX = "user_"


def parse_jaas(text: str) -> tuple[str, dict[str, str]]:
    """The login module's class name and the options of one JAAS entry."""
    stripped = text.strip()
    module = stripped.split(None, 1)[0] if stripped else ""
    options = {key: value.replace('\\"', '"') for key, value in _OPTION.findall(stripped)}
    return module, options


def plain_users(options: dict[str, str]) -> dict[str, str]:
    """PlainLoginModule's users and passwords on a broker: its `user_<name>` options."""
    return {
        key[len(_USER_PREFIX) :]: value
        for key, value in options.items()
        if key.startswith(_USER_PREFIX)
    }
