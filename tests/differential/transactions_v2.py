"""Transaction version 2 (KIP-890 part 2), as the Java client 4.x speaks it when the broker
finalizes transaction.version 2: no AddPartitionsToTxn (Produce v12 adds the partition), no
AddOffsetsToTxn (TxnOffsetCommit v5 adds the group), and EndTxn v5 bumping the epoch with
every end and answering the producer id and epoch to go on with; the markers carry the bumped
epoch. Also what Admin then sees (DescribeTransactions, ListTransactions v2's id pattern) and
how ApiVersions advertises the version.

Each scenario is an exchange a TV2 producer has, with its error paths; transactions.py's
steps (v3 AddPartitionsToTxn, EndTxn up to v4) are those of version 1.
"""

from __future__ import annotations

from typing import Any

from waiting import wait_until

from localbroker.protocol.names import ApiKey

from .scenario import SETUP_TIMEOUT, Peer, scenario
from .transaction_admin import without_clock
from .transactions import (
    add_partitions,
    fetch,
    init,
    init_request,
    produce_in,
    readable,
    settled,
    stable_offset,
    started,
    transactional_batch,
    txn_offset_request,
    with_pids,
)

END_TXN_V2 = 5
PRODUCE_V2 = 12


def end_v2(peer: Peer, tid: str, pid: int, epoch: int, commit: bool) -> Any:
    """EndTxn v5's answer; once it is NONE, waits until the end is complete (Kafka writes the
    markers after answering, and answers a retry NONE once they are written)."""
    request = {
        "transactional_id": tid,
        "producer_id": pid,
        "producer_epoch": epoch,
        "committed": commit,
    }
    first = peer.call(ApiKey.END_TXN, END_TXN_V2, request)
    if first["error_code"] == "none":
        wait_until(
            lambda: peer.call(ApiKey.END_TXN, END_TXN_V2, request)["error_code"] == "none",
            f"{tid}'s end",
            SETUP_TIMEOUT,
        )
    return first


def described(peer: Peer, tid: str) -> Any:
    answer = peer.call(ApiKey.DESCRIBE_TRANSACTIONS, 0, {"transactional_ids": [tid]})
    for state in answer["transaction_states"]:  # Kafka lists them in its set's order
        state["topics"].sort(key=lambda t: t["topic"])
    return without_clock(answer["transaction_states"])


@scenario(ApiKey.END_TXN, since=END_TXN_V2)
def end_txn_bumps_the_epoch(peer: Peer, version: int) -> Any:
    """An abort with nothing in it, a commit, its retry, the ends refused after it, and an
    abort: each end bumps the epoch, the markers carry it, and a zombie's batch of the old
    epoch is fenced."""
    topic, tid, pid, e0 = started(peer)
    answers: dict[str, Any] = {"abort-nothing": end_v2(peer, tid, pid, e0, False)}
    e1 = e0 + 1
    answers["produced"] = produce_in(
        peer, tid, topic, transactional_batch(pid, e1, 0), version=PRODUCE_V2
    )
    answers["commit"] = end_v2(peer, tid, pid, e1, True)
    answers["commit-retried"] = end_v2(peer, tid, pid, e1, True)
    answers["abort-retried-commit"] = end_v2(peer, tid, pid, e1, False)
    answers["stale-epoch"] = end_v2(peer, tid, pid, e0, True)
    answers["other-producer"] = end_v2(peer, tid, pid + 1, e1 + 1, True)
    answers["commit-nothing"] = end_v2(peer, tid, pid, e1 + 1, True)
    e2 = e1 + 1
    produce_in(peer, tid, topic, transactional_batch(pid, e2, 0, start=2), version=PRODUCE_V2)
    answers["ongoing"] = described(peer, tid)
    answers["abort"] = end_v2(peer, tid, pid, e2, False)
    answers["zombie"] = produce_in(
        peer, tid, topic, transactional_batch(pid, e2, 2, start=4), version=PRODUCE_V2
    )
    answers["aborted"] = described(peer, tid)
    answers["read_committed"] = readable(settled(peer, topic))
    answers["read_uncommitted"] = readable(fetch(peer, topic, 0))
    return with_pids(answers, {pid: "<pid>"})


@scenario(ApiKey.PRODUCE, since=PRODUCE_V2)
def produce_adds_the_partition(peer: Peer, version: int) -> Any:
    """Produce v12 adds the partition to the transaction itself (no AddPartitionsToTxn);
    a fenced epoch and another producer id are refused before the log sees them."""
    topic, tid, pid, epoch = started(peer)
    answers = {
        "fenced": produce_in(
            peer, tid, topic, transactional_batch(pid, epoch + 1, 0), version=version
        ),
        "other-producer": produce_in(
            peer, tid, topic, transactional_batch(pid + 1, epoch, 0), version=version
        ),
        "added": produce_in(peer, tid, topic, transactional_batch(pid, epoch, 0), version=version),
        "again": produce_in(
            peer, tid, topic, transactional_batch(pid, epoch, 2, start=2), version=version
        ),
        "described": described(peer, tid),
        "v1-add-after": add_partitions(peer, 3, tid, pid, epoch, {topic: [0]}),
    }
    answers["commit"] = end_v2(peer, tid, pid, epoch, True)
    return with_pids(answers, {pid: "<pid>"})


@scenario(ApiKey.TXN_OFFSET_COMMIT, since=5)
def txn_offset_commit_adds_the_group(peer: Peer, version: int) -> Any:
    """TxnOffsetCommit v5 without AddOffsetsToTxn: the group's offsets partition joins the
    transaction (before the member is checked: a refused member leaves it joined); the offset
    is unstable until EndTxn v5 commits it. A fenced epoch and another producer id are
    refused."""
    group = peer.name("group")
    peer.coordinator_ready(group)
    topic, tid, pid, epoch = started(peer)

    def commit(producer_id: int, producer_epoch: int, offset: int) -> Any:
        request = txn_offset_request(tid, group, (producer_id, producer_epoch), (topic, 0), offset)
        return peer.call(ApiKey.TXN_OFFSET_COMMIT, version, request)["topics"]

    def as_member(generation: int, member: str) -> Any:
        request = txn_offset_request(tid, group, (pid, epoch), (topic, 0), 4)
        request.update(generation_id=generation, member_id=member)
        return peer.call(ApiKey.TXN_OFFSET_COMMIT, version, request)["topics"]

    answers: dict[str, Any] = {
        "fenced": commit(pid, epoch + 1, 3),
        "other-producer": commit(pid + 1, epoch, 3),
        "unknown-member": as_member(3, "nobody"),
        "after-refusal": described(peer, tid),
        "committed": commit(pid, epoch, 5),
        "pending": stable_offset(peer, group, topic),
        "described": described(peer, tid),
        "end": end_v2(peer, tid, pid, epoch, True),
    }
    wait_until(
        lambda: stable_offset(peer, group, topic)["error_code"] == "none",
        f"{group}'s offset to be stable",
        SETUP_TIMEOUT,
    )
    answers["stable"] = stable_offset(peer, group, topic)
    return with_pids(answers, {pid: "<pid>"})


@scenario(ApiKey.INIT_PRODUCER_ID, since=3)
def init_producer_id_fences_a_v2_transaction(peer: Peer, version: int) -> Any:
    """KIP-360 InitProducerId with the current epoch while a version 2 transaction is open:
    the coordinator aborts it as a version 2 end (markers with the bumped epoch, the epoch
    before kept as the last one), so the producer's retry gets that bumped epoch back."""
    topic, tid, pid, epoch = started(peer)
    produce_in(peer, tid, topic, transactional_batch(pid, epoch, 0), version=PRODUCE_V2)
    current = init_request(tid, producer_id=pid, producer_epoch=epoch)
    answers: dict[str, Any] = {"ongoing": peer.call(ApiKey.INIT_PRODUCER_ID, version, current)}

    def granted() -> bool:
        answers["retried"] = peer.call(ApiKey.INIT_PRODUCER_ID, version, current)
        return bool(answers["retried"]["error_code"] != "concurrent_transactions")

    wait_until(granted, f"{tid}'s abort", SETUP_TIMEOUT)
    settled(peer, topic)
    answers["read_uncommitted"] = readable(fetch(peer, topic, 0))
    return with_pids(answers, {pid: "<pid>"})


@scenario(ApiKey.DESCRIBE_PRODUCERS)
def describe_producers_after_v2_ends(peer: Peer, version: int) -> Any:
    """The partition's producer after version 2 ends: its epoch is the last marker's."""
    topic, tid, pid, epoch = started(peer)
    produce_in(peer, tid, topic, transactional_batch(pid, epoch, 0), version=PRODUCE_V2)
    end_v2(peer, tid, pid, epoch, True)
    second = transactional_batch(pid, epoch + 1, 0, start=2)
    produce_in(peer, tid, topic, second, version=PRODUCE_V2)
    answers = {"open": producers(peer, version, topic)}
    end_v2(peer, tid, pid, epoch + 1, False)
    answers["ended"] = producers(peer, version, topic)
    return with_pids(answers, {pid: "<pid>"})


def producers(peer: Peer, version: int, topic: str) -> Any:
    """Partition 0's producers, their last write's time (a marker's: the broker's clock)
    hidden."""
    request = {"topics": [{"name": topic, "partition_indexes": [0]}]}
    answer = peer.call(ApiKey.DESCRIBE_PRODUCERS, version, request)
    partition = answer["topics"][0]["partitions"][0]
    for producer in partition["active_producers"]:
        producer["last_timestamp"] = "<time>"
    return partition


@scenario(ApiKey.LIST_TRANSACTIONS, since=2)
def list_transactions_by_id_pattern(peer: Peer, version: int) -> Any:
    """KIP-1152: the pattern must match the whole transactional id; an invalid one is
    refused. (v1's duration filter: a transaction younger than an hour is left out.)"""
    topic, tid, pid, epoch = started(peer)
    other = init(peer, peer.name("other"))
    produce_in(peer, tid, topic, transactional_batch(pid, epoch, 0), version=PRODUCE_V2)
    prefix = peer.name()

    def listed(pattern: str | None, duration: int = -1) -> Any:
        request = {
            "state_filters": [],
            "producer_id_filters": [],
            "duration_filter": duration,
            "transactional_id_pattern": pattern,
        }
        answer = peer.call(ApiKey.LIST_TRANSACTIONS, version, request)
        answer["transaction_states"] = sorted(
            (s for s in answer["transaction_states"] if s["transactional_id"].startswith(prefix)),
            key=lambda s: s["transactional_id"],
        )
        return answer

    answers = {
        "whole-id": listed(tid),
        "prefix-only": listed(prefix),
        "both": listed(f"{prefix}.*"),
        "one-of": listed(f"{prefix}(tx|nothing)"),
        "invalid": listed("[unclosed"),
        "younger-than-an-hour": listed(f"{prefix}.*", duration=3_600_000),
    }
    end_v2(peer, tid, pid, epoch, False)
    return with_pids(answers, {pid: "<pid>", other["producer_id"]: "<other pid>"})


@scenario(ApiKey.API_VERSIONS, since=3)
def api_versions_transaction_version(peer: Peer, version: int) -> Any:
    """transaction.version as ApiVersions advertises it: supported 0-2 (left out of v3,
    which omits features supported from 0) and finalized at 2, Kafka 4.1's default."""
    answer = peer.call(
        ApiKey.API_VERSIONS,
        version,
        {"client_software_name": "kwb-tests", "client_software_version": "1"},
    )
    name = "transaction.version"
    return {
        "supported": [f for f in answer.get("supported_features", []) if f["name"] == name],
        "finalized": [f for f in answer.get("finalized_features", []) if f["name"] == name],
        "epoch-given": answer.get("finalized_features_epoch", -1) >= 0,
    }
