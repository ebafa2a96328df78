"""The request versions the broker accepts and advertises: by default every version Kafka 3.9
served that localbroker implements; with `localbroker.api.versions.of`, exactly a release's."""

from __future__ import annotations

import pytest

from localbroker.handlers import HANDLERS
from localbroker.handlers.versions import (
    ClientSoftware,
    accepted_versions,
    advertised_versions,
    refusal_advice,
    removed_by_kip_896,
)
from localbroker.protocol.codec import request_schema, response_schema
from localbroker.protocol.kafka_releases import KAFKA_RELEASES, release_window
from localbroker.protocol.names import ApiKey

OLDEST_NOT_SERVED = {ApiKey.WRITE_TXN_MARKERS: 1}
"""3.9 also served WriteTxnMarkers v0, a transaction coordinator's request to brokers that no
client sends (the admin abort sends v1); neither kio nor kio_removed has its schema."""


def oldest_served(release: str, api_key: int) -> int | None:
    window = release_window(release, api_key)
    if window is None:
        return None
    return max(window[0], OLDEST_NOT_SERVED.get(ApiKey(api_key), 0))


def test_by_default_every_version_kafka_39_served_is_accepted() -> None:
    accepted = accepted_versions(None)
    for api_key in HANDLERS:
        oldest = oldest_served("3.9", api_key)
        if oldest is None:
            continue
        assert accepted[api_key][0] == oldest, ApiKey(api_key).name


def test_every_accepted_version_has_its_request_and_response_schema() -> None:
    """kio's, or kio_removed's for a version Kafka 4.0 removed: else such a request would be
    advertised and then refused."""
    for api_key, (low, high) in accepted_versions(None).items():
        for version in range(low, high + 1):
            assert request_schema(api_key, version) is not None, (ApiKey(api_key).name, version)
            assert response_schema(api_key, version) is not None, (ApiKey(api_key).name, version)


@pytest.mark.parametrize("release", KAFKA_RELEASES)
def test_a_release_narrows_every_window_to_its_own(release: str) -> None:
    accepted = accepted_versions(release)
    for api_key, (low, high) in accepted.items():
        window = release_window(release, api_key)
        assert window is not None
        assert oldest_served(release, api_key) == low <= high <= window[1], ApiKey(api_key).name


def test_kafka_4_rules_refuse_what_kip_896_removed() -> None:
    for release in ("4.0", "4.1"):
        accepted = accepted_versions(release)
        assert accepted[ApiKey.OFFSET_COMMIT][0] == 2
        assert accepted[ApiKey.OFFSET_FETCH][0] == 1
        assert accepted[ApiKey.LIST_OFFSETS][0] == 1
        assert accepted[ApiKey.PRODUCE][0] == 3
        assert advertised_versions(release)[ApiKey.PRODUCE][0] == 0  # KAFKA-18659
    assert accepted_versions("3.9")[ApiKey.DESCRIBE_GROUPS] == (0, 5)  # v6 came with 4.0
    assert accepted_versions(None)[ApiKey.DESCRIBE_GROUPS] == (0, 6)


def test_removed_versions_are_those_39_served_and_40_does_not() -> None:
    assert removed_by_kip_896(ApiKey.OFFSET_COMMIT, 1)
    assert not removed_by_kip_896(ApiKey.OFFSET_COMMIT, 2)
    assert removed_by_kip_896(ApiKey.PRODUCE, 2)
    assert not removed_by_kip_896(ApiKey.METADATA, 0)  # 4.0 kept Metadata v0
    assert not removed_by_kip_896(ApiKey.FETCH, 99)


def test_refusal_names_the_client_and_the_upgrade() -> None:
    advice = refusal_advice(
        ApiKey.OFFSET_COMMIT, 1, "4.0", "billing", ClientSoftware("sarama", "1.22.1")
    )
    assert "refused OffsetCommit v1" in advice
    assert "localbroker.api.versions.of=4.0 serves OffsetCommit v2-v9" in advice
    assert "client.id 'billing', sarama 1.22.1" in advice
    assert "Kafka 2.1's protocol" in advice
    unnamed = refusal_advice(ApiKey.FETCH, 3, "4.1", None, None)
    assert "localbroker.api.versions.of=4.1 serves Fetch v4-v17" in unnamed
    assert "client.id None, client software unknown" in unnamed
