"""transaction.version in ApiVersions (KIP-584's feature levels): the level a client reads to
choose transaction version 2 (KIP-890 part 2). Kafka 4.1 supports 0-2 and finalizes 2;
serving Kafka 3.9's request versions (`localbroker.api.versions.of=3.9`, no EndTxn v5 nor
Produce v12) must not finalize it, or the Java client would send neither AddPartitionsToTxn
nor the Produce v12 that replaces it. (tests/differential/transactions_v2.py compares the
levels with Kafka's.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wire import RawClient

from localbroker.protocol.names import ApiKey
from tui.embedded import EmbeddedBroker

SOFTWARE = {"client_software_name": "kwb-tests", "client_software_version": "1"}


def features(bootstrap: str, version: int = 4) -> Any:
    with RawClient(bootstrap) as client:
        answer = client.call(ApiKey.API_VERSIONS, version, SOFTWARE)
    return (
        [(f.name, f.min_version, f.max_version) for f in answer.supported_features],
        [(f.name, f.min_version_level, f.max_version_level) for f in answer.finalized_features],
    )


def test_transaction_version_2_is_supported_and_finalized(broker: EmbeddedBroker) -> None:
    assert features(broker.bootstrap) == (
        [("transaction.version", 0, 2)],
        [("transaction.version", 2, 2)],
    )
    # v3 leaves out features supported from 0 (older clients read 0 as "not supported")
    assert features(broker.bootstrap, 3) == ([], [("transaction.version", 2, 2)])


def test_serving_kafka_3_9_versions_leaves_it_unfinalized(
    start_broker: Callable[..., EmbeddedBroker],
) -> None:
    broker = start_broker({"localbroker.api.versions.of": "3.9"})
    assert features(broker.bootstrap) == ([("transaction.version", 0, 2)], [])
