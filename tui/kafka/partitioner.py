"""Kafka's built-in partitioner for aiokafka, so records land where Java clients put them."""

from __future__ import annotations

import random

from aiokafka.partitioner import murmur2


class StickyPartitioner:
    """Kafka's built-in partitioner (KIP-794) for aiokafka.

    Keyed records go by murmur2 of the key, as in Kafka, so they land where Java clients put
    them. Keyless records stick to one partition until about a batch's worth of bytes went
    there, then move on, instead of aiokafka's per-record random choice that fills no batch.
    """

    def __init__(self, batch_size: int) -> None:
        self.batch_size = max(batch_size, 1)
        self._current: int | None = None
        self._previous: int | None = None
        self._bytes = 0

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is not None:
            return all_partitions[(int(murmur2(key)) & 0x7FFFFFFF) % len(all_partitions)]
        candidates = available or all_partitions
        if self._current not in candidates:
            others = [p for p in candidates if p != self._previous] or candidates
            self._current = random.choice(others)
            self._bytes = 0
        return self._current

    def account(self, key: bytes | None, value: bytes | None) -> None:
        """Count a keyless record's bytes; past batch.size the next one picks anew."""
        if key is None:
            self._bytes += len(value or b"") + 8
            if self._bytes >= self.batch_size:
                self._previous, self._current = self._current, None
