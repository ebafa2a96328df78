"""Apache Kafka as the reference: what localbroker claims is checked against the real broker and
Kafka's own tools (tests/reference_kafka.py obtains them from Maven Central)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Producer
from reference_kafka import ReferenceKafka
from wire import RawClient, request_body

from localbroker.protocol.names import ApiKey, api_name
from tui.embedded import EmbeddedBroker

TIMEOUT = 30.0


def api_versions(bootstrap: str) -> dict[int, tuple[int, int]]:
    with RawClient(bootstrap) as client:
        response = client.call(
            ApiKey.API_VERSIONS,
            3,
            {"client_software_name": "kwb-tests", "client_software_version": "1"},
        )
    return {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}


def test_localbroker_advertises_only_versions_apache_kafka_has(
    reference_kafka: ReferenceKafka, broker: EmbeddedBroker
) -> None:
    """Every API localbroker advertises exists in Apache Kafka, and no advertised version is
    newer than Kafka's newest: a client negotiating with localbroker never picks a version
    the real broker would not understand. (Lower minimums are deliberate: older clients.)"""
    kafka = api_versions(reference_kafka.bootstrap)
    ours = api_versions(broker.bootstrap)
    unknown = sorted(api_name(key) for key in ours if key not in kafka)
    assert not unknown, f"advertised but not served by Apache Kafka: {unknown}"
    newer = {
        api_name(key): (high, kafka[key][1])
        for key, (_, high) in ours.items()
        if high > kafka[key][1]
    }
    assert not newer, f"advertised beyond Apache Kafka's newest version (ours, Kafka's): {newer}"


def test_kafka_41_rules_are_apache_kafka_41s(
    reference_kafka: ReferenceKafka, start_broker: Callable[..., EmbeddedBroker]
) -> None:
    """With localbroker.api.versions.of=4.1, every API localbroker serves starts at Kafka 4.1's
    oldest version (none newer than its newest), and a removed version (OffsetCommit v1, which
    Sarama 1.22 sends) closes the connection on both brokers."""
    broker = start_broker({"localbroker.api.versions.of": "4.1"})
    kafka = api_versions(reference_kafka.bootstrap)
    ours = api_versions(broker.bootstrap)
    different = {
        api_name(key): ((low, high), kafka[key])
        for key, (low, high) in ours.items()
        if low != kafka[key][0] or high > kafka[key][1]
    }
    assert not different, f"(ours, Kafka's): {different}"
    commit = {
        "group_id": "old-client",
        "generation_id_or_member_epoch": -1,
        "member_id": "",
        "topics": [{"name": "t", "partitions": [
            {"partition_index": 0, "committed_offset": 1, "commit_timestamp": -1,
             "committed_metadata": None}
        ]}],
    }  # fmt: skip
    for bootstrap in (reference_kafka.bootstrap, broker.bootstrap):
        with RawClient(bootstrap) as client:
            client.send(request_body(ApiKey.OFFSET_COMMIT, 1, commit))
            client.expect_closed()


def produce_a_mixture(bootstrap: str, topic: str) -> None:
    """Batches of every shape clients send: compressed and not, keys, headers, an
    idempotent producer's sequences, enough to roll several segments."""
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "compression.type": codec,
                "enable.idempotence": codec != "none",
                "linger.ms": 5,
            }
        )
        for i in range(200):
            headers = [("n", str(i).encode())] if i % 3 == 0 else None
            key = f"key-{i % 7}".encode() if i % 2 == 0 else None
            producer.produce(
                topic, value=f"{codec} record {i} ".encode() * 5, key=key, headers=headers
            )
        assert producer.flush(TIMEOUT) == 0


def test_kafkas_dump_log_segments_reads_localbrokers_files(
    reference_kafka: ReferenceKafka, start_broker, tmp_path: Path
) -> None:
    """kafka-dump-log.sh (DumpLogSegments) decodes every batch of localbroker's segments as
    valid, finds its offset and time indexes consistent with them, and reads its producer
    state snapshot: the on-disk format is Kafka's."""
    data_dir = tmp_path / "localbroker"
    broker = start_broker(data_dir=data_dir)
    broker.call(
        lambda: broker.state.create_topic(
            "dumped", 1, configs={"segment.bytes": "3000", "index.interval.bytes": "300"}
        )
    )
    produce_a_mixture(broker.bootstrap, "dumped")
    broker.stop()
    partition = data_dir / "dumped-0"
    logs = sorted(partition.glob("*.log"))
    assert len(logs) > 3, "the test wants several segments"
    dumped = reference_kafka.run_tool(
        "kafka.tools.DumpLogSegments",
        ["--deep-iteration", "--files", ",".join(map(str, logs))],
    )
    assert dumped.returncode == 0, dumped.stderr
    batches = [line for line in dumped.stdout.splitlines() if line.startswith("baseOffset:")]
    assert len(batches) >= 5 and all("isvalid: true" in line for line in batches)
    records = [line for line in dumped.stdout.splitlines() if line.startswith("| offset:")]
    assert len(records) == 5 * 200
    codecs = {line.split("compresscodec: ")[1].split()[0] for line in batches}
    assert codecs == {"none", "gzip", "snappy", "lz4", "zstd"}

    indexes = sorted(partition.glob("*.index")) + sorted(partition.glob("*.timeindex"))
    files = ",".join(map(str, indexes))
    sane = reference_kafka.run_tool(
        "kafka.tools.DumpLogSegments", ["--index-sanity-check", "--files", files]
    )
    assert sane.returncode == 0, sane.stderr
    passed = [line for line in sane.stdout.splitlines() if line.endswith("passed sanity check.")]
    assert len(passed) == len(indexes), sane.stdout
    verified = reference_kafka.run_tool(
        "kafka.tools.DumpLogSegments", ["--verify-index-only", "--files", files]
    )
    assert verified.returncode == 0, verified.stderr
    assert "ismatch" not in verified.stdout, verified.stdout  # "Mismatches in ..."

    [snapshot] = [p for p in partition.glob("*.snapshot") if int(p.stem) == 5 * 200]
    read = reference_kafka.run_tool("kafka.tools.DumpLogSegments", ["--files", str(snapshot)])
    assert read.returncode == 0 and not read.stderr, read.stderr  # a refusal goes to stderr
    entries = [fields(line) for line in read.stdout.splitlines() if line.startswith("producerId:")]
    by_producer = sorted(entries, key=lambda entry: int(entry["producerId"]))
    assert by_producer == sorted(last_batches(batches), key=lambda e: int(e["producerId"]))


def fields(line: str) -> dict[str, str]:
    """The `name: value` pairs of one line DumpLogSegments prints."""
    words = line.replace(": ", ":").split()
    return dict(word.split(":", 1) for word in words)


def last_batches(batches: list[str]) -> list[dict[str, str]]:
    """Each idempotent producer's snapshot entry as Kafka would write it: its last batch,
    from the batch lines of the dump (the four idempotent producers of produce_a_mixture,
    each ending at sequence 199 in the last of its 200 offsets)."""
    last: dict[str, dict[str, str]] = {}
    for batch in map(fields, batches):
        if batch["producerId"] != "-1":
            last[batch["producerId"]] = batch
    assert sorted(int(b["lastOffset"]) for b in last.values()) == [399, 599, 799, 999]
    assert {b["lastSequence"] for b in last.values()} == {"199"}
    return [
        {
            "producerId": b["producerId"],
            "producerEpoch": b["producerEpoch"],
            "coordinatorEpoch": "-1",
            "currentTxnFirstOffset": "OptionalLong.empty",
            "lastTimestamp": b["CreateTime"],
            "firstSequence": b["baseSequence"],
            "lastSequence": b["lastSequence"],
            "lastOffset": b["lastOffset"],
            "offsetDelta": str(int(b["lastOffset"]) - int(b["baseOffset"])),
            "timestamp": b["CreateTime"],
        }
        for b in last.values()
    ]
