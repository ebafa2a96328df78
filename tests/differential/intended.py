"""Every difference from Apache Kafka 4.1 that the differential suite finds and localbroker
keeps, by scenario name (both versions) or case id (`name[lowest]`), then by the path of the
differing field, with the reason. README's "Differences from Apache Kafka" lists the same.

A listed path must still differ: when localbroker changes to match Kafka, the check fails
until the row is removed, so this table never outlives what it describes."""

from __future__ import annotations

MIN_INSYNC = (
    "Kafka 4.1 (KRaft, eligible leader replicas on) sets min.insync.replicas as a cluster-wide"
    " dynamic default; localbroker has one replica and no ELR, so it is Kafka's static default"
)
AUTO_CREATE = (
    "localbroker creates an auto-created topic at once and describes it in the same answer;"
    " Kafka's controller creates it asynchronously, so its first answer is an error"
    " (UNKNOWN_TOPIC_OR_PARTITION, or LEADER_NOT_AVAILABLE) and clients retry"
)
NEWEST = (
    "localbroker serves Produce up to v12 and Fetch up to v17: v13 and v18 name topics by id"
    " only (KIP-516's last step), which kio's schemas do not have yet"
)

OLDER_CLIENTS = (
    "localbroker serves by default every request version Kafka 3.9 served, the ones KIP-896"
    " removed in 4.0 included, so that older clients (Sarama 1.22's OffsetCommit v1) keep"
    " working; localbroker.api.versions.of=4.1 advertises exactly Kafka 4.1's oldest versions"
    " (test_reference_kafka.py checks that)"
)
_REMOVED_BY_KIP_896 = (
    "Fetch",
    "ListOffsets",
    "OffsetCommit",
    "OffsetFetch",
    "CreateTopics",
    "DeleteTopics",
    "OffsetForLeaderEpoch",
    "DescribeAcls",
    "CreateAcls",
    "DeleteAcls",
    "DescribeConfigs",
    "DescribeLogDirs",
)

NOT_SERVED = (
    "APIs of features localbroker does not have: KIP-848 consumer and share groups, quotas,"
    " delegation tokens, the KRaft quorum and the controller's APIs;"
    " it does not advertise them, so clients do not try"
)
FEATURES = (
    "localbroker advertises transaction.version alone (supported 0-2, finalized 2, as Kafka"
    " 4.1 has it: api-versions-features compares it); it has no KRaft quorum (metadata.version,"
    " kraft.version), KIP-848 or share groups (group.version, share.version) nor eligible"
    " leader replicas, and clients turn those on from their levels"
)

SESSIONS = (
    "localbroker keeps no fetch sessions (max.incremental.fetch.session.cache.slots is 0, as"
    " README says): clients go on with full fetch requests, as with a broker whose cache is"
    " full"
)

INTENDED: dict[str, dict[str, str]] = {
    "fetch-session-asked-for": {".session": SESSIONS},
    "api-versions-table": {
        ".api_keys.Produce[1]": NEWEST,
        ".api_keys.Fetch[1]": NEWEST,
        ".not_served": NOT_SERVED,
        **{f".api_keys.{name}[0]": OLDER_CLIENTS for name in _REMOVED_BY_KIP_896},
    },
    "api-versions-table[highest]": {
        ".features.supported": FEATURES,
        ".features.supported[0]": FEATURES,
        ".features.finalized": FEATURES,
        ".features.finalized[0]": FEATURES,
    },
    "metadata-auto-creates": {".first": AUTO_CREATE},
    "describe-topic-and-broker-configs": {
        "[0].configs.min.insync.replicas.config_source": MIN_INSYNC,
        "[0].configs.min.insync.replicas.synonyms[0].source": MIN_INSYNC,
        "[0].configs.min.insync.replicas.synonyms": MIN_INSYNC,
    },
    "create-topics-valid-and-refused[highest]": {
        ".topics.create-topics-valid-and-refused-v7-ok.configs.min.insync.replicas"
        ".config_source": MIN_INSYNC,
    },
    "create-topics-with-defaults-validate-only[highest]": {
        ".topics.create-topics-with-defaults-validate-only-v7-defaults.configs"
        ".min.insync.replicas.config_source": MIN_INSYNC,
    },
}
