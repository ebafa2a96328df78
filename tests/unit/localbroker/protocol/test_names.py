"""Kafka's names (localbroker/protocol/names.py) against kio's schemas and Kafka's spellings."""

from __future__ import annotations

from kio.schema.index import api_key_map

from localbroker.protocol.names import KNOWN_API_KEYS, ApiKey, api_name


def test_every_api_kio_knows_is_named_and_no_other() -> None:
    assert {key: key.name.lower() for key in ApiKey} == api_key_map


def test_api_names_are_kafkas() -> None:
    assert api_name(ApiKey.LIST_OFFSETS) == "ListOffsets"
    assert api_name(22) == "InitProducerId"
    assert api_name(ApiKey.OFFSET_FOR_LEADER_EPOCH) == "OffsetForLeaderEpoch"
    assert api_name(4242) == "unknown (4242)"
    assert 3 in KNOWN_API_KEYS and 4 not in KNOWN_API_KEYS
