"""The broker's registration and heartbeats (Kafka's BrokerLifecycleManager).

A broker registers with the active controller, which answers with its broker epoch; it
then heartbeats every `broker.heartbeat.interval.ms` with the offset its metadata image
has reached, and the controller unfences it once that reaches its registration. Heartbeats
are what keep its session: one whose heartbeats stop is fenced after
`broker.session.timeout.ms`. The active controller is the quorum's leader, reached on its
CONTROLLER listener; a NOT_CONTROLLER answer or an unreachable one means asking the
leader known next, and a STALE_BROKER_EPOCH (the controller lost the registration, or
fenced and forgot it) means registering again, as Kafka's broker does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import KafkaError
from ..protocol.client_codec import request_body
from ..protocol.names import ApiKey, ErrorCode
from ..security.listeners import Endpoint
from .peer import PeerClient, PeerUnavailable

log = logging.getLogger(__name__)

REGISTRATION_VERSION = 4
HEARTBEAT_VERSION = 1
_RETRY_S = 0.1


class BrokerLifecycle:
    def __init__(
        self,
        node_id: int,
        cluster_id: str,
        controllers: Mapping[int, tuple[str, int]],
        controller_id: Callable[[], int],
        metadata_offset: Callable[[], int],
        listeners: Callable[[], Sequence[Endpoint]],
        heartbeat_interval_ms: int,
    ) -> None:
        self.node_id = node_id
        self.cluster_id = cluster_id
        self.incarnation_id = uuid.uuid4()
        self._controller_id = controller_id
        self._metadata_offset = metadata_offset
        self._listeners = listeners
        self._interval_s = heartbeat_interval_ms / 1000
        self._peers = {
            node: PeerClient(host, port, client_id=f"broker-{node_id}-to-controller")
            for node, (host, port) in controllers.items()
        }
        self.broker_epoch = -1
        self.fenced = True
        self.registered = asyncio.Event()

    async def shut_down(self, timeout_s: float) -> None:
        """Tell the controller this broker is stopping (a heartbeat with want_shut_down), so
        that it is fenced and its partitions get new leaders at once rather than after its
        session expires: Kafka's controlled shutdown, without waiting for leadership to
        move first. Then close the connections."""
        if self.broker_epoch >= 0:
            with contextlib.suppress(PeerUnavailable, TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self.call(
                        ApiKey.BROKER_HEARTBEAT,
                        HEARTBEAT_VERSION,
                        self._heartbeat_request(want_shut_down=True),
                    )
        for peer in self._peers.values():
            await peer.close()

    async def call(self, api_key: int, version: int, request: dict[str, Any]) -> Any:
        """Call the active controller; PeerUnavailable while there is none to reach."""
        return await self.send(request_body(api_key, version, request))

    async def send(self, body: Any) -> Any:
        """Send a kio request to the active controller; PeerUnavailable while there is none
        to reach."""
        peer = self._peers.get(self._controller_id())
        if peer is None:
            raise PeerUnavailable("no active controller is known")
        return await peer.send(body)

    async def allocate_producer_ids(self) -> tuple[int, int]:
        """A block of producer ids from the controller (first id, length), or KafkaError."""
        request = {"broker_id": self.node_id, "broker_epoch": self.broker_epoch}
        response = await self.call(ApiKey.ALLOCATE_PRODUCER_IDS, 0, request)
        if response.error_code != ErrorCode.none:
            raise KafkaError(response.error_code)
        return response.producer_id_start, response.producer_id_len

    async def run(self) -> None:
        while True:
            try:
                if self.broker_epoch < 0:
                    await self._register()
                else:
                    await self._heartbeat()
            except PeerUnavailable as exc:
                log.debug("broker %d: the controller is not reachable: %s", self.node_id, exc)
                await asyncio.sleep(_RETRY_S)

    async def _register(self) -> None:
        request = {
            "broker_id": self.node_id,
            "cluster_id": self.cluster_id,
            "incarnation_id": self.incarnation_id,
            "listeners": [
                {
                    "name": e.name,
                    "host": e.host,
                    "port": e.port,
                    "security_protocol": int(e.protocol),
                }
                for e in self._listeners()
            ],
            "features": [],
            "rack": None,
        }
        response = await self.call(ApiKey.BROKER_REGISTRATION, REGISTRATION_VERSION, request)
        if response.error_code != ErrorCode.none:
            log.info("broker %d: registration refused: %s", self.node_id, response.error_code)
            await asyncio.sleep(_RETRY_S)
            return
        self.broker_epoch = response.broker_epoch
        log.info("broker %d registered in broker epoch %d", self.node_id, self.broker_epoch)
        self.registered.set()

    def _heartbeat_request(self, *, want_shut_down: bool = False) -> dict[str, Any]:
        return {
            "broker_id": self.node_id,
            "broker_epoch": self.broker_epoch,
            "current_metadata_offset": self._metadata_offset(),
            "want_fence": False,
            "want_shut_down": want_shut_down,
        }

    async def _heartbeat(self) -> None:
        response = await self.call(
            ApiKey.BROKER_HEARTBEAT, HEARTBEAT_VERSION, self._heartbeat_request()
        )
        if response.error_code == ErrorCode.stale_broker_epoch:
            self.broker_epoch = -1
            return
        if response.error_code != ErrorCode.none:
            await asyncio.sleep(_RETRY_S)
            return
        if self.fenced != response.is_fenced:
            self.fenced = response.is_fenced
            log.info("broker %d %s", self.node_id, "fenced" if self.fenced else "unfenced")
        # A fenced broker asks again soon: it is unfenced as soon as it has caught up.
        await asyncio.sleep(min(self._interval_s, 0.05) if self.fenced else self._interval_s)
