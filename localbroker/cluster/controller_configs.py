"""AlterConfigs and IncrementalAlterConfigs on the active controller's listener.

In KRaft a topic's overrides and the brokers' dynamic configs live in the metadata log
as ConfigRecords, and brokers forward their clients' changes to the active controller
(Kafka's ControllerApis / ConfigurationControlManager). Here the broker has already made
the checks that need the client (authorisation, duplicates, a broker resource naming
that broker); the controller checks the change again against the image, which is the
truth every node follows, with the same validation the broker uses, and appends one
ConfigRecord per changed name (value None for one removed). validate_only checks and
appends nothing. The answer leaves once the records committed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ..config.changes import DEFINITIONS, ChangesFor, incremental, replace
from ..errors import KafkaError
from ..protocol.codec import Request
from ..protocol.names import ApiKey, ConfigResourceType, ErrorCode
from .active_controller import ActiveController
from .controller import ControllerLogic, ControllerResult
from .controller_rpc import failure, respond
from .quorum.listener import ControllerListener
from .records import ConfigRecord, MetadataRecord

CheckTopicConfigs = Callable[[Mapping[str, str | None], Mapping[str, str]], dict[str, str]]
"""A topic's requested overrides (and its current ones) checked as the broker checks them:
the normalized overrides, or KafkaError."""
CheckBrokerConfigs = Callable[[Mapping[str, str | None]], dict[str, str | None]]
"""Requested dynamic broker configs checked as the broker checks them (None: not set)."""


class ControllerConfigs:
    def __init__(
        self,
        controller: ActiveController,
        check_topic: CheckTopicConfigs,
        check_broker: CheckBrokerConfigs,
    ) -> None:
        self.controller = controller
        self.check_topic = check_topic
        self.check_broker = check_broker

    def register(self, listener: ControllerListener) -> None:
        listener.register(ApiKey.ALTER_CONFIGS, (0, 2), self.alter_configs)
        listener.register(ApiKey.INCREMENTAL_ALTER_CONFIGS, (0, 1), self.incremental_alter_configs)

    async def alter_configs(self, request: Request) -> Any:
        return await self._alter(request, replace)

    async def incremental_alter_configs(self, request: Request) -> Any:
        return await self._alter(request, incremental)

    async def _alter(self, request: Request, changes_for: ChangesFor) -> Any:
        body = request.body
        responses = []
        for resource in body.resources:
            response: dict[str, Any] = {
                "error_code": ErrorCode.none,
                "error_message": None,
                "resource_type": resource.resource_type,
                "resource_name": resource.resource_name,
            }
            try:
                await self.controller.decide(
                    partial(self._change, resource, changes_for),
                    commit=not body.validate_only,
                )
            except KafkaError as exc:
                response.update(failure(exc))
            responses.append(response)
        return respond(request, {"responses": responses})

    def _change(
        self, resource: Any, changes_for: ChangesFor, _logic: ControllerLogic
    ) -> ControllerResult[None]:
        """The records changing one resource's configs from what the image holds."""
        image = self.controller.image
        if resource.resource_type not in DEFINITIONS:
            raise KafkaError(
                ErrorCode.invalid_request, f"Unsupported resource type {resource.resource_type}"
            )
        kind = ConfigResourceType(resource.resource_type)
        name = resource.resource_name
        changes = changes_for(resource.configs, DEFINITIONS[kind])
        current = image.configs.get((kind, name), {})
        if kind == ConfigResourceType.TOPIC:
            wanted = self.check_topic(changes(current), current)
            if name not in image.topics:
                raise KafkaError(
                    ErrorCode.unknown_topic_or_partition, f"The topic '{name}' does not exist."
                )
        else:
            checked = self.check_broker(changes(current))
            wanted = {k: v for k, v in checked.items() if v is not None}
        return ControllerResult(
            _config_records(ConfigResourceType(kind), name, current, wanted), None
        )


def _config_records(
    kind: ConfigResourceType, name: str, current: Mapping[str, str], wanted: Mapping[str, str]
) -> list[MetadataRecord]:
    removed = [ConfigRecord(kind, name, key, None) for key in sorted(current) if key not in wanted]
    changed = [
        ConfigRecord(kind, name, key, value)
        for key, value in sorted(wanted.items())
        if current.get(key) != value
    ]
    return [*removed, *changed]
