"""Live brokers as responses name them: id, host, port and rack on the client's listener.

Kafka answers every broker address on the listener the request came in on (KRaftMetadataCache's
getAliveBrokerNodes / getAliveBrokerNode): a broker without that listener is left out, as if
it were down. Metadata, DescribeCluster, FindCoordinator and the KIP-951 leader hints of
Produce and Fetch all name brokers this one way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..cluster.partitions import BrokerRegistration
    from ..state import BrokerState

NO_CONTROLLER_ID = -1


def _node(broker: BrokerRegistration, listener: str) -> dict[str, Any] | None:
    endpoint = broker.endpoint(listener)
    if endpoint is None:
        return None
    return {
        "node_id": broker.broker_id,
        "host": endpoint.host,
        "port": endpoint.port,
        "rack": broker.rack,
    }


def live_nodes(state: BrokerState, listener: str) -> dict[int, dict[str, Any]]:
    """Every live broker reachable on `listener`, by broker id."""
    nodes = {}
    for broker in state.cluster.live_brokers():
        node = _node(broker, listener)
        if node is not None:
            nodes[broker.broker_id] = node
    return nodes


def live_node(state: BrokerState, broker_id: int, listener: str) -> dict[str, Any] | None:
    """Broker `broker_id` on `listener`, or None when it is not live or has no such listener."""
    broker = next((b for b in state.cluster.live_brokers() if b.broker_id == broker_id), None)
    return None if broker is None else _node(broker, listener)


def client_controller_id(state: BrokerState, nodes: Mapping[int, object]) -> int:
    """The `controller_id` Metadata and DescribeCluster give clients: in KRaft, Kafka names any
    live broker (getRandomAliveBrokerId), since clients cannot reach the controllers; this
    names the active controller when it is a live broker on the client's listener (always, in
    combined mode) and else the lowest id in `nodes`, so the answer does not flap."""
    controller = state.cluster.controller_id
    if controller in nodes:
        return controller
    return min(nodes, default=NO_CONTROLLER_ID)
