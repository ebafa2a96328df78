"""DescribeCluster and DescribeLogDirs: what the cluster is made of and what its disk holds."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..protocol.names import AclResourceType, ApiKey
from . import access
from .brokers import client_controller_id, live_nodes
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

BROKERS_ENDPOINT = 1


@handles(ApiKey.DESCRIBE_CLUSTER, 0, 2)
def describe_cluster(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    nodes = live_nodes(state, ctx.listener)
    response: dict[str, Any] = {
        "throttle_time": 0,
        "error_code": ErrorCode.none,
        "endpoint_type": BROKERS_ENDPOINT,
        "cluster_id": state.store.cluster_id,
        "controller_id": client_controller_id(state, nodes),
        "brokers": [
            {
                "broker_id": node["node_id"],
                "host": node["host"],
                "port": node["port"],
                "rack": node["rack"],
                "is_fenced": False,
            }
            for node in nodes.values()
        ],
    }
    if request.include_cluster_authorized_operations:
        response["cluster_authorized_operations"] = access.cluster_operations(state, ctx)
    if getattr(request, "endpoint_type", BROKERS_ENDPOINT) != BROKERS_ENDPOINT:
        response.update(
            error_code=ErrorCode.unsupported_endpoint_type,
            error_message="The request was sent to an endpoint of type BROKER, but we wanted"
            " an endpoint of type CONTROLLER",
            brokers=[],
        )
    return ctx.respond(response)


@handles(ApiKey.DESCRIBE_LOG_DIRS, 0, 4)
def describe_log_dirs(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if not access.permits(state, ctx, AclResourceType.CLUSTER):
        # v0-2 have no error code: Kafka answers them with no log directories
        refused = ErrorCode.cluster_authorization_failed
        return ctx.respond({"throttle_time": 0, "error_code": refused, "results": []})
    if request.topics is None:
        wanted = {name: range(topic.partitions) for name, topic in state.topics.items()}
    else:
        wanted = {t.topic: t.partitions for t in request.topics}
    topics = []
    for name, partitions in wanted.items():
        entries = []
        for partition in partitions:
            partition_log = state.logs.get(name, partition)
            if partition_log is not None:
                entries.append(
                    {
                        "partition_index": partition,
                        "partition_size": partition_log.size_bytes,
                        "offset_lag": 0,
                        "is_future_key": False,
                    }
                )
        if entries:
            topics.append({"name": name, "partitions": entries})
    usage = shutil.disk_usage(state.data_dir)
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": ErrorCode.none,
            "results": [
                {
                    "error_code": ErrorCode.none,
                    "log_dir": str(state.data_dir.resolve()),
                    "topics": topics,
                    "total_bytes": usage.total,
                    "usable_bytes": usage.free,
                }
            ],
        }
    )
