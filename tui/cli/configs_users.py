"""`kwb configs --entity-type users`: SCRAM credentials, as kafka-configs.sh manages them.

    kwb configs --alter --add-config 'SCRAM-SHA-512=[password=secret]' \\
        --entity-type users --entity-name alice
    kwb configs --describe --entity-type users

Output is ConfigCommand's: `SCRAM credential configs for user-principal 'alice' are
SCRAM-SHA-512=iterations=4096`. Quotas, the other user configs, are not supported. Passwords
are hashed before they leave kwb and are never printed, in text or JSON.
"""

from __future__ import annotations

import argparse
import re

from localbroker.public import ScramMechanism

from ..kafka.admin import KafkaAdmin
from ..kafka.scram_admin import (
    DEFAULT_ITERATIONS,
    ScramUpsertion,
    alter_scram_user,
    describe_scram_users,
)
from .common import UsageError, print_json

_CREDENTIAL = re.compile(r"(?:iterations=(-?[0-9]*),)?password=(.*)", re.DOTALL)
_MIN_ITERATIONS = 4096


def _mechanism(name: str) -> ScramMechanism | None:
    mechanism = ScramMechanism.from_mechanism_name(name)
    return None if mechanism is ScramMechanism.UNKNOWN else mechanism


def upsertion(name: str, value: str) -> ScramUpsertion:
    """One `SCRAM-SHA-512=[iterations=8192,password=...]` of --add-config (brackets gone)."""
    mechanism = _mechanism(name)
    assert mechanism is not None
    match = _CREDENTIAL.fullmatch(value)
    if match is None:
        raise UsageError(f"Invalid credential property {name}=<hidden>")
    text = match.group(1)
    iterations = int(text) if text and text != "-1" else DEFAULT_ITERATIONS
    if iterations < _MIN_ITERATIONS:
        raise UsageError(
            f"Iterations {iterations} is less than the minimum {_MIN_ITERATIONS} required for"
            f" {name}"
        )
    return ScramUpsertion(mechanism, match.group(2), iterations)


async def describe(admin: KafkaAdmin, args: argparse.Namespace, name: str | None) -> int:
    users = await describe_scram_users(admin, None if name is None else [name])
    if args.output == "json":
        print_json(
            [
                {
                    "entity_type": "users",
                    "entity_name": user.name,
                    "scram_credentials": [
                        {"mechanism": m.mechanism_name, "iterations": i}
                        for m, i in user.credentials
                    ],
                }
                for user in users
            ]
        )
        return 0
    for user in users:
        text = ", ".join(f"{m.mechanism_name}=iterations={i}" for m, i in user.credentials)
        print(f"SCRAM credential configs for user-principal '{user.name}' are {text}")
    return 0


async def alter(
    admin: KafkaAdmin,
    args: argparse.Namespace,
    name: str,
    adds: dict[str, str],
    deletes: list[str],
) -> int:
    if not name:
        raise UsageError(
            "The use of --entity-default or --user-defaults is not allowed with User SCRAM"
            " Credentials using --bootstrap-server."
        )
    for verb, keys in (("added", list(adds)), ("deleted", deletes)):
        unknown = [key for key in keys if _mechanism(key) is None]
        if unknown:
            raise UsageError(
                f"Only quota and SCRAM credential configs can be {verb} for 'users' using"
                f" --bootstrap-server. Unexpected config names: {', '.join(unknown)}"
                " (kwb does not support quotas)"
            )
    upsertions = [upsertion(key, value) for key, value in adds.items()]
    deletions = [ScramMechanism.from_mechanism_name(key) for key in deletes]
    await alter_scram_user(admin, name, upsertions, deletions)
    if args.output == "json":
        print_json(
            {
                "entity_type": "users",
                "entity_name": name,
                "added": sorted(adds),
                "deleted": deletes,
            }
        )
    else:
        print(f"Completed updating config for user {name}.")
    return 0
