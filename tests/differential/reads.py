"""Fetch, ListOffsets and OffsetForLeaderEpoch: reading back what was produced, from the start,
mid-batch, at the end and out of range, offsets by time (earliest, latest, a timestamp,
max-timestamp), unknown topics, partitions and topic ids, and leader epochs ahead of the
broker's."""

from __future__ import annotations

import uuid
from typing import Any

from localbroker.protocol.names import ApiKey, ListOffsetsTimestamp

from .produce import T, batch, batches
from .scenario import Peer, scenario

UNKNOWN_TOPIC_ID = "5f5f5f5f-0000-4000-8000-000000000000"


def topic_with_records(peer: Peer, partitions: int = 1) -> str:
    """A topic whose partition 0 holds offsets 0-2 (one batch) and 3-4 (another), records i
    stamped T + 10 i."""
    topic = peer.name()
    peer.create_topic(topic, partitions)
    peer.produce(topic, batch(3))
    peer.produce(topic, batch(2, start=3))
    return topic


def topic_id(peer: Peer, topic: str) -> str:
    answer = peer.call(
        ApiKey.METADATA,
        12,
        {
            "topics": [{"name": topic}],
            "allow_auto_topic_creation": False,
            "include_topic_authorized_operations": False,
        },
    )
    return str(answer["topics"][0]["topic_id"])


def fetch(
    peer: Peer, version: int, topic: str, positions: list[tuple[int, int]], **extra: Any
) -> Any:
    isolation = extra.pop("isolation_level", 0)
    session_epoch = extra.pop("session_epoch", -1)
    """Fetch (partition, offset) pairs of `topic` (by id from v13), without waiting; records
    decoded batch by batch."""
    ident = uuid.UUID(extra.pop("topic_id"))
    named = {"topic": topic} if version < 13 else {"topic_id": ident}
    epoch = extra.pop("current_leader_epoch", -1)
    answer = peer.call(
        ApiKey.FETCH,
        version,
        {
            "replica_id": -1,
            "max_wait": 0,
            "min_bytes": 0,
            "max_bytes": extra.pop("max_bytes", 1 << 20),
            "isolation_level": isolation,
            "session_id": 0,
            "session_epoch": session_epoch,
            "topics": [
                {
                    **named,
                    "partitions": [
                        {
                            "partition": p,
                            "fetch_offset": offset,
                            "current_leader_epoch": epoch,
                            "log_start_offset": -1,
                            "partition_max_bytes": extra.get("partition_max_bytes", 1 << 20),
                        }
                        for p, offset in positions
                    ],
                }
            ],
            "forgotten_topics_data": [],
            "rack_id": "",
        },
    )
    for response in answer["responses"]:
        for partition in response["partitions"]:
            partition["records"] = batches(partition["records"])
    return answer


@scenario(ApiKey.FETCH)
def fetch_from_start_middle_and_end(peer: Peer, version: int) -> Any:
    topic = topic_with_records(peer, 2)
    ident = topic_id(peer, topic)
    return [
        fetch(peer, version, topic, [(0, 0), (1, 0)], topic_id=ident),
        fetch(peer, version, topic, [(0, 1)], topic_id=ident),
        fetch(peer, version, topic, [(0, 5)], topic_id=ident),
        # the first batch is served whole even when larger than the limits
        fetch(peer, version, topic, [(0, 0)], topic_id=ident, max_bytes=10),
        fetch(peer, version, topic, [(0, 0)], topic_id=ident, partition_max_bytes=10),
        fetch(peer, version, topic, [(0, 2)], topic_id=ident, isolation_level=1),
    ]


@scenario(ApiKey.FETCH, since=7)
def fetch_session_asked_for(peer: Peer, version: int) -> Any:
    """A full fetch with session epoch 0 asks for an incremental fetch session (KIP-227)."""
    topic = topic_with_records(peer)
    ident = topic_id(peer, topic)
    answer = fetch(peer, version, topic, [(0, 0)], topic_id=ident, session_epoch=0)
    return {"error_code": answer["error_code"], "session": answer["session_id"] != 0}


@scenario(ApiKey.FETCH)
def fetch_out_of_range_and_unknown(peer: Peer, version: int) -> Any:
    topic = topic_with_records(peer)
    ident = topic_id(peer, topic)
    answers = [
        fetch(peer, version, topic, [(0, 6)], topic_id=ident),
        fetch(peer, version, topic, [(0, -3)], topic_id=ident),
        fetch(peer, version, topic, [(4, 0)], topic_id=ident),
        fetch(peer, version, topic, [(0, 0)], topic_id=ident, current_leader_epoch=7),
    ]
    missing = peer.name("missing")
    answers.append(fetch(peer, version, missing, [(0, 0)], topic_id=UNKNOWN_TOPIC_ID))
    return answers


def list_offsets(
    peer: Peer, version: int, topic: str, wanted: list[tuple[int, int]], epoch: int = -1
) -> Any:
    """(partition, timestamp) pairs, partitions in index order (Kafka answers in its hash
    map's order)."""
    answer = peer.call(
        ApiKey.LIST_OFFSETS,
        version,
        {
            "replica_id": -1,
            "isolation_level": 0,
            "timeout": 30000,
            "topics": [
                {
                    "name": topic,
                    "partitions": [
                        {"partition_index": p, "current_leader_epoch": epoch, "timestamp": at}
                        for p, at in wanted
                    ],
                }
            ],
        },
    )
    for one in answer["topics"]:
        one["partitions"].sort(key=lambda p: p["partition_index"])
    return answer


def each(peer: Peer, version: int, topic: str, wanted: list[tuple[int, int]]) -> Any:
    """One request per (partition, timestamp): a partition asked twice is refused."""
    return [list_offsets(peer, version, topic, [one]) for one in wanted]


@scenario(ApiKey.LIST_OFFSETS)
def list_offsets_by_time(peer: Peer, version: int) -> Any:
    topic = topic_with_records(peer, 2)
    return each(
        peer,
        version,
        topic,
        [
            (0, ListOffsetsTimestamp.EARLIEST),
            (0, ListOffsetsTimestamp.LATEST),
            (0, T - 5),
            (0, T + 15),
            (0, T + 40),
            (0, T + 41),
            (1, ListOffsetsTimestamp.LATEST),
            (1, T),
        ],
    )


@scenario(ApiKey.LIST_OFFSETS, since=7)
def list_offsets_max_timestamp(peer: Peer, version: int) -> Any:
    topic = topic_with_records(peer, 2)
    peer.produce(topic, batch(1, start=1))  # an older timestamp last: T + 10 at offset 5
    wanted = [(0, ListOffsetsTimestamp.MAX_TIMESTAMP), (1, ListOffsetsTimestamp.MAX_TIMESTAMP)]
    return list_offsets(peer, version, topic, wanted)


@scenario(ApiKey.LIST_OFFSETS, since=8)
def list_offsets_earliest_local_and_tiered(peer: Peer, version: int) -> Any:
    topic = topic_with_records(peer)
    wanted = [(0, -4)] + ([(0, -5)] if version >= 9 else [])
    return each(peer, version, topic, wanted)


@scenario(ApiKey.LIST_OFFSETS)
def list_offsets_unknown_and_invalid(peer: Peer, version: int) -> Any:
    topic = topic_with_records(peer)
    return [
        *each(peer, version, topic, [(3, -1), (-1, -1), (0, -9), (0, -6)]),
        list_offsets(peer, version, peer.name("missing"), [(0, -1)]),
        list_offsets(peer, version, topic, [(0, -1)], epoch=3),  # an epoch ahead
    ]


@scenario(ApiKey.LIST_OFFSETS)
def list_offsets_partition_asked_twice(peer: Peer, version: int) -> Any:
    topic = topic_with_records(peer, 2)
    return list_offsets(peer, version, topic, [(0, -1), (1, -2), (0, -2)])


@scenario(ApiKey.OFFSET_FOR_LEADER_EPOCH)
def offset_for_leader_epoch(peer: Peer, version: int) -> Any:
    topic = topic_with_records(peer)
    partitions = [
        {"partition": p, "current_leader_epoch": current, "leader_epoch": epoch}
        for p, current, epoch in [(0, -1, 0), (0, 0, 0), (0, -1, 3), (0, 5, 0), (2, -1, 0)]
    ]
    request = {"replica_id": -1, "topics": [{"topic": topic, "partitions": partitions}]}
    missing = {"topic": peer.name("missing"), "partitions": partitions[:1]}
    return [
        peer.call(ApiKey.OFFSET_FOR_LEADER_EPOCH, version, request),
        peer.call(ApiKey.OFFSET_FOR_LEADER_EPOCH, version, {**request, "topics": [missing]}),
    ]


@scenario(ApiKey.OFFSET_FOR_LEADER_EPOCH)
def offset_for_leader_epoch_of_an_empty_partition(peer: Peer, version: int) -> Any:
    """A partition nothing was written to: its leader's epoch starts at offset 0 all the
    same (Kafka records it when the replica becomes leader)."""
    topic = topic_with_records(peer, 2)
    partitions = [
        {"partition": 1, "current_leader_epoch": -1, "leader_epoch": epoch} for epoch in (0, 1)
    ]
    request = {"replica_id": -1, "topics": [{"topic": topic, "partitions": partitions}]}
    return peer.call(ApiKey.OFFSET_FOR_LEADER_EPOCH, version, request)
