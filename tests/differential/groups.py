"""Classic consumer groups: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups and OffsetDelete, with
wrong generations and member ids, unknown groups and topics, and a non-empty group deleted.

Each scenario makes its own one-member group (JoinGroup v5 asks for a member id first, then
joins; SyncGroup hands the member its assignment) at fixed versions, then exercises its API
at the case's version."""

from __future__ import annotations

from typing import Any

from waiting import wait_until
from wire import RawClient, request_body

from localbroker.protocol.consumer_protocol import encode_assignment, encode_subscription
from localbroker.protocol.names import ApiKey, CoordinatorType

from .normalise import plain
from .scenario import SETUP_TIMEOUT, Peer, scenario

SESSION = {"session_timeout": 30000, "rebalance_timeout": 30000}


def join_request(group: str, member: str, topic: str) -> dict[str, Any]:
    return {
        "group_id": group,
        **SESSION,
        "member_id": member,
        "group_instance_id": None,
        "protocol_type": "consumer",
        "protocols": [{"name": "range", "metadata": encode_subscription([topic], {})}],
        "reason": None,
    }


def stable_group(peer: Peer, group: str, topic: str) -> tuple[str, int]:
    """A group with one member, assigned partition 0 of `topic`: its member id, generation."""
    peer.create_topic(topic, 2)
    peer.coordinator_ready(group)
    first = peer.call(ApiKey.JOIN_GROUP, 5, join_request(group, "", topic))
    joined = peer.call(ApiKey.JOIN_GROUP, 5, join_request(group, first["member_id"], topic))
    member, generation = joined["member_id"], joined["generation_id"]
    assignment = {"member_id": member, "assignment": encode_assignment({topic: [0]})}
    synced = peer.call(
        ApiKey.SYNC_GROUP,
        3,
        {
            "group_id": group,
            "generation_id": generation,
            "member_id": member,
            "group_instance_id": None,
            "assignments": [assignment],
        },
    )
    assert synced["error_code"] == "none", synced
    return member, generation


@scenario(ApiKey.FIND_COORDINATOR, until=3)
def find_coordinator_one_key(peer: Peer, version: int) -> Any:
    group = peer.name()
    peer.coordinator_ready(group)
    return [
        peer.call(ApiKey.FIND_COORDINATOR, version, {"key": group, "key_type": kind})
        for kind in (CoordinatorType.GROUP, CoordinatorType.TRANSACTION)
        if version or kind == CoordinatorType.GROUP
    ]


@scenario(ApiKey.FIND_COORDINATOR, since=4)
def find_coordinator_batch(peer: Peer, version: int) -> Any:
    groups = [peer.name("a"), peer.name("b")]
    peer.coordinator_ready(groups[0])
    request = {"key_type": CoordinatorType.GROUP, "coordinator_keys": groups}
    return by_group(peer.call(ApiKey.FIND_COORDINATOR, version, request), "coordinators", "key")


@scenario(ApiKey.JOIN_GROUP)
def join_group(peer: Peer, version: int) -> Any:
    """v0-3 join at once; v4 on ask for a member id first (KIP-394)."""
    group, topic = peer.name("g"), peer.name("t")
    peer.create_topic(topic)
    peer.coordinator_ready(group)
    answers = [peer.call(ApiKey.JOIN_GROUP, version, join_request(group, "", topic))]
    if answers[0]["error_code"] == "member_id_required":
        request = join_request(group, answers[0]["member_id"], topic)
        answers.append(peer.call(ApiKey.JOIN_GROUP, version, request))
    unknown = join_request(group, "not-a-member", topic)
    answers.append(peer.call(ApiKey.JOIN_GROUP, version, unknown))
    wrong_type = {**join_request(group, "", topic), "protocol_type": "connect"}
    answers.append(peer.call(ApiKey.JOIN_GROUP, version, wrong_type))
    too_short = {**join_request(peer.name("short"), "", topic), "session_timeout": 10}
    answers.append(peer.call(ApiKey.JOIN_GROUP, version, too_short))
    return answers


@scenario(ApiKey.JOIN_GROUP)
def second_member_rebalances(peer: Peer, version: int) -> Any:
    """A second member's join parks until the first rejoins; meanwhile the first member's
    heartbeat says REBALANCE_IN_PROGRESS; the leader's answer lists both members."""
    group, topic = peer.name("g"), peer.name("t")
    member, generation = stable_group(peer, group, topic)
    second = RawClient(peer.bootstrap, client_id="second")
    try:
        request = join_request(group, "", topic)
        if version >= 4:  # asks for a member id first
            asked = plain(second.call(ApiKey.JOIN_GROUP, version, request))
            request = join_request(group, asked["member_id"], topic)
        parked = second.send(request_body(ApiKey.JOIN_GROUP, version, request))
        wait_until(
            lambda: (
                describe_groups(peer, 0, [group])["groups"][0]["group_state"]
                == "PreparingRebalance"
            ),
            f"{group} to rebalance",
            SETUP_TIMEOUT,
        )
        heartbeat = {"group_id": group, "generation_id": generation, "member_id": member}
        beat = peer.call(ApiKey.HEARTBEAT, 3, {**heartbeat, "group_instance_id": None})
        leader = peer.call(ApiKey.JOIN_GROUP, version, join_request(group, member, topic))
        follower = plain(second.recv(ApiKey.JOIN_GROUP, version, parked))
    finally:
        second.sock.close()
    leader["members"].sort(key=lambda m: m["member_id"])
    return {"heartbeat": beat, "leader": leader, "follower": follower}


@scenario(ApiKey.SYNC_GROUP)
def sync_group(peer: Peer, version: int) -> Any:
    group, topic = peer.name("g"), peer.name("t")
    member, generation = stable_group(peer, group, topic)
    base = {
        "group_id": group,
        "group_instance_id": None,
        "protocol_type": "consumer",
        "protocol_name": "range",
        "assignments": [],
    }
    return [
        peer.call(ApiKey.SYNC_GROUP, version, {**base, "generation_id": g, "member_id": m})
        for g, m in [(generation, member), (generation + 1, member), (generation, "nobody")]
    ] + ([
        peer.call(ApiKey.SYNC_GROUP, version, {
            **base, "generation_id": generation, "member_id": member, "protocol_type": "connect"})
    ] if version >= 5 else [])  # fmt: skip


@scenario(ApiKey.HEARTBEAT)
def heartbeat(peer: Peer, version: int) -> Any:
    group, topic = peer.name("g"), peer.name("t")
    member, generation = stable_group(peer, group, topic)
    return [
        peer.call(
            ApiKey.HEARTBEAT,
            version,
            {"group_id": g, "generation_id": gen, "member_id": m, "group_instance_id": None},
        )
        for g, gen, m in [
            (group, generation, member),
            (group, generation - 1, member),
            (group, generation, "nobody"),
            (peer.name("missing"), 1, member),
        ]
    ]


def by_group(answer: Any, field: str, key: str = "group_id") -> Any:
    """Kafka answers groups in the order of their __consumer_offsets partitions."""
    answer[field].sort(key=lambda g: g[key])
    return answer


def describe_groups(peer: Peer, version: int, groups: list[str]) -> Any:
    request = {"groups": groups, "include_authorized_operations": True}
    return by_group(peer.call(ApiKey.DESCRIBE_GROUPS, version, request), "groups")


@scenario(ApiKey.LEAVE_GROUP)
def leave_group(peer: Peer, version: int) -> Any:
    group, topic = peer.name("g"), peer.name("t")
    member, _ = stable_group(peer, group, topic)
    members = [{"member_id": m, "group_instance_id": None, "reason": None} for m in (member,)]
    request = {"group_id": group, "member_id": member, "members": members}
    left = peer.call(ApiKey.LEAVE_GROUP, version, request)
    again = peer.call(ApiKey.LEAVE_GROUP, version, request)
    return {"left": left, "again": again, "after": describe_groups(peer, 0, [group])}


@scenario(ApiKey.DESCRIBE_GROUPS)
def describe_groups_stable_and_missing(peer: Peer, version: int) -> Any:
    group, topic = peer.name("g"), peer.name("t")
    stable_group(peer, group, topic)
    return describe_groups(peer, version, [group, peer.name("missing")])


@scenario(ApiKey.LIST_GROUPS)
def list_groups(peer: Peer, version: int) -> Any:
    """Every group, then by state (v4 on) and by type (v5 on)."""
    group, topic = peer.name("g"), peer.name("t")
    stable_group(peer, group, topic)
    commit(peer, 8, peer.name("empty"), -1, "", topic)
    filters = [([], [])]
    if version >= 4:
        filters += [(["Stable"], []), (["Empty", "Dead"], [])]
    if version >= 5:
        filters += [([], ["classic"]), ([], ["consumer"])]
    answers = []
    for states, types in filters:
        request = {"states_filter": states, "types_filter": types}
        answer = peer.call(ApiKey.LIST_GROUPS, version, request)
        answer["groups"] = [g for g in answer["groups"] if g["group_id"].startswith(peer.prefix)]
        answers.append(by_group(answer, "groups"))
    return answers


def commit(
    peer: Peer,
    version: int,
    group: str,
    generation: int,
    member: str,
    topic: str,
    metadata: str = "m",
) -> Any:
    return peer.call(
        ApiKey.OFFSET_COMMIT,
        version,
        {
            "group_id": group,
            "generation_id_or_member_epoch": generation,
            "member_id": member,
            "group_instance_id": None,
            "retention_time": -1,
            "topics": [
                {
                    "name": topic,
                    "partitions": [
                        {
                            "partition_index": p,
                            "committed_offset": 5 + p,
                            "committed_leader_epoch": 0,
                            "commit_timestamp": -1,
                            "committed_metadata": metadata,
                        }
                        for p in (0, 1, 7)
                    ],
                }
            ],
        },
    )


@scenario(ApiKey.OFFSET_COMMIT)
def offset_commit(peer: Peer, version: int) -> Any:
    group, topic = peer.name("g"), peer.name("t")
    member, generation = stable_group(peer, group, topic)
    answers = [
        commit(peer, version, group, generation, member, topic),
        commit(peer, version, group, generation + 1, member, topic),
        commit(peer, version, group, generation, "nobody", topic),
        commit(peer, version, group, generation, member, peer.name("missing")),
        commit(peer, version, peer.name("simple"), -1, "", topic),
        commit(peer, version, group, generation, member, topic, "m" * 4097),
    ]
    for answer in answers:  # Kafka answers unknown partitions first
        for one in answer["topics"]:
            one["partitions"].sort(key=lambda p: p["partition_index"])
    return answers


def fetch_offsets(peer: Peer, version: int, group: str, topic: str) -> Any:
    topics = [{"name": topic, "partition_indexes": [0, 1, 7]}]
    if version < 8:
        return peer.call(ApiKey.OFFSET_FETCH, version, {"group_id": group, "topics": topics})
    groups = [{"group_id": group, "topics": topics}, {"group_id": group + "x", "topics": None}]
    request = {"groups": groups, "require_stable": False}
    return by_group(peer.call(ApiKey.OFFSET_FETCH, version, request), "groups")


@scenario(ApiKey.OFFSET_FETCH)
def offset_fetch(peer: Peer, version: int) -> Any:
    group, topic = peer.name("g"), peer.name("t")
    member, generation = stable_group(peer, group, topic)
    commit(peer, 8, group, generation, member, topic)
    return [
        fetch_offsets(peer, version, group, topic),
        fetch_offsets(peer, version, peer.name("missing"), topic),
    ]


@scenario(ApiKey.DELETE_GROUPS)
def delete_groups(peer: Peer, version: int) -> Any:
    group, topic = peer.name("g"), peer.name("t")
    stable_group(peer, group, topic)
    empty = peer.name("empty")
    commit(peer, 8, empty, -1, "", topic)
    request = {"groups_names": [group, empty, peer.name("missing")]}
    return by_group(peer.call(ApiKey.DELETE_GROUPS, version, request), "results")


@scenario(ApiKey.OFFSET_DELETE)
def offset_delete(peer: Peer, version: int) -> Any:
    group, topic = peer.name("g"), peer.name("t")
    member, generation = stable_group(peer, group, topic)
    commit(peer, 8, group, generation, member, topic)
    other = peer.name("other")
    peer.create_topic(other)
    commit(peer, 8, group, generation, member, other)
    topics = [{"name": t, "partitions": [{"partition_index": 0}]} for t in (topic, other)]
    request = {"group_id": group, "topics": topics}
    missing = {"group_id": peer.name("missing"), "topics": topics}
    return [
        peer.call(ApiKey.OFFSET_DELETE, version, request),
        peer.call(ApiKey.OFFSET_DELETE, version, missing),
        fetch_offsets(peer, 8, group, other),
    ]
