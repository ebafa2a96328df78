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


def test_the_java_producer_speaks_transaction_version_2(
    on_localbroker: list[dict[str, Any]],
) -> None:
    """localbroker finalizes transaction.version 2 as Kafka 4.1 does, so the Java producer
    bumps its epoch with every end (EndTxn v5): init 0, commit 1, abort 2; the successor's
    InitProducerId fences with 3 and gets 4, and its commit makes 5, the markers' epoch too.
    (Under version 1 only the InitProducerIds bump it: 2.)"""
    described = {line["event"]: line for line in on_localbroker}["described"]
    assert (described["state"], described["producer_epoch"]) == ("CompleteCommit", 5)
    assert described["partition_producer_epochs"] == [5]


def test_java_transactions_see_what_they_see_on_apache_kafka(
    on_localbroker: list[dict[str, Any]], java: JavaPrograms, reference_kafka: ReferenceKafka
) -> None:
    on_kafka = java.run("workbench.Transactions", reference_kafka.bootstrap, PREFIX)
    assert on_localbroker == on_kafka
