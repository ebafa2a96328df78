"""A topic's newest records across its partitions: the sample its detail shows.

Each partition's last `count` offsets are read by a TopicSearch with no query (every record
matches), and of those the `count` newest by timestamp are kept: the newest of the topic,
whichever partitions they landed in, for no more than `count` records a partition read.
"""

from __future__ import annotations

import sys

from .connection import Connection
from .tail import RawRecord, StartMode, StartPosition
from .topic_search import SearchSpec, TopicSearch

SAMPLE_SIZE = 10
TIMESTAMP = 3
"""A RawRecord's timestamp (then partition and offset, for equal timestamps)."""


async def newest_records(
    connection: Connection, topic: str, count: int = SAMPLE_SIZE
) -> list[RawRecord]:
    """The topic's `count` newest records, oldest first; KafkaToolError as a search raises."""
    found: list[RawRecord] = []
    spec = SearchSpec(topic, start=StartPosition(StartMode.LAST, count), limit=sys.maxsize)
    await TopicSearch(connection, spec).run(found.extend)
    found.sort(key=lambda record: (record[TIMESTAMP], record[1], record[2]))
    return found[-count:]
