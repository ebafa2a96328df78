"""Metadata, spoken raw: what the clients' own wrappers would hide."""

from __future__ import annotations

import uuid
from typing import Any

from kio.schema.errors import ErrorCode
from wire import RawClient, encode, parse_response, request_body

from localbroker.protocol.codec import response_schema
from localbroker.protocol.names import OFFSETS_TOPIC, ApiKey
from tui.embedded import EmbeddedBroker


def metadata(bootstrap: str, topics: list[dict[str, Any]], version: int = 12) -> Any:
    with RawClient(bootstrap) as client:
        return client.call(
            ApiKey.METADATA,
            version,
            {
                "topics": topics,
                "allow_auto_topic_creation": False,
                "include_topic_authorized_operations": False,
            },
        )


def test_metadata_by_topic_id_ignores_the_names_beside_the_ids(broker: EmbeddedBroker) -> None:
    """The Java client asks for topics by id with an empty name beside each id, not a null
    one. As in Kafka (KafkaApis.handleTopicMetadataRequest), once a request carries topic ids
    they are what is looked up: names are ignored, an unknown id is UNKNOWN_TOPIC_ID."""
    broker.call(lambda: broker.state.create_topic("by-id", 2))
    topic_id = broker.call(lambda: broker.state.topics["by-id"].topic_id)
    unknown = uuid.uuid4()
    for version in (12, 13):
        for name in ("", None, "some-other-name"):
            answer = metadata(
                broker.bootstrap,
                [{"name": name, "topic_id": topic_id}, {"name": name, "topic_id": unknown}],
                version,
            )
            found = {topic.topic_id: topic for topic in answer.topics}
            assert set(found) == {topic_id, unknown}
            assert found[topic_id].error_code == 0 and found[topic_id].name == "by-id"
            assert len(found[topic_id].partitions) == 2
            assert found[unknown].error_code == ErrorCode.unknown_topic_id
            assert found[unknown].name is None


def answer_bytes(client: RawClient, version: int, topics: list[dict[str, Any]] | None) -> Any:
    """A Metadata answer at `version`, asking for authorised operations where it can, after
    checking its frame holds kio's encoding of the answer it decodes to."""
    data = {
        "topics": topics,
        "allow_auto_topic_creation": False,
        "include_topic_authorized_operations": version >= 8,
        "include_cluster_authorized_operations": 8 <= version <= 10,
    }
    correlation_id = client.send(request_body(ApiKey.METADATA, version, data))
    frame = client.recv_frame()
    assert frame is not None
    got_id, answer = parse_response(frame, ApiKey.METADATA, version)
    assert got_id == correlation_id
    header = 5 if response_schema(ApiKey.METADATA, version).__flexible__ else 4
    assert frame[header:] == encode(answer), f"v{version} is not kio's encoding of its answer"
    return answer


def check_answers(broker: EmbeddedBroker, client: RawClient) -> dict[str, Any]:
    """Every version's answers for all topics and for some by name say what the broker's
    topics are now; the topics, as the broker has them."""
    topics = broker.call(lambda: dict(broker.state.topics))
    for version in (0, 1, 4, 8, 9, 10, 12, 13):
        with_ids, with_internal = version >= 10, version >= 1
        expected = {
            name: (
                topic.topic_id if with_ids else None,
                topic.partitions,
                topic.internal and with_internal,
            )
            for name, topic in topics.items()
        }
        everything = answer_bytes(client, version, [] if version == 0 else None)
        assert {
            t.name: (
                getattr(t, "topic_id", None),
                len(t.partitions),
                getattr(t, "is_internal", False),
            )
            for t in everything.topics
        } == expected
        assert all(t.error_code == ErrorCode.none for t in everything.topics)
        if version < 4:  # which creates every topic asked for
            continue
        named = answer_bytes(client, version, [{"name": "orders"}, {"name": "missing"}])
        found, missing = named.topics
        assert (found.name, len(found.partitions)) == ("orders", topics["orders"].partitions)
        assert (missing.name, missing.error_code) == (
            "missing",
            ErrorCode.unknown_topic_or_partition,
        )
    return topics


def test_metadata_answers_follow_every_change_to_a_topic(broker: EmbeddedBroker) -> None:
    """Each topic's Metadata entry is encoded once and kept (handlers/topic_entries.py). The
    answers must still be kio's encoding of the topics as they are: with partitions added, a
    topic deleted, another deleted and created again under its name, at every version."""
    state = broker.state
    for name, partitions in (("orders", 3), ("gone", 1), ("again", 2)):
        broker.call(lambda name=name, partitions=partitions: state.create_topic(name, partitions))
    broker.call(lambda: state.ensure_internal_topic(OFFSETS_TOPIC))
    with RawClient(broker.bootstrap) as client:
        check_answers(broker, client)  # encodes the entries
        before = check_answers(broker, client)  # answers from them
        broker.call(lambda: state.create_partitions("orders", 5))
        broker.call(lambda: state.delete_topic("gone"))
        broker.call(lambda: state.delete_topic("again"))
        broker.call(lambda: state.create_topic("again", 2))
        after = check_answers(broker, client)
    assert after["orders"].partitions == 5 and "gone" not in after
    assert after["again"].topic_id != before["again"].topic_id
    assert after[OFFSETS_TOPIC].internal


def test_every_answer_naming_this_broker_gives_the_port_it_listens_on(
    broker: EmbeddedBroker,
) -> None:
    """The broker binds port 0 and learns its port once bound: Metadata, DescribeCluster and
    FindCoordinator must name the bound port, which every client connects to next."""
    host, _, port = broker.bootstrap.rpartition(":")
    address = (host, int(port))
    with RawClient(broker.bootstrap) as client:
        (node,) = metadata(broker.bootstrap, [], version=12).brokers
        assert (node.host, node.port) == address
        cluster = client.call(
            ApiKey.DESCRIBE_CLUSTER, 0, {"include_cluster_authorized_operations": False}
        )
        assert [(b.host, b.port) for b in cluster.brokers] == [address]
        (found,) = client.call(
            ApiKey.FIND_COORDINATOR, 4, {"key_type": 0, "coordinator_keys": ["a-group"]}
        ).coordinators
        assert (found.error_code, found.host, found.port) == (ErrorCode.none, *address)
