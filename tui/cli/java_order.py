"""The order in which a java.util.HashMap of strings iterates: by bucket, then by insertion.

kafka-topics.sh --describe prints a topic's `Configs:` straight from such a map (the admin
client's Config, filled in the order the broker listed the configs), so printing what it prints
means iterating as Java would. A HashMap starts with 16 buckets and doubles whenever it holds
more than three quarters of its capacity; a key's bucket is its String.hashCode, spread
(h ^ h >>> 16), modulo the capacity; a resize keeps the keys of a bucket in insertion order.
"""

from __future__ import annotations

from collections.abc import Sequence

INITIAL_CAPACITY = 16


def string_hash(text: str) -> int:
    """Java's String.hashCode, as an unsigned 32-bit number (over UTF-16 code units)."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h


def hash_map_order(keys: Sequence[str]) -> list[str]:
    """`keys` (distinct, in insertion order) in the order a HashMap iterates them."""
    capacity = INITIAL_CAPACITY
    while len(keys) > capacity * 3 // 4:
        capacity *= 2

    def bucket(key: str) -> int:
        h = string_hash(key)
        return (h ^ (h >> 16)) & (capacity - 1)

    return sorted(keys, key=bucket)  # sorted() is stable: insertion order within a bucket
