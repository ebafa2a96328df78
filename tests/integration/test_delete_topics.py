"""DeleteTopics of a topic whose name is as long as Kafka allows (249 characters).

The directory of a partition being deleted is renamed `<topic>-<partition>.<id>-delete`
first; for such a topic that name is longer than a file name may be, so Kafka cuts the topic
part short. The deletion must succeed as a whole or change nothing a client can see.
"""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from restarts import CLIENT_TIMEOUT, create_topic, produce_and_flush

from tui.embedded import EmbeddedBroker

LONGEST = "a" * 249


def test_a_topic_with_the_longest_name_can_be_deleted_and_created_again(
    broker: EmbeddedBroker,
) -> None:
    create_topic(broker.bootstrap, LONGEST, 3)
    assert produce_and_flush(broker.bootstrap, LONGEST, [(2, b"first life", None)]) == [
        (2, 0, b"first life")
    ]
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.delete_topics([LONGEST], request_timeout=CLIENT_TIMEOUT)[LONGEST].result(CLIENT_TIMEOUT)
    assert LONGEST not in admin.list_topics(timeout=CLIENT_TIMEOUT).topics
    assert [p.name for p in broker.data_dir.iterdir() if p.name.startswith("aaa")] == []

    create_topic(broker.bootstrap, LONGEST, 3)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused"})
    try:
        low, high = consumer.get_watermark_offsets(
            TopicPartition(LONGEST, 2), timeout=CLIENT_TIMEOUT
        )
    finally:
        consumer.close()
    assert (low, high) == (0, 0), "the new topic must start empty"
