"""The metadata store: changes written before they are visible, and files it cannot read.

Write failures are real ones: the journal's name is taken by a directory, so appending a
change fails the way a full disk makes it fail (tests/unit/localbroker/metadata/
test_journal.py covers the journal's own failures and crashes).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localbroker.files import DataDirError
from localbroker.metadata.store import (
    JOURNAL_FILE,
    META_PROPERTIES,
    METADATA_FILE,
    MetadataStore,
    TopicRecord,
    new_topic_id,
)


def topic(name: str, partitions: int = 1) -> TopicRecord:
    return TopicRecord(name, new_topic_id(), partitions, {"retention.ms": "1000"})


def stored(data_dir: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads((data_dir / METADATA_FILE).read_text())
    return document


def refusal(data_dir: Path, name: str, content: bytes) -> str:
    """The message a start with file `name` holding `content` is refused with."""
    (data_dir / name).write_bytes(content)
    with pytest.raises(DataDirError) as refused:
        MetadataStore(data_dir, 0)
    return str(refused.value)


def break_writes(data_dir: Path) -> None:
    """The journal's name taken by a directory: an append fails as a full disk fails it."""
    (data_dir / JOURNAL_FILE).unlink(missing_ok=True)
    (data_dir / JOURNAL_FILE).mkdir()


def test_a_failed_write_changes_nothing(tmp_path: Path) -> None:
    MetadataStore(tmp_path, 0).add_topic(topic("kept", 2))
    store = MetadataStore(tmp_path, 0)  # the start wrote it into the document
    before = stored(tmp_path)
    broker_configs = store.broker_configs
    break_writes(tmp_path)
    with pytest.raises(OSError):
        store.add_topic(topic("phantom"))
    with pytest.raises(OSError):
        store.remove_topic("kept")
    with pytest.raises(OSError):
        store.change_topic("kept", partitions=5, configs={})
    with pytest.raises(OSError):
        store.replace_broker_configs(store.broker_configs, {"log.retention.ms": "1"})
    with pytest.raises(OSError):
        for _ in range(1001):  # past the first block of producer ids
            store.next_producer_id()
    assert set(store.topics) == {"kept"}
    assert (store.topics["kept"].partitions, store.topics["kept"].configs) == (
        2,
        {"retention.ms": "1000"},
    )
    assert store.broker_configs is broker_configs and broker_configs == {}
    assert stored(tmp_path) == before  # what a restart reads, producer id block included


def test_changes_are_stored_and_visible_after_they_are_written(tmp_path: Path) -> None:
    store = MetadataStore(tmp_path, 0)
    store.add_topic(topic("t", 2))
    store.change_topic("t", partitions=3, configs={"cleanup.policy": "compact"})
    store.replace_broker_configs(store.default_broker_configs, {"log.retention.ms": "5"})
    reopened = MetadataStore(tmp_path, 0)
    assert (reopened.topics["t"].partitions, reopened.topics["t"].configs) == (
        3,
        {"cleanup.policy": "compact"},
    )
    assert reopened.default_broker_configs == {"log.retention.ms": "5"}
    assert store.topics["t"].partitions == 3


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"   \n", "the file is empty"),
        (b'{"cluster_id": "abc", "topics": {', "Expecting"),
        (b'{"cluster_id": "abc", "top\xe9ics": {}}', "it is not UTF-8 text"),
        (b"[1, 2, 3]", "list indices"),
        (b'{"topics": {}}', "no 'cluster_id'"),
        (b'{"cluster_id": "abc", "topics": {"t": {"partitions": 1}}}', "no 'topic_id'"),
        (
            b'{"cluster_id": "abc", "topics": {"t": {"topic_id": "AAAAAAAAAAAAAAAAAAAAAQ",'
            b' "partitions": "3"}}}',
            "topic 't' is malformed",
        ),
    ],
)
def test_an_unreadable_document_stops_the_start_with_what_to_do(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    message = refusal(tmp_path, METADATA_FILE, content)
    assert message.startswith(f"{tmp_path / METADATA_FILE} is unreadable (")
    assert reason in message
    assert "restore it from a backup, or move it away to start without it" in message
    assert "\n" not in message
    assert (tmp_path / METADATA_FILE).read_bytes() == content, "the file was changed"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "it has no cluster.id, node.id"),
        (b"#only a comment\n", "it has no cluster.id, node.id"),
        (b"cluster.id=abc\nnode.id=0\ngarbage garbage\n", "line 3 is not key=value"),
        (b"cluster.id=ab\xffc\nnode.id=0\n", "it is not UTF-8 text"),
        (b"cluster.id=abc\nnode.id=zero\n", "node.id=zero is not a node id"),
    ],
)
def test_an_unreadable_meta_properties_stops_the_start(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    assert refusal(tmp_path, META_PROPERTIES, content) == (
        f"{tmp_path / META_PROPERTIES} is unreadable ({reason}); fix it, or delete it and"
        f" localbroker writes a new one with the cluster id from {METADATA_FILE}"
    )


def test_a_deleted_meta_properties_is_written_again(tmp_path: Path) -> None:
    cluster_id = MetadataStore(tmp_path, 0).cluster_id
    (tmp_path / META_PROPERTIES).unlink()
    assert MetadataStore(tmp_path, 0).cluster_id == cluster_id
    assert f"cluster.id={cluster_id}" in (tmp_path / META_PROPERTIES).read_text()
