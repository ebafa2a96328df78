"""The differential conformance suite (tests/differential/): every scenario run against Apache
Kafka and localbroker at the lowest and at the highest version both serve, the answers
compared field by field; what differs must be listed, with its reason, in intended.py."""

from __future__ import annotations

import pytest
from differential import admin, configs, groups, produce, reads, security
from differential.intended import INTENDED
from differential.scenario import Case, cases, check
from reference_kafka import ReferenceKafka

from tui.embedded import EmbeddedBroker

FAMILIES = [produce, reads, admin, configs, groups, security]


@pytest.mark.parametrize("case", [c for f in FAMILIES for c in cases(f.__name__)], ids=str)
def test_answers_match_apache_kafka(
    case: Case, reference_kafka: ReferenceKafka, module_broker: EmbeddedBroker
) -> None:
    check(case, module_broker.bootstrap, reference_kafka.bootstrap, INTENDED)
