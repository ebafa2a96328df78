"""The Java AdminClient against localbroker, compared with Apache Kafka call by call.

tests/java's `workbench.AdminCalls` makes the same sequence of Admin calls against each broker
(every Admin method whose API localbroker advertises, with its error paths) and prints each
result. After `normalised` (ids, hosts, paths, sizes) the two must be equal, except for the
differences listed below, which README's "Differences from Apache Kafka" table explains.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from java_programs import TEST_TIMEOUT, JavaPrograms, normalised, split
from reference_kafka import ReferenceKafka

from tui.embedded import EmbeddedBroker

PREFIX = "java-admin"

INTENDED: dict[tuple[str, ...], str] = {
    ("describeFeatures",): (
        "localbroker has no KRaft quorum and finalizes no feature levels (metadata.version, "
        "group.version, transaction.version ...): clients read them to turn on protocols "
        "(KIP-848 groups, KIP-890 transactions) localbroker does not implement"
    ),
    ("min.insync.replicas", "source"): (
        "Apache Kafka's controller writes min.insync.replicas as a cluster-wide dynamic default "
        "when it formats a cluster with eligible leader replicas (KIP-966); localbroker has no "
        "cluster-wide dynamic configs, so the value is the static default"
    ),
    ("min.insync.replicas", "synonyms"): "the same cluster-wide default, as a synonym",
}
"""Differences localbroker means to have: left out of the comparison."""

KNOWN: dict[tuple[str, ...], str] = {
    ("documentation",): (
        "localbroker's config definitions keep the first sentence of Kafka's documentation"
    ),
    ("incrementalAlterConfigs broker custom config",): (
        "localbroker refuses broker configs it does not define; Kafka refuses only its own "
        "read-only ones, so custom (plugin) configs and dynamic ones localbroker does not "
        "model are stored"
    ),
}
"""Differences that are localbroker's to fix: each is checked by an xfail(strict=True) test,
which fails as soon as the difference is gone, so the entry is removed with the fix."""

pytestmark = pytest.mark.timeout(TEST_TIMEOUT)


def steps(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Each call's result or error by step name, normalised with the broker's own node id."""
    cluster = next(line for line in lines if line["step"] == "describeCluster")
    node_id = cluster["result"]["nodes"][0]["id"]
    return {line["step"]: normalised(line, node_id) for line in lines}


@pytest.fixture(scope="module")
def both(
    java: JavaPrograms, module_broker: EmbeddedBroker, reference_kafka: ReferenceKafka
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The calls' results against localbroker and against Apache Kafka."""
    ours = java.run("workbench.AdminCalls", module_broker.bootstrap, PREFIX)
    kafkas = java.run("workbench.AdminCalls", reference_kafka.bootstrap, PREFIX)
    return steps(ours), steps(kafkas)


def without(value: Any, patterns: list[tuple[str, ...]]) -> Any:
    for pattern in patterns:
        value, _ = split(value, pattern)
    return value


def differences(ours: Any, kafkas: Any, path: str = "") -> list[str]:
    """Where two results differ, one line each, readable in a failure."""
    if isinstance(ours, dict) and isinstance(kafkas, dict):
        lines = []
        for key in sorted(set(ours) | set(kafkas), key=str):
            if key not in kafkas:
                lines.append(f"{path}/{key}: only localbroker has {json.dumps(ours[key])[:200]}")
            elif key not in ours:
                lines.append(f"{path}/{key}: only Kafka has {json.dumps(kafkas[key])[:200]}")
            else:
                lines += differences(ours[key], kafkas[key], f"{path}/{key}")
        return lines
    if ours != kafkas:
        return [f"{path}: localbroker {json.dumps(ours)[:200]}, Kafka {json.dumps(kafkas)[:200]}"]
    return []


def test_admin_calls_answer_as_apache_kafka_does(
    both: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    ours, kafkas = (without(side, [*INTENDED, *KNOWN]) for side in both)
    assert list(ours) == list(kafkas), "the same calls, in the same order"
    found = differences(ours, kafkas)
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "pattern",
    [pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=r)) for p, r in KNOWN.items()],
    ids=["/".join(p) for p in KNOWN],
)
def test_known_difference(
    pattern: tuple[str, ...], both: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    ours, kafkas = (split(side, pattern)[1] for side in both)
    assert ours == kafkas
