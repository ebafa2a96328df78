"""Preferred-leader election (ElectLeaders PREFERRED, KIP-183), as
`kafka-leader-election.sh --election-type PREFERRED --all-topic-partitions` runs it.

After a broker comes back, the partitions it led are led by others, and stay so: Kafka moves
leadership back only by an election, run by hand or by the controller's own check every
leader.imbalance.check.interval.seconds (300 s). aiokafka's admin client has no
ElectLeaders; it goes as a kio request over its connections (KafkaAdmin.send) to any broker,
which forwards it to the active controller.

Asked for every partition (the request's partitions are null), Kafka's controller answers
only for those it elected a leader of or could not: one already led by its preferred replica
is ELECTION_NOT_NEEDED and left out, which is no failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from localbroker.public import ApiKey, ElectionType, ErrorCode

from .admin import KafkaAdmin
from .errors import raise_for
from .java_errors import default_message


@dataclass(frozen=True, slots=True)
class ElectionResult:
    """One partition's outcome: error NONE when its preferred replica now leads it."""

    topic: str
    partition: int
    error: ErrorCode
    message: str | None

    @property
    def elected(self) -> bool:
        return self.error is ErrorCode.none

    @property
    def text(self) -> str:
        where = f"{self.topic}-{self.partition}"
        if self.elected:
            return f"{where}: preferred replica elected"
        return f"{where}: {self.error.name.upper()}: {self.message or default_message(self.error)}"


async def elect_preferred_leaders(
    admin: KafkaAdmin, partitions: dict[str, list[int]] | None = None
) -> list[ElectionResult]:
    """Elect the preferred replica of `partitions` (None: every partition) where it is not
    the leader; each partition the controller answered for, by topic and partition."""
    topic_partitions = (
        None
        if partitions is None
        else [{"topic": t, "partitions": ps} for t, ps in sorted(partitions.items())]
    )
    response = await admin.send(
        ApiKey.ELECT_LEADERS,
        {
            "election_type": ElectionType.PREFERRED,
            "topic_partitions": topic_partitions,
            "timeout_ms": admin.connection.request_timeout_ms,
        },
    )
    raise_for(getattr(response, "error_code", ErrorCode.none), None, "electing leaders")
    results = [
        ElectionResult(
            topic.topic, p.partition_id, ErrorCode(p.error_code), p.error_message or None
        )
        for topic in response.replica_election_results
        for p in topic.partition_result
    ]
    return sorted(results, key=lambda r: (r.topic, r.partition))


def election_summary(results: list[ElectionResult]) -> str:
    """One line for the user after an election on every partition: which got their preferred
    leader back, which could not and why; the others needed none."""
    elected = [f"{r.topic}-{r.partition}" for r in results if r.elected]
    failed = [r.text for r in results if not r.elected and r.error != ErrorCode.election_not_needed]
    if not elected and not failed:
        return "no election needed: every partition is led by its preferred replica"
    parts = [f"preferred leader elected on {', '.join(elected)}"] if elected else []
    if failed:
        parts.append(f"not elected: {' · '.join(failed)}")
    return " · ".join([*parts, "no election needed on the others"])
