"""DescribeConfigs, AlterConfigs and IncrementalAlterConfigs: every config of a topic with its
value, source and synonyms, chosen broker configs, and the refusals (unknown resource, unknown
config, invalid value, an operation a config does not take)."""

from __future__ import annotations

from typing import Any

from localbroker.protocol.names import AlterConfigOp, ApiKey, ConfigResourceType

from .scenario import Peer, scenario

TOPIC = ConfigResourceType.TOPIC
BROKER = ConfigResourceType.BROKER
BROKER_KEYS = [
    "log.retention.ms",
    "log.retention.hours",
    "log.segment.bytes",
    "num.partitions",
    "auto.create.topics.enable",
    "message.max.bytes",
    "group.initial.rebalance.delay.ms",
    "offsets.topic.replication.factor",
    "log.message.timestamp.type",
    "compression.type",
    "no.such.config",
]
"""Broker configs both brokers have (localbroker describes about 100 of Kafka's 317: README),
one set in the reference's server.properties, and one that does not exist."""


def node_id(peer: Peer) -> str:
    answer = peer.call(ApiKey.METADATA, 1, {"topics": [], "allow_auto_topic_creation": False})
    return str(answer["brokers"][0]["node_id"])


def describe(peer: Peer, version: int, resources: list[tuple[int, str, list[str] | None]]) -> Any:
    answer = peer.call(
        ApiKey.DESCRIBE_CONFIGS,
        version,
        {
            "resources": [
                {"resource_type": kind, "resource_name": name, "configuration_keys": keys}
                for kind, name, keys in resources
            ],
            "include_synonyms": True,
            "include_documentation": False,
        },
    )
    for result in answer["results"]:
        result["resource_name"] = "<node>" if result["resource_type"] == BROKER else "<topic>"
        result["configs"].sort(key=lambda c: c["name"])
    return answer["results"]


@scenario(ApiKey.DESCRIBE_CONFIGS)
def describe_topic_and_broker_configs(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic, configs={"retention.ms": "7200000", "cleanup.policy": "compact"})
    return describe(
        peer,
        version,
        [
            (TOPIC, topic, None),
            (TOPIC, peer.name("missing"), None),
            (BROKER, node_id(peer), BROKER_KEYS),
            (BROKER, "", ["log.retention.ms"]),
            (BROKER, "not-a-number", None),
        ],
    )


def alter(peer: Peer, version: int, api: ApiKey, topic: str, configs: list[Any]) -> Any:
    resource = {"resource_type": TOPIC, "resource_name": topic, "configs": configs}
    answer = peer.call(api, version, {"resources": [resource], "validate_only": False})
    return answer["responses"]


@scenario(ApiKey.ALTER_CONFIGS)
def alter_configs(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic, configs={"retention.ms": "7200000"})
    kv = [("segment.ms", "600000"), ("max.message.bytes", "2000")]
    answers = {
        "set": alter(peer, version, ApiKey.ALTER_CONFIGS, topic, [
            {"name": k, "value": v} for k, v in kv]),
        "unknown": alter(peer, version, ApiKey.ALTER_CONFIGS, topic, [
            {"name": "no.such.config", "value": "1"}]),
        "invalid": alter(peer, version, ApiKey.ALTER_CONFIGS, topic, [
            {"name": "retention.ms", "value": "soon"}]),
        "missing": alter(peer, version, ApiKey.ALTER_CONFIGS, peer.name("missing"), [
            {"name": "retention.ms", "value": "1"}]),
    }  # fmt: skip
    keys = ["retention.ms", "segment.ms", "max.message.bytes"]
    return {"answers": answers, "after": describe(peer, 1, [(TOPIC, topic, keys)])}


def op(name: str, operation: AlterConfigOp, value: str | None = None) -> dict[str, Any]:
    return {"name": name, "config_operation": operation, "value": value}


@scenario(ApiKey.INCREMENTAL_ALTER_CONFIGS)
def incremental_alter_configs(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic, configs={"retention.ms": "7200000"})
    api = ApiKey.INCREMENTAL_ALTER_CONFIGS
    answers = {
        "set-delete-append": alter(peer, version, api, topic, [
            op("segment.ms", AlterConfigOp.SET, "600000"),
            op("retention.ms", AlterConfigOp.DELETE),
            op("cleanup.policy", AlterConfigOp.APPEND, "compact")]),
        "subtract": alter(peer, version, api, topic, [
            op("cleanup.policy", AlterConfigOp.SUBTRACT, "delete")]),
        "append-to-a-number": alter(peer, version, api, topic, [
            op("segment.ms", AlterConfigOp.APPEND, "1")]),
        "unknown": alter(peer, version, api, topic, [op("no.such.config", AlterConfigOp.SET, "1")]),
        "invalid": alter(peer, version, api, topic, [op("retention.ms", AlterConfigOp.SET, "x")]),
        "twice": alter(peer, version, api, topic, [
            op("segment.ms", AlterConfigOp.SET, "1000"),
            op("segment.ms", AlterConfigOp.SET, "2000")]),
        "missing": alter(peer, version, api, peer.name("missing"), [
            op("retention.ms", AlterConfigOp.SET, "1")]),
    }  # fmt: skip
    keys = ["retention.ms", "segment.ms", "cleanup.policy"]
    return {"answers": answers, "after": describe(peer, 1, [(TOPIC, topic, keys)])}
