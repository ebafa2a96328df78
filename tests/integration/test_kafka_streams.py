"""Kafka Streams against localbroker: a word count with a repartition topic and a
changelog-backed state store, at least once, counting what it counts on Apache Kafka.

tests/java's `workbench.WordCount` writes the input lines, runs the application until the
output topic holds every word's final count, and prints every count the output topic holds
per word, then the internal topics Streams created.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from java_programs import TEST_TIMEOUT, JavaPrograms
from reference_kafka import ReferenceKafka

from tui.embedded import EmbeddedBroker

PREFIX = "streams"

pytestmark = pytest.mark.timeout(TEST_TIMEOUT)


def expected_counts(lines: list[dict[str, Any]]) -> Counter[str]:
    """The word counts of the input lines the program wrote."""
    counts: Counter[str] = Counter()
    for line in lines:
        if line["event"] == "input":
            counts.update(line["line"].lower().split())
    return counts


def run(java: JavaPrograms, bootstrap: str, state_dir: Path) -> list[dict[str, Any]]:
    return java.run("workbench.WordCount", bootstrap, PREFIX, str(state_dir))


@pytest.fixture(scope="module")
def on_localbroker(
    java: JavaPrograms, module_broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    return run(java, module_broker.bootstrap, tmp_path_factory.mktemp("streams-state"))


def test_word_count_counts_every_word_once(on_localbroker: list[dict[str, Any]]) -> None:
    """At least once without a failure is exactly once: each word's counts are 1, 2, ... n
    (the store's cache is off, so every update reaches the output), n its count in the input."""
    counts = {line["word"]: line["counts"] for line in on_localbroker if line["event"] == "counts"}
    expected = expected_counts(on_localbroker)
    assert set(counts) == set(expected)
    assert all(counts[word] == list(range(1, n + 1)) for word, n in expected.items())


def test_streams_creates_its_repartition_and_changelog_topics(
    on_localbroker: list[dict[str, Any]],
) -> None:
    internal = {line["name"]: line for line in on_localbroker if line["event"] == "internal-topic"}
    application = f"{PREFIX}-wordcount"
    changelog = internal[f"{application}-word-counts-changelog"]
    repartition = internal[f"{application}-words-repartition"]
    assert changelog["cleanup.policy"] == "compact"
    assert repartition["cleanup.policy"] == "delete"
    assert changelog["partitions"] == repartition["partitions"] == 3


def test_word_count_is_what_it_is_on_apache_kafka(
    on_localbroker: list[dict[str, Any]],
    java: JavaPrograms,
    reference_kafka: ReferenceKafka,
    tmp_path: Path,
) -> None:
    assert run(java, reference_kafka.bootstrap, tmp_path / "state") == on_localbroker
