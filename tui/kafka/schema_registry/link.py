"""The registry a form writes through, and its subjects, for as long as the cluster has it.

The Produce form and the Generator's form both offer the registry's subjects to choose a
schema from; each holds one `RegistryLink`, switched when the workbench connects to another
cluster (its HTTP session closed, a new client for the new registry)."""

from __future__ import annotations

from .client import RegistryClient
from .settings import RegistrySettings


class RegistryLink:
    """One client for the current registry (None without one)."""

    def __init__(self) -> None:
        self.settings: RegistrySettings | None = None
        self.client: RegistryClient | None = None

    async def switch(self, settings: RegistrySettings | None) -> list[str]:
        """Use `settings`' registry from now on; its subjects (none without a registry).
        Raises RegistryError when it does not answer."""
        await self.close()
        self.settings = settings
        if settings is None:
            return []
        self.client = RegistryClient(settings)
        return await self.client.subjects()

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            await client.close()
