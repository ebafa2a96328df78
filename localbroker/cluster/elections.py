"""ElectLeaders' request and answer shapes, shared by the controller and the brokers (sans-IO).

Kafka's ReplicationControlManager.electLeaders answers every partition asked for; asked for
all of them (null topic_partitions) it lists every topic, each with only the partitions that
were elected or failed, never those already led by the leader wanted (ELECTION_NOT_NEEDED).
An unknown election type fails the whole request with INVALID_REQUEST, answered as
ElectLeadersRequest.getErrorResponse answers any failure: the top-level error code (v1+)
and the same error on every partition asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import KafkaError
from ..protocol.names import ElectionType, ErrorCode
from .partition_change import Election

ElectionResults = dict[str, dict[int, KafkaError | None]]
"""Per topic, per partition: None where a leader was elected, else why none was."""
RequestedPartitions = Mapping[str, Sequence[int]] | None
"""The partitions an ElectLeaders request names by topic; None for all of them."""

NOT_NEEDED = ErrorCode.election_not_needed


def requested_partitions(body: Any) -> RequestedPartitions:
    if body.topic_partitions is None:
        return None
    return {topic.topic: tuple(topic.partitions) for topic in body.topic_partitions}


def election_type_of(body: Any) -> int:
    """The request's election type: PREFERRED in v0, which has no such field."""
    return int(getattr(body, "election_type", ElectionType.PREFERRED))


def election_of(body: Any) -> Election:
    """The election a request asks for; INVALID_REQUEST for a type Kafka does not know."""
    code = election_type_of(body)
    try:
        election_type = ElectionType(code)
    except ValueError:
        raise KafkaError(ErrorCode.invalid_request, f"Unknown election type {code}") from None
    return Election.PREFERRED if election_type is ElectionType.PREFERRED else Election.UNCLEAN


def election_results(
    requested: RequestedPartitions,
    every_partition: Callable[[], Mapping[str, Sequence[int]]],
    elect: Callable[[str, int], KafkaError | None],
) -> ElectionResults:
    """`elect` run on each partition asked for (on all of `every_partition()` for None),
    its answers shaped as Kafka's controller shapes them."""
    results: ElectionResults = {}
    for name, indexes in (every_partition() if requested is None else requested).items():
        answers = results.setdefault(name, {})
        for index in indexes:
            error = elect(name, index)
            if requested is not None or error is None or error.code != NOT_NEEDED:
                answers[index] = error
    return results


def election_answer(results: ElectionResults) -> dict[str, Any]:
    """The response's fields (but throttle_time) for these results."""
    return {
        "error_code": ErrorCode.none,
        "replica_election_results": [
            {
                "topic": name,
                "partition_result": [
                    _partition(index, KafkaError(ErrorCode.none) if error is None else error)
                    for index, error in answers.items()
                ],
            }
            for name, answers in results.items()
        ],
    }


def election_failure(requested: RequestedPartitions, error: KafkaError) -> dict[str, Any]:
    """The response's fields (but throttle_time) refusing the whole request."""
    answer = election_answer(
        {name: dict.fromkeys(indexes, error) for name, indexes in (requested or {}).items()}
    )
    return {**answer, "error_code": error.code}


def _partition(index: int, error: KafkaError) -> dict[str, Any]:
    return {
        "partition_id": index,
        "error_code": error.code,
        "error_message": error.message or None,
    }
