"""Transactions: InitProducerId with a transactional id (epoch bumps, timeouts, fencing),
AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn with their error paths, the
transactional produce path (KIP-890 verification) and what read_committed and
read_uncommitted fetches then return: control batches, the last stable offset and the
aborted transactions.

Producer ids are the brokers' own, so answers show them as `<pid>` (the transactional id's)
or `<other pid>`; markers carry the broker's clock, so their times and CRC are `<now>`.
Kafka writes markers after it answers EndTxn, so reads wait for the last stable offset to
reach the high watermark first.
"""

from __future__ import annotations

from typing import Any

from waiting import wait_until

from localbroker.protocol.names import ApiKey
from localbroker.records.batch import TRANSACTIONAL_BIT

from .produce import batch, batches
from .scenario import SETUP_TIMEOUT, Peer, scenario

TIMEOUT_MS = 60_000
MAX_TIMEOUT_MS = 900_000
"""transaction.max.timeout.ms, the same default on both brokers."""
_STARTING = frozenset(
    {"not_coordinator", "coordinator_load_in_progress", "coordinator_not_available"}
)


def init_request(transactional_id: str, timeout_ms: int = TIMEOUT_MS, **fields: int) -> Any:
    return {
        "transactional_id": transactional_id,
        "transaction_timeout": timeout_ms,
        "producer_id": fields.get("producer_id", -1),
        "producer_epoch": fields.get("producer_epoch", -1),
    }


def init(peer: Peer, transactional_id: str, version: int = 4) -> Any:
    """The first InitProducerId answer of `transactional_id` once its coordinator is ready
    (Kafka creates __transaction_state on the first FindCoordinator, then loads it)."""
    peer.transaction_coordinator_ready(transactional_id)
    answers: list[Any] = []

    def granted() -> bool:
        answers.append(peer.call(ApiKey.INIT_PRODUCER_ID, version, init_request(transactional_id)))
        return answers[-1]["error_code"] not in _STARTING

    wait_until(granted, f"{transactional_id}'s producer id", SETUP_TIMEOUT)
    return answers[-1]


def with_pids(value: Any, known: dict[int, str]) -> Any:
    """`value` with every producer id of `known` replaced by its name."""
    if isinstance(value, dict):
        return {
            k: (known.get(v, v) if k == "producer_id" else with_pids(v, known))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [with_pids(item, known) for item in value]
    return value


def add_partitions(
    peer: Peer,
    version: int,
    transactional_id: str,
    pid: int,
    epoch: int,
    topics: dict[str, list[int]],
) -> Any:
    request = {
        "v3_and_below_transactional_id": transactional_id,
        "v3_and_below_producer_id": pid,
        "v3_and_below_producer_epoch": epoch,
        "v3_and_below_topics": [{"name": t, "partitions": ps} for t, ps in topics.items()],
    }
    answer = peer.call(ApiKey.ADD_PARTITIONS_TO_TXN, version, request)
    # Kafka answers partitions in its hash map's order: compared by partition
    return [
        {
            **topic,
            "results_by_partition": sorted(
                topic["results_by_partition"], key=lambda p: p["partition_index"]
            ),
        }
        for topic in answer["results_by_topic_v3_and_below"]
    ]


def end(peer: Peer, version: int, transactional_id: str, pid: int, epoch: int, commit: bool) -> Any:
    """EndTxn's answer once the end is complete: Kafka answers when it has decided and writes
    the markers afterwards, answering a retry CONCURRENT_TRANSACTIONS until they are written;
    localbroker writes them before it answers."""
    request = {
        "transactional_id": transactional_id,
        "producer_id": pid,
        "producer_epoch": epoch,
        "committed": commit,
    }
    first = peer.call(ApiKey.END_TXN, version, request)["error_code"]
    if first == "none":  # a retry is answered NONE once the end is complete
        wait_until(
            lambda: peer.call(ApiKey.END_TXN, version, request)["error_code"] == "none",
            f"{transactional_id}'s end",
            SETUP_TIMEOUT,
        )
    return first


def produce_in(
    peer: Peer,
    transactional_id: str,
    topic: str,
    records: bytes,
    partition: int = 0,
    version: int = 9,
) -> Any:
    request = {
        "transactional_id": transactional_id,
        "acks": -1,
        "timeout": 30000,
        "topic_data": [
            {"name": topic, "partition_data": [{"index": partition, "records": records}]}
        ],
    }
    answer = peer.call(ApiKey.PRODUCE, version, request)
    return answer["responses"][0]["partition_responses"][0]


def transactional_batch(
    pid: int, epoch: int, sequence: int, count: int = 2, start: int = 0
) -> bytes:
    return batch(
        count,
        start=start,
        producer_id=pid,
        producer_epoch=epoch,
        base_sequence=sequence,
        attributes=TRANSACTIONAL_BIT,
    )


def fetch_once(peer: Peer, topic: str, isolation: int, offset: int) -> Any:
    request = {
        "replica_id": -1,
        "max_wait": 0,
        "min_bytes": 0,
        "max_bytes": 1 << 20,
        "isolation_level": isolation,
        "session_id": 0,
        "session_epoch": -1,
        "topics": [
            {
                "topic": topic,
                "partitions": [
                    {"partition": 0, "fetch_offset": offset, "partition_max_bytes": 1 << 20}
                ],
            }
        ],
        "forgotten_topics_data": [],
        "rack_id": "",
    }
    return peer.call(ApiKey.FETCH, 12, request)["responses"][0]["partitions"][0]


def fetch(peer: Peer, topic: str, isolation: int) -> Any:
    """Partition 0 read from offset 0 as a consumer reads it, fetch after fetch up to what it
    may read (Kafka may answer one batch at a time after markers were written); the last
    answer with every fetch's records and aborted transactions (each once)."""
    records = b""
    aborted: list[Any] | None = None
    offset = 0
    while True:
        answer = fetch_once(peer, topic, isolation, offset)
        if answer["aborted_transactions"] is not None:  # each fetch tells those it meets
            aborted = aborted or []
            aborted += [a for a in answer["aborted_transactions"] if a not in aborted]
        got = batches(answer["records"])
        records += answer["records"] or b""
        limit = answer["last_stable_offset"] if isolation else answer["high_watermark"]
        if not got or got[-1]["base_offset"] + got[-1]["last_offset_delta"] + 1 >= limit:
            return {**answer, "records": records, "aborted_transactions": aborted}
        offset = got[-1]["base_offset"] + got[-1]["last_offset_delta"] + 1


def settled(peer: Peer, topic: str) -> Any:
    """Partition 0 read_committed once every marker is written (the last stable offset at
    the high watermark), its batches with the markers' clock fields as `<now>`."""
    answers: list[Any] = []

    def stable() -> bool:
        answers.append(fetch(peer, topic, 1))
        return bool(answers[-1]["last_stable_offset"] == answers[-1]["high_watermark"])

    wait_until(stable, f"{topic}'s markers", SETUP_TIMEOUT)
    return answers[-1]


def readable(answer: Any) -> Any:
    """A fetch answer's offsets, aborted transactions and batches (markers' clock hidden)."""
    logged = batches(answer["records"])
    for header in logged:
        if header["attributes"] & 0x20:
            header["base_timestamp"] = header["max_timestamp"] = header["crc"] = "<now>"
            for record in header["records"]:
                record["timestamp"] = "<now>"
    return {
        "high_watermark": answer["high_watermark"],
        "last_stable_offset": answer["last_stable_offset"],
        "aborted_transactions": answer["aborted_transactions"],
        "batches": logged,
    }


def started(peer: Peer) -> tuple[str, str, int, int]:
    """A topic of one partition and a transactional id with its producer id and epoch."""
    topic = peer.name()
    peer.create_topic(topic)
    tid = peer.name("tx")
    first = init(peer, tid)
    return topic, tid, first["producer_id"], first["producer_epoch"]


@scenario(ApiKey.INIT_PRODUCER_ID)
def init_producer_id_transactional(peer: Peer, version: int) -> Any:
    """The epoch goes up with each InitProducerId of an id; its producer id stays."""
    tid = peer.name("tx")
    first = init(peer, tid, version)
    second = peer.call(ApiKey.INIT_PRODUCER_ID, version, init_request(tid))
    pids = {first["producer_id"]: "<pid>"}
    return with_pids(
        {
            "first": first,
            "second": second,
            "too-long": peer.call(
                ApiKey.INIT_PRODUCER_ID, version, init_request(tid, MAX_TIMEOUT_MS + 1)
            ),
            "no-timeout": peer.call(ApiKey.INIT_PRODUCER_ID, version, init_request(tid, 0)),
            "empty-id": peer.call(ApiKey.INIT_PRODUCER_ID, version, init_request("")),
        },
        pids,
    )


@scenario(ApiKey.INIT_PRODUCER_ID, since=3)
def init_producer_id_with_the_wrong_producer(peer: Peer, version: int) -> Any:
    """KIP-360: a producer id that is not the transactional id's is fenced; the current one
    with its epoch gets that epoch bumped; only one of the two ids given is invalid."""
    tid = peer.name("tx")
    first = init(peer, tid, version)
    pid, epoch = first["producer_id"], first["producer_epoch"]
    answers = {
        "other": peer.call(
            ApiKey.INIT_PRODUCER_ID,
            version,
            init_request(tid, producer_id=pid + 1, producer_epoch=epoch),
        ),
        "current": peer.call(
            ApiKey.INIT_PRODUCER_ID,
            version,
            init_request(tid, producer_id=pid, producer_epoch=epoch),
        ),
        "half": peer.call(ApiKey.INIT_PRODUCER_ID, version, init_request(tid, producer_id=pid)),
    }
    return with_pids(answers, {pid: "<pid>"})


@scenario(ApiKey.ADD_PARTITIONS_TO_TXN, until=3)
def add_partitions_to_txn(peer: Peer, version: int) -> Any:
    topic, tid, pid, epoch = started(peer)
    return {
        "added": add_partitions(peer, version, tid, pid, epoch, {topic: [0]}),
        "again": add_partitions(peer, version, tid, pid, epoch, {topic: [0]}),
        "unknown-partition": add_partitions(peer, version, tid, pid, epoch, {topic: [0, 5]}),
        "unknown-topic": add_partitions(
            peer, version, tid, pid, epoch, {peer.name("missing"): [0]}
        ),
        "fenced": add_partitions(peer, version, tid, pid, epoch + 1, {topic: [0]}),
        "other-producer": add_partitions(peer, version, tid, pid + 1, epoch, {topic: [0]}),
        "unknown-id": add_partitions(peer, version, peer.name("never"), pid, epoch, {topic: [0]}),
    }


@scenario(ApiKey.END_TXN)
def end_txn_commit_and_abort(peer: Peer, version: int) -> Any:
    """A commit, its retry, then an aborted transaction: what each isolation level reads."""
    topic, tid, pid, epoch = started(peer)
    answers: dict[str, Any] = {"nothing-open": end(peer, version, tid, pid, epoch, True)}
    add_partitions(peer, 3, tid, pid, epoch, {topic: [0]})
    answers["produced"] = produce_in(peer, tid, topic, transactional_batch(pid, epoch, 0))
    answers["commit"] = end(peer, version, tid, pid, epoch, True)
    answers["commit-again"] = end(peer, version, tid, pid, epoch, True)
    answers["abort-after-commit"] = end(peer, version, tid, pid, epoch, False)
    add_partitions(peer, 3, tid, pid, epoch, {topic: [0]})
    produce_in(peer, tid, topic, transactional_batch(pid, epoch, 2, start=2))
    answers["fenced"] = end(peer, version, tid, pid, epoch + 1, False)
    answers["other-producer"] = end(peer, version, tid, pid + 1, epoch, False)
    answers["abort"] = end(peer, version, tid, pid, epoch, False)
    answers["read_committed"] = readable(settled(peer, topic))
    answers["read_uncommitted"] = readable(fetch(peer, topic, 0))
    return with_pids(answers, {pid: "<pid>"})


@scenario(ApiKey.PRODUCE, since=3)
def transactional_produce_needs_the_partition_added(peer: Peer, version: int) -> Any:
    """KIP-890 part 1: a batch for a partition its transaction does not hold is refused."""
    topic, tid, pid, epoch = started(peer)
    before = produce_in(peer, tid, topic, transactional_batch(pid, epoch, 0), version=version)
    add_partitions(peer, 3, tid, pid, epoch, {topic: [0]})
    added = produce_in(peer, tid, topic, transactional_batch(pid, epoch, 0), version=version)
    return {"not-added": before, "added": added, "open": readable(fetch(peer, topic, 1))}


@scenario(ApiKey.ADD_OFFSETS_TO_TXN)
def add_offsets_to_txn(peer: Peer, version: int) -> Any:
    tid = peer.name("tx")
    group = peer.name("group")
    first = init(peer, tid)
    pid, epoch = first["producer_id"], first["producer_epoch"]

    def add(**fields: Any) -> Any:
        request = {
            "transactional_id": tid,
            "producer_id": pid,
            "producer_epoch": epoch,
            "group_id": group,
            **fields,
        }
        return peer.call(ApiKey.ADD_OFFSETS_TO_TXN, version, request)["error_code"]

    return {
        "added": add(),
        "fenced": add(producer_epoch=epoch + 1),
        "other-producer": add(producer_id=pid + 1),
    }


def stable_offset(peer: Peer, group: str, topic: str) -> Any:
    request = {
        "group_id": group,
        "topics": [{"name": topic, "partition_indexes": [0]}],
        "require_stable": True,
    }
    return peer.call(ApiKey.OFFSET_FETCH, 7, request)["topics"][0]["partitions"][0]


def txn_offset_request(
    tid: str, group: str, producer: tuple[int, int], partition: tuple[str, int], offset: int
) -> Any:
    """A TxnOffsetCommit of one offset (metadata "m") outside any group generation."""
    return {
        "transactional_id": tid,
        "group_id": group,
        "producer_id": producer[0],
        "producer_epoch": producer[1],
        "generation_id": -1,
        "member_id": "",
        "group_instance_id": None,
        "topics": [
            {
                "name": partition[0],
                "partitions": [
                    {
                        "partition_index": partition[1],
                        "committed_offset": offset,
                        "committed_leader_epoch": -1,
                        "committed_metadata": "m",
                    }
                ],
            }
        ],
    }


@scenario(ApiKey.TXN_OFFSET_COMMIT)
def txn_offset_commit(peer: Peer, version: int) -> Any:
    """Offsets committed in a transaction: unstable while it is open, the group's once it
    commits; refused for a group the transaction never added."""
    group, other = peer.name("group"), peer.name("other")
    peer.coordinator_ready(group)
    peer.coordinator_ready(other)
    topic, tid, pid, epoch = started(peer)

    def commit(group_id: str, offset: int, partition: int = 0) -> Any:
        request = txn_offset_request(tid, group_id, (pid, epoch), (topic, partition), offset)
        return peer.call(ApiKey.TXN_OFFSET_COMMIT, version, request)["topics"]

    add = {
        "transactional_id": tid,
        "producer_id": pid,
        "producer_epoch": epoch,
        "group_id": group,
    }
    answers: dict[str, Any] = {
        "added": peer.call(ApiKey.ADD_OFFSETS_TO_TXN, 3, add)["error_code"],
        "not-added": commit(other, 7),
        "committed": commit(group, 7),
        "unknown-partition": commit(group, 7, partition=3),
        "pending": stable_offset(peer, group, topic),
    }
    end(peer, 3, tid, pid, epoch, True)
    wait_until(
        lambda: stable_offset(peer, group, topic)["error_code"] == "none",
        f"{group}'s offset to be stable",
        SETUP_TIMEOUT,
    )
    answers["stable"] = stable_offset(peer, group, topic)
    return answers


@scenario(ApiKey.ADD_PARTITIONS_TO_TXN, since=4)
def add_partitions_to_txn_batched(peer: Peer, version: int) -> Any:
    """The brokers' form: one transaction's partitions added, another's verified (one of its
    partitions in the transaction, one not), a third naming a partition that does not exist."""
    topic, tid, pid, epoch = started(peer)
    other = peer.name("other")
    second = init(peer, other)
    add_partitions(peer, 3, other, second["producer_id"], second["producer_epoch"], {topic: [0]})
    peer.create_topic(peer.name("wide"), partitions=2)

    def transaction(
        transactional_id: str, producer: Any, verify_only: bool, topics: dict[str, list[int]]
    ) -> Any:
        return {
            "transactional_id": transactional_id,
            "producer_id": producer[0],
            "producer_epoch": producer[1],
            "verify_only": verify_only,
            "topics": [{"name": t, "partitions": ps} for t, ps in topics.items()],
        }

    request = {
        "transactions": [
            transaction(tid, (pid, epoch), False, {topic: [0]}),
            transaction(
                other,
                (second["producer_id"], second["producer_epoch"]),
                True,
                {topic: [0], peer.name("wide"): [1]},
            ),
            transaction(peer.name("third"), (pid, epoch), False, {topic: [7]}),
        ]
    }
    answer = peer.call(ApiKey.ADD_PARTITIONS_TO_TXN, version, request)
    for result in answer["results_by_transaction"]:
        result["topic_results"].sort(key=lambda t: t["name"])
    answer["results_by_transaction"].sort(key=lambda r: r["transactional_id"])
    return answer
