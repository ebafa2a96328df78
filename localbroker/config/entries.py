"""What DescribeConfigs reports per config: value, where it comes from, and its synonyms."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from .definitions import ConfigDef


class ConfigSource(IntEnum):
    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5


@dataclass(frozen=True, slots=True)
class Synonym:
    name: str
    value: str | None
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """One line of a DescribeConfigs answer."""

    name: str
    value: str | None
    source: ConfigSource
    definition: ConfigDef | None
    synonyms: tuple[Synonym, ...] = ()

    @property
    def read_only(self) -> bool:
        return self.definition.read_only if self.definition else True

    @property
    def sensitive(self) -> bool:
        return self.definition.sensitive if self.definition else True
