"""ListOffsets through the workbench's admin layer on Apache Kafka, on a topic just created.

Kafka's Metadata names a new partition's leader a moment before that broker leads it (a
KRaft broker applies the controller's records asynchronously), and the leader answers
ListOffsets with NOT_LEADER_OR_FOLLOWER meanwhile. Kafka's clients look the leader up again
and retry; the workbench asks for the offsets of every partition right after creating a
topic (the demo's start, the tail's start, the next snapshot), so it must too. With 50
partitions some are always caught not led yet: 10 tries of 10 failed here without the
retries.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from reference_kafka import ReferenceKafka
from waiting import polling

from localbroker.public import ListOffsetsTimestamp
from tui.kafka.admin import KafkaAdmin
from tui.kafka.connection import from_properties

pytestmark = pytest.mark.timeout(60)
PARTITIONS = 50


async def test_offsets_of_a_topic_whose_leaders_were_just_named(
    reference_kafka: ReferenceKafka,
) -> None:
    name = f"lo-{uuid.uuid4().hex[:8]}"
    async with KafkaAdmin(from_properties(reference_kafka.bootstrap, {})) as admin:
        await admin.create_topic(name, PARTITIONS)
        pauses = polling(f"{name}'s leaders in the metadata", 20, 0.02)
        while True:  # as the demo waits before asking for offsets
            listed = [t for t in await admin.topics() if t.name == name]
            if listed and all(p.leader >= 0 for p in listed[0].partitions):
                break
            await asyncio.sleep(next(pauses))
        wanted = [(name, p) for p in range(PARTITIONS)]
        offsets = await admin.list_offsets(wanted, ListOffsetsTimestamp.LATEST)
        assert {tp: offset for tp, (offset, _) in offsets.items()} == dict.fromkeys(wanted, 0)
        await admin.delete_topic(name)
