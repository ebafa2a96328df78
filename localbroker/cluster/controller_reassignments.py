"""AlterPartitionReassignments and ListPartitionReassignments on the active controller's
listener, forwarded by brokers for their clients (Kafka's ControllerApis).

An alteration is one decision: every partition's record appended together and the answer
sent once they commit (reassignment_control.py decides). A listing reads the image of the
active controller, NOT_CONTROLLER elsewhere, as Kafka's controller answers it from its own
committed state.
"""

from __future__ import annotations

from typing import Any

from ..errors import KafkaError
from ..protocol.codec import Request
from ..protocol.names import ApiKey, ErrorCode
from .active_controller import ActiveController
from .controller import ControllerLogic, ControllerResult
from .controller_rpc import failure, respond
from .partitions import PartitionRegistration
from .quorum.listener import ControllerListener
from .reassignment_control import (
    ReassignmentTarget,
    alter_reassignments,
    list_reassignments,
)


class ControllerReassignments:
    def __init__(self, controller: ActiveController) -> None:
        self.controller = controller

    def register(self, listener: ControllerListener) -> None:
        listener.register(ApiKey.ALTER_PARTITION_REASSIGNMENTS, (0, 1), self.alter)
        listener.register(ApiKey.LIST_PARTITION_REASSIGNMENTS, (0, 0), self.list)

    async def alter(self, request: Request) -> Any:
        body = request.body
        allow = getattr(body, "allow_replication_factor_change", True)  # v1+
        targets = [
            ReassignmentTarget(
                topic.name,
                partition.partition_index,
                None if partition.replicas is None else tuple(partition.replicas),
                allow,
            )
            for topic in body.topics
            for partition in topic.partitions
        ]

        def decide(logic: ControllerLogic) -> ControllerResult[list[KafkaError | None]]:
            records, answers = alter_reassignments(
                logic.image, targets, logic.unclean_leader_election
            )
            return ControllerResult(records, answers)

        try:
            answers = await self.controller.decide(decide)
        except KafkaError as exc:
            return respond(
                request, {**failure(exc), "responses": [], "allow_replication_factor_change": allow}
            )
        results = iter(answers)
        responses = [
            {
                "name": topic.name,
                "partitions": [
                    {"partition_index": partition.partition_index, **_error(next(results))}
                    for partition in topic.partitions
                ],
            }
            for topic in body.topics
        ]
        return respond(
            request,
            {
                "error_code": ErrorCode.none,
                "error_message": None,
                "responses": responses,
                "allow_replication_factor_change": allow,
            },
        )

    async def list(self, request: Request) -> Any:
        body = request.body
        wanted = (
            None
            if body.topics is None
            else [(topic.name, topic.partition_indexes) for topic in body.topics]
        )
        try:
            listed = await self.controller.decide(
                lambda logic: ControllerResult([], list_reassignments(logic.image, wanted))
            )
        except KafkaError as exc:
            return respond(request, {**failure(exc), "topics": []})
        return respond(
            request,
            {"error_code": ErrorCode.none, "error_message": None, "topics": _ongoing(listed)},
        )


def _ongoing(listed: dict[str, dict[int, PartitionRegistration]]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "partitions": [
                {
                    "partition_index": index,
                    "replicas": list(registration.replicas),
                    "adding_replicas": list(registration.adding_replicas),
                    "removing_replicas": list(registration.removing_replicas),
                }
                for index, registration in partitions.items()
            ],
        }
        for name, partitions in listed.items()
    ]


def _error(error: KafkaError | None) -> dict[str, Any]:
    if error is None:
        return {"error_code": ErrorCode.none, "error_message": None}
    return failure(error)
