"""`ElectionState` and its `quorum-state` file, in Kafka's format.

A voter must never vote twice in one epoch nor forget the epoch it has seen, or two leaders
could be elected in one epoch. So the state is written (temporary file, fsync, atomic
rename, as Kafka's FileQuorumStateStore does) before a vote is granted or an epoch is
acted on. The JSON is QuorumStateData version 0 (static voters), field for field what a
KRaft controller with `controller.quorum.voters` writes, `data_version` included.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ...files import write_atomically

NO_LEADER = -1
NOT_VOTED = -1
FILE_NAME = "quorum-state"


@dataclass(frozen=True, slots=True)
class ElectionState:
    epoch: int
    leader_id: int = NO_LEADER
    voted_id: int = NOT_VOTED


class QuorumStateFile:
    def __init__(self, directory: Path, voters: Iterable[int]) -> None:
        self.path = directory / FILE_NAME
        self._voters = sorted(voters)

    def load(self) -> ElectionState:
        """The state last saved; epoch 0 with no leader and no vote when there is none."""
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return ElectionState(0)
        return ElectionState(
            int(data.get("leaderEpoch", 0)),
            int(data.get("leaderId", NO_LEADER)),
            int(data.get("votedId", NOT_VOTED)),
        )

    def save(self, state: ElectionState) -> None:
        data = {
            "clusterId": "",
            "leaderId": state.leader_id,
            "leaderEpoch": state.epoch,
            "votedId": state.voted_id,
            "appliedOffset": 0,
            "currentVoters": [{"voterId": voter} for voter in self._voters],
            "data_version": 0,
        }
        write_atomically(self.path, json.dumps(data, separators=(",", ":")).encode())
