"""`__consumer_offsets` records in Kafka's binary layout, the group-to-partition hash, and
decoding of the "consumer" embedded protocol.

Expected bytes are built by hand from the field layouts in classic_groups_spec.md §11
(Kafka's OffsetCommitKey/Value and GroupMetadataKey/Value schemas), never with the module's
own writer, so a layout mistake cannot cancel itself out. Embedded-protocol bytes are built
with kio's consumer_protocol_* schemas, as a real client would send them.
"""

from __future__ import annotations

import importlib
import io
import struct
from typing import Any

import pytest
from kio.index import load_entity_schema
from kio.serial import entity_writer
from kio.static.constants import EntityType

from localbroker.groups.records import (
    GroupKey,
    GroupValue,
    MemberValue,
    OffsetKey,
    OffsetValue,
    RecordFormatError,
    decode_group,
    decode_key,
    decode_offset,
    encode_group,
    encode_key,
    encode_offset,
    java_string_hash,
    offsets_partition,
)
from localbroker.protocol.consumer_protocol import assigned_partitions, subscribed_topics

TS = 1_700_000_000_000  # 0x0000018BCFE56800


def i16(value: int) -> bytes:
    return struct.pack(">h", value)


def i32(value: int) -> bytes:
    return struct.pack(">i", value)


def i64(value: int) -> bytes:
    return struct.pack(">q", value)


def string(value: str | None) -> bytes:
    """Non-flexible (nullable) string: int16 length (-1 = null) + UTF-8."""
    if value is None:
        return i16(-1)
    data = value.encode()
    return i16(len(data)) + data


def blob(value: bytes) -> bytes:
    return i32(len(value)) + value


# -- exact bytes of a known example --------------------------------------------------------


def test_offset_commit_key_bytes() -> None:
    """OffsetCommitKey, written as key version 1: group, topic, partition."""
    key = OffsetKey("grp", "topic", 7)
    data = bytes.fromhex("000100036772700005746f70696300000007")
    assert encode_key(key) == data
    assert decode_key(data) == key


def test_group_metadata_key_bytes() -> None:
    """GroupMetadataKey, key version 2 (the version doubles as the record type)."""
    assert encode_key(GroupKey("grp")) == bytes.fromhex("00020003677270")
    assert decode_key(bytes.fromhex("00020003677270")) == GroupKey("grp")


def test_offset_commit_value_v3_bytes() -> None:
    """OffsetCommitValue v3 (no expire timestamp): offset, leader epoch, metadata, commit
    timestamp."""
    value = OffsetValue(42, 3, "meta", TS)
    data = bytes.fromhex("0003000000000000002a0000000300046d6574610000018bcfe56800")
    assert encode_offset(value) == data
    assert decode_offset(data) == value


def test_offset_commit_value_v1_bytes() -> None:
    """OffsetCommitValue v1 when an expire timestamp exists: offset, metadata, commit
    timestamp, expire timestamp (v1 has no leader epoch)."""
    value = OffsetValue(42, -1, "", TS, TS + 60_000)
    data = bytes.fromhex("0001000000000000002a00000000018bcfe568000000018bcfe65260")
    assert encode_offset(value) == data
    assert decode_offset(data) == value


def test_group_metadata_value_v3_bytes() -> None:
    """GroupMetadataValue v3: protocolType, generation, protocol, leader, currentStateTimestamp,
    members[memberId, groupInstanceId (null), clientId, clientHost, rebalanceTimeout,
    sessionTimeout, subscription, assignment]."""
    value = GroupValue(
        "consumer",
        1,
        "range",
        "m",
        TS,
        (MemberValue("m", None, "c", "/h", 300_000, 10_000, b"\x00\x00", b""),),
    )
    data = bytes.fromhex(
        "0003"
        "0008636f6e73756d6572"  # protocolType "consumer"
        "00000001"  # generation
        "000572616e6765"  # protocol "range"
        "00016d"  # leader "m"
        "0000018bcfe56800"  # currentStateTimestamp
        "00000001"  # one member
        "00016d"  # memberId "m"
        "ffff"  # groupInstanceId null
        "000163"  # clientId "c"
        "00022f68"  # clientHost "/h"
        "000493e0"  # rebalanceTimeout 300000
        "00002710"  # sessionTimeout 10000
        "000000020000"  # subscription
        "00000000"  # assignment (empty)
    )
    assert encode_group(value) == data
    assert decode_group(data) == value


# -- every version ---------------------------------------------------------------------------


def test_offset_commit_key_v0_reads_like_v1() -> None:
    """Key versions 0 and 1 are both OffsetCommitKey with the same layout."""
    data = i16(0) + string("g") + string("t") + i32(3)
    assert decode_key(data) == OffsetKey("g", "t", 3)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (i16(0) + i64(5) + string("m") + i64(TS), OffsetValue(5, -1, "m", TS, -1)),
        (
            i16(1) + i64(5) + string("m") + i64(TS) + i64(TS + 1),
            OffsetValue(5, -1, "m", TS, TS + 1),
        ),
        (i16(2) + i64(5) + string("m") + i64(TS), OffsetValue(5, -1, "m", TS, -1)),
        (i16(3) + i64(5) + i32(7) + string("m") + i64(TS), OffsetValue(5, 7, "m", TS, -1)),
        (i16(3) + i64(5) + i32(-1) + string(None) + i64(TS), OffsetValue(5, -1, "", TS, -1)),
    ],
    ids=["v0", "v1", "v2", "v3", "v3-null-metadata"],
)
def test_offset_commit_value_versions(data: bytes, expected: OffsetValue) -> None:
    """OffsetCommitValue v0-v3: leader epoch only from v3 (-1 otherwise), expire timestamp
    only in v1 (-1 otherwise), null metadata reads as ""."""
    assert decode_offset(data) == expected


@pytest.mark.parametrize(
    "value",
    [
        OffsetValue(0, -1, "", 0),
        OffsetValue(2**63 - 1, 2**31 - 1, "ü" * 100, TS),
        OffsetValue(-1, -1, "x", TS, TS),
        OffsetValue(7, -1, "m", TS, 0),
    ],
)
def test_offset_commit_value_round_trip(value: OffsetValue) -> None:
    """Whatever is written (v3, or v1 when there is an expire timestamp) reads back; a v1
    record carries no leader epoch, so the epoch must be -1 for those."""
    data = encode_offset(value)
    assert data[:2] == (b"\x00\x01" if value.expire_timestamp >= 0 else b"\x00\x03")
    assert decode_offset(data) == value


def _member(version: int, instance: str | None, rebalance: int) -> bytes:
    data = string("m-1")
    if version >= 3:
        data += string(instance)
    data += string("client") + string("/10.0.0.1")
    if version >= 1:
        data += i32(rebalance)
    return data + i32(10_000) + blob(b"sub") + blob(b"asg")


def _group(version: int, members: list[bytes], leader: str | None = "m-1") -> bytes:
    data = i16(version) + string("consumer") + i32(4) + string("range") + string(leader)
    if version >= 2:
        data += i64(TS)
    return data + i32(len(members)) + b"".join(members)


@pytest.mark.parametrize(
    ("version", "instance", "rebalance", "timestamp"),
    [
        (0, None, 10_000, -1),  # no rebalance timeout: the session timeout stands in
        (1, None, 45_000, -1),
        (2, None, 45_000, TS),
        (3, "inst", 45_000, TS),
    ],
)
def test_group_metadata_value_versions(
    version: int, instance: str | None, rebalance: int, timestamp: int
) -> None:
    """GroupMetadataValue v0-v3: rebalanceTimeout from v1, currentStateTimestamp from v2
    (-1 before), groupInstanceId from v3 (null before)."""
    data = _group(version, [_member(version, instance, rebalance)])
    member = MemberValue("m-1", instance, "client", "/10.0.0.1", rebalance, 10_000, b"sub", b"asg")
    assert decode_group(data) == GroupValue("consumer", 4, "range", "m-1", timestamp, (member,))


def test_group_metadata_value_rebalance_timeout_minus_one_means_session_timeout() -> None:
    """§11 Loading: a stored rebalance timeout of -1 is replaced by the session timeout."""
    [member] = decode_group(_group(1, [_member(1, None, -1)])).members
    assert (member.rebalance_timeout_ms, member.session_timeout_ms) == (10_000, 10_000)


@pytest.mark.parametrize(
    "value",
    [
        GroupValue("", 0, None, None, TS, ()),  # a group created before any member
        GroupValue("consumer", 3, None, None, -1, ()),  # emptied
        GroupValue(
            "consumer",
            12,
            "cooperative-sticky",
            "b-2",
            TS,
            (
                MemberValue("a-1", "i-a", "ça", "/::1", 300_000, 45_000, b"\x00\x03x", b""),
                MemberValue("b-2", None, "", "/127.0.0.1", 60_000, 6_000, b"", b"\x01" * 300),
            ),
        ),
    ],
)
def test_group_metadata_value_round_trip(value: GroupValue) -> None:
    """Everything encode_group writes (v3, nullable protocol/leader/instance id) reads back."""
    data = encode_group(value)
    assert data[:2] == b"\x00\x03"
    assert decode_group(data) == value


@pytest.mark.parametrize(
    ("decode", "data"),
    [
        (decode_key, i16(3) + string("g")),  # consumer-group (KIP-848) records
        (decode_key, i16(-1)),
        (decode_key, i16(1) + string("g")),  # ends before the topic
        (decode_key, i16(1) + string(None) + string("t") + i32(0)),
        (decode_key, i16(2) + string(None)),
        (decode_key, b"\x00"),
        (decode_offset, i16(9) + i64(1)),
        (decode_offset, i16(3) + i64(1) + i32(0) + i16(50) + b"short"),
        (decode_offset, i16(1) + i64(1) + string("") + i64(TS)),  # v1 lacks its expire time
        (decode_group, i16(9)),
        (decode_group, _group(3, [_member(3, None, 1)])[:-2]),
        (decode_group, _group(3, [])[:-4] + i32(2**31 - 1)),  # huge member count
    ],
    ids=[
        "key-v3",
        "key-v-1",
        "key-truncated",
        "key-null-group",
        "group-key-null",
        "key-one-byte",
        "offset-v9",
        "offset-truncated",
        "offset-v1-no-expire",
        "group-v9",
        "group-truncated",
        "group-huge-count",
    ],
)
def test_unreadable_records_raise_record_format_error(decode: Any, data: bytes) -> None:
    """Unknown versions, null keys and truncated data raise RecordFormatError (which load
    skips), never another exception."""
    with pytest.raises(RecordFormatError):
        decode(data)


# -- the coordinator partition of a group ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 97),
        ("hello", 99162322),
        ("Aa", 2112),
        ("BB", 2112),
        ("polygenelubricants", -(2**31)),  # Integer.MIN_VALUE
        ("my-group", -1906497762),
        ("\U0001f600", 1772899),  # a surrogate pair: two UTF-16 code units
    ],
)
def test_java_string_hash(text: str, expected: int) -> None:
    """Java's String.hashCode over UTF-16 code units, as a signed int32."""
    assert java_string_hash(text) == expected


@pytest.mark.parametrize(
    ("group_id", "expected"),
    [
        ("", 0),
        ("a", 47),
        ("hello", 22),
        ("polygenelubricants", 0),  # Utils.abs(Integer.MIN_VALUE) is 0
        ("my-group", 12),  # hash -1906497762: Utils.abs → 1906497762 % 50
        ("consumer-group", 38),  # hash -1738392088
        ("groupé", 6),  # hash -1237460406
    ],
)
def test_offsets_partition(group_id: str, expected: int) -> None:
    """§11 Partition choice: Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions,
    where Utils.abs(n) = n == MIN_VALUE ? 0 : Math.abs(n). For a negative hash that is
    -hash, not hash & 0x7fffffff (the producer partitioner's toPositive)."""
    assert offsets_partition(group_id, 50) == expected


# -- the "consumer" embedded protocol --------------------------------------------------------


def consumer_protocol(name: str, version: int, **fields: Any) -> bytes:
    """kio's consumer_protocol_<name> entity of `version`, behind its int16 version; partition
    lists are given as [(topic, [partitions])]."""
    schema = load_entity_schema(f"consumer_protocol_{name}", version, EntityType.data)
    module = importlib.import_module(schema.__module__)
    for field_name in ("owned_partitions", "assigned_partitions"):
        if field_name in fields:
            fields[field_name] = tuple(
                module.TopicPartition(topic=topic, partitions=tuple(parts))
                for topic, parts in fields[field_name]
            )
    out = io.BytesIO()
    entity_writer(schema)(out, schema(**fields))
    return i16(version) + out.getvalue()


SUBSCRIPTION_FIELDS: dict[int, dict[str, Any]] = {
    0: {"topics": ("orders", "payments"), "user_data": None},
    1: {"topics": ("orders", "payments"), "user_data": b"u", "owned_partitions": [("orders", [0])]},
    2: {
        "topics": ("orders", "payments"),
        "user_data": None,
        "owned_partitions": [],
        "generation_id": 4,
    },
    3: {
        "topics": ("orders", "payments"),
        "user_data": b"",
        "owned_partitions": [("payments", [2, 1])],
        "generation_id": 4,
        "rack_id": "rack-a",
    },
}


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_subscribed_topics_of_every_subscription_version(version: int) -> None:
    """ConsumerProtocolSubscription v0-v3 as clients send them: the topics are read."""
    data = consumer_protocol("subscription", version, **SUBSCRIPTION_FIELDS[version])
    assert subscribed_topics(data) == ["orders", "payments"]


def test_subscription_of_a_newer_version_is_read_by_its_known_prefix() -> None:
    """A future version appends fields: the coordinator still reads the topics (Kafka parses
    the subscription by its v0 prefix)."""
    data = consumer_protocol("subscription", 3, **SUBSCRIPTION_FIELDS[3])
    future = i16(4) + data[2:] + i32(12345)
    assert subscribed_topics(future) == ["orders", "payments"]


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_assigned_partitions_of_every_assignment_version(version: int) -> None:
    """ConsumerProtocolAssignment v0-v3: partitions by topic, sorted."""
    data = consumer_protocol(
        "assignment",
        version,
        assigned_partitions=[("orders", [2, 0]), ("payments", [])],
        user_data=b"x",
    )
    assert assigned_partitions(data) == {"orders": [0, 2], "payments": []}


GARBAGE_SUBSCRIPTIONS = {
    "empty": b"",
    "one-byte": b"\x00",
    "no-topics": b"\x00\x00",  # version 0 and nothing else
    "huge-topic-count": b"\x00\x00\x7f\xff\xff\xff",  # 2**31-1 topics announced
    "huge-topic-name": b"\x00\x00\x00\x00\x00\x01\x7f\xff",  # a 32767-byte name announced
    "not-utf8": b"\x00\x00\x00\x00\x00\x01\x00\x02\xff\xfe",
    "negative-owned-count": b"\x00\x01\x00\x00\x00\x00\xff\xff\xff\xff\x80\x00\x00\x00",
    "v1-null-arrays": b"\x00\x01" + b"\xff" * 12,  # topics, user data, owned partitions: -1
    "null-topics": b"\xff" * 64,  # version -1 (read as v0) with a null topics array
}


@pytest.mark.parametrize("data", GARBAGE_SUBSCRIPTIONS.values(), ids=list(GARBAGE_SUBSCRIPTIONS))
def test_garbage_subscriptions_are_not_described(data: bytes) -> None:
    """Opaque client bytes that do not decode give None (subscription unknown), without
    raising or sizing anything from the announced counts."""
    assert subscribed_topics(data) is None


GARBAGE_ASSIGNMENTS = {
    "one-byte": b"\x00",
    "no-partitions": b"\x00\x00",
    "huge-topic-count": b"\x00\x00\x7f\xff\xff\xff",  # 2**31-1 topics announced
    "huge-partition-count": b"\x00\x00\x00\x00\x00\x01\x00\x01t\x7f\xff\xff\xff",
    "garbage": b"garbage!",
    "null-arrays": b"\x00\x01" + b"\xff" * 8,  # assigned partitions and user data: -1
}


@pytest.mark.parametrize("data", GARBAGE_ASSIGNMENTS.values(), ids=list(GARBAGE_ASSIGNMENTS))
def test_garbage_assignments_are_not_described(data: bytes) -> None:
    """An assignment that does not decode is None; an empty one is no partitions at all."""
    assert assigned_partitions(data) is None
    assert assigned_partitions(b"") == {}
