"""Scenarios, the connection they run on, and the check that runs one against both brokers.

A scenario is a function of a `Peer` and an API version returning plain data (what a client
could observe). It runs at the lowest version both brokers serve (localbroker advertises some
older versions that Kafka 4 removed; `intended.py` lists them) and at localbroker's highest;
`since`/`until` narrow that to the versions the scenario's request shape exists in. Names of
topics and groups start with the case's id, so cases never meet on the session's Kafka.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from waiting import wait_until
from wire import RawClient

from localbroker.handlers import supported_versions
from localbroker.protocol.names import ApiKey, CoordinatorType, ErrorCode

from .normalise import differences, normalise, plain

SETUP_TIMEOUT = 60.0
"""Seconds Kafka may take to elect a new topic's leader or load a group coordinator (it makes
__consumer_offsets, 50 partitions, on the first FindCoordinator): generous for a loaded CI."""


class Peer:
    """One broker as a scenario sees it: one raw connection, names unique to the case, and the
    setup steps that Apache Kafka completes asynchronously (leaders, coordinators, producer
    ids), waited for so that a scenario observes behaviour, not start-up."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.client = RawClient(bootstrap)

    def close(self) -> None:
        self.client.sock.close()

    def name(self, suffix: str = "") -> str:
        return f"{self.prefix}{suffix}"

    def call(self, api: ApiKey, version: int, data: dict[str, Any]) -> Any:
        """The response to one request, as plain data (normalised later, all at once)."""
        return plain(self.client.call(api, version, data))

    def create_topic(
        self, name: str, partitions: int = 1, configs: dict[str, str] | None = None
    ) -> None:
        request = {
            "timeout": 30000,
            "validate_only": False,
            "topics": [
                {
                    "name": name,
                    "num_partitions": partitions,
                    "replication_factor": 1,
                    "assignments": [],
                    "configs": [{"name": k, "value": v} for k, v in (configs or {}).items()],
                }
            ],
        }
        created = self.call(ApiKey.CREATE_TOPICS, 7, request)
        assert created["topics"][0]["error_code"] == "none", created
        wait_until(lambda: self.led(name, partitions), f"{name}'s leaders", SETUP_TIMEOUT)

    def led(self, topic: str, partitions: int) -> bool:
        """Every partition answers ListOffsets: its leader serves it."""
        request = {
            "replica_id": -1,
            "isolation_level": 0,
            "topics": [
                {
                    "name": topic,
                    "partitions": [
                        {"partition_index": p, "current_leader_epoch": -1, "timestamp": -1}
                        for p in range(partitions)
                    ],
                }
            ],
        }
        answer = self.call(ApiKey.LIST_OFFSETS, 7, request)
        return all(p["error_code"] == "none" for p in answer["topics"][0]["partitions"])

    def produce(
        self, topic: str, records: bytes, partition: int = 0, version: int = 9, acks: int = -1
    ) -> Any:
        """The partition's answer to one Produce request."""
        request = {
            "transactional_id": None,
            "acks": acks,
            "timeout": 30000,
            "topic_data": [
                {"name": topic, "partition_data": [{"index": partition, "records": records}]}
            ],
        }
        answer = self.call(ApiKey.PRODUCE, version, request)
        return answer["responses"][0]["partition_responses"][0]

    def coordinator_ready(self, group: str) -> None:
        """Kafka creates __consumer_offsets on the first FindCoordinator, then loads the
        group's partition: until then group requests answer NOT_COORDINATOR or
        COORDINATOR_LOAD_IN_PROGRESS."""
        find = {"key_type": CoordinatorType.GROUP, "coordinator_keys": [group]}
        describe = {"groups": [group], "include_authorized_operations": False}

        def ready() -> bool:
            found = self.call(ApiKey.FIND_COORDINATOR, 4, find)["coordinators"][0]
            if found["error_code"] != "none":
                return False
            described = self.call(ApiKey.DESCRIBE_GROUPS, 5, describe)["groups"][0]
            return bool(described["error_code"] == "none")

        wait_until(ready, f"{group}'s coordinator", SETUP_TIMEOUT)

    def producer_id(self) -> tuple[int, int]:
        """An idempotent producer's id and epoch, once Kafka's producer-id manager is ready."""
        request = {
            "transactional_id": None,
            "transaction_timeout": 60000,
            "producer_id": -1,
            "producer_epoch": -1,
        }
        answers: list[Any] = []

        def granted() -> bool:
            answers.append(self.call(ApiKey.INIT_PRODUCER_ID, 4, request))
            return bool(answers[-1]["error_code"] == ErrorCode.none.name)

        wait_until(granted, "a producer id", SETUP_TIMEOUT)
        return answers[-1]["producer_id"], answers[-1]["producer_epoch"]


Run = Callable[[Peer, int], Any]


@dataclass(frozen=True)
class Scenario:
    api: ApiKey
    name: str
    run: Run
    since: int
    until: int | None


SCENARIOS: dict[str, list[Scenario]] = {}
"""Scenarios by family (the module defining them)."""


def scenario(api: ApiKey, since: int = 0, until: int | None = None) -> Callable[[Run], Run]:
    """Register a scenario of `api`, named after its function, for versions `since`..`until`
    (of those both brokers serve)."""

    def register(run: Run) -> Run:
        family = run.__module__.rsplit(".", 1)[-1]
        name = run.__name__.replace("_", "-")
        SCENARIOS.setdefault(family, []).append(Scenario(api, name, run, since, until))
        return run

    return register


@dataclass(frozen=True)
class Case:
    scenario: Scenario
    end: str
    """"lowest" or "highest"."""

    @property
    def id(self) -> str:
        return f"{self.scenario.name}[{self.end}]"

    def __str__(self) -> str:
        return self.id


def cases(module: str) -> list[Case]:
    family = module.rsplit(".", 1)[-1]
    return [Case(s, end) for s in SCENARIOS[family] for end in ("lowest", "highest")]


@functools.cache
def kafka_versions(bootstrap: str) -> dict[int, tuple[int, int]]:
    with RawClient(bootstrap) as client:
        answer = client.call(
            ApiKey.API_VERSIONS,
            3,
            {"client_software_name": "kwb-tests", "client_software_version": "1"},
        )
    return {k.api_key: (k.min_version, k.max_version) for k in answer.api_keys}


def version(case: Case, kafka_bootstrap: str) -> int:
    """The case's version: the lowest or the highest both brokers serve, within the scenario's
    own window."""
    ours = supported_versions()[case.scenario.api]
    kafkas = kafka_versions(kafka_bootstrap)[case.scenario.api]
    until = () if case.scenario.until is None else (case.scenario.until,)
    low = max(ours[0], kafkas[0], case.scenario.since)
    high = min(ours[1], kafkas[1], *until)
    if case.end == "highest" and high == low:
        pytest.skip(f"v{high} is also the lowest version, run by {case.scenario.name}[lowest]")
    return low if case.end == "lowest" else high


def run_both(case: Case, ours: str, kafkas: str) -> tuple[Any, Any, int]:
    """The case run against localbroker (`ours`) and Kafka, each answer normalised."""
    at = version(case, kafkas)
    prefix = f"{case.scenario.name}-v{at}-"
    answers = []
    for bootstrap in (ours, kafkas):
        peer = Peer(bootstrap, prefix)
        try:
            answers.append(normalise(case.scenario.run(peer, at)))
        finally:
            peer.close()
    return answers[0], answers[1], at


def check(case: Case, ours: str, kafkas: str, intended: dict[str, dict[str, str]]) -> None:
    """Both brokers answer alike, but for the intended differences listed for this case (by
    scenario name or case id): each listed one must still be there, and no other."""
    mine, theirs, at = run_both(case, ours, kafkas)
    expected = {**intended.get(case.scenario.name, {}), **intended.get(case.id, {})}
    found = differences(mine, theirs)
    unexplained = [line for line in found if line.split(":", 1)[0] not in expected]
    paths = {line.split(":", 1)[0] for line in found}
    gone = [path for path in expected if path not in paths]
    assert not unexplained and not gone, (
        f"{case.id} at v{at}:\n"
        + "".join(f"  differs: {line}\n" for line in unexplained)
        + "".join(f"  listed in intended.py but now alike: {path}\n" for path in gone)
    )
