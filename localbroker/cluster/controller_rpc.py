"""The controller's APIs on the CONTROLLER listener, at the versions Kafka 4's controller
serves them: BrokerRegistration 0-4, BrokerHeartbeat 0-1, AlterPartition 2-3 and
AllocateProducerIds 0 from brokers; ElectLeaders 0-2, CreateTopics, DeleteTopics and
CreatePartitions (controller_topics.py), the config changes (controller_configs.py) and the
partition reassignments (controller_reassignments.py) forwarded by brokers for their clients. Each
request becomes one `ActiveController.decide`; its KafkaError (NOT_CONTROLLER on a node
that is not the active controller, STALE_BROKER_EPOCH, ...) is the answer's error code.
"""

from __future__ import annotations

from typing import Any

from ..errors import KafkaError
from ..protocol.build import build
from ..protocol.codec import Request, response_schema
from ..protocol.names import ApiKey, ErrorCode, SecurityProtocol
from ..security.listeners import Endpoint
from .active_controller import ActiveController
from .controller import BrokerHeartbeatRequest, BrokerRegistrationRequest
from .elections import election_answer, election_failure, election_of, requested_partitions
from .partition_control import IsrUpdate, PartitionResult
from .quorum.listener import ControllerListener
from .quorum.metadata_log import now_ms


def respond(request: Request, data: dict[str, Any]) -> Any:
    schema = response_schema(request.header.api_key, request.header.api_version)
    return build(schema, {"throttle_time": 0, **data})


def failure(error: KafkaError) -> dict[str, Any]:
    return {"error_code": error.code, "error_message": error.message or None}


class ControllerRpc:
    def __init__(self, controller: ActiveController) -> None:
        self.controller = controller

    def register(self, listener: ControllerListener) -> None:
        listener.register(ApiKey.BROKER_REGISTRATION, (0, 4), self.broker_registration)
        listener.register(ApiKey.BROKER_HEARTBEAT, (0, 1), self.broker_heartbeat)
        listener.register(ApiKey.ALTER_PARTITION, (2, 3), self.alter_partition)
        listener.register(ApiKey.ALLOCATE_PRODUCER_IDS, (0, 0), self.allocate_producer_ids)
        listener.register(ApiKey.ELECT_LEADERS, (0, 2), self.elect_leaders)

    async def broker_registration(self, request: Request) -> Any:
        body = request.body
        registration = BrokerRegistrationRequest(
            broker_id=body.broker_id,
            cluster_id=body.cluster_id,
            incarnation_id=body.incarnation_id,
            listeners=tuple(
                Endpoint(e.name, SecurityProtocol(e.security_protocol), e.host, e.port)
                for e in body.listeners
            ),
            rack=body.rack,
        )
        controller = self.controller
        try:
            epoch = await controller.decide(
                lambda c: c.register_broker(registration, controller.next_offset(), now_ms())
            )
        except KafkaError as exc:
            return respond(request, {"error_code": exc.code})
        return respond(request, {"error_code": ErrorCode.none, "broker_epoch": epoch})

    async def broker_heartbeat(self, request: Request) -> Any:
        body = request.body
        heartbeat = BrokerHeartbeatRequest(
            broker_id=body.broker_id,
            broker_epoch=body.broker_epoch,
            current_metadata_offset=body.current_metadata_offset,
            want_fence=body.want_fence,
            want_shut_down=body.want_shut_down,
        )
        try:
            reply = await self.controller.decide(lambda c: c.heartbeat(heartbeat, now_ms()))
        except KafkaError as exc:
            return respond(request, {"error_code": exc.code, "should_shut_down": False})
        return respond(
            request,
            {
                "error_code": ErrorCode.none,
                "is_caught_up": reply.is_caught_up,
                "is_fenced": reply.is_fenced,
                "should_shut_down": reply.should_shut_down,
            },
        )

    async def alter_partition(self, request: Request) -> Any:
        body = request.body
        updates = [
            IsrUpdate(
                topic_id=topic.topic_id,
                partition=partition.partition_index,
                leader_epoch=partition.leader_epoch,
                partition_epoch=partition.partition_epoch,
                new_isr=tuple(m.broker_id for m in partition.new_isr_with_epochs),
                broker_epochs=tuple(m.broker_epoch for m in partition.new_isr_with_epochs),
            )
            for topic in body.topics
            for partition in topic.partitions
        ]
        try:
            results = await self.controller.decide(
                lambda c: c.alter_partition(body.broker_id, body.broker_epoch, updates)
            )
        except KafkaError as exc:
            return respond(request, {"error_code": exc.code, "topics": []})
        by_topic: dict[Any, list[dict[str, Any]]] = {}
        for result in results:
            by_topic.setdefault(result.topic_id, []).append(_partition_answer(result))
        topics = [{"topic_id": tid, "partitions": parts} for tid, parts in by_topic.items()]
        return respond(request, {"error_code": ErrorCode.none, "topics": topics})

    async def allocate_producer_ids(self, request: Request) -> Any:
        body = request.body
        try:
            first, length = await self.controller.decide(
                lambda c: c.allocate_producer_ids(body.broker_id, body.broker_epoch)
            )
        except KafkaError as exc:
            return respond(
                request, {"error_code": exc.code, "producer_id_start": -1, "producer_id_len": 0}
            )
        return respond(
            request,
            {"error_code": ErrorCode.none, "producer_id_start": first, "producer_id_len": length},
        )

    async def elect_leaders(self, request: Request) -> Any:
        """ElectLeaders forwarded by a broker (QuorumController.electLeaders: an empty list
        of partitions is answered at once, without a decision)."""
        body = request.body
        requested = requested_partitions(body)
        try:
            election = election_of(body)
            results = (
                {}
                if requested == {}
                else await self.controller.decide(lambda c: c.elect_leaders(election, requested))
            )
        except KafkaError as exc:
            return respond(request, election_failure(requested, exc))
        return respond(request, election_answer(results))


def _partition_answer(result: PartitionResult) -> dict[str, Any]:
    registration = result.registration
    if registration is None:
        return {
            "partition_index": result.partition,
            "error_code": result.error,
            "leader_id": -1,
            "leader_epoch": -1,
            "partition_epoch": -1,
        }
    return {
        "partition_index": result.partition,
        "error_code": ErrorCode.none,
        "leader_id": registration.leader,
        "leader_epoch": registration.leader_epoch,
        "isr": list(registration.isr),
        "partition_epoch": registration.partition_epoch,
    }
