"""Transactions as Admin and `kafka-transactions.sh` see them: DescribeTransactions,
ListTransactions and DescribeProducers, on transactions made with transactions.py's steps."""

from __future__ import annotations

from typing import Any

from localbroker.protocol.names import ApiKey

from .produce import batch
from .scenario import Peer, scenario
from .transactions import (
    add_partitions,
    end,
    fetch,
    produce_in,
    readable,
    settled,
    started,
    transactional_batch,
    with_pids,
)


def without_clock(value: Any) -> Any:
    """Times from the broker's clock (a transaction's start, a producer's last write) as
    `<now>`; -1 (none) stays."""
    if isinstance(value, dict):
        return {k: "<now>" if k in _CLOCK and v > 0 else without_clock(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_clock(item) for item in value]
    return value


_CLOCK = frozenset({"transaction_start_time"})


@scenario(ApiKey.DESCRIBE_TRANSACTIONS)
def describe_transactions(peer: Peer, version: int) -> Any:
    """An id with an open transaction (a partition and a group's offsets), then once its
    transaction is committed. (Ids without a transaction, unknown or refused, are answered
    with a start time of -1, which kio's reader cannot read, so they are not asked here.)"""
    topic, tid, pid, epoch = started(peer)
    group = peer.name("group")
    add_partitions(peer, 3, tid, pid, epoch, {topic: [0]})
    add = {"transactional_id": tid, "producer_id": pid, "producer_epoch": epoch, "group_id": group}
    peer.call(ApiKey.ADD_OFFSETS_TO_TXN, 3, add)
    open_ = peer.call(ApiKey.DESCRIBE_TRANSACTIONS, version, {"transactional_ids": [tid]})
    for described in open_["transaction_states"]:  # Kafka lists them in its set's order
        described["topics"].sort(key=lambda t: t["topic"])
    end(peer, 3, tid, pid, epoch, True)
    done = peer.call(ApiKey.DESCRIBE_TRANSACTIONS, version, {"transactional_ids": [tid]})
    return with_pids(without_clock({"open": open_, "committed": done}), {pid: "<pid>"})


@scenario(ApiKey.LIST_TRANSACTIONS)
def list_transactions(peer: Peer, version: int) -> Any:
    """Filtered by producer id (so that only this case's ids count) and by state, with a
    state name Kafka does not know."""
    topic, tid, pid, epoch = started(peer)
    add_partitions(peer, 3, tid, pid, epoch, {topic: [0]})

    def listed(states: list[str]) -> Any:
        request = {"state_filters": states, "producer_id_filters": [pid], "duration_filter": -1}
        return peer.call(ApiKey.LIST_TRANSACTIONS, version, request)

    answers = {
        "any": listed([]),
        "ongoing": listed(["Ongoing"]),
        "empty": listed(["Empty"]),
        "unknown": listed(["Bogus"]),
    }
    end(peer, 3, tid, pid, epoch, False)
    answers["aborted"] = listed(["CompleteAbort"])
    return with_pids(answers, {pid: "<pid>"})


@scenario(ApiKey.DESCRIBE_PRODUCERS)
def describe_producers(peer: Peer, version: int) -> Any:
    """A partition with an open transaction and an idempotent producer, and a partition that
    does not exist."""
    topic, tid, pid, epoch = started(peer)
    idempotent, idempotent_epoch = peer.producer_id()
    peer.produce(topic, batch(3, producer_id=idempotent, producer_epoch=idempotent_epoch,
                              base_sequence=0))  # fmt: skip
    add_partitions(peer, 3, tid, pid, epoch, {topic: [0]})
    produce_in(peer, tid, topic, transactional_batch(pid, epoch, 0))
    request = {"topics": [{"name": topic, "partition_indexes": [0, 4]}]}
    answer = peer.call(ApiKey.DESCRIBE_PRODUCERS, version, request)
    for partition in answer["topics"][0]["partitions"]:
        partition["active_producers"].sort(key=lambda p: p["producer_id"] != pid)
    end(peer, 3, tid, pid, epoch, False)
    return with_pids(without_clock(answer), {pid: "<pid>", idempotent: "<idempotent pid>"})


def _sorted_markers(answer: Any) -> Any:
    """Kafka answers from hash maps: markers, topics and partitions compared in order."""
    for marker in answer["markers"]:
        marker["topics"].sort(key=lambda t: t["name"])
        for topic in marker["topics"]:
            topic["partitions"].sort(key=lambda p: p["partition_index"])
    return answer


@scenario(ApiKey.WRITE_TXN_MARKERS)
def write_txn_markers(peer: Peer, version: int) -> Any:
    """What `kafka-transactions.sh abort` sends: an ABORT for an open transaction (coordinator
    epoch -1, as DescribeProducers reports it before any marker), with a partition and a topic
    that do not exist; then markers of a producer with no transaction open here: a COMMIT,
    then one from an older coordinator epoch and one from an older producer epoch; none at
    all. Then what each isolation level reads."""
    topic, tid, pid, epoch = started(peer)
    add_partitions(peer, 3, tid, pid, epoch, {topic: [0]})
    produce_in(peer, tid, topic, transactional_batch(pid, epoch, 0))
    other, other_epoch = peer.producer_id()

    def write(producer: int, producer_epoch: int, coordinator_epoch: int, **where: Any) -> Any:
        marker = {
            "producer_id": producer,
            "producer_epoch": producer_epoch,
            "transaction_result": where.pop("commit", False),
            "topics": [{"name": t, "partition_indexes": ps} for t, ps in where["topics"].items()],
            "coordinator_epoch": coordinator_epoch,
        }
        answer = peer.call(ApiKey.WRITE_TXN_MARKERS, version, {"markers": [marker]})
        return _sorted_markers(answer)

    answers = {
        "abort": write(pid, epoch, -1, topics={topic: [0, 4], peer.name("missing"): [0]}),
        "nothing-open": write(other, other_epoch + 1, 5, topics={topic: [0]}, commit=True),
        "older-coordinator": write(other, other_epoch + 1, 3, topics={topic: [0]}),
        "older-epoch": write(other, other_epoch, 5, topics={topic: [0]}),
        "none": peer.call(ApiKey.WRITE_TXN_MARKERS, version, {"markers": []}),
        "read_committed": readable(settled(peer, topic)),
        "read_uncommitted": readable(fetch(peer, topic, 0)),
    }
    end(peer, 3, tid, pid, epoch, False)
    return with_pids(answers, {pid: "<pid>", other: "<other pid>"})
