"""Authorized operations: what Metadata, DescribeCluster and DescribeGroups say a client may
do when it asks (include_*_authorized_operations). localbroker has no authorizer, so, as Kafka
without one (AuthHelper.authorizedOperations), every operation a resource type supports is
allowed; a client that does not ask gets Kafka's "not given" value, INT32 minimum."""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode
from wire import RawClient

from localbroker.protocol.names import ApiKey
from tui.embedded import EmbeddedBroker

NOT_GIVEN = -(2**31)


def bits(*codes: int) -> int:
    return sum(1 << code for code in codes)


# Kafka's AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8,
# CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12. What each
# resource type supports (AclEntry.supportedOperations), as the Java AdminClient reads it from
# Apache Kafka 4.1.1:
TOPIC = bits(3, 4, 5, 6, 7, 8, 10, 11)
GROUP = bits(3, 6, 8, 10, 11)
CLUSTER = bits(5, 7, 8, 9, 10, 11, 12)


def call(bootstrap: str, api_key: int, version: int, data: dict[str, Any]) -> Any:
    with RawClient(bootstrap) as client:
        return client.call(api_key, version, data)


def metadata(bootstrap: str, version: int, include: bool) -> Any:
    return call(
        bootstrap,
        ApiKey.METADATA,
        version,
        {
            "topics": [{"name": "ops"}, {"name": "no-such-topic"}],
            "allow_auto_topic_creation": False,
            "include_cluster_authorized_operations": include,
            "include_topic_authorized_operations": include,
        },
    )


def test_metadata_gives_topic_and_cluster_operations_when_asked(broker: EmbeddedBroker) -> None:
    broker.call(lambda: broker.state.create_topic("ops", 1))
    asked = metadata(broker.bootstrap, 8, include=True)
    assert asked.cluster_authorized_operations == CLUSTER
    assert [t.topic_authorized_operations for t in asked.topics] == [TOPIC, TOPIC]
    unasked = metadata(broker.bootstrap, 8, include=False)
    assert unasked.cluster_authorized_operations == NOT_GIVEN
    assert [t.topic_authorized_operations for t in unasked.topics] == [NOT_GIVEN, NOT_GIVEN]
    # v11 dropped the cluster's operations (DescribeCluster has them); topics keep theirs.
    assert [t.topic_authorized_operations for t in metadata(broker.bootstrap, 12, True).topics] == [
        TOPIC,
        TOPIC,
    ]


def test_describe_cluster_gives_cluster_operations_when_asked(broker: EmbeddedBroker) -> None:
    for include, expected in ((True, CLUSTER), (False, NOT_GIVEN)):
        answer = call(
            broker.bootstrap,
            ApiKey.DESCRIBE_CLUSTER,
            0,
            {"include_cluster_authorized_operations": include},
        )
        assert answer.cluster_authorized_operations == expected


def test_describe_groups_gives_group_operations_when_asked(broker: EmbeddedBroker) -> None:
    """For every group described without an error, from v3 on; a group that does not exist
    is an error from v6 on (no operations), and Dead without an error before."""
    broker.call(lambda: broker.state.create_topic("ops", 1))
    commit = {
        "group_id": "ops-group",
        "generation_id_or_member_epoch": -1,
        "member_id": "",
        "topics": [{"name": "ops", "partitions": [{"partition_index": 0, "committed_offset": 0}]}],
    }
    assert (
        call(broker.bootstrap, ApiKey.OFFSET_COMMIT, 2, commit).topics[0].partitions[0].error_code
        == ErrorCode.none
    )
    groups = ["ops-group", "no-such-group"]
    for version, expected in ((5, [GROUP, GROUP]), (6, [GROUP, NOT_GIVEN])):
        for include in (True, False):
            answer = call(
                broker.bootstrap,
                ApiKey.DESCRIBE_GROUPS,
                version,
                {"groups": groups, "include_authorized_operations": include},
            )
            found = [group.authorized_operations for group in answer.groups]
            assert found == (expected if include else [NOT_GIVEN, NOT_GIVEN])
