"""Kept Metadata entries (handlers/topic_entries.py): encoded once per stamp and form, encoded
again when the stamp changes, forgotten with their topic."""

from __future__ import annotations

from localbroker.handlers.topic_entries import EncodedTopics


class Encoder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return str(self.calls).encode()


def test_an_entry_is_encoded_once_per_stamp_and_form() -> None:
    kept, encode = EncodedTopics(), Encoder()
    assert kept.entry("orders", ("id", 3), (12, None), encode) == b"1"
    assert kept.entry("orders", ("id", 3), (12, None), encode) == b"1"
    assert kept.entry("orders", ("id", 3), (9, None), encode) == b"2"
    assert kept.entry("orders", ("id", 5), (12, None), encode) == b"3"
    assert kept.entry("orders", ("id", 5), (9, None), encode) == b"4"
    assert encode.calls == 4


def test_entries_of_deleted_topics_are_forgotten() -> None:
    kept, encode = EncodedTopics(), Encoder()
    kept.entry("orders", 1, 12, encode)
    kept.entry("gone", 1, 12, encode)
    kept.retain({"orders": None, "gone": None})
    kept.entry("gone", 1, 12, encode)
    assert encode.calls == 2
    kept.retain({"orders": None})
    kept.entry("orders", 1, 12, encode)
    kept.entry("gone", 1, 12, encode)
    assert encode.calls == 3
