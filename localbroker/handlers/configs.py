"""DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topics and the broker.

Topic values, sources and synonym lists follow Kafka (see config/topic.py); changes are
validated in full before anything is applied, retention is enforced right after a topic's
or the broker's retention settings change, and validate_only applies nothing. In cluster
mode the checked changes are not applied here but forwarded to the active controller
(forwarded_configs.py), since every node's configs follow the metadata log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..config.changes import DEFINITIONS, Changes, ChangesFor, incremental, replace
from ..config.entries import ConfigEntry
from ..config.topic import describe_topic
from ..errors import KafkaError
from ..protocol.names import (
    CLUSTER_RESOURCE_NAME,
    AclResourceType,
    ApiKey,
    ConfigResourceType,
    ConfigSource,
    ConfigType,
)
from ..state import validate_topic_name
from . import access, forwarded_configs
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState


def _entry(
    entry: ConfigEntry, include_synonyms: bool, include_docs: bool, topic: bool
) -> dict[str, Any]:
    definition = entry.definition
    return {
        "name": entry.name,
        "value": entry.value,
        "read_only": False if topic else entry.read_only,
        "config_source": int(entry.source),
        "is_sensitive": False if topic else entry.sensitive,
        "is_default": entry.source == ConfigSource.DEFAULT_CONFIG,
        "synonyms": [
            {"name": s.name, "value": s.value, "source": int(s.source)} for s in entry.synonyms
        ]
        if include_synonyms
        else [],
        "config_type": definition.type if definition else ConfigType.UNKNOWN,
        "documentation": definition.doc if include_docs and definition else None,
    }


def _broker_scope(state: BrokerState, name: str) -> bool:
    """True for this broker's resource, False for the cluster-wide default (empty name)."""
    if name == "":
        return False
    try:
        node = int(name)
    except ValueError:
        raise KafkaError(
            ErrorCode.invalid_request, f"Broker id must be an integer, but it is: {name}"
        ) from None
    if node != state.node_id:
        raise KafkaError(
            ErrorCode.invalid_request,
            f"Unexpected broker id, expected {state.node_id} or empty string, but received {name}",
        )
    return True


def _describe_one(
    state: BrokerState, resource: Any, include_synonyms: bool, include_docs: bool
) -> list[dict[str, Any]]:
    keys = list(resource.configuration_keys) if resource.configuration_keys else None
    if resource.resource_type == ConfigResourceType.TOPIC:
        validate_topic_name(resource.resource_name)
        topic = state.topics.get(resource.resource_name)
        if topic is None:
            raise KafkaError(ErrorCode.unknown_topic_or_partition, "")
        entries = describe_topic(
            state.config, topic.configs, keys, schema_validation=state.schema_ids is not None
        )
        return [_entry(e, include_synonyms, include_docs, True) for e in entries]
    if resource.resource_type == ConfigResourceType.BROKER:
        if _broker_scope(state, resource.resource_name):
            entries = state.config.describe(keys)
        else:
            entries = state.config.describe_cluster_defaults(keys)
        return [_entry(e, include_synonyms, include_docs, False) for e in entries]
    raise KafkaError(
        ErrorCode.invalid_request,
        f"Unsupported resource type {resource.resource_type} in DescribeConfigs",
    )


_PROTECTED_BY = {
    ConfigResourceType.TOPIC: AclResourceType.TOPIC,
    ConfigResourceType.GROUP: AclResourceType.GROUP,
    ConfigResourceType.BROKER: AclResourceType.CLUSTER,
    ConfigResourceType.BROKER_LOGGER: AclResourceType.CLUSTER,
    ConfigResourceType.CLIENT_METRICS: AclResourceType.CLUSTER,
}
"""The ACL resource each kind of config resource is authorized on: a broker's configs are the
cluster's, as in Kafka's ConfigHelper."""


def _check_access(state: BrokerState, ctx: RequestContext, resource: Any) -> None:
    """DESCRIBE_CONFIGS or ALTER_CONFIGS (the API's rule) on the resource, before anything else
    about it is looked at."""
    protected_by = _PROTECTED_BY.get(resource.resource_type)
    if protected_by is None:
        return  # refused below as an unsupported resource type
    cluster = protected_by is AclResourceType.CLUSTER
    name = CLUSTER_RESOURCE_NAME if cluster else resource.resource_name
    if not access.permits(state, ctx, protected_by, name):
        raise access.refusal(protected_by)


@handles(ApiKey.DESCRIBE_CONFIGS, 0, 4)
def describe_configs(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    include_synonyms = getattr(request, "include_synonyms", False)
    include_docs = getattr(request, "include_documentation", False)
    results = []
    for resource in request.resources:
        result: dict[str, Any] = {
            "error_code": ErrorCode.none,
            "error_message": "",
            "resource_type": resource.resource_type,
            "resource_name": resource.resource_name,
            "configs": [],
        }
        try:
            _check_access(state, ctx, resource)
            result["configs"] = _describe_one(state, resource, include_synonyms, include_docs)
        except KafkaError as exc:
            result.update(error_code=exc.code, error_message=exc.message)
        results.append(result)
    return ctx.respond({"throttle_time": 0, "results": results})


# -- altering ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """One resource's change, checked in full: what applies it on one broker, and whether
    this broker's store shows it (in cluster mode, once the controller's records are here)."""

    apply: Callable[[], None]
    shown: Callable[[], bool]


def _shows(
    current: Callable[[], Mapping[str, str] | None], wanted: Mapping[str, str], names: Any
) -> bool:
    """Whether `current()` has the values `wanted` gives the configs a request named: only
    those, since a change made through another node meanwhile may have set others."""
    now = current()
    return now is not None and all(now.get(c.name) == wanted.get(c.name) for c in names)


def _topic_change(state: BrokerState, name: str, changes: Changes, named: Any) -> ConfigChange:
    if name == "":
        raise KafkaError(ErrorCode.invalid_request, "Default topic resources are not allowed.")
    validate_topic_name(name)
    topic = state.topics.get(name)
    current = topic.configs if topic is not None else {}
    overrides = state.validate_topic_configs(changes(current), current)
    if topic is None:
        raise KafkaError(
            ErrorCode.unknown_topic_or_partition, f"The topic '{name}' does not exist."
        )

    def stored() -> Mapping[str, str] | None:
        return None if (now := state.topics.get(name)) is None else now.configs

    return ConfigChange(
        lambda: state.set_topic_configs(name, overrides),
        lambda: _shows(stored, overrides, named),
    )


def _broker_change(state: BrokerState, name: str, changes: Changes, named: Any) -> ConfigChange:
    """A broker's (or the cluster default's) change."""
    target = state.config.dynamic if _broker_scope(state, name) else state.config.dynamic_default
    checked = state.config.validate_dynamic(changes(target))
    updated = {k: v for k, v in checked.items() if v is not None}
    return ConfigChange(
        lambda: state.replace_broker_configs(target, updated),
        lambda: _shows(lambda: target, updated, named),
    )


def _check_change(
    state: BrokerState, ctx: RequestContext, resource: Any, changes_for: ChangesFor, once: bool
) -> ConfigChange:
    """Everything about one resource's change checked, or KafkaError."""
    if not once:
        raise KafkaError(ErrorCode.invalid_request, "Duplicate resource.")
    if len({c.name for c in resource.configs}) != len(resource.configs):
        raise KafkaError(ErrorCode.invalid_request, "Error due to duplicate config keys")
    # As Kafka's broker does before the controller authorizes: the values checked, and
    # a broker's whole change (its id too); a topic's after the authorizer.
    kind = resource.resource_type
    changes = changes_for(resource.configs, DEFINITIONS.get(kind, {}))
    broker = (
        _broker_change(state, resource.resource_name, changes, resource.configs)
        if kind == ConfigResourceType.BROKER
        else None
    )
    _check_access(state, ctx, resource)
    if kind == ConfigResourceType.TOPIC:
        return _topic_change(state, resource.resource_name, changes, resource.configs)
    if broker is None:
        raise KafkaError(ErrorCode.invalid_request, f"Unsupported resource type {kind}")
    return broker


def _alter(state: BrokerState, ctx: RequestContext, request: Any, changes_for: ChangesFor) -> Any:
    seen = Counter((r.resource_type, r.resource_name) for r in request.resources)
    responses = []
    checked: dict[int, ConfigChange] = {}
    for index, resource in enumerate(request.resources):
        response: dict[str, Any] = {
            "error_code": ErrorCode.none,
            "error_message": None,
            "resource_type": resource.resource_type,
            "resource_name": resource.resource_name,
        }
        once = seen[(resource.resource_type, resource.resource_name)] == 1
        try:
            checked[index] = _check_change(state, ctx, resource, changes_for, once)
        except KafkaError as exc:
            response.update(error_code=exc.code, error_message=exc.message or None)
        responses.append(response)
    if state.controller_channel is not None:  # cluster mode
        return forwarded_configs.alter(state, ctx, request, responses, checked)
    if not request.validate_only:
        for index, change in checked.items():
            try:
                change.apply()
            except KafkaError as exc:  # the log directory went offline
                responses[index].update(error_code=exc.code, error_message=exc.message or None)
    return ctx.respond({"throttle_time": 0, "responses": responses})


@handles(ApiKey.ALTER_CONFIGS, 0, 2)
def alter_configs(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    return _alter(state, ctx, request, replace)


@handles(ApiKey.INCREMENTAL_ALTER_CONFIGS, 0, 1)
def incremental_alter_configs(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    return _alter(state, ctx, request, incremental)
