"""ISR shrink and rejoin over processes, and a returning leader's truncation, on
`localbroker --cluster 3` and on Apache Kafka's three KRaft nodes, started alike
(replica.lag.time.max.ms=3000, Kafka's default broker.session.timeout.ms): what clients
observe must be the same (tests/isr_scenario.py has the steps).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from isr_scenario import RECORDS, SETTINGS, UNREPLICATED, IsrReport, run_isr_scenario
from launched import launched_cluster
from reference_cluster import CLUSTER_SETTINGS, running_cluster
from reference_kafka import ReferenceUnavailable, unavailable

pytestmark = pytest.mark.timeout(300)
"""A cluster's start (three JVMs: up to 90 s on a loaded machine) and a leader kill survived
after Kafka's 9 s session, with ISR changes between."""

OBSERVED = IsrReport(
    isr_while_paused=2,
    acks_all_while_paused=RECORDS,
    isr_after_resume=3,
    unreplicated_acknowledged=UNREPLICATED,
    acks_all_after_kill=RECORDS,
    unreplicated_kept=0,
    consumed=3 * RECORDS,
)
"""What clients see on both: the ISR short by the paused follower while acks=all goes on,
whole again; the acks=1 records only the killed leader had are gone once it returns."""


def test_a_stalled_follower_leaves_the_isr_and_rejoins_on_localbroker(tmp_path: Path) -> None:
    with launched_cluster(tmp_path, {**CLUSTER_SETTINGS, **SETTINGS}) as cluster:
        cluster.wait_registered()
        assert run_isr_scenario(cluster) == OBSERVED


def test_a_stalled_follower_leaves_the_isr_and_rejoins_on_apache_kafka(tmp_path: Path) -> None:
    try:
        with running_cluster(tmp_path, overrides=SETTINGS) as cluster:
            assert run_isr_scenario(cluster) == OBSERVED
    except ReferenceUnavailable as exc:
        unavailable(exc)
