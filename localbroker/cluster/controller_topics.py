"""CreateTopics, DeleteTopics and CreatePartitions on the active controller's listener.

Brokers forward their clients' requests here (Kafka's brokers forward these three to the
active controller), after the checks that need the client (authorisation, and no client
creating an internal topic), and ask for the coordinators' topics themselves. The checks that
need the broker's configuration (topic names, config names and values) are made here with
the node's own, since every node runs with the same; the rest is topic_control's, on the
image. The answer leaves once the records committed, so a broker that waits until its own
image reaches them answers its client with the topic already there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ..errors import KafkaError
from ..protocol.codec import Request
from ..protocol.names import ApiKey, ErrorCode
from .active_controller import ActiveController
from .controller import ControllerLogic, ControllerResult
from .controller_rpc import failure, respond
from .quorum.listener import ControllerListener
from .topic_control import NewTopic, TopicResult

CheckTopic = Callable[[str, Mapping[str, str | None]], dict[str, str]]
"""A new topic's name and configs checked as the broker checks them: its overrides, or
KafkaError."""


class ControllerTopics:
    def __init__(self, controller: ActiveController, check_topic: CheckTopic) -> None:
        self.controller = controller
        self.check_topic = check_topic

    def register(self, listener: ControllerListener) -> None:
        listener.register(ApiKey.CREATE_TOPICS, (0, 7), self.create_topics)
        listener.register(ApiKey.DELETE_TOPICS, (0, 6), self.delete_topics)
        listener.register(ApiKey.CREATE_PARTITIONS, (0, 3), self.create_partitions)

    async def create_topics(self, request: Request) -> Any:
        body = request.body
        answers: dict[str, dict[str, Any]] = {}
        wanted: list[NewTopic] = []
        for topic in body.topics:
            try:
                configs = self.check_topic(topic.name, {c.name: c.value for c in topic.configs})
            except KafkaError as exc:
                answers[topic.name] = {"name": topic.name, "configs": [], **failure(exc)}
                continue
            wanted.append(
                NewTopic(
                    topic.name,
                    topic.num_partitions,
                    topic.replication_factor,
                    {a.partition_index: tuple(a.broker_ids) for a in topic.assignments},
                    configs,
                )
            )
        if wanted:
            try:
                results = await self.controller.decide(
                    lambda c: c.create_topics(wanted),
                    commit=not getattr(body, "validate_only", False),
                )
            except KafkaError as exc:
                results = [TopicResult(t.name, exc.code, exc.message) for t in wanted]
            answers.update((result.name, _created(result)) for result in results)
        topics = [answers[topic.name] for topic in body.topics if topic.name in answers]
        return respond(request, {"topics": topics})

    async def delete_topics(self, request: Request) -> Any:
        body = request.body
        image = self.controller.image
        if request.header.api_version >= 6:
            names = []
            for topic in body.topics:
                found = image.topics_by_id.get(topic.topic_id) if topic.name is None else None
                names.append(found.name if found is not None else topic.name or "")
        else:
            names = list(body.topic_names)
        try:
            results = await self.controller.decide(lambda c: c.delete_topics(names))
        except KafkaError as exc:
            results = [TopicResult(name, exc.code, exc.message) for name in names]
        responses = [
            {
                "name": result.name,
                "topic_id": result.topic_id,
                "error_code": result.error,
                "error_message": result.message,
            }
            for result in results
        ]
        return respond(request, {"responses": responses})

    async def create_partitions(self, request: Request) -> Any:
        body = request.body
        results = []
        for topic in body.topics:
            assignments = (
                None
                if topic.assignments is None
                else [tuple(a.broker_ids) for a in topic.assignments]
            )
            result: dict[str, Any] = {"name": topic.name, "error_code": ErrorCode.none}
            try:
                await self.controller.decide(
                    partial(_grow, topic.name, topic.count, assignments),
                    commit=not body.validate_only,
                )
            except KafkaError as exc:
                result.update(failure(exc))
            results.append(result)
        return respond(request, {"results": results})


def _grow(
    name: str, count: int, assignments: list[tuple[int, ...]] | None, logic: ControllerLogic
) -> ControllerResult[None]:
    return logic.create_partitions(name, count, assignments)


def _created(result: TopicResult) -> dict[str, Any]:
    if result.error is not ErrorCode.none:
        return {
            "name": result.name,
            "configs": [],
            "error_code": result.error,
            "error_message": result.message,
        }
    return {
        "name": result.name,
        "topic_id": result.topic_id,
        "error_code": ErrorCode.none,
        "num_partitions": result.num_partitions,
        "replication_factor": result.replication_factor,
        "configs": [],
    }
