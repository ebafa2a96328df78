"""Which request versions the broker accepts and advertises, and what it says on refusing one.

By default localbroker serves every version it implements: what Kafka 3.9 accepted, so that
clients still speaking pre-2.1 versions (Debian's Sarama 1.22 commits with OffsetCommit v1)
work, and what Kafka 4.x added. `localbroker.api.versions.of` names a Kafka release whose
versions to serve exactly instead, for developers who test against Kafka 4's rules (KIP-896).
A request at a version Kafka 4 removed is refused as Kafka 4 refuses it, by closing the
connection; the log line then names the client and what it needs, since the client's own
error ("connection closed") says nothing of the kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config.broker import API_VERSIONS_OF
from ..protocol.kafka_releases import (
    ADVERTISED_PRODUCE_OLDEST,
    FIRST_WITHOUT_OLD_VERSIONS,
    KAFKA_RELEASES,
    KIP_896_BASELINE,
    Window,
    release_window,
)
from ..protocol.names import ApiKey, api_name
from .registry import supported_versions

_OLDEST_RELEASE = KAFKA_RELEASES[0]


@dataclass(frozen=True, slots=True)
class ClientSoftware:
    """ClientSoftwareName and ClientSoftwareVersion of an ApiVersions v3+ request."""

    name: str
    version: str


def accepted_versions(release: str | None) -> dict[int, Window]:
    """The versions to decode and serve: localbroker's own window of each API, narrowed to
    Kafka `release`'s (None: not narrowed)."""
    accepted = {}
    for api_key, (low, high) in supported_versions().items():
        window = release_window(release, api_key) if release is not None else None
        if window is not None:
            low, high = max(low, window[0]), min(high, window[1])
        if low <= high:
            accepted[api_key] = (low, high)
    return accepted


def advertised_versions(release: str | None) -> dict[int, Window]:
    """What ApiVersions lists: the accepted versions, and Produce from v0 as every Kafka
    release lists it."""
    advertised = accepted_versions(release)
    if ApiKey.PRODUCE in advertised:
        advertised[ApiKey.PRODUCE] = (ADVERTISED_PRODUCE_OLDEST, advertised[ApiKey.PRODUCE][1])
    return advertised


def removed_by_kip_896(api_key: int, api_version: int) -> bool:
    """Whether Kafka 3.9 served this version and Kafka 4.0 no longer does."""
    before = release_window(_OLDEST_RELEASE, api_key)
    after = release_window(FIRST_WITHOUT_OLD_VERSIONS, api_key)
    return before is not None and after is not None and before[0] <= api_version < after[0]


def refusal_advice(
    api_key: int,
    api_version: int,
    release: str,
    client_id: str | None,
    software: ClientSoftware | None,
) -> str:
    """Why a version Kafka 4 removed is refused under `release`'s rules, who sent it, and what
    the client needs."""
    name = api_name(api_key)
    low, high = accepted_versions(release)[api_key]
    sender = (
        f"{software.name} {software.version}"
        if software is not None
        else "client software unknown (it sent no ApiVersions v3+)"
    )
    return (
        f"refused {name} v{api_version}: Kafka {FIRST_WITHOUT_OLD_VERSIONS} removed it (KIP-896)"
        f" and {API_VERSIONS_OF}={release} serves {name} v{low}-v{high}. The client: client.id"
        f" {client_id!r}, {sender}. Upgrade it to a release that speaks Kafka"
        f" {KIP_896_BASELINE}'s protocol or later (and configure it for at least that version),"
        f" or start localbroker without {API_VERSIONS_OF} to accept it"
    )
