"""kio's schemas of the request versions Kafka 4.0 removed (KIP-896) and Kafka 3.9 served.

kio 0.6 is generated from Kafka 4's message specs, so it has no OffsetCommit v0-1,
ListOffsets v0 and the like; Debian's Sarama 1.22 and other clients still in use send them.
The modules below are kio 0.5.0's own generated code (from Kafka 3.x's specs, whose old
versions never change), copied unchanged, one package per API and version as kio lays them
out, so the codec reads and writes them with kio's serializers like any other version.
"""

from __future__ import annotations

import importlib
from typing import Any

from kio.schema.index import api_key_map
from kio.static.constants import EntityType


def load_schema(api_key: int, api_version: int, entity_type: EntityType) -> Any:
    """The request or response class of a removed version, or None when there is none here."""
    name = api_key_map.get(api_key)
    if name is None:
        return None
    try:
        module = importlib.import_module(f"{__name__}.{name}.v{api_version}.{entity_type.name}")
    except ImportError:
        return None
    return next(
        value
        for value in vars(module).values()
        if getattr(value, "__type__", None) is entity_type and value.__module__ == module.__name__
    )
