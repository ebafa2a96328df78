"""Which broker a request goes to: the one named, or any broker that can be reached.

The admin client and the demo's group member send the same way; they differ only in what
they make of a failure (the admin says it in words, the demo member keeps aiokafka's error).
"""

from __future__ import annotations

import random
from typing import Any

from aiokafka import AIOKafkaClient
from aiokafka.client import ConnectionGroup
from aiokafka.errors import NodeNotReadyError


async def send_to(
    client: AIOKafkaClient,
    request: Any,
    node: int | None = None,
    group: ConnectionGroup = ConnectionGroup.DEFAULT,
) -> Any:
    """`request` to `node`, or to any broker that can be reached; the last NodeNotReadyError
    when none could be (other errors of aiokafka's as they come).

    A broker that cannot be reached is skipped for the next one when any would do (the
    request was not sent, so another may take it): a broker just killed stays in the
    cluster's metadata until the controller fences it (broker.session.timeout.ms). A named
    broker the client's metadata does not know yet (back from a restart since the client
    last asked) is asked once that metadata is fresh."""
    if node is not None:
        targets = [node]
        if client.cluster.broker_metadata(node) is None:
            await client.force_metadata_update()
    else:
        targets = [broker.nodeId for broker in client.cluster.brokers()]
        random.shuffle(targets)
    failure = NodeNotReadyError("the client's metadata names no broker")
    for target in targets:
        try:
            return await client.send(target, request, group=group)
        except NodeNotReadyError as exc:
            failure = exc
    raise failure
