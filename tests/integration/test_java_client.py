"""The Java client (kafka-clients, the reference's version) against localbroker and Apache Kafka.

tests/java's `workbench.Clients` runs three scenarios in one JVM per broker: the idempotent
producer with every codec, keys and headers, read back; the consumer with the classic group
protocol (manual and auto commit, seek, pause/resume); two cooperative-sticky consumers, one
joining and one leaving. Each scenario is checked on its own terms against localbroker, and
the producer and consumer scenarios must print exactly what they print against Apache Kafka.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from java_programs import PROJECT, TEST_TIMEOUT, JavaPrograms
from reference_kafka import POM, ReferenceKafka, kafka_version
from wire import RawClient

from localbroker.protocol.names import ApiKey
from localbroker.records.batch import CODECS, read_header
from tui.embedded import EmbeddedBroker

PREFIX = "java-clients"
SCENARIOS = ("producer", "consumer", "cooperative")
RECORDS_PER_CODEC = 100  # as Clients.java writes

pytestmark = pytest.mark.timeout(TEST_TIMEOUT)


@pytest.fixture(scope="module")
def on_localbroker(java: JavaPrograms, module_broker: EmbeddedBroker) -> list[dict[str, Any]]:
    return java.run("workbench.Clients", module_broker.bootstrap, PREFIX, *SCENARIOS)


@pytest.fixture(scope="module")
def on_kafka(java: JavaPrograms, reference_kafka: ReferenceKafka) -> list[dict[str, Any]]:
    return java.run("workbench.Clients", reference_kafka.bootstrap, PREFIX, *SCENARIOS)


def ran(request: pytest.FixtureRequest, where: str) -> tuple[str, list[dict[str, Any]]]:
    """The bootstrap of the broker `where` names and what the scenarios printed against it."""
    broker = "module_broker" if where == "localbroker" else "reference_kafka"
    return request.getfixturevalue(broker).bootstrap, request.getfixturevalue(f"on_{where}")


def of(lines: list[dict[str, Any]], scenario: str, event: str | None = None) -> list[Any]:
    return [
        line
        for line in lines
        if line["scenario"] == scenario and (event is None or line["event"] == event)
    ]


def test_java_programs_use_the_reference_kafka_version() -> None:
    """tests/java builds against the Kafka version the reference broker runs."""
    pom = (PROJECT / "pom.xml").read_text()
    assert f"<kafka.version>{kafka_version()}</kafka.version>" in pom, POM


# ---- producer ----


def test_idempotent_producer_every_codec_keys_and_headers_read_back(
    on_localbroker: list[dict[str, Any]],
) -> None:
    sent = [line["record"] for line in of(on_localbroker, "producer", "sent")]
    consumed = [line["record"] for line in of(on_localbroker, "producer", "consumed")]
    assert len(sent) == len(CODECS) * RECORDS_PER_CODEC
    key = lambda record: (record["topic"], record["partition"], record["offset"])  # noqa: E731
    assert sorted(consumed, key=key) == sorted(sent, key=key)
    offsets: dict[tuple[str, int], list[int]] = defaultdict(list)
    for record in sent:
        offsets[record["topic"], record["partition"]].append(record["offset"])
    assert all(sorted(found) == list(range(len(found))) for found in offsets.values())
    assert any(None in header for record in sent for header in record["headers"])


def stored_batches(bootstrap: str, topic: str, partition: int) -> list[Any]:
    """The headers of the batches a partition holds, fetched raw (no client decodes them)."""
    with RawClient(bootstrap) as client:
        response = client.call(
            ApiKey.FETCH,
            12,
            {
                "max_wait": 0,
                "min_bytes": 1,
                "topics": [
                    {
                        "topic": topic,
                        "partitions": [
                            {
                                "partition": partition,
                                "fetch_offset": 0,
                                "partition_max_bytes": 1 << 20,
                            }
                        ],
                    }
                ],
                "forgotten_topics_data": [],
            },
        )
    records = response.responses[0].partitions[0].records or b""
    headers, position = [], 0
    while position < len(records):
        header = read_header(records, position)
        headers.append(header)
        position += header.size
    return headers


@pytest.mark.parametrize("where", ["localbroker", "kafka"])
def test_producer_batches_are_stored_compressed_with_their_producer_id(
    where: str, request: pytest.FixtureRequest
) -> None:
    """Each codec's batches are kept as the producer compressed them, with its producer id and
    sequences: what an idempotent producer relies on. (Against Kafka: the check is right.)"""
    bootstrap, _ = ran(request, where)
    for codec_id, codec in CODECS.items():
        producer_ids = set()
        for partition in range(3):
            batches = stored_batches(bootstrap, f"{PREFIX}-{codec}", partition)
            assert batches and all(batch.compression == codec_id for batch in batches)
            assert all(batch.producer_id >= 0 for batch in batches)
            producer_ids |= {batch.producer_id for batch in batches}
            sequences = [batch.base_sequence for batch in batches]
            assert sequences[0] == 0 and sequences == sorted(sequences)
        assert len(producer_ids) == 1, f"{codec}: one producer, one producer id"


# ---- consumer ----


def test_consumer_commits_seeks_pauses_and_resumes(on_localbroker: list[dict[str, Any]]) -> None:
    events = {line["event"]: line for line in of(on_localbroker, "consumer")}
    manual = {
        "0": {"offset": 4, "metadata": "manual-0"},
        "1": {"offset": 7, "metadata": "manual-1"},
    }
    assert events["manual-commit"]["committed"] == manual
    assert events["resumed-after-manual-commit"]["first"] == {"0": 4, "1": 7}
    auto = {p: {"offset": 10, "metadata": ""} for p in ("0", "1")}
    assert events["auto-commit"]["committed"] == auto
    assert events["seek"]["first"] == {"0": 5}
    assert events["seekToBeginning"]["position"] == 0
    assert events["seekToEnd"]["position"] == 10
    assert events["offsetsForTimes"]["from-zero"] == 0
    assert events["offsetsForTimes"]["from-the-future"] is None
    assert events["paused"]["read"] == {"0": 0, "1": 10}
    assert events["resumed"]["read"]["0"] == 10


@pytest.mark.parametrize("scenario", ["producer", "consumer"])
def test_java_client_sees_what_it_sees_on_apache_kafka(
    scenario: str, on_localbroker: list[dict[str, Any]], on_kafka: list[dict[str, Any]]
) -> None:
    """Line for line the same (in any order: which partition a poll returns first varies)."""
    ours, kafkas = of(on_localbroker, scenario), of(on_kafka, scenario)
    assert sorted(map(repr, ours)) == sorted(map(repr, kafkas))


# ---- cooperative-sticky ----


@pytest.mark.parametrize("where", ["localbroker", "kafka"])
def test_cooperative_sticky_consumers_join_and_leave(
    where: str, request: pytest.FixtureRequest
) -> None:
    """Replays the members' callbacks in the order they happened: a partition is never owned
    by two members, a member only reads partitions it owns, and the rebalances are
    incremental (a member gives up only what moves, each partition at most once). With commits
    before each revocation nothing is read twice, and nothing is lost."""
    lines = of(ran(request, where)[1], "cooperative")
    summary = next(line for line in lines if line["event"] == "produced")
    owner: dict[int, str] = {}
    read: dict[tuple[int, int], int] = defaultdict(int)
    revoked: dict[str, list[int]] = defaultdict(list)
    for line in sorted((line for line in lines if "seq" in line), key=lambda line: line["seq"]):
        member = line["member"]
        if line["event"] == "assigned":
            for partition in line["partitions"]:
                assert partition not in owner, f"{partition} given to {member}, still {owner}"
                owner[partition] = member
        elif line["event"] in ("revoked", "lost"):
            for partition in line["partitions"]:
                assert owner.pop(partition) == member
            revoked[member] += line["partitions"]
        else:
            assert owner.get(line["partition"]) == member, f"{member} read what it does not own"
            for offset in line["offsets"]:
                read[line["partition"], offset] += 1
    expected = {
        (p, o) for p in range(summary["partitions"]) for o in range(summary["per-partition"])
    }
    assert set(read) == expected
    assert [key for key, count in read.items() if count > 1] == []
    assert all(len(partitions) == len(set(partitions)) for partitions in revoked.values()), revoked
    assert sorted(revoked["a"]) == list(range(summary["partitions"])), (
        "a gives up half, then the rest"
    )
