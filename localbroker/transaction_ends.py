"""Carrying out the transaction coordinator's decided ends on this broker: markers into the
partition logs, the transaction's offsets into the groups, then the end recorded.

The coordinator (transactions/) decides and stores; this is the I/O half, on the broker's
loop. A decided end is answered as done, as Kafka answers EndTxn before its markers are
written; if writing fails (an offline log directory) the end stays decided and
`housekeeping` finishes it later, as does the next start-up after a crash. Markers written
twice change nothing.

In cluster mode the markers go to each partition's leader (cluster/txn_markers.py), and a
broker elected coordinator of a `__transaction_state` partition finishes the ends decided
there at once (`finish_in_doubt_soon`), as Kafka's coordinator sends the markers of the
PrepareCommit and PrepareAbort states it loads.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from kio.schema.errors import ErrorCode

from .errors import KafkaError
from .groups.coordinator import GroupCoordinator
from .transactions.coordinator import Completion
from .transactions.markers import Written, committed_offsets, write_markers

if TYPE_CHECKING:
    from .state import BrokerState

log = logging.getLogger(__name__)


class TransactionEnds:
    def __init__(self, state: BrokerState) -> None:
        self._state = state
        self._ending: set[str] = set()
        """Transactional ids whose markers are being written right now."""
        self._finishing: set[asyncio.Task[None]] = set()

    def _complete(self, completion: Completion, groups: GroupCoordinator, moment: int) -> Written:
        written = write_markers(completion, self._state.logs.get, moment)
        self._commit_offsets(completion, groups, moment)
        return written

    @staticmethod
    def _commit_offsets(completion: Completion, groups: GroupCoordinator, moment: int) -> None:
        for group_id, entries in committed_offsets(completion).items():
            groups.offsets.commit_transactional(group_id, entries, moment)

    def finish_decided(self, groups: GroupCoordinator, moment: int) -> None:
        """At start-up: finish the ends decided before a crash."""
        for completion in self._state.transactions.in_doubt():
            self._complete(completion, groups, moment)
            self._state.transactions.completed(completion, moment)

    async def end(self, completion: Completion, moment: int) -> None:
        """Write the markers and commit the offsets, wait until they are as durable as the
        flush policy requires, then record the end."""
        state = self._state
        self._ending.add(completion.transactional_id)
        try:
            if state.transaction_markers is not None:
                await state.transaction_markers.write(completion)
                await state.coordinate(
                    lambda groups: self._commit_offsets(completion, groups, moment)
                )
            else:
                written = await state.coordinate(
                    lambda groups: self._complete(completion, groups, moment)
                )
                await asyncio.gather(
                    *(state.flush(log_, upto) for log_, upto in written if log_.flush_pending)
                )
            state.transactions.completed(completion, moment)
            error = await state.transaction_replicated(ErrorCode.none, completion.transactional_id)
            if error != ErrorCode.none:
                raise KafkaError(error, "the completed state is not on the ISR")
        except KafkaError as exc:
            log.warning("transaction %s not ended yet: %s", completion.transactional_id, exc)
        finally:
            self._ending.discard(completion.transactional_id)

    def finish_in_doubt_soon(self, moment: int) -> None:
        """Finish the decided ends not being finished already, in the background."""
        for completion in self._state.transactions.in_doubt():
            if completion.transactional_id not in self._ending:
                self._ending.add(completion.transactional_id)
                task = asyncio.ensure_future(self.end(completion, moment))
                self._finishing.add(task)
                task.add_done_callback(self._finishing.discard)

    async def housekeeping(self, moment: int) -> None:
        """transaction.abort.timed.out.transaction.cleanup.interval.ms: finish decided ends
        that could not be written (Kafka's marker channel retries them too), and abort (and
        fence) transactions open longer than their timeout."""
        transactions = self._state.transactions
        for completion in transactions.in_doubt():
            if completion.transactional_id not in self._ending:
                await self.end(completion, moment)
        for completion in transactions.timed_out(moment):
            await self.end(completion, moment)
