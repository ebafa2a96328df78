"""Consumer groups and where each of their partitions stands: committed offset, log end, lag.

What kafka-consumer-groups.sh --describe works out, as plain data, so that `kwb groups` prints
it in Kafka's layout and the workbench shows the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kio.schema.errors import ErrorCode

from localbroker.public import CONSUMER_PROTOCOL_TYPE, GroupState, ListOffsetsTimestamp

from .admin import KafkaAdmin
from .errors import KafkaToolError
from .models import BrokerNode, CommittedOffset, GroupInfo, GroupListing, MemberInfo, TopicPartition


def is_consumer_group(listing: GroupListing) -> bool:
    """Kafka's listConsumerGroups keeps groups of the consumer protocol and simple ones."""
    return listing.protocol_type in (CONSUMER_PROTOCOL_TYPE, "")


async def consumer_groups(admin: KafkaAdmin, states: list[str] | None = None) -> list[GroupListing]:
    return [g for g in await admin.list_groups(states) if is_consumer_group(g)]


async def describe_consumer_group(admin: KafkaAdmin, group_id: str) -> GroupInfo:
    """DescribeGroups for one group; a group that does not exist is an error, as Kafka's admin
    client (4.x) makes it: GroupIdNotFoundException, `Group <id> not found.`"""
    missing = KafkaToolError(
        f"Group {group_id} not found.", ErrorCode.group_id_not_found, f"Group {group_id} not found."
    )
    try:
        info = await admin.describe_group(group_id)
    except KafkaToolError as exc:
        if exc.code == ErrorCode.group_id_not_found:
            raise missing from None
        raise
    if info.state == GroupState.DEAD:
        raise missing
    if info.protocol_type not in (CONSUMER_PROTOCOL_TYPE, ""):
        raise KafkaToolError(f"GroupId {group_id} is not a consumer group ({info.protocol_type}).")
    return info


async def coordinator_node(admin: KafkaAdmin, group_id: str) -> BrokerNode:
    """The group's coordinator; host "" and port -1 if the cluster does not list it."""
    node = await admin.coordinator(group_id)
    for broker in (await admin.cluster()).brokers:
        if broker.node_id == node:
            return broker
    return BrokerNode(node, "", -1)


async def log_offsets(
    admin: KafkaAdmin, partitions: Iterable[TopicPartition], spec: int
) -> dict[TopicPartition, int | None]:
    """ListOffsets for `spec`; None where the partition does not exist (any more)."""
    wanted = sorted(set(partitions))
    if not wanted:
        return {}
    existing = {
        (t.name, p.partition)
        for t in await admin.topics(include_internal=True)
        for p in t.partitions
    }
    present = [tp for tp in wanted if tp in existing]
    found = await admin.list_offsets(present, spec) if present else {}
    return {tp: found[tp][0] if tp in found else None for tp in wanted}


# -- where each partition stands ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """One partition of a group: committed offset, log end offset and who consumes it."""

    group_id: str
    topic: str
    partition: int
    committed: int | None
    log_end: int | None
    leader_epoch: int | None
    owner: MemberInfo | None
    pending: bool = False
    """An open transaction carries offsets for this partition (TxnOffsetCommit): `committed`
    changes when it commits."""

    @property
    def lag(self) -> int | None:
        if self.committed is None or self.committed == -1 or self.log_end is None:
            return None
        return self.log_end - self.committed


async def partition_lags(
    admin: KafkaAdmin, info: GroupInfo, *, with_pending: bool = False
) -> list[PartitionLag]:
    """One entry per assigned partition (members with most partitions first), then the
    partitions with committed offsets but no consumer, as ConsumerGroupCommand lists them;
    `with_pending` marks the partitions an open transaction has offsets for (one OffsetFetch
    more, which ConsumerGroupCommand does not make)."""
    committed = await admin.group_offsets(info.group_id)
    pending = await admin.pending_offsets(info.group_id) if with_pending else set()
    owners: list[tuple[TopicPartition, MemberInfo | None]] = []
    members = sorted(
        (m for m in info.members if any(m.assignment.values())),
        key=lambda m: -sum(len(ps) for ps in m.assignment.values()),
    )
    for member in members:
        owned = sorted((t, p) for t, ps in member.assignment.items() for p in ps)
        owners += [(tp, member) for tp in owned]
    assigned = {tp for tp, _ in owners}
    owners += [(tp, None) for tp in sorted(committed.keys() | pending) if tp not in assigned]
    log_ends = await log_offsets(admin, (tp for tp, _ in owners), ListOffsetsTimestamp.LATEST)
    lags = []
    for tp, owner in owners:
        commit: CommittedOffset | None = committed.get(tp)
        epoch = commit.leader_epoch if commit and commit.leader_epoch >= 0 else None
        offset = commit.offset if commit else None
        lags.append(
            PartitionLag(
                info.group_id, tp[0], tp[1], offset, log_ends.get(tp), epoch, owner, tp in pending
            )
        )
    return lags
