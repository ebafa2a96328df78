"""Each topic's Metadata entry, encoded once per API version and state of the topic.

Clients ask for every topic's metadata over and over (librdkafka every
topic.metadata.refresh.interval.ms, admin tools on each listing), and building and encoding
10,000 partitions' entries took about a third of a second each time. Kafka answers from its
metadata image; here each topic's entry is kept as the bytes kio wrote for it (see
protocol/spliced.py), under a stamp of everything the entry says about the topic. An entry is
used only while the topic's stamp is unchanged, so a change (partitions added, the topic deleted
and created again under a new id) is answered from the topic as it is now without anything
having to announce it: a store that changes topics in place (`MetadataStore.change_topic`) can
leave no stale entry behind.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from ..state import BrokerState


class EncodedTopics:
    """Encoded entries by topic name: the stamp they were encoded at, and the bytes for each
    (API version, authorised operations) asked for at that stamp."""

    def __init__(self) -> None:
        self._slots: dict[str, tuple[Hashable, dict[Hashable, bytes]]] = {}

    def entry(
        self, name: str, stamp: Hashable, form: Hashable, encode: Callable[[], bytes]
    ) -> bytes:
        """The entry of topic `name` at `stamp` in `form`, encoded by `encode` when not kept."""
        slot = self._slots.get(name)
        if slot is None or slot[0] != stamp:
            slot = self._slots[name] = (stamp, {})
        encoded = slot[1].get(form)
        if encoded is None:
            encoded = slot[1][form] = encode()
        return encoded

    def retain(self, topics: Mapping[str, object]) -> None:
        """Forget the entries of topics no longer in `topics` (once there are more entries than
        topics, so this costs nothing while none was deleted)."""
        if len(self._slots) > len(topics):
            self._slots = {name: slot for name, slot in self._slots.items() if name in topics}


_BY_BROKER: WeakKeyDictionary[BrokerState, EncodedTopics] = WeakKeyDictionary()
"""One set of entries per broker (tests run several brokers in one process), gone with it."""


def encoded_topics(state: BrokerState) -> EncodedTopics:
    topics = _BY_BROKER.get(state)
    if topics is None:
        topics = _BY_BROKER[state] = EncodedTopics()
    return topics
