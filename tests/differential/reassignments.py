"""AlterPartitionReassignments and ListPartitionReassignments on a single node: the only
registered broker is the node itself, so a move onto it changes nothing and the rest are
refusals (an unregistered broker, one named twice, none, an unknown topic or partition, a
cancellation with nothing under way); nothing is ever listed. The node's own id is asked
(Kafka's reference node is 1, localbroker's 0); the refusals name broker 9, which neither
has, and the node's id in the message about a broker named twice becomes NODE."""

from __future__ import annotations

from typing import Any

from localbroker.protocol.names import ApiKey

from .scenario import Peer, scenario

MISSING_BROKER = 9


def _node_id(peer: Peer) -> int:
    answer = peer.call(
        ApiKey.METADATA,
        12,
        {
            "topics": [],
            "allow_auto_topic_creation": False,
            "include_topic_authorized_operations": False,
        },
    )
    (broker,) = answer["brokers"]
    return int(broker["node_id"])


@scenario(ApiKey.ALTER_PARTITION_REASSIGNMENTS)
def alter_partition_reassignments(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic, 2)
    node = _node_id(peer)
    targets = [
        (topic, 0, [node]),
        (topic, 1, [node, MISSING_BROKER]),
        (topic, 1, [node, node]),
        (topic, 1, []),
        (topic, 1, None),
        (topic, 5, [node]),
        (peer.name("missing"), 0, [node]),
    ]
    answers = [
        peer.call(
            ApiKey.ALTER_PARTITION_REASSIGNMENTS,
            version,
            {
                "timeout": 30000,
                "topics": [
                    {"name": name, "partitions": [{"partition_index": index, "replicas": replicas}]}
                ],
            },
        )
        for name, index, replicas in targets
    ]
    for partition in answers[2]["responses"][0]["partitions"]:  # names the node twice
        partition["error_message"] = partition["error_message"].replace(f" {node} ", " NODE ")
    if version >= 1:  # AllowReplicationFactorChange false, the replication factor kept
        answers.append(
            peer.call(
                ApiKey.ALTER_PARTITION_REASSIGNMENTS,
                version,
                {
                    "timeout": 30000,
                    "allow_replication_factor_change": False,
                    "topics": [
                        {"name": topic, "partitions": [{"partition_index": 0, "replicas": [node]}]}
                    ],
                },
            )
        )
    return answers


@scenario(ApiKey.LIST_PARTITION_REASSIGNMENTS)
def list_partition_reassignments(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic, 2)
    return [
        peer.call(ApiKey.LIST_PARTITION_REASSIGNMENTS, version, {"timeout": 30000, "topics": asked})
        for asked in (
            None,
            [{"name": topic, "partition_indexes": [0, 1, 7]}],
            [{"name": peer.name("missing"), "partition_indexes": [0]}],
        )
    ]
