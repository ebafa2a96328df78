"""KRaft settings of a node in a cluster: its roles, the controller quorum, its listeners.

A node started with `process.roles` is a KRaft node as Kafka's are: its roles, node id, the
voters of `controller.quorum.voters` (or the controllers of
`controller.quorum.bootstrap.servers`) and its controller listeners are read and checked here
at start-up, with the checks and messages of Kafka's KafkaConfig.validateValues and
QuorumConfig, so a node that could never join its quorum stops before it binds anything.
Without `process.roles` a localbroker is the single node it always was, and none of this
applies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..protocol.names import ProcessRole, SecurityProtocol
from ..security.listeners import Endpoint, config_error, parse_endpoints

_HOST_PORT = re.compile(r"^\[?([0-9a-zA-Z\-%._:]*?)\]?:([0-9]+)$")
_VOTER_FORM = "Each entry should be in the form `{id}@{host}:{port}`."
NON_ROUTABLE_HOST = "0.0.0.0"
MISSING_NODE_ID = 'Missing required configuration "node.id" which has no default value.'


@dataclass(frozen=True, slots=True)
class Voter:
    """One entry of controller.quorum.voters: a controller's node id and where it listens."""

    node_id: int
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.node_id}@{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class KRaftConfig:
    """What a KRaft node needs from its configuration to join the quorum and the cluster."""

    roles: frozenset[ProcessRole]
    node_id: int
    voters: tuple[Voter, ...]
    bootstrap_servers: tuple[tuple[str, int], ...]
    controller_listener_names: tuple[str, ...]
    controller_listeners: tuple[Endpoint, ...]
    """This node's own listeners named in controller.listener.names (where it serves Vote,
    BeginQuorumEpoch, the metadata Fetch and broker registrations)."""
    inter_broker_listener_name: str
    election_timeout_ms: int
    fetch_timeout_ms: int
    election_backoff_max_ms: int
    broker_session_timeout_ms: int
    broker_heartbeat_interval_ms: int

    @property
    def is_controller(self) -> bool:
        return ProcessRole.CONTROLLER in self.roles

    @property
    def is_broker(self) -> bool:
        return ProcessRole.BROKER in self.roles


def _items(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def parse_voters(text: str | None) -> tuple[Voter, ...]:
    """controller.quorum.voters (QuorumConfig.parseVoterConnections), Kafka's messages."""
    voters = []
    for entry in _items(text):
        parts = entry.split("@")
        if len(parts) != 2:
            raise config_error(
                f"Invalid configuration value for controller.quorum.voters. {_VOTER_FORM}"
            )
        node_id, address = parts
        try:
            voter_id = int(node_id)
        except ValueError:
            raise config_error(f"Failed to parse voter ID as an integer from {node_id}") from None
        match = _HOST_PORT.match(address)
        if match is None:
            what = "port" if ":" in address else "host name"
            raise config_error(
                f"Failed to parse {what} from entry {entry} for the configuration"
                f" controller.quorum.voters. {_VOTER_FORM}"
            )
        if match.group(1) == NON_ROUTABLE_HOST:
            raise config_error(f"Host string ({NON_ROUTABLE_HOST}) is not routeable")
        voters.append(Voter(voter_id, match.group(1), int(match.group(2))))
    return tuple(voters)


def parse_bootstrap_servers(text: str | None) -> tuple[tuple[str, int], ...]:
    """controller.quorum.bootstrap.servers (QuorumConfig.parseBootstrapServers)."""
    servers = []
    for entry in _items(text):
        match = _HOST_PORT.match(entry)
        if match is None:
            raise config_error(
                f"Failed to parse host name from {entry} for the configuration"
                " controller.quorum.bootstrap.servers. Each entry should be in the form"
                ' "{host}:{port}"'
            )
        servers.append((match.group(1), int(match.group(2))))
    return tuple(servers)


def _require(condition: bool, message: str) -> None:
    """Scala's `require`, as KafkaConfig uses it: its message starts "requirement failed"."""
    if not condition:
        raise config_error(f"requirement failed: {message}")


def _scala_set(ids: list[int]) -> str:
    return f"Set({', '.join(map(str, ids))})"


def kraft_config(
    value: Callable[[str], str | None], protocols: Mapping[str, SecurityProtocol]
) -> KRaftConfig:
    """The KRaft settings of a node with `process.roles`, checked as Kafka checks them at
    start-up (combined, broker-only and controller-only nodes each have their own rules).
    `value` looks a setting up (a default included; `node.id` given, MISSING_NODE_ID
    otherwise); `protocols` is the listener map. The broker listeners stand for the
    advertised ones in the inter-broker listener's check, as they do when
    advertised.listeners is unset."""
    roles = frozenset(ProcessRole(role) for role in _items(value("process.roles")))
    node_id = int(value("node.id") or 0)
    voters = parse_voters(value("controller.quorum.voters"))
    bootstrap = parse_bootstrap_servers(value("controller.quorum.bootstrap.servers"))
    voter_ids = [voter.node_id for voter in voters]
    if not voters and not bootstrap:
        raise config_error(
            "If using process.roles, either controller.quorum.bootstrap.servers must contain"
            " the set of bootstrap controllers or controller.quorum.voters must contain a"
            " parseable set of controllers."
        )
    names = tuple(name.upper() for name in _items(value("controller.listener.names")))
    listeners = parse_endpoints(
        "listeners",
        value("listeners") or "",
        {**{name: SecurityProtocol.PLAINTEXT for name in names}, **protocols},
    )
    controllers = tuple(endpoint for endpoint in listeners if endpoint.name in names)
    if ProcessRole.CONTROLLER in roles:
        _require(
            not voter_ids or node_id in voter_ids,
            f"If process.roles contains the 'controller' role, the node id {node_id} must be"
            f" included in the set of voters controller.quorum.voters={_scala_set(voter_ids)}",
        )
        _require(
            bool(controllers),
            "controller.listener.names must contain at least one value appearing in the"
            " 'listeners' configuration when running the KRaft controller role",
        )
        listed = {endpoint.name for endpoint in listeners}
        _require(
            all(name in listed for name in names),
            "controller.listener.names must only contain values appearing in the 'listeners'"
            " configuration when running the KRaft controller role",
        )
    if roles == {ProcessRole.CONTROLLER}:
        _require(
            len(controllers) == len(listeners),
            "The listeners config must only contain KRaft controller listeners from"
            " controller.listener.names when process.roles=controller",
        )
    if roles == {ProcessRole.BROKER}:
        _require(
            node_id not in voter_ids,
            f"If process.roles contains just the 'broker' role, the node id {node_id} must not"
            f" be included in the set of voters controller.quorum.voters={_scala_set(voter_ids)}",
        )
        _require(
            bool(names),
            "controller.listener.names must contain at least one value when running KRaft"
            " with just the broker role",
        )
        _require(
            not controllers,
            "controller.listener.names must not contain a value appearing in the 'listeners'"
            " configuration when running KRaft with just the broker role",
        )
    fetch_wait = int(value("replica.fetch.wait.max.ms") or 0)
    _require(
        fetch_wait <= int(value("replica.socket.timeout.ms") or 0),
        "replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to"
        " prevent unnecessary socket timeouts",
    )
    _require(
        fetch_wait <= int(value("replica.lag.time.max.ms") or 0),
        "replica.fetch.wait.max.ms should always be less than or equal to"
        " replica.lag.time.max.ms to prevent frequent changes in ISR",
    )
    inter_broker = (value("inter.broker.listener.name") or "PLAINTEXT").upper()
    if ProcessRole.BROKER in roles:
        brokers = [endpoint.name for endpoint in listeners if endpoint.name not in names]
        _require(
            bool(brokers),
            "There must be at least one broker advertised listener. Perhaps all listeners"
            " appear in controller.listener.names?",
        )
        _require(
            inter_broker in brokers,
            "inter.broker.listener.name must be a listener name defined in"
            " advertised.listeners. The valid options based on currently configured"
            f" listeners are {','.join(brokers)}",
        )
    return KRaftConfig(
        roles=roles,
        node_id=node_id,
        voters=voters,
        bootstrap_servers=bootstrap,
        controller_listener_names=names,
        controller_listeners=controllers,
        inter_broker_listener_name=inter_broker,
        election_timeout_ms=int(value("controller.quorum.election.timeout.ms") or 0),
        fetch_timeout_ms=int(value("controller.quorum.fetch.timeout.ms") or 0),
        election_backoff_max_ms=int(value("controller.quorum.election.backoff.max.ms") or 0),
        broker_session_timeout_ms=int(value("broker.session.timeout.ms") or 0),
        broker_heartbeat_interval_ms=int(value("broker.heartbeat.interval.ms") or 0),
    )
