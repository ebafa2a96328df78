"""`LocalBroker`: the embeddable broker (state, server and housekeeping timers together).

    async with LocalBroker(data_dir, port=0) as broker:
        produce_to(broker.bootstrap)

Start-up opens (and if needed recovers) the logs, binds, then starts the timers for
retention, time-based flushes and checkpoints. `stop()` (or leaving the block) closes
connections, flushes everything and marks the shutdown clean.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from .cluster.node import ClusterNode, runs_cluster_mode
from .config.broker import BrokerConfig
from .log.cleaner_manager import CleanerSettings, LogCleaner
from .log.dir_status import PROBE_INTERVAL_MS
from .protocol.names import OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC
from .security.listeners import Endpoint
from .security.settings import check_supported, resolve, warn_if_open
from .server import KafkaServer
from .state import BrokerState, now_ms

log = logging.getLogger(__name__)

_GROUP_TICK_S = 1.0
_STOP_TIMEOUT_S = 5.0


def _advertised(advertised: list[Endpoint], bound: list[Endpoint]) -> dict[str, Endpoint]:
    """Each listener's advertised endpoint, a port 0 (or a listener not advertised) taking
    what the listener was bound to."""
    ports = {endpoint.name: endpoint for endpoint in bound}
    return {
        endpoint.name: endpoint.at(port=ports[endpoint.name].port)
        if endpoint.port == 0
        else endpoint
        for endpoint in advertised
    }


class LocalBroker:
    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        node_id: int = 0,
        config: Mapping[str, str] | None = None,
    ) -> None:
        properties = dict(config or {})
        if data_dir is not None:
            properties["log.dirs"] = str(data_dir)
        properties.setdefault("node.id", str(node_id))
        self.config = BrokerConfig.from_properties(properties, host=host, port=port)
        self.state: BrokerState | None = None
        self._server: KafkaServer | None = None
        self._timers: list[asyncio.Task[None]] = []
        self._cleaner: LogCleaner | None = None
        self.node: ClusterNode | None = None
        """This node's part of the cluster in cluster mode (see cluster/node.py), else None."""
        self.startup_seconds = 0.0

    @property
    def bootstrap(self) -> str:
        """`host:port` clients should use (the first listener, as advertised)."""
        return self.bootstrap_for(self.config.listeners[0].name)

    def bootstrap_for(self, listener: str) -> str:
        """`host:port` of the listener named `listener`, as advertised."""
        assert self.state is not None, "the broker is not running"
        return self.state.advertised[listener.upper()].address

    @property
    def bound(self) -> tuple[str, int]:
        """The address of the first listener."""
        assert self.state is not None
        return self._bound[0].host, self._bound[0].port

    async def start(self) -> LocalBroker:
        started = time.perf_counter()
        properties = self.config.static
        check_supported(properties)
        listeners = [resolve(properties, endpoint) for endpoint in self.config.listeners]
        advertised = self.config.advertised_listeners()
        state = BrokerState(self.config)
        if runs_cluster_mode(self.config.kraft):
            state.serving = asyncio.Event()  # before the listeners open: set by the node
        try:
            state.load()
            server = KafkaServer(state)
            self._bound = await server.start(listeners)
        except BaseException:
            with contextlib.suppress(Exception):
                state.logs.abandon()
            raise
        state.advertised = _advertised(advertised, self._bound)
        for endpoint in self._bound:
            warn_if_open(endpoint, properties)
        self.state, self._server = state, server
        if runs_cluster_mode(self.config.kraft):
            assert self.config.kraft is not None
            self.node = ClusterNode(state, self.config.kraft)
            try:
                await self.node.start()
            except BaseException:
                await self.stop()
                raise
        self._cleaner = LogCleaner(
            state.logs, self._cleaner_settings, (OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC)
        )
        self._timers = [
            asyncio.create_task(self._cleaner.run()),
            asyncio.create_task(
                self._every(self.config.log_retention_check_interval_ms, self._retention)
            ),
            asyncio.create_task(
                self._every(self.config.log_flush_scheduler_interval_ms, self._flush_due)
            ),
            asyncio.create_task(
                self._every(
                    self.config.log_flush_offset_checkpoint_interval_ms,
                    state.logs.write_checkpoints,
                )
            ),
            asyncio.create_task(
                self._every(
                    self.config.int_value("replica.high.watermark.checkpoint.interval.ms"),
                    state.logs.write_high_watermarks,
                )
            ),
            asyncio.create_task(self._every(PROBE_INTERVAL_MS, state.logs.status.probe)),
            asyncio.create_task(self._drive_groups(state)),
            asyncio.create_task(
                self._every(
                    self.config.int_value(
                        "transaction.abort.timed.out.transaction.cleanup.interval.ms"
                    ),
                    state.transaction_housekeeping,
                )
            ),
            asyncio.create_task(
                self._every(
                    self.config.int_value(
                        "transaction.remove.expired.transaction.cleanup.interval.ms"
                    ),
                    state.expire_transactional_ids,
                )
            ),
        ]
        self.startup_seconds = time.perf_counter() - started
        log.info(
            "localbroker node %d listening on %s (data in %s, started in %.3fs)",
            state.node_id,
            ", ".join(map(str, self._bound)),
            self.config.data_dir,
            self.startup_seconds,
        )
        return self

    async def stop(self) -> None:
        """Stop serving, flush all logs and leave the data directory cleanly shut down."""
        if self._cleaner is not None:
            self._cleaner.abort.set()
        for timer in self._timers:
            timer.cancel()
        if self._timers:
            _, stuck = await asyncio.wait(self._timers, timeout=_STOP_TIMEOUT_S)
            if stuck:
                log.warning("%d housekeeping task(s) ignored cancellation", len(stuck))
        self._timers = []
        if self.node is not None:
            await self.node.stop()
            self.node = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        if self.state is not None:
            self.state.close()
            self.state = None

    async def __aenter__(self) -> LocalBroker:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- housekeeping -------------------------------------------------------------------

    async def _every(self, interval_ms: int, action: object) -> None:
        interval = max(interval_ms, 10) / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                result = action()  # type: ignore[operator]
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("housekeeping task %s failed", getattr(action, "__name__", action))

    async def _drive_groups(self, state: BrokerState) -> None:
        """Run the group coordinator's clock: wake at its next deadline or when a request
        changed the groups, then let it expire sessions and finish rebalances."""
        while True:
            state.groups_changed.clear()
            deadline = state.next_group_deadline()
            delay = _GROUP_TICK_S if deadline is None else (deadline - now_ms()) / 1000
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
            # cancellation that stop() sends when the event fires at the same moment.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(max(delay, 0.0), _GROUP_TICK_S)):
                    await state.groups_changed.wait()
            try:
                await state.coordinate(lambda groups: groups.poll(now_ms()))
            except Exception:
                log.exception("the group coordinator's timer failed")

    def _cleaner_settings(self) -> CleanerSettings:
        """The log cleaner's settings, read at each use (Kafka lets them change at runtime)."""
        return CleanerSettings(
            self.config.int_value("log.cleaner.backoff.ms"),
            self.config.int_value("log.cleaner.dedupe.buffer.size"),
            float(self.config.value("log.cleaner.io.max.bytes.per.second") or "inf"),
        )

    def _retention(self) -> None:
        assert self.state is not None
        self.state.enforce_retention()
        self.state.compact_internal_topics()

    async def _flush_due(self) -> None:
        """Flush what flush.ms or a roll made due, then checkpoint the recovery points at
        once (Kafka waits for log.flush.offset.checkpoint.interval.ms): a crash soon after
        then recovers the active segments only, however often the broker is killed."""
        assert self.state is not None
        due = self.state.flush_due(now_ms())
        if due:
            # A failed flush already took the log directory offline, with a log line.
            await asyncio.gather(
                *(self.state.flush(partition_log) for partition_log in due),
                return_exceptions=True,
            )
            self.state.logs.write_checkpoints()
