"""One module per Kafka API family; importing this package registers every handler."""

from . import (  # noqa: F401  (imported to register their handlers)
    acls,
    api_versions,
    cluster,
    configs,
    delete_records,
    elect_leaders,
    fetch,
    groups,
    leader_epoch,
    list_offsets,
    metadata,
    offsets,
    produce,
    producer_ids,
    reassignments,
    sasl,
    scram,
    topic_partitions,
    topics,
    transaction_admin,
    transactions,
    txn_markers,
)
from .registry import HANDLERS, Handler, RequestContext, handles, supported_versions

__all__ = ["HANDLERS", "Handler", "RequestContext", "handles", "supported_versions"]
