"""The Java transactional producer (tests/java's `workbench.Transactions`) against localbroker
and Apache Kafka: a commit with offsets sent along, an abort, and a fenced producer, read back by
read_committed and read_uncommitted Java consumers; both brokers must print the same lines."""

from __future__ import annotations

from typing import Any

import pytest
from java_programs import TEST_TIMEOUT, JavaPrograms
from reference_kafka import ReferenceKafka

from tui.embedded import EmbeddedBroker

PREFIX = "java-transactions"

pytestmark = pytest.mark.timeout(TEST_TIMEOUT)


@pytest.fixture(scope="module")
def on_localbroker(java: JavaPrograms, module_broker: EmbeddedBroker) -> list[dict[str, Any]]:
    return java.run("workbench.Transactions", module_broker.bootstrap, PREFIX)


def test_each_consumer_reads_what_its_isolation_level_allows(
    on_localbroker: list[dict[str, Any]],
) -> None:
    events = {line["event"]: line for line in on_localbroker}
    assert events["fenced"]["outcome"] == "ProducerFencedException"
    assert events["read_committed"]["values"] == ["committed-0", "committed-1", "successor-0"]
    assert events["read_uncommitted"]["values"] == [
        "committed-0",
        "committed-1",
        "aborted-0",
        "fenced-0",
        "successor-0",
    ]
    assert (events["committed"]["offset"], events["committed"]["metadata"]) == (2, "in-txn")


def test_java_transactions_see_what_they_see_on_apache_kafka(
    on_localbroker: list[dict[str, Any]], java: JavaPrograms, reference_kafka: ReferenceKafka
) -> None:
    on_kafka = java.run("workbench.Transactions", reference_kafka.bootstrap, PREFIX)
    assert on_localbroker == on_kafka
