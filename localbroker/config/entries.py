"""What DescribeConfigs reports per config: value, where it comes from, and its synonyms."""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol.names import ConfigSource
from .definitions import ConfigDef


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
