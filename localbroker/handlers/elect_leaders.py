"""ElectLeaders (KIP-183, KIP-460): make the preferred replica leader again, or elect an
out-of-sync replica of a partition that has no leader (kafka-leader-election.sh).

Who leads a partition is the controller's to decide, so a broker in cluster mode forwards the
request to the active controller, as Kafka's KRaft brokers forward it, after checking ALTER
on the cluster for its client (the controller does not know the client). It always forwards
at v2, whose top-level error code says NOT_CONTROLLER even when no partition is named, and
answers its client at the client's version once its own metadata shows each elected
partition's new leader, so that a Metadata request right after shows it too.

A single broker is the only replica of each partition it has, and leads it: every election is
ELECTION_NOT_NEEDED, as on a single Apache Kafka node; asked for all partitions it lists
every topic without a partition, as Kafka's controller does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..cluster.elections import (
    ElectionResults,
    RequestedPartitions,
    election_answer,
    election_failure,
    election_of,
    election_results,
    election_type_of,
    requested_partitions,
)
from ..cluster.partition_change import Election
from ..cluster.partition_control import elect_leader
from ..cluster.partitions import NO_LEADER
from ..errors import KafkaError
from ..protocol.client_codec import request_body
from ..protocol.names import AclResourceType, ApiKey, ErrorCode
from . import access
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

FORWARD_VERSION = 2


@handles(ApiKey.ELECT_LEADERS, 0, 2)
async def elect_leaders(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    requested = requested_partitions(request)
    try:
        if not access.permits(state, ctx, AclResourceType.CLUSTER):
            raise access.refusal(AclResourceType.CLUSTER)
        election = election_of(request)
        if state.controller_channel is None:
            results = _on_single_node(state, election, requested)
        else:
            results = await _forwarded(state, request, requested)
    except KafkaError as exc:
        return ctx.respond({"throttle_time": 0, **election_failure(requested, exc)})
    return ctx.respond({"throttle_time": 0, **election_answer(results)})


def _on_single_node(
    state: BrokerState, election: Election, requested: RequestedPartitions
) -> ElectionResults:
    topics = state.store.topics

    def elect(name: str, index: int) -> KafkaError | None:
        current = state.cluster.partition(name, index)
        answer = elect_leader(name, index, name in topics, current, election, lambda _: None)
        assert isinstance(answer, KafkaError)  # the broker leads all it has: nothing to change
        return answer

    return election_results(requested, lambda: _every_partition(state), elect)


def _every_partition(state: BrokerState) -> dict[str, range]:
    return {name: range(record.partitions) for name, record in sorted(state.store.topics.items())}


async def _forwarded(
    state: BrokerState, request: Any, requested: RequestedPartitions
) -> ElectionResults:
    """The controller's results, once this node shows them or the request's timeout (one
    deadline for both) has passed; REQUEST_TIMED_OUT when no controller answered in it."""
    channel = state.controller_channel
    assert channel is not None
    timeout_s = max(request.timeout.total_seconds(), 1.0)
    deadline = time.monotonic() + timeout_s
    body = request_body(
        ApiKey.ELECT_LEADERS,
        FORWARD_VERSION,
        {
            "election_type": election_type_of(request),
            "topic_partitions": None
            if requested is None
            else [{"topic": name, "partitions": list(p)} for name, p in requested.items()],
            "timeout": request.timeout,
        },
    )
    before = {
        (name, index): state.cluster.partition(name, index)
        for name, indexes in (_every_partition(state) if requested is None else requested).items()
        for index in indexes
    }
    answer = await channel.forward(body, timeout_s)
    if answer is None:
        raise KafkaError(ErrorCode.request_timed_out)
    if answer.error_code != ErrorCode.none:
        raise KafkaError(answer.error_code)
    results: ElectionResults = {
        topic.topic: {
            p.partition_id: None
            if p.error_code == ErrorCode.none
            else KafkaError(p.error_code, p.error_message or "")
            for p in topic.partition_result
        }
        for topic in answer.replica_election_results
    }
    elected = [
        (name, index)
        for name, answers in results.items()
        for index, e in answers.items()
        if e is None
    ]

    def shown() -> bool:
        """Each elected partition shows a leader, the preferred one or another one elected
        since the request came (a PREFERRED election may elect another ISR member)."""
        for name, index in elected:
            now = state.cluster.partition(name, index)
            old = before.get((name, index))
            if now is None or now.leader == NO_LEADER:
                return False
            if now.leader != now.replicas[0] and (
                old is None or now.partition_epoch <= old.partition_epoch
            ):
                return False
        return True

    await channel.watch.until(shown, max(deadline - time.monotonic(), 0.0))
    return results
