"""The broker's configuration: static properties, dynamic overrides, and their sources.

Resolution follows Kafka: a dynamic per-broker value wins over a dynamic cluster-wide
default, which wins over server.properties, which wins over Kafka's default. localbroker
starts from the single-node settings Kafka's shipped `config/server.properties` uses (one
replica for internal topics, no initial rebalance delay), reported as static config.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kio.schema.errors import ErrorCode

from ..connection_quotas import ConnectionLimits
from ..errors import KafkaError
from ..log.log_config import LogConfig
from ..protocol.kafka_releases import KAFKA_RELEASES
from ..protocol.names import ConfigSource, SecurityProtocol
from ..security.listeners import (
    DEFAULT_PROTOCOL_MAP,
    Endpoint,
    check_advertised,
    config_error,
    parse_endpoints,
    parse_protocol_map,
)
from .definitions import BROKER_CONFIGS, BROKER_CONFIGS_BY_NAME
from .entries import ConfigEntry, Synonym
from .kraft import MISSING_NODE_ID, KRaftConfig, kraft_config
from .topic import broker_synonyms, resolve_topic_value, validate_topic_configs
from .values import normalize

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9092
_SCHEDULER_CAP_MS = 1000
API_VERSIONS_OF = "localbroker.api.versions.of"
"""localbroker's own setting: serve exactly the request versions of this Kafka release."""

# What Kafka's shipped single-node server.properties sets, plus facts about localbroker.
LOCAL_DEFAULTS: dict[str, str] = {
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "process.roles": "broker,controller",
    "controller.listener.names": "CONTROLLER",
    "max.incremental.fetch.session.cache.slots": "0",
}


def _controller_listener_names(static: Mapping[str, str]) -> set[str]:
    """Listeners of the KRaft controller, which a single localbroker does not run: Kafka's
    shipped server.properties lists one (CONTROLLER), so such a file works unchanged."""
    names = static["controller.listener.names"]
    return {name.strip().upper() for name in names.split(",") if name.strip()}


class BrokerConfig:
    def __init__(
        self, static: Mapping[str, str], host: str | None = None, port: int | None = None
    ) -> None:
        self.static: dict[str, str] = {**LOCAL_DEFAULTS, **static}
        for name, value in static.items():
            definition = BROKER_CONFIGS_BY_NAME.get(name)
            if definition is not None and value is not None:
                self.static[name] = normalize(definition, value)
        self.dynamic: dict[str, str] = {}
        self.dynamic_default: dict[str, str] = {}
        kraft = bool(static.get("process.roles", "").strip())
        if kraft and "node.id" not in static and "broker.id" not in static:
            raise config_error(MISSING_NODE_ID)
        if "broker.id" in self.static and "node.id" not in static:
            self.static["node.id"] = self.static["broker.id"]
        self.static.setdefault("node.id", "0")
        self.static.setdefault("broker.id", self.static["node.id"])
        self.listeners = self._listeners(host, port)
        self.host, self.port = self.listeners[0].host, self.listeners[0].port
        self.static.setdefault("listeners", ",".join(map(str, self.listeners)))
        self.kraft: KRaftConfig | None = (
            kraft_config(self.value, self.protocol_map) if kraft else None
        )
        """The node's KRaft settings when `process.roles` is given (checked as Kafka checks
        them); None for the single broker localbroker is without it."""

    def _listeners(self, host: str | None, port: int | None) -> list[Endpoint]:
        """The listeners to bind: `listeners` without the controller's, the first one moved to
        `host` and `port` when given (the command line's --host and --port). An empty host
        binds the loopback address: localbroker is reachable from elsewhere only when asked."""
        controllers = _controller_listener_names(self.static)
        configured = [
            endpoint
            for endpoint in parse_endpoints(
                "listeners", self.static.get("listeners", ""), self._protocols_with(controllers)
            )
            if endpoint.name not in controllers
        ] or [Endpoint("PLAINTEXT", SecurityProtocol.PLAINTEXT, DEFAULT_HOST, DEFAULT_PORT)]
        first = configured[0].at(host, port)
        return [endpoint.at(endpoint.host or DEFAULT_HOST) for endpoint in [first, *configured[1:]]]

    def _protocols_with(self, controllers: set[str]) -> dict[str, SecurityProtocol]:
        """The listener map, controller listeners it does not name mapped to PLAINTEXT (as
        Kafka's effective map does), so they parse before they are left out."""
        protocols = self.protocol_map
        return {
            **protocols,
            **{name: SecurityProtocol.PLAINTEXT for name in controllers if name not in protocols},
        }

    @property
    def protocol_map(self) -> dict[str, SecurityProtocol]:
        return parse_protocol_map(
            self.static.get("listener.security.protocol.map", DEFAULT_PROTOCOL_MAP)
        )

    def advertised_listeners(self) -> list[Endpoint]:
        """What Metadata tells clients, per listener (KafkaConfig's effective advertised
        broker listeners): `advertised.listeners` without the controller's, each listener it
        does not name as bound, checked as Kafka checks them. A port 0 stands for the port
        the listener was given."""
        text = self.value("advertised.listeners")
        controllers = _controller_listener_names(self.static)
        advertised = (
            [
                endpoint
                for endpoint in parse_endpoints(
                    "advertised.listeners", text, self._protocols_with(controllers)
                )
                if endpoint.name not in controllers
            ]
            if text
            else list(self.listeners)
        )
        check_advertised(advertised, {endpoint.name for endpoint in self.listeners})
        named = {endpoint.name for endpoint in advertised}
        return advertised + [e for e in self.listeners if e.name not in named]

    @classmethod
    def from_properties(
        cls, properties: Mapping[str, str], host: str | None = None, port: int | None = None
    ) -> BrokerConfig:
        return cls(properties, host, port)

    def attach_dynamic(self, dynamic: dict[str, str], dynamic_default: dict[str, str]) -> None:
        """Use the persisted dynamic configs (the dicts are shared with the metadata store)."""
        self.dynamic = dynamic
        self.dynamic_default = dynamic_default

    # -- lookup -------------------------------------------------------------------------

    def lookup(self, name: str) -> tuple[str | None, ConfigSource]:
        for values, source in (
            (self.dynamic, ConfigSource.DYNAMIC_BROKER_CONFIG),
            (self.dynamic_default, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG),
            (self.static, ConfigSource.STATIC_BROKER_CONFIG),
        ):
            if name in values:
                return values[name], source
        definition = BROKER_CONFIGS_BY_NAME.get(name)
        return (definition.default if definition else None), ConfigSource.DEFAULT_CONFIG

    def value(self, name: str) -> str | None:
        return self.lookup(name)[0]

    def int_value(self, name: str) -> int:
        value = self.value(name)
        assert value is not None, f"{name} has no value"
        return int(value)

    def bool_value(self, name: str) -> bool:
        return (self.value(name) or "").lower() == "true"

    def synonyms(self, name: str) -> list[Synonym]:
        """Kafka's synonym list for broker config `name` (ConfigHelper.configSynonyms).

        Every source that sets one of its synonyms, most specific source first, then the
        defaults; entries before the first one named `name` are dropped, as Kafka does.
        """
        names = broker_synonyms(name)
        found = []
        for values, source in (
            (self.dynamic, ConfigSource.DYNAMIC_BROKER_CONFIG),
            (self.dynamic_default, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG),
            (self.static, ConfigSource.STATIC_BROKER_CONFIG),
        ):
            found += [Synonym(n, values[n], source) for n in names if n in values]
        for synonym in names:
            definition = BROKER_CONFIGS_BY_NAME.get(synonym)
            if definition is not None and definition.default is not None:
                found.append(Synonym(synonym, definition.default, ConfigSource.DEFAULT_CONFIG))
        while found and found[0].name != name:
            found.pop(0)
        return found

    # -- typed settings localbroker uses --------------------------------------------------

    @property
    def node_id(self) -> int:
        return self.int_value("node.id")

    @property
    def data_dir(self) -> Path:
        dirs = self.value("log.dirs") or self.value("log.dir") or "/tmp/kraft-combined-logs"
        return Path(dirs.split(",")[0].strip()).expanduser()

    @property
    def num_partitions(self) -> int:
        return self.int_value("num.partitions")

    @property
    def default_replication_factor(self) -> int:
        return self.int_value("default.replication.factor")

    @property
    def auto_create_topics_enable(self) -> bool:
        return self.bool_value("auto.create.topics.enable")

    @property
    def socket_request_max_bytes(self) -> int:
        return self.int_value("socket.request.max.bytes")

    @property
    def log_retention_check_interval_ms(self) -> int:
        return self.int_value("log.retention.check.interval.ms")

    @property
    def log_flush_scheduler_interval_ms(self) -> int:
        """How often flush.ms is checked: Kafka's setting, but at least once a second, so a
        topic's flush.ms works without also tuning log.flush.scheduler.interval.ms."""
        return min(self.int_value("log.flush.scheduler.interval.ms"), _SCHEDULER_CAP_MS)

    @property
    def log_flush_offset_checkpoint_interval_ms(self) -> int:
        return self.int_value("log.flush.offset.checkpoint.interval.ms")

    @property
    def api_versions_of(self) -> str | None:
        """The Kafka release whose request versions to serve exactly; None (unset or empty):
        every version localbroker implements, Kafka 3.9's old ones included."""
        release = (self.value(API_VERSIONS_OF) or "").strip()
        if release and release not in KAFKA_RELEASES:
            raise config_error(
                f"Invalid value {release} for configuration {API_VERSIONS_OF}: String must be"
                f" one of: {', '.join(KAFKA_RELEASES)}"
            )
        return release or None

    # -- describing and altering ------------------------------------------------------------

    def describe(self, names: list[str] | None = None) -> list[ConfigEntry]:
        definitions = (
            BROKER_CONFIGS
            if names is None
            else [BROKER_CONFIGS_BY_NAME[n] for n in names if n in BROKER_CONFIGS_BY_NAME]
        )
        entries = []
        for definition in definitions:
            value, source = self.lookup(definition.name)
            if definition.sensitive:
                value = None
            entries.append(
                ConfigEntry(
                    definition.name,
                    value,
                    source,
                    definition,
                    tuple(self.synonyms(definition.name)),
                )
            )
        return entries

    def describe_cluster_defaults(self, names: list[str] | None = None) -> list[ConfigEntry]:
        return [
            ConfigEntry(
                name,
                value,
                ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
                BROKER_CONFIGS_BY_NAME.get(name),
                (Synonym(name, value, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG),),
            )
            for name, value in sorted(self.dynamic_default.items())
            if names is None or name in names
        ]

    def validate_dynamic(self, changes: Mapping[str, str | None]) -> dict[str, str | None]:
        """Normalized dynamic changes (None deletes), or INVALID_REQUEST with Kafka's message.

        Kafka refuses a broker config change with INVALID_REQUEST, also for an invalid value
        (where a topic's would be INVALID_CONFIG): ConfigAdminManager wraps the
        ConfigException (KAFKA-13609), and DynamicBrokerConfig names the configs it cannot
        update as a Scala Set."""
        refused = sorted(
            n
            for n in changes
            if n not in BROKER_CONFIGS_BY_NAME or BROKER_CONFIGS_BY_NAME[n].read_only
        )
        if refused:
            raise KafkaError(
                ErrorCode.invalid_request,
                f"Cannot update these configs dynamically: Set({', '.join(refused)})",
            )
        try:
            updated = {
                name: None if value is None else normalize(BROKER_CONFIGS_BY_NAME[name], value)
                for name, value in changes.items()
            }
        except KafkaError as exc:
            raise KafkaError(ErrorCode.invalid_request, exc.message) from None
        ConnectionLimits.from_lookup(lambda name: updated.get(name) or self.value(name))
        return updated

    # -- topic configs --------------------------------------------------------------------

    def log_config(self, overrides: Mapping[str, str]) -> LogConfig:
        def number(name: str) -> int:
            return int(resolve_topic_value(self, name, overrides)[0] or 0)

        def text(name: str) -> str:
            return resolve_topic_value(self, name, overrides)[0] or ""

        return LogConfig(
            segment_bytes=number("segment.bytes"),
            segment_ms=number("segment.ms"),
            segment_index_bytes=number("segment.index.bytes"),
            index_interval_bytes=number("index.interval.bytes"),
            retention_ms=number("retention.ms"),
            retention_bytes=number("retention.bytes"),
            max_message_bytes=number("max.message.bytes"),
            flush_messages=number("flush.messages"),
            flush_ms=number("flush.ms"),
            message_timestamp_type=text("message.timestamp.type"),
            message_timestamp_before_max_ms=number("message.timestamp.before.max.ms"),
            message_timestamp_after_max_ms=number("message.timestamp.after.max.ms"),
            cleanup_policy=tuple(text("cleanup.policy").split(",")),
            file_delete_delay_ms=number("file.delete.delay.ms"),
            min_cleanable_dirty_ratio=float(text("min.cleanable.dirty.ratio") or 0.5),
            min_compaction_lag_ms=number("min.compaction.lag.ms"),
            max_compaction_lag_ms=number("max.compaction.lag.ms"),
            delete_retention_ms=number("delete.retention.ms"),
        )

    def validate_topic_configs(self, configs: Mapping[str, str | None]) -> dict[str, str]:
        return validate_topic_configs(configs)
