"""ElectLeaders' request and answer shapes (ReplicationControlManager.electLeaders,
ElectLeadersRequest.getErrorResponse)."""

from __future__ import annotations

from typing import Any

import pytest

from localbroker.cluster.elections import (
    election_answer,
    election_failure,
    election_of,
    election_results,
    requested_partitions,
)
from localbroker.cluster.partition_change import Election
from localbroker.errors import KafkaError
from localbroker.protocol.client_codec import request_body
from localbroker.protocol.names import ApiKey, ErrorCode

NOT_NEEDED = KafkaError(
    ErrorCode.election_not_needed, "Leader election not needed for topic partition."
)


def _request(
    version: int, election_type: int = 0, topics: dict[str, list[int]] | None = None
) -> Any:
    return request_body(
        ApiKey.ELECT_LEADERS,
        version,
        {
            "election_type": election_type,
            "topic_partitions": None
            if topics is None
            else [{"topic": t, "partitions": p} for t, p in topics.items()],
            "timeout": 60_000,
        },
    )


def test_v0_asks_for_preferred_elections_and_v1_names_the_type() -> None:
    assert election_of(_request(0)) is Election.PREFERRED
    assert election_of(_request(1, election_type=1)) is Election.UNCLEAN
    with pytest.raises(KafkaError) as refused:
        election_of(_request(2, election_type=5))
    assert (refused.value.code, refused.value.message) == (
        ErrorCode.invalid_request,
        "Unknown election type 5",
    )


def test_asked_by_name_every_partition_is_answered() -> None:
    asked = requested_partitions(_request(2, topics={"a": [0, 1]}))
    results = election_results(asked, dict, lambda t, p: None if p == 0 else NOT_NEEDED)
    assert election_answer(results) == {
        "error_code": ErrorCode.none,
        "replica_election_results": [
            {
                "topic": "a",
                "partition_result": [
                    {"partition_id": 0, "error_code": ErrorCode.none, "error_message": None},
                    {
                        "partition_id": 1,
                        "error_code": ErrorCode.election_not_needed,
                        "error_message": NOT_NEEDED.message,
                    },
                ],
            }
        ],
    }


def test_asked_for_all_every_topic_is_listed_without_what_needed_no_election() -> None:
    assert requested_partitions(_request(2)) is None
    results = election_results(
        None,
        lambda: {"a": [0, 1], "b": [0]},
        lambda t, p: None if t == "a" and p == 1 else NOT_NEEDED,
    )
    assert results == {"a": {1: None}, "b": {}}


def test_a_refused_request_fails_each_partition_asked_for() -> None:
    error = KafkaError(ErrorCode.cluster_authorization_failed)
    answer = election_failure({"a": [2]}, error)
    assert answer["error_code"] is ErrorCode.cluster_authorization_failed
    assert answer["replica_election_results"] == [
        {
            "topic": "a",
            "partition_result": [
                {
                    "partition_id": 2,
                    "error_code": ErrorCode.cluster_authorization_failed,
                    "error_message": None,
                }
            ],
        }
    ]
    assert election_failure(None, error)["replica_election_results"] == []
