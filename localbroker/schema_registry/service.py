"""`SchemaRegistry`: the store, the state and the REST server started and stopped together.

registry = SchemaRegistry(broker.bootstrap, port=8081)
await registry.start()   # replays _schemas, then listens
print(registry.url)      # "http://127.0.0.1:8081"
await registry.stop()
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from .formats import FORMATS
from .operations import Registry
from .registered_ids import RegisteredIds
from .rest import BasicLogin, RegistryApi
from .schema_format import SchemaFormat, SchemaType
from .state import RegistryState
from .store import KafkaStore

if TYPE_CHECKING:
    from ..broker import LocalBroker


class SchemaRegistry:
    def __init__(
        self,
        bootstrap: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        kafka_cluster_id: str = "",
        formats: Mapping[SchemaType, SchemaFormat] = FORMATS,
        login: BasicLogin | None = None,
    ) -> None:
        self.host = host
        self.port = port
        """The port asked for (0: any free one); the bound one once started."""
        self.state = RegistryState()
        self.store = KafkaStore(bootstrap, self.state)
        registry = Registry(self.state, formats)
        self._api = RegistryApi(registry, self.store, kafka_cluster_id, login)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> SchemaRegistry:
        """Replay `_schemas` (creating it if missing), then listen: the first request is
        answered from the whole topic."""
        await self.store.start()
        runner = web.AppRunner(self._api.application(), access_log=None)
        try:
            await runner.setup()
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            await self.store.stop()
            raise
        self._runner = runner
        server = site._server
        if self.port == 0 and server is not None:
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.store.stop()


async def serve_beside(
    broker: LocalBroker, host: str, port: int, login: BasicLogin | None = None
) -> SchemaRegistry:
    """The registry beside a started broker, in its process and on its event loop: stored in
    the broker's `_schemas` topic, answering the broker's cluster id, and consulted by the
    broker's produce path for topics with `confluent.*.schema.validation` (so every place
    that starts a broker with a registry, the CLI, kwb's child and the in-process embedded
    broker, gets the same registry). With `login`, only requests carrying it are answered."""
    assert broker.state is not None
    registry = SchemaRegistry(
        broker.bootstrap,
        host=host,
        port=port,
        kafka_cluster_id=broker.state.store.cluster_id,
        login=login,
    )
    await registry.start()
    broker.state.schema_ids = RegisteredIds(registry.state)
    return registry
