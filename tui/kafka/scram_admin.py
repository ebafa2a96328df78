"""SCRAM users of a cluster: DescribeUserScramCredentials and AlterUserScramCredentials.

Like Kafka's admin client, the password never leaves this process: it is salted and hashed
here (PBKDF2 with a fresh random salt) and only the salted password is sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from localbroker.public import ApiKey, ErrorCode, ScramMechanism, salted_password

from .admin import KafkaAdmin
from .errors import raise_for

DEFAULT_ITERATIONS = 4096


@dataclass(frozen=True, slots=True)
class ScramUser:
    """A user's SCRAM mechanisms and their iterations (never salts or keys)."""

    name: str
    credentials: tuple[tuple[ScramMechanism, int], ...]


@dataclass(frozen=True, slots=True)
class ScramUpsertion:
    mechanism: ScramMechanism
    password: str
    iterations: int = DEFAULT_ITERATIONS

    def __repr__(self) -> str:
        return f"ScramUpsertion({self.mechanism.mechanism_name}, iterations={self.iterations})"


async def describe_scram_users(admin: KafkaAdmin, users: list[str] | None) -> list[ScramUser]:
    """Every user with SCRAM credentials (`users` None), or the users named."""
    response = await admin.send(
        ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS,
        {"users": None if users is None else [{"name": name} for name in users]},
    )
    raise_for(response.error_code, response.error_message, "SCRAM credentials")
    described = []
    for result in response.results:
        raise_for(result.error_code, result.error_message, f"user {result.user}")
        described.append(
            ScramUser(
                result.user,
                tuple(
                    (ScramMechanism(info.mechanism), int(info.iterations))
                    for info in result.credential_infos
                ),
            )
        )
    return described


async def alter_scram_user(
    admin: KafkaAdmin,
    user: str,
    upsertions: list[ScramUpsertion],
    deletions: list[ScramMechanism],
) -> None:
    """Set and remove one user's SCRAM credentials in one request, as kafka-configs.sh does."""
    salted = []
    for upsertion in upsertions:
        salt = secrets.token_bytes(32)
        salted.append(
            {
                "name": user,
                "mechanism": upsertion.mechanism,
                "iterations": upsertion.iterations,
                "salt": salt,
                "salted_password": salted_password(
                    upsertion.mechanism, upsertion.password.encode(), salt, upsertion.iterations
                ),
            }
        )
    response = await admin.send(
        ApiKey.ALTER_USER_SCRAM_CREDENTIALS,
        {
            "deletions": [{"name": user, "mechanism": m} for m in deletions],
            "upsertions": salted,
        },
    )
    for result in response.results:
        if result.error_code != ErrorCode.none:
            raise_for(result.error_code, result.error_message, f"user {result.user}")
