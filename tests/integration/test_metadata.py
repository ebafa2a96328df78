"""Metadata, spoken raw: what the clients' own wrappers would hide."""

from __future__ import annotations

import uuid
from typing import Any

from kio.schema.errors import ErrorCode
from wire import RawClient

from localbroker.protocol.names import ApiKey
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
