"""The request versions each Apache Kafka release serves, for `localbroker.api.versions.of`.

Read from each release's message specs (`validVersions` of
clients/src/main/resources/common/message/*Request.json, less a version marked
`latestVersionUnstable`, which a broker does not advertise by default) for the APIs localbroker
implements: 3.9.0 from Kafka's git tag, 4.0.1 and 4.1.1 from their kafka-clients jars.
Kafka 4.0 removed the versions KIP-896 lists (its baseline is Kafka 2.1's protocol); 4.1
removed none. An API missing here is served at every version localbroker implements.
"""

from __future__ import annotations

from .names import ApiKey

KAFKA_RELEASES = ("3.9", "4.0", "4.1")
"""The releases `localbroker.api.versions.of` accepts."""
FIRST_WITHOUT_OLD_VERSIONS = "4.0"
"""The release that removed the pre-2.1 versions (KIP-896)."""
KIP_896_BASELINE = "2.1"
"""The Kafka release whose protocol a client needs at least to talk to Kafka 4."""

Window = tuple[int, int]

_VERSIONS: dict[int, tuple[Window, Window, Window]] = {
    # API: (3.9, 4.0, 4.1), each (oldest, newest) inclusive.
    ApiKey.PRODUCE: ((0, 11), (3, 12), (3, 13)),
    ApiKey.FETCH: ((0, 17), (4, 17), (4, 18)),
    ApiKey.LIST_OFFSETS: ((0, 9), (1, 10), (1, 10)),
    ApiKey.METADATA: ((0, 12), (0, 13), (0, 13)),
    ApiKey.OFFSET_COMMIT: ((0, 9), (2, 9), (2, 9)),
    ApiKey.OFFSET_FETCH: ((0, 9), (1, 9), (1, 9)),
    ApiKey.FIND_COORDINATOR: ((0, 6), (0, 6), (0, 6)),
    ApiKey.JOIN_GROUP: ((0, 9), (0, 9), (0, 9)),
    ApiKey.HEARTBEAT: ((0, 4), (0, 4), (0, 4)),
    ApiKey.LEAVE_GROUP: ((0, 5), (0, 5), (0, 5)),
    ApiKey.SYNC_GROUP: ((0, 5), (0, 5), (0, 5)),
    ApiKey.DESCRIBE_GROUPS: ((0, 5), (0, 6), (0, 6)),
    ApiKey.LIST_GROUPS: ((0, 5), (0, 5), (0, 5)),
    ApiKey.SASL_HANDSHAKE: ((0, 1), (0, 1), (0, 1)),
    ApiKey.API_VERSIONS: ((0, 4), (0, 4), (0, 4)),
    ApiKey.CREATE_TOPICS: ((0, 7), (2, 7), (2, 7)),
    ApiKey.DELETE_TOPICS: ((0, 6), (1, 6), (1, 6)),
    ApiKey.DELETE_RECORDS: ((0, 2), (0, 2), (0, 2)),
    ApiKey.INIT_PRODUCER_ID: ((0, 5), (0, 5), (0, 5)),
    ApiKey.OFFSET_FOR_LEADER_EPOCH: ((0, 4), (2, 4), (2, 4)),
    ApiKey.DESCRIBE_ACLS: ((0, 3), (1, 3), (1, 3)),
    ApiKey.CREATE_ACLS: ((0, 3), (1, 3), (1, 3)),
    ApiKey.DELETE_ACLS: ((0, 3), (1, 3), (1, 3)),
    ApiKey.DESCRIBE_CONFIGS: ((0, 4), (1, 4), (1, 4)),
    ApiKey.ALTER_CONFIGS: ((0, 2), (0, 2), (0, 2)),
    ApiKey.DESCRIBE_LOG_DIRS: ((0, 4), (1, 4), (1, 4)),
    ApiKey.SASL_AUTHENTICATE: ((0, 2), (0, 2), (0, 2)),
    ApiKey.CREATE_PARTITIONS: ((0, 3), (0, 3), (0, 3)),
    ApiKey.DELETE_GROUPS: ((0, 2), (0, 2), (0, 2)),
    ApiKey.ELECT_LEADERS: ((0, 2), (0, 2), (0, 2)),
    ApiKey.ALTER_PARTITION_REASSIGNMENTS: ((0, 0), (0, 0), (0, 1)),
    ApiKey.LIST_PARTITION_REASSIGNMENTS: ((0, 0), (0, 0), (0, 0)),
    ApiKey.INCREMENTAL_ALTER_CONFIGS: ((0, 1), (0, 1), (0, 1)),
    ApiKey.OFFSET_DELETE: ((0, 0), (0, 0), (0, 0)),
    ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS: ((0, 0), (0, 0), (0, 0)),
    ApiKey.ALTER_USER_SCRAM_CREDENTIALS: ((0, 0), (0, 0), (0, 0)),
    ApiKey.DESCRIBE_CLUSTER: ((0, 1), (0, 2), (0, 2)),
    ApiKey.DESCRIBE_TOPIC_PARTITIONS: ((0, 0), (0, 0), (0, 0)),
    ApiKey.ADD_PARTITIONS_TO_TXN: ((0, 5), (0, 5), (0, 5)),
    ApiKey.ADD_OFFSETS_TO_TXN: ((0, 4), (0, 4), (0, 4)),
    ApiKey.END_TXN: ((0, 4), (0, 5), (0, 5)),
    ApiKey.TXN_OFFSET_COMMIT: ((0, 4), (0, 5), (0, 5)),
    ApiKey.DESCRIBE_PRODUCERS: ((0, 0), (0, 0), (0, 0)),
    ApiKey.DESCRIBE_TRANSACTIONS: ((0, 0), (0, 0), (0, 0)),
    ApiKey.LIST_TRANSACTIONS: ((0, 1), (0, 1), (0, 2)),
    ApiKey.WRITE_TXN_MARKERS: ((0, 1), (1, 1), (1, 1)),
}

ADVERTISED_PRODUCE_OLDEST = 0
"""Kafka 4 still advertises Produce v0 while refusing v0-2: librdkafka before 2.10 turns off
compression without it (KAFKA-18659, `ApiKeys.PRODUCE_API_VERSIONS_RESPONSE_MIN_VERSION`)."""


def release_window(release: str, api_key: int) -> Window | None:
    """The versions of `api_key` that Kafka `release` serves; None for an API not listed."""
    windows = _VERSIONS.get(api_key)
    return None if windows is None else windows[KAFKA_RELEASES.index(release)]
