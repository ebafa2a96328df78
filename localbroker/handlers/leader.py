"""Leadership checks for partition-level APIs: this broker leads every partition at epoch 0."""

from __future__ import annotations

from kio.schema.errors import ErrorCode

from ..log.partition import LEADER_EPOCH

NO_EPOCH = -1


def leader_epoch_error(current_leader_epoch: int) -> ErrorCode | None:
    """KIP-320's check of the client's view of the leader epoch, or None when it is current."""
    if current_leader_epoch in (NO_EPOCH, LEADER_EPOCH):
        return None
    if current_leader_epoch > LEADER_EPOCH:
        return ErrorCode.unknown_leader_epoch
    return ErrorCode.fenced_leader_epoch
