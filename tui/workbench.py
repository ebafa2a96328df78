"""What the app is connected to: a cluster's connection, its profile, and the embedded broker
when the workbench runs its own (or the one of another workbench it joined)."""

from __future__ import annotations

from dataclasses import dataclass

from .embedded import OwnBroker, RunningBroker
from .kafka.connection import Connection, from_properties
from .kafka.schema_registry.settings import URL as REGISTRY_URL
from .kafka.schema_registry.settings import RegistrySettings, registry_settings
from .local_cluster import LocalCluster
from .profiles import Profile


@dataclass(slots=True)
class Workbench:
    profile: Profile
    connection: Connection
    embedded: OwnBroker | None = None
    joined: RunningBroker | None = None
    """The local broker another workbench runs, joined as a client (it stays up when this
    one quits)."""

    @classmethod
    def local(cls, profile: Profile, broker: OwnBroker | RunningBroker) -> Workbench:
        """On its own embedded broker, or on another workbench's that it joined."""
        registry = broker.schema_registry_url
        connection = from_properties(
            broker.bootstrap, {} if registry is None else {REGISTRY_URL: registry}
        )
        if isinstance(broker, RunningBroker):
            return cls(profile, connection, joined=broker)
        return cls(profile, connection, broker)

    @property
    def label(self) -> str:
        where = self.connection.bootstrap_servers
        registry = self.connection.extra.get(REGISTRY_URL)
        if registry is not None and self.profile.embedded:
            where += f" · registry {registry}"
        if self.profile.embedded and isinstance(self.embedded, LocalCluster):
            count = len(self.embedded.node_ids)
            return f"local · {count}-broker local cluster {_first(where)}"
        if self.profile.embedded and self.embedded is not None:
            return f"local · embedded localbroker {where}"
        if self.profile.embedded and self.joined is not None and self.joined.brokers > 1:
            return (
                f"local · joined the {self.joined.brokers}-broker local cluster of kwb"
                f" (pid {self.joined.pid}) at {_first(where)}"
            )
        if self.profile.embedded and self.joined is not None:
            return f"local · joined the localbroker of kwb (pid {self.joined.pid}) at {where}"
        if self.profile.name == where:  # `kwb --bootstrap-server`: no profile name to show
            return where
        return f"{self.profile.name} · {where}"

    @property
    def registry(self) -> RegistrySettings | None:
        """The Schema Registry of this cluster: the profile's `schema.registry.url` and
        basic-auth properties (None without one; SettingsError when they cannot work)."""
        return registry_settings(self.connection.extra)

    def close(self) -> None:
        """Stop the embedded broker cleanly (a no-op for an external cluster)."""
        if self.profile.embedded and self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


def _first(bootstrap: str) -> str:
    """A cluster's first address, and `…` for the others (the Brokers pane lists them)."""
    first, _, others = bootstrap.partition(",")
    return f"{first},…" if others else first
