"""What the app is connected to: a cluster's connection, its profile, and the embedded broker
when the workbench runs its own."""

from __future__ import annotations

from dataclasses import dataclass

from .embedded import EmbeddedBroker
from .kafka.connection import Connection
from .profiles import Profile


@dataclass(slots=True)
class Workbench:
    profile: Profile
    connection: Connection
    embedded: EmbeddedBroker | None = None

    @property
    def label(self) -> str:
        where = self.connection.bootstrap_servers
        if self.profile.embedded and self.embedded is not None:
            return f"local · embedded localbroker {where}"
        if self.profile.name == where:  # `kwb --bootstrap-server`: no profile name to show
            return where
        return f"{self.profile.name} · {where}"

    def close(self) -> None:
        """Stop the embedded broker cleanly (a no-op for an external cluster)."""
        if self.profile.embedded and self.embedded is not None:
            self.embedded.stop()
            self.embedded = None
