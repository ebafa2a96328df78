"""Authorization per API, as Kafka's KafkaApis and ControllerApis decide it, table-driven
(the rows are in tests/authorization_rows.py).

The broker runs StandardAuthorizer with `User:admin` as the only super user; admin makes the
topics and groups a row needs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from authorization_rows import ROWS, USERS, Row, answers, prepare
from brokers import running_broker
from secured import sasl_config

from tui.embedded import EmbeddedBroker

PROTOCOL = "SASL_PLAINTEXT"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    config = sasl_config(
        PROTOCOL,
        {"admin": "admin-secret", **USERS},
        **{"authorizer.class.name": AUTHORIZER, "super.users": "User:admin"},
    )
    with running_broker(tmp_path_factory.mktemp("locked"), config) as broker:
        yield broker


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_each_api_refuses_then_serves_as_kafka_does(locked: EmbeddedBroker, row: Row) -> None:
    bootstrap = locked.bootstrap_for(PROTOCOL)
    names = prepare(bootstrap, [row])[row.id]
    assert answers(bootstrap, row, names) == (row.refused, row.allowed)
