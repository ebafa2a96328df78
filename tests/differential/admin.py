"""ApiVersions, Metadata, CreateTopics, DeleteTopics, CreatePartitions, DescribeCluster and
InitProducerId: the happy paths and the refusals (unknown topics, invalid partition counts
and replication factors, unknown and invalid configs, names Kafka refuses)."""

from __future__ import annotations

import struct
import uuid
from typing import Any

from waiting import wait_until
from wire import CLIENT_ID, framed, parse_response

from localbroker.handlers import supported_versions
from localbroker.protocol.names import ApiKey, ListOffsetsTimestamp, api_name

from .normalise import plain
from .produce import batch
from .reads import each
from .scenario import SETUP_TIMEOUT, Peer, scenario


@scenario(ApiKey.API_VERSIONS)
def api_versions_table(peer: Peer, version: int) -> Any:
    """The version window of every API localbroker serves, the names of those it does not,
    and the feature levels (v3 on)."""
    answer = peer.call(
        ApiKey.API_VERSIONS,
        version,
        {"client_software_name": "kwb-tests", "client_software_version": "1"},
    )
    return served(answer)


def served(answer: Any) -> Any:
    """An ApiVersions answer as its error, the windows of the APIs localbroker serves, the
    names of the others, and the feature levels."""
    ours = supported_versions()
    table = {
        api_name(k["api_key"]): [k["min_version"], k["max_version"]]
        for k in answer["api_keys"]
        if k["api_key"] in ours
    }
    others = sorted(api_name(k["api_key"]) for k in answer["api_keys"] if k["api_key"] not in ours)
    features = {
        "supported": sorted(f["name"] for f in answer.get("supported_features", [])),
        "finalized": sorted(f["name"] for f in answer.get("finalized_features", [])),
    }
    return {
        "error_code": answer["error_code"],
        "api_keys": table,
        "not_served": others,
        "features": features,
    }


@scenario(ApiKey.API_VERSIONS, since=3)
def api_versions_refused(peer: Peer, version: int) -> Any:
    """A client software name Kafka's pattern refuses (v3 on), and a version no broker
    knows: answered in v0 with UNSUPPORTED_VERSION and the whole table, so that the client
    can pick one."""
    invalid = {"client_software_name": "-kwb", "client_software_version": "1"}
    refused = peer.call(ApiKey.API_VERSIONS, version, invalid)
    header = struct.pack(">hhih", ApiKey.API_VERSIONS, 99, 7, len(CLIENT_ID))
    peer.client.send_raw(framed(header + CLIENT_ID.encode() + b"\x00\x00"))
    frame = peer.client.recv_frame()
    assert frame is not None
    _, unknown = parse_response(frame, ApiKey.API_VERSIONS, 0)
    return {"invalid-name": served(refused), "unknown-version": served(plain(unknown))}


@scenario(ApiKey.DELETE_RECORDS)
def delete_records(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic, 2)
    for start in (0, 3):
        peer.produce(topic, batch(3, start=start))
    cuts = [(0, 4), (0, 2), (0, 99), (1, -1), (5, 0)]
    answers = [
        peer.call(
            ApiKey.DELETE_RECORDS,
            version,
            {
                "timeout": 30000,
                "topics": [{"name": topic, "partitions": [{"partition_index": p, "offset": o}]}],
            },
        )
        for p, o in cuts
    ]
    earliest = each(peer, 7, topic, [(0, ListOffsetsTimestamp.EARLIEST)])
    return {"answers": answers, "earliest": earliest}


@scenario(ApiKey.DESCRIBE_LOG_DIRS)
def describe_log_dirs(peer: Peer, version: int) -> Any:
    """The partitions' sizes in bytes: the same batches, the same bytes."""
    topic = peer.name()
    peer.create_topic(topic, 2)
    peer.produce(topic, batch(3))
    answers = [
        peer.call(ApiKey.DESCRIBE_LOG_DIRS, version, {"topics": topics})
        for topics in (
            [{"topic": topic, "partitions": [0, 1, 9]}],
            [{"topic": peer.name("missing"), "partitions": [0]}],
        )
    ]
    for answer in answers:
        for result in answer["results"]:
            for one in result["topics"]:
                one["partitions"].sort(key=lambda p: p["partition_index"])
    return answers


def metadata(peer: Peer, version: int, topics: list[str] | None, create: bool = False) -> Any:
    answer = peer.call(
        ApiKey.METADATA,
        version,
        {
            "topics": None if topics is None else [{"name": t} for t in topics],
            "allow_auto_topic_creation": create,
            "include_cluster_authorized_operations": True,
            "include_topic_authorized_operations": True,
        },
    )
    answer["topics"] = [t for t in answer["topics"] if t["name"].startswith(peer.prefix)]
    for topic in answer["topics"]:  # Kafka lists partitions in its map's order
        topic["partitions"].sort(key=lambda p: p["partition_index"])
    return answer


@scenario(ApiKey.METADATA)
def metadata_of_topics(peer: Peer, version: int) -> Any:
    topic = peer.name("two")
    peer.create_topic(topic, 2)
    asked = [topic, peer.name("missing"), "bad name!"] if version else [topic]
    answer = metadata(peer, version, asked)
    if version >= 12:  # by id: an id no topic has
        unknown = {"topic_id": uuid.UUID(int=7), "name": None}
        request = {"topics": [unknown], "allow_auto_topic_creation": False,
                   "include_topic_authorized_operations": False}  # fmt: skip
        answer["by_id"] = peer.call(ApiKey.METADATA, version, request)["topics"]
    return answer


@scenario(ApiKey.METADATA, since=4)
def metadata_auto_creates(peer: Peer, version: int) -> Any:
    """The first answer (Kafka's controller creates the topic asynchronously), then the
    topic as it is once its leader is there."""
    topic = peer.name("made")
    first = metadata(peer, version, [topic], create=True)["topics"][0]["error_code"]
    wait_until(lambda: peer.led(topic, 1), f"{topic}'s leader", SETUP_TIMEOUT)
    return {"first": first, "then": metadata(peer, version, [topic])}


def create(peer: Peer, version: int, topics: list[dict[str, Any]], **extra: Any) -> Any:
    request = {"timeout": 30000, "validate_only": False, "topics": topics, **extra}
    answer = peer.call(ApiKey.CREATE_TOPICS, version, request)
    answer["topics"].sort(key=lambda t: t["name"])  # Kafka answers names asked twice first
    return answer


def new(name: str, partitions: int = 1, factor: int = 1, **configs: str) -> dict[str, Any]:
    return {
        "name": name,
        "num_partitions": partitions,
        "replication_factor": factor,
        "assignments": [],
        "configs": [{"name": k.replace("_", "."), "value": v} for k, v in configs.items()],
    }


@scenario(ApiKey.CREATE_TOPICS)
def create_topics_valid_and_refused(peer: Peer, version: int) -> Any:
    existing = peer.name("exists")
    peer.create_topic(existing)
    return create(
        peer,
        version,
        [
            new(peer.name("ok"), 3, retention_ms="3600000"),
            new(existing),
            new(peer.name("zero"), 0),
            new(peer.name("factor-two"), 1, 2),
            new(peer.name("factor-zero"), 1, 0),
            new(peer.name("unknown-config"), 1, 1, no_such_config="1"),
            new(peer.name("bad-value"), 1, 1, retention_ms="soon"),
            new(peer.name("bad name!")),
            new(peer.name("twice")),
            new(peer.name("twice")),
            {**new(peer.name("assigned"), -1, -1), "assignments": [
                {"partition_index": 0, "broker_ids": [9]}]},
        ],
    )  # fmt: skip


@scenario(ApiKey.CREATE_TOPICS, since=4)
def create_topics_with_defaults_validate_only(peer: Peer, version: int) -> Any:
    return create(peer, version, [new(peer.name("defaults"), -1, -1)], validate_only=True)


@scenario(ApiKey.DELETE_TOPICS)
def delete_topics(peer: Peer, version: int) -> Any:
    topic = peer.name("gone")
    peer.create_topic(topic)
    names = [topic, peer.name("missing"), peer.name("missing")]
    topics = [{"name": n, "topic_id": None} for n in names]
    request = {"timeout_ms": 30000, "timeout": 30000, "topic_names": names, "topics": topics}
    answer = peer.call(ApiKey.DELETE_TOPICS, version, request)
    answer["responses"].sort(key=lambda r: r["name"])  # Kafka answers in its map's order
    return answer


@scenario(ApiKey.CREATE_PARTITIONS)
def create_partitions(peer: Peer, version: int) -> Any:
    topic = peer.name("grows")
    peer.create_topic(topic, 2)
    counts = [(topic, 4), (peer.name("missing"), 2)]
    request = {
        "timeout": 30000,
        "validate_only": False,
        "topics": [{"name": n, "count": c, "assignments": None} for n, c in counts],
    }
    grown = peer.call(ApiKey.CREATE_PARTITIONS, version, request)
    grown["results"].sort(key=lambda r: r["name"])  # Kafka answers in its map's order
    request["topics"] = [{"name": topic, "count": 3, "assignments": None}]  # fewer than now
    shrunk = peer.call(ApiKey.CREATE_PARTITIONS, version, request)
    request["topics"] = [{"name": topic, "count": 4, "assignments": None}]
    same = peer.call(ApiKey.CREATE_PARTITIONS, version, request)
    misassigned = []
    for brokers in ([[1]], [[9], [9]]):  # too few assignments; a broker no cluster has
        assignments = [{"broker_ids": ids} for ids in brokers]
        request["topics"] = [{"name": topic, "count": 6, "assignments": assignments}]
        misassigned.append(peer.call(ApiKey.CREATE_PARTITIONS, version, request))
    request["topics"] = [{"name": topic, "count": 6, "assignments": None}] * 2
    twice = peer.call(ApiKey.CREATE_PARTITIONS, version, request)
    return {
        "grown": grown,
        "shrunk": shrunk,
        "same": same,
        "misassigned": misassigned,
        "twice": twice,
    }


@scenario(ApiKey.DESCRIBE_CLUSTER)
def describe_cluster(peer: Peer, version: int) -> Any:
    request = {
        "include_cluster_authorized_operations": True,
        "endpoint_type": 1,
        "include_fenced_brokers": False,
    }
    return peer.call(ApiKey.DESCRIBE_CLUSTER, version, request)


@scenario(ApiKey.INIT_PRODUCER_ID)
def init_producer_id(peer: Peer, version: int) -> Any:
    peer.producer_id()
    request = {
        "transactional_id": None,
        "transaction_timeout": 60000,
        "producer_id": -1,
        "producer_epoch": -1,
    }
    answer = peer.call(ApiKey.INIT_PRODUCER_ID, version, request)
    answer["producer_id"] = answer["producer_id"] >= 0  # numbering is each broker's own
    return answer


@scenario(ApiKey.DESCRIBE_TOPIC_PARTITIONS)
def describe_topic_partitions(peer: Peer, version: int) -> Any:
    """Pages are compared in test_describe_topic_partitions_vs_kafka.py; here one page."""
    topic = peer.name("t")
    peer.create_topic(topic, 2)
    request = {
        "topics": [{"name": topic}, {"name": peer.name("missing")}],
        "response_partition_limit": 2000,
        "cursor": None,
    }
    return peer.call(ApiKey.DESCRIBE_TOPIC_PARTITIONS, version, request)
