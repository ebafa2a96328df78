"""ElectLeaders on one node: the only replica of each partition leads it, so every election is
ELECTION_NOT_NEEDED; unknown topics and partitions, all partitions (every topic, none of its
partitions listed) and an election type Kafka does not know (INVALID_REQUEST, every
partition asked for failed with it)."""

from __future__ import annotations

from typing import Any

from localbroker.protocol.names import ApiKey

from .scenario import Peer, scenario

UNKNOWN_TYPE = 7


@scenario(ApiKey.ELECT_LEADERS)
def elect_leaders_on_one_node(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic, 2)
    named = [
        {"topic": topic, "partitions": [0, 1, 5]},
        {"topic": peer.name("missing"), "partitions": [0]},
    ]
    types = [0] if version == 0 else [0, 1, UNKNOWN_TYPE]
    answers = []
    for election_type in types:
        for partitions in (named, None):
            request = {
                "election_type": election_type,
                "topic_partitions": partitions,
                "timeout": 5000,
            }
            answer = peer.call(ApiKey.ELECT_LEADERS, version, request)
            # asked for all partitions, the shared Kafka lists other cases' topics too
            answer["replica_election_results"] = [
                r for r in answer["replica_election_results"] if r["topic"].startswith(peer.name())
            ]
            answers.append(answer)
    return answers
