"""`kwb groups` (kafka-consumer-groups.sh) against a real localbroker and real consumer groups.

Groups are formed by confluent-kafka (librdkafka) consumers with known committed offsets, so
every CURRENT-OFFSET, LOG-END-OFFSET and LAG is exact; resets are checked through librdkafka's
own committed() and by a consumer resuming where the reset put the group.

localbroker note: on Python 3.11 LocalBroker.stop() can hang when a consumer leaves a group
just before it (asyncio.wait_for swallows the cancellation of the group timer), so each test
runs a kwb command after its last consumer closed rather than stopping the broker right away.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from waiting import TIMEOUT, wait_until

GROUP = "test-group"
BASE_MS = 1704067200000  # 2024-01-01T00:00:00.000Z; record i of a partition is BASE_MS + i s
NOT_COMMITTED = -1001  # librdkafka's OFFSET_INVALID
NO_EXECUTE_WARNING = (
    "WARN: No action will be performed as the --execute option is missing. In a future major"
    " release, the default behavior of this command will be to prompt the user before executing"
    " the reset rather than doing a dry run. You should add the --dry-run option explicitly if"
    " you are scripting this command and want to keep the current default behavior without"
    " prompting.\n"
)


def setup_topics(broker: Any) -> None:
    """test: 10 records in partition 0, 6 in partition 1; other: 4 records, one partition."""
    broker.call(lambda: broker.state.create_topic("test", 2))
    broker.call(lambda: broker.state.create_topic("other", 1))
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for topic, partition, count in (("test", 0, 10), ("test", 1, 6), ("other", 0, 4)):
        for i in range(count):
            value = b"p%d-o%d" % (partition, i)
            producer.produce(topic, value, partition=partition, timestamp=BASE_MS + i * 1000)
    assert producer.flush(TIMEOUT) == 0


@contextmanager
def member(
    bootstrap: str, client_id: str = "c1", records: list[Any] | None = None
) -> Iterator[Consumer]:
    """A consumer of `test` in test-group, once the group gave it both partitions (records
    polled meanwhile go to `records`)."""
    records = [] if records is None else records
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": GROUP,
            "client.id": client_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe(["test"])

        def assigned() -> bool:
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                records.append(message)
            return len(consumer.assignment()) == 2

        wait_until(assigned, "both partitions assigned")
        yield consumer
    finally:
        consumer.close()


def commit(consumer: Consumer, offsets: dict[int, int]) -> None:
    consumer.commit(
        offsets=[TopicPartition("test", p, o) for p, o in offsets.items()], asynchronous=False
    )


def committed(bootstrap: str) -> dict[tuple[str, int], int]:
    """test-group's committed offsets, as librdkafka fetches them (without joining)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP})
    try:
        wanted = [TopicPartition("test", 0), TopicPartition("test", 1), TopicPartition("other", 0)]
        return {(tp.topic, tp.partition): tp.offset for tp in consumer.committed(wanted, TIMEOUT)}
    finally:
        consumer.close()


def group_state(broker: Any) -> str | None:
    def state() -> str | None:
        group = broker.state.groups.get(GROUP)
        return group.state.value if group else None

    return broker.call(state)


def offsets_table(cid: str, rows: list[tuple[int, str, str, str]], host: str, client: str) -> str:
    """Kafka's describe table for test-group's `test` rows: (partition, current, end, lag)."""
    w = max(15, len(cid))
    lines = [
        f"GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG"
        f"             {'CONSUMER-ID':<{w}} HOST            CLIENT-ID"
    ]
    for p, current, end, lag in rows:
        lines.append(
            f"test-group      test            {p:<10} {current:<15} {end:<15} {lag:<15}"
            f" {cid:<{w}} {host:<15} {client}"
        )
    return "\n" + "\n".join(lines) + "\n"


def reset_table(rows: list[tuple[str, int, int]]) -> str:
    lines = [f"{'GROUP':<30} {'TOPIC':<30} {'PARTITION':<10} {'NEW-OFFSET':<15}"]
    lines += [f"{GROUP:<30} {t:<30} {p:<10} {o:<15}" for t, p, o in rows]
    return "\n" + "\n".join(lines) + "\n"


def test_primer_lines_describe_an_active_then_an_empty_group(broker, kwb) -> None:
    b = broker.bootstrap
    setup_topics(broker)
    with member(b) as consumer:
        commit(consumer, {0: 3, 1: 6})
        cid = consumer.memberid()
        listed = kwb("groups", "--bootstrap-server", b, "--list")
        assert (listed.returncode, listed.stdout, listed.stderr) == (0, f"{GROUP}\n", "")
        described = kwb("groups", "--bootstrap-server", b, "--group", GROUP, "--describe")
        rows = [(0, "3", "10", "7"), (1, "6", "6", "0")]
        assert described.stdout == offsets_table(cid, rows, "/127.0.0.1", "c1")
        assert (described.returncode, described.stderr) == (0, "")

        members = kwb(
            "groups", "--bootstrap-server", b, "--group", GROUP, "--describe", "--members"
        )
        w = max(15, len(cid))
        assert members.stdout == (
            f"\nGROUP           {'CONSUMER-ID':<{w}} HOST            CLIENT-ID       "
            "#PARTITIONS     \n"
            f"test-group      {cid:<{w}} /127.0.0.1      c1              2               \n"
        )
        verbose = kwb(
            "groups", "--bootstrap-server", b, "--describe", "--group", GROUP, "--members",
            "--verbose",
        )  # fmt: skip
        assert verbose.stdout.splitlines()[1:] == [
            f"GROUP           {'CONSUMER-ID':<{w}} HOST            CLIENT-ID       #PARTITIONS     "
            "CURRENT-EPOCH   CURRENT-ASSIGNMENT   TARGET-EPOCH    TARGET-ASSIGNMENT   ",
            f"test-group      {cid:<{w}} /127.0.0.1      c1              2               "
            "-               test:0,1             -               -                   ",
        ]
        state = kwb("groups", "--bootstrap-server", b, "--describe", "--group", GROUP, "--state")
        coordinator = f"{b}  (0)"
        assert state.stdout == (
            f"\nGROUP           {'COORDINATOR (ID)':<25} ASSIGNMENT-STRATEGY  STATE"
            "                #MEMBERS\n"
            f"test-group      {coordinator:<25} range                Stable               1\n"
        )
        states = kwb("groups", "--bootstrap-server", b, "--list", "--state")
        assert states.stdout == f"{'GROUP':<25} {'STATE':<20}\n{GROUP:<25} {'Stable':<20}\n"
        only_empty = kwb("groups", "--bootstrap-server", b, "--list", "--state", "empty")
        assert only_empty.stdout == f"{'GROUP':<25} {'STATE':<20}\n"

        refused = kwb(
            "groups", "--bootstrap-server", b, "--group", GROUP, "--reset-offsets",
            "--to-earliest", "--topic", "test", "--execute",
        )  # fmt: skip
        # Kafka's tool reports these failures on stdout and exits 0; kwb does as it does
        assert (refused.returncode, refused.stderr) == (0, "")
        assert refused.stdout == (
            f"\nError: Assignments can only be reset if the group '{GROUP}' is inactive, but"
            " the current state is Stable.\n"
            f"\n{'GROUP':<30} {'TOPIC':<30} {'PARTITION':<10} {'NEW-OFFSET':<15}\n"
        )
        not_deleted = kwb("groups", "--bootstrap-server", b, "--group", GROUP, "--delete")
        assert (not_deleted.returncode, not_deleted.stderr) == (0, "")
        assert not_deleted.stdout.splitlines() == [
            "",
            "Error: Deletion of some consumer groups failed:",
            f"* Group '{GROUP}' could not be deleted due to: org.apache.kafka.common.errors."
            "GroupNotEmptyException: The group is not empty.",
        ]
        subscribed = kwb(
            "groups", "--bootstrap-server", b, "--group", GROUP, "--delete-offsets", "--topic",
            "test",
        )  # fmt: skip
        assert (subscribed.returncode, subscribed.stderr) == (0, "")
        error = (
            "Error: org.apache.kafka.common.errors.GroupSubscribedToTopicException: Deleting"
            " offsets of a topic is forbidden while the consumer group is actively subscribed"
            " to it."
        )
        assert subscribed.stdout.splitlines() == [
            "",
            "Error: Encountered some partition-level error, see the follow-up details.",
            "",
            f"{'TOPIC':<15} {'PARTITION':<10} {'STATUS':<15}",
            f"{'test':<15} {'0':<10} {error}",
            f"{'test':<15} {'1':<10} {error}",
        ]
    assert committed(b) == {("test", 0): 3, ("test", 1): 6, ("other", 0): NOT_COMMITTED}
    wait_until(lambda: group_state(broker) == "Empty", "the group to empty")
    empty = kwb("groups", "--bootstrap-server", b, "--group", GROUP, "--describe")
    assert empty.stderr == f"\nConsumer group '{GROUP}' has no active members.\n"
    rows = [(0, "3", "10", "7"), (1, "6", "6", "0")]
    assert empty.stdout == offsets_table("-", rows, "-", "-")
    members = kwb("groups", "--bootstrap-server", b, "--group", GROUP, "--describe", "--members")
    header = "GROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     "
    assert (members.stdout, members.stderr) == (f"\n{header}\n", empty.stderr)  # as in Kafka


def reset(kwb: Any, b: str, *flags: str) -> Any:
    return kwb("groups", "--bootstrap-server", b, "--group", GROUP, "--reset-offsets", *flags)


def first_records(bootstrap: str) -> dict[int, tuple[int, bytes]]:
    """(offset, value) of the first record each partition of `test` gives a resuming member."""
    records: list[Any] = []
    got: dict[int, tuple[int, bytes]] = {}
    with member(bootstrap, "resumer", records) as consumer:

        def both() -> bool:
            for message in records:
                got.setdefault(message.partition(), (message.offset(), message.value()))
            records.clear()
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                records.append(message)
            return len(got) == 2

        wait_until(both, "a record from each partition")
    return got


def test_reset_offsets_dry_run_then_execute_for_each_strategy(broker, kwb) -> None:
    b = broker.bootstrap
    setup_topics(broker)
    with member(b) as consumer:
        commit(consumer, {0: 3, 1: 6})
    wait_until(lambda: group_state(broker) == "Empty", "the group to empty")

    default = reset(kwb, b, "--to-earliest", "--all-topics")
    assert default.stderr == NO_EXECUTE_WARNING
    assert default.stdout == reset_table([("test", 0, 0), ("test", 1, 0)])
    assert committed(b)[("test", 0)] == 3

    cases: list[tuple[list[str], dict[tuple[str, int], int], str, str]] = [
        (["--to-earliest", "--all-topics"], {("test", 0): 0, ("test", 1): 0}, "", ""),
        (["--to-latest", "--topic", "test"], {("test", 0): 10, ("test", 1): 6}, "", ""),
        (["--to-offset", "4", "--topic", "test:0"], {("test", 0): 4}, "", ""),
        (["--shift-by", "-2", "--topic", "test"], {("test", 0): 2, ("test", 1): 4}, "", ""),
        (
            ["--to-offset", "100", "--topic", "test:1"],
            {("test", 1): 6},
            "",
            "WARN New offset (100) is higher than latest offset for topic partition test-1."
            " Value will be set to 6\n",
        ),
        (
            ["--shift-by", "-5", "--topic", "test:0"],
            {("test", 0): 0},
            "",
            "WARN New offset (-3) is lower than earliest offset for topic partition test-0."
            " Value will be set to 0\n",
        ),
        (
            ["--to-datetime", "2024-01-01T00:00:05.000", "--topic", "test"],
            {("test", 0): 5, ("test", 1): 5},
            "",
            "",
        ),
        (
            ["--to-datetime", "2024-01-01T09:00:07.000+09:00", "--topic", "test"],
            {("test", 0): 7, ("test", 1): 6},
            "\nWarn: Partition 1 from topic test is empty. Falling back to latest known offset.\n",
            "",
        ),
        (["--by-duration", "P3650D", "--topic", "test"], {("test", 0): 0, ("test", 1): 0}, "", ""),
        (
            ["--to-current", "--topic", "test:1", "--topic", "other"],
            {("test", 1): 0, ("other", 0): 4},
            "",
            "",
        ),
    ]
    expected = committed(b)
    for flags, new, note, warning in cases:
        table = note + reset_table([(t, p, o) for (t, p), o in sorted(new.items())])
        dry = reset(kwb, b, *flags, "--dry-run")
        assert (dry.returncode, dry.stdout, dry.stderr) == (0, table, warning), flags
        assert committed(b) == expected, f"{flags} --dry-run changed the committed offsets"
        done = reset(kwb, b, *flags, "--execute")
        assert (done.returncode, done.stdout, done.stderr) == (0, table, warning), flags
        expected.update(new)
        assert committed(b) == expected, flags

    dated = reset(kwb, b, "--to-datetime", "2024-01-01T00:00:05.000", "--all-topics", "--execute")
    assert dated.returncode == 0, dated.stderr
    assert first_records(b) == {0: (5, b"p0-o5"), 1: (5, b"p1-o5")}
    wait_until(lambda: group_state(broker) == "Empty", "the resuming member to leave")
    as_json = reset(kwb, b, "--to-offset", "2", "--topic", "test", "--execute", "--output", "json")
    assert json.loads(as_json.stdout) == {
        "executed": True,
        "offsets": [
            {"group": GROUP, "topic": "test", "partition": 0, "new_offset": 2},
            {"group": GROUP, "topic": "test", "partition": 1, "new_offset": 2},
        ],
    }
    exported = reset(kwb, b, "--to-latest", "--topic", "test", "--dry-run", "--export")
    assert exported.stdout == "test,0,10\ntest,1,6\n\n"
    assert first_records(b) == {0: (2, b"p0-o2"), 1: (2, b"p1-o2")}
    wait_until(lambda: group_state(broker) == "Empty", "the resuming member to leave")
    unknown = reset(kwb, b, "--shift-by", "1", "--topic", "nosuch", "--dry-run")
    message = "This server does not host this topic-partition."
    assert (unknown.returncode, unknown.stderr) == (0, message + "\n")
    assert unknown.stdout == f"\nError: Executing consumer group command failed due to {message}\n"


def test_delete_offsets_and_delete_an_empty_group(broker, kwb) -> None:
    b = broker.bootstrap
    setup_topics(broker)
    with member(b) as consumer:
        commit(consumer, {0: 3, 1: 6})
    wait_until(lambda: group_state(broker) == "Empty", "the group to empty")

    partial = kwb(
        "groups", "--bootstrap-server", b, "--group", GROUP, "--delete-offsets", "--topic",
        "test:0",
    )  # fmt: skip
    assert (partial.returncode, partial.stderr) == (0, "")
    assert partial.stdout.splitlines() == [
        f"Request succeeded for deleting offsets from group {GROUP}.",
        "",
        f"{'TOPIC':<15} {'PARTITION':<10} {'STATUS':<15}",
        f"{'test':<15} {'0':<10} {'Successful':<15}",
    ]
    assert committed(b) == {("test", 0): NOT_COMMITTED, ("test", 1): 6, ("other", 0): NOT_COMMITTED}
    described = kwb("groups", "--bootstrap-server", b, "--group", GROUP, "--describe")
    assert described.stdout == offsets_table("-", [(1, "6", "6", "0")], "-", "-")

    deleted = kwb("groups", "--bootstrap-server", b, "--group", GROUP, "--delete")
    assert (deleted.returncode, deleted.stderr) == (0, "")
    assert deleted.stdout == f"Deletion of requested consumer groups ('{GROUP}') was successful.\n"
    assert kwb("groups", "--bootstrap-server", b, "--list").stdout == ""
    assert committed(b)[("test", 1)] == NOT_COMMITTED
    again = kwb("groups", "--bootstrap-server", b, "--group", GROUP, "--delete")
    assert again.returncode == 0
    assert again.stdout.splitlines()[2] == (
        f"* Group '{GROUP}' could not be deleted due to: org.apache.kafka.common.errors."
        "GroupIdNotFoundException: The group id does not exist."
    )
    missing = kwb("groups", "--bootstrap-server", b, "--group", GROUP, "--describe")
    assert (missing.returncode, missing.stderr) == (0, f"Group {GROUP} not found.\n")
    assert missing.stdout == (
        "\nError: Executing consumer group command failed due to"
        f" org.apache.kafka.common.errors.GroupIdNotFoundException: Group {GROUP} not found.\n"
    )


def test_all_groups_json_and_refusals(broker, kwb) -> None:
    b = broker.bootstrap
    setup_topics(broker)
    simple = Consumer({"bootstrap.servers": b, "group.id": "a-simple-group"})
    simple.commit(offsets=[TopicPartition("other", 0, 1)], asynchronous=False)
    simple.close()
    with member(b) as consumer:
        commit(consumer, {0: 9})
        cid = consumer.memberid()
        everything = kwb("groups", "--bootstrap-server", b, "--describe", "--all-groups")
        assert everything.stdout == (
            "\nGROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG"
            "             CONSUMER-ID     HOST            CLIENT-ID\n"
            "a-simple-group  other           0          1               4               3"
            "               -               -               -\n"
        ) + offsets_table(cid, [(0, "9", "10", "1"), (1, "-", "6", "-")], "/127.0.0.1", "c1")
        assert everything.stderr == "\nConsumer group 'a-simple-group' has no active members.\n"
        as_json = kwb(
            "groups", "--bootstrap-server", b, "--describe", "--group", GROUP, "--output", "json"
        )
        (group,) = json.loads(as_json.stdout)
        assert (group["group"], group["state"]) == (GROUP, "Stable")
        assert [(p["partition"], p["current_offset"], p["lag"]) for p in group["partitions"]] == [
            (0, 9, 1),
            (1, None, None),
        ]
        assert {p["consumer_id"] for p in group["partitions"]} == {cid}
        listed = kwb("groups", "--bootstrap-server", b, "--list", "--state", "--output", "json")
        assert json.loads(listed.stdout) == [
            {"group": "a-simple-group", "state": "Empty", "type": "Classic"},
            {"group": GROUP, "state": "Stable", "type": "Classic"},
        ]
    usage = kwb("groups", "--bootstrap-server", b, "--describe")
    assert (usage.returncode, usage.stdout) == (1, "")
    assert usage.stderr == (
        "kwb groups: error: --describe takes one of these options: --all-groups, --group\n"
    )
    bad_state = kwb("groups", "--bootstrap-server", b, "--list", "--state", "sleepy")
    assert bad_state.stderr == (
        "kwb groups: error: Invalid state list 'sleepy'. Valid states are: PreparingRebalance,"
        " CompletingRebalance, Stable, Dead, Empty, Assigning, Reconciling\n"
    )
    no_scope = kwb("groups", "--bootstrap-server", b, "--group", GROUP, "--reset-offsets",
                   "--to-latest", "--dry-run")  # fmt: skip
    assert no_scope.stderr == (
        "kwb groups: error: One of the reset scopes should be defined: --all-topics, --topic.\n"
    )
    unreachable = kwb("groups", "--bootstrap-server", "127.0.0.1:1", "--list")
    assert unreachable.returncode == 1 and len(unreachable.stderr.splitlines()) == 1
    assert "cannot connect to 127.0.0.1:1" in unreachable.stderr
    assert "Traceback" not in usage.stderr + no_scope.stderr + unreachable.stderr
