"""Managing SCRAM credentials as Kafka's controller does (ScramControlManager, ScramImage):
AlterUserScramCredentials upserts and deletes per user, DescribeUserScramCredentials lists
mechanisms and iterations, never salts or keys. Messages and error codes are Kafka's."""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol.names import ErrorCode, ScramMechanism
from .scram import MAX_ITERATIONS, MIN_ITERATIONS, credential_from_salted
from .store import SecurityStore

_TWICE = "A user credential cannot be altered twice in the same request"


@dataclass(frozen=True, slots=True)
class Deletion:
    name: str
    mechanism: int


@dataclass(frozen=True, slots=True)
class Upsertion:
    name: str
    mechanism: int
    iterations: int
    salt: bytes
    salted_password: bytes


@dataclass(frozen=True, slots=True)
class UserResult:
    user: str
    error: ErrorCode = ErrorCode.none
    message: str | None = None
    credentials: tuple[tuple[ScramMechanism, int], ...] = ()


def _mechanism(value: int) -> ScramMechanism:
    try:
        return ScramMechanism(value)
    except ValueError:
        return ScramMechanism.UNKNOWN


def _check_name(name: str, mechanism: ScramMechanism) -> UserResult | None:
    if not name:
        return UserResult(name, ErrorCode.unacceptable_credential, "Username must not be empty")
    if mechanism is ScramMechanism.UNKNOWN:
        return UserResult(name, ErrorCode.unsupported_sasl_mechanism, "Unknown SCRAM mechanism")
    return None


def _check_deletion(store: SecurityStore, deletion: Deletion) -> UserResult | None:
    mechanism = _mechanism(deletion.mechanism)
    refused = _check_name(deletion.name, mechanism)
    if refused is None and store.credential(deletion.name, mechanism) is None:
        return UserResult(
            deletion.name,
            ErrorCode.resource_not_found,
            "Attempt to delete a user credential that does not exist",
        )
    return refused


def _check_upsertion(upsertion: Upsertion) -> UserResult | None:
    refused = _check_name(upsertion.name, _mechanism(upsertion.mechanism))
    if refused is not None:
        return refused
    if upsertion.iterations < MIN_ITERATIONS:
        return UserResult(upsertion.name, ErrorCode.unacceptable_credential, "Too few iterations")
    if upsertion.iterations > MAX_ITERATIONS:
        return UserResult(upsertion.name, ErrorCode.unacceptable_credential, "Too many iterations")
    return None


def alter(
    store: SecurityStore, deletions: list[Deletion], upsertions: list[Upsertion]
) -> list[UserResult]:
    """Apply what passes and save once; one result per user, as Kafka answers."""
    refused: dict[str, UserResult] = {}
    to_delete: dict[str, Deletion] = {}
    to_upsert: dict[str, Upsertion] = {}
    for deletion in deletions:
        if deletion.name in refused:
            continue
        if to_delete.pop(deletion.name, None) is not None:
            refused[deletion.name] = UserResult(deletion.name, ErrorCode.duplicate_resource, _TWICE)
        elif (error := _check_deletion(store, deletion)) is not None:
            refused[deletion.name] = error
        else:
            to_delete[deletion.name] = deletion
    for upsertion in upsertions:
        if upsertion.name in refused:
            continue
        if (
            to_delete.pop(upsertion.name, None) is not None
            or to_upsert.pop(upsertion.name, None) is not None
        ):
            refused[upsertion.name] = UserResult(
                upsertion.name, ErrorCode.duplicate_resource, _TWICE
            )
        elif (error := _check_upsertion(upsertion)) is not None:
            refused[upsertion.name] = error
        else:
            to_upsert[upsertion.name] = upsertion
    for deletion in to_delete.values():
        mechanisms = store.scram[deletion.name]
        del mechanisms[_mechanism(deletion.mechanism)]
        if not mechanisms:
            del store.scram[deletion.name]
    for upsertion in to_upsert.values():
        mechanism = _mechanism(upsertion.mechanism)
        store.scram.setdefault(upsertion.name, {})[mechanism] = credential_from_salted(
            mechanism, upsertion.salt, upsertion.iterations, upsertion.salted_password
        )
    if to_delete or to_upsert:
        store.save()
    done = [UserResult(name) for name in [*to_delete, *to_upsert]]
    return done + list(refused.values())


def describe(store: SecurityStore, users: list[str] | None) -> list[UserResult]:
    """Each user's mechanisms and iterations (every user when `users` is empty or None)."""
    if not users:
        users = sorted(store.scram)
    results = []
    for name in dict.fromkeys(users):
        if users.count(name) > 1:
            results.append(
                UserResult(
                    name,
                    ErrorCode.duplicate_resource,
                    "Cannot describe SCRAM credentials for the same user twice in a single"
                    f" request: {name}",
                )
            )
        elif name not in store.scram:
            results.append(
                UserResult(
                    name,
                    ErrorCode.resource_not_found,
                    f"Attempt to describe a user credential that does not exist: {name}",
                )
            )
        else:
            infos = tuple(
                (mechanism, credential.iterations)
                for mechanism, credential in sorted(store.scram[name].items())
            )
            results.append(UserResult(name, credentials=infos))
    return results
