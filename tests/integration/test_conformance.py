"""The differential conformance suite (tests/differential/): every scenario run against Apache
Kafka and localbroker at the lowest and at the highest version both serve, the answers
compared field by field; what differs must be listed, with its reason, in intended.py."""

from __future__ import annotations

import pytest
from differential import (
    admin,
    configs,
    groups,
    leaders,
    produce,
    reads,
    reassignments,
    security,
    transaction_admin,
    transactions,
    transactions_v2,
)
from differential.intended import INTENDED
from differential.scenario import SCENARIOS, Case, cases, check
from reference_kafka import ReferenceKafka

from localbroker.handlers import supported_versions
from localbroker.protocol.names import api_name
from tui.embedded import EmbeddedBroker

FAMILIES = [
    produce,
    reads,
    admin,
    configs,
    groups,
    leaders,
    reassignments,
    security,
    transactions,
    transactions_v2,
    transaction_admin,
]


@pytest.mark.parametrize("case", [c for f in FAMILIES for c in cases(f.__name__)], ids=str)
def test_answers_match_apache_kafka(
    case: Case, reference_kafka: ReferenceKafka, module_broker: EmbeddedBroker
) -> None:
    check(case, module_broker.bootstrap, reference_kafka.bootstrap, INTENDED)


def test_every_advertised_api_has_a_scenario() -> None:
    covered = {s.api for f in FAMILIES for s in SCENARIOS[f.__name__.rsplit(".", 1)[-1]]}
    assert sorted(api_name(k) for k in supported_versions() if k not in covered) == []
