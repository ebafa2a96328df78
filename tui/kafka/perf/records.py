"""What a load sends: values from a template, keys by a strategy, the same headers on each.

Kafka's perf tool sends random A-Z payloads of --record-size bytes, payloads picked from a file,
or (--payload-monotonic) the increasing integers; the workbench's traffic generator adds
readable text, JSON with fake fields and keys, so that what it writes looks like traffic when
the Tail pane shows it. Every stream is seeded: a run sends the same values and keys again.
Values are built in a few microseconds each, since the send loop is meant to reach 100k
records/s.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Iterator, Sequence
from typing import Literal

ValueTemplate = Literal["random", "text", "json", "sequence"]
VALUE_TEMPLATES: tuple[ValueTemplate, ...] = ("random", "text", "json", "sequence")
"""random: A-Z bytes as kafka-producer-perf-test sends; text: lorem-ipsum words; json: an
object with fake fields; sequence: 0, 1, 2 ... (the record size does not apply)."""

KeyStrategy = Literal["none", "round-robin", "distinct", "random"]
KEY_STRATEGIES: tuple[KeyStrategy, ...] = ("none", "round-robin", "distinct", "random")
"""none: no key (the sticky partitioner spreads batches); round-robin: key-0 .. key-(N-1) in
turn; distinct: one of N keys picked at random; random: a fresh random key per record."""

Header = tuple[str, bytes]

_UPPERCASE = bytes(65 + b % 26 for b in range(256))  # random bytes -> 'A'..'Z', as Kafka's
_LOREM = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut"
    " labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco"
    " laboris nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate"
    " velit esse cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident"
    " sunt culpa qui officia deserunt mollit anim id est laborum"
)
_WORDS = tuple(_LOREM.split(" "))
_TEXT_BUFFER = 1 << 16
_FIRST_NAMES = ("ada", "alan", "grace", "edsger", "barbara", "donald", "frances", "ken", "linus")
_LAST_NAMES = ("lovelace", "turing", "hopper", "dijkstra", "liskov", "knuth", "allen", "thompson")
_CITIES = ("Lisbon", "Oslo", "Nairobi", "Lima", "Osaka", "Quebec", "Tbilisi", "Perth", "Lyon")
_CURRENCIES = ("EUR", "USD", "JPY", "KES", "NOK", "PEN")
_EVENTS = ("order_placed", "order_paid", "order_shipped", "cart_updated", "page_viewed")


def random_letters(rng: random.Random, size: int) -> Iterator[bytes]:
    """generateRandomPayload: `size` random bytes mapped onto 'A'..'Z', fresh per record."""
    while True:
        yield rng.randbytes(size).translate(_UPPERCASE)


def lorem_text(rng: random.Random, size: int) -> Iterator[bytes]:
    """`size` bytes of lorem-ipsum words, each record a slice of one seeded text."""
    words: list[str] = []
    length = 0
    while length < max(_TEXT_BUFFER, 2 * size):
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    text = " ".join(words).encode()
    last_start = len(text) - size
    while True:
        start = rng.randrange(last_start + 1)
        yield text[start : start + size]


def fake_json(rng: random.Random, size: int) -> Iterator[bytes]:
    """A JSON object per record (seq, id, event, user, email, city, amount, currency, ts),
    padded with a lorem `note` to `size` bytes; never shorter than its fields need."""
    notes = lorem_text(rng, max(size, 1))
    for seq in itertools.count():
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        record: dict[str, object] = {
            "seq": seq,
            "id": f"{rng.getrandbits(64):016x}",
            "event": rng.choice(_EVENTS),
            "user": f"{first}.{last}",
            "email": f"{first}@example.com",
            "city": rng.choice(_CITIES),
            "amount": round(rng.uniform(1, 500), 2),
            "currency": rng.choice(_CURRENCIES),
            "ts": time.time_ns() // 1_000_000,
        }
        encoded = json.dumps(record, separators=(",", ":")).encode()
        room = size - len(encoded) - len(',"note":""')
        if room > 0:
            encoded = encoded[:-1] + b',"note":"' + next(notes)[:room] + b'"}'
        yield encoded


def sequence() -> Iterator[bytes]:
    """Kafka's --payload-monotonic: the record's index as text."""
    for index in itertools.count():
        yield str(index).encode()


def picked(rng: random.Random, choices: Sequence[bytes]) -> Iterator[bytes]:
    """Kafka's --payload-file: one of the file's payloads at random for each record."""
    while True:
        yield choices[rng.randrange(len(choices))]


def values(
    template: ValueTemplate, record_size: int | None, payloads: Sequence[bytes] = ()
) -> Iterator[bytes]:
    """The values of a load: picked from `payloads` if given, else the template's (a
    template other than `sequence` needs a record size; without one the values count up)."""
    rng = random.Random(0)
    if payloads:
        return picked(rng, payloads)
    if record_size is None or template == "sequence":
        return sequence()
    if template == "text":
        return lorem_text(rng, record_size)
    if template == "json":
        return fake_json(rng, record_size)
    return random_letters(rng, record_size)


def keys(strategy: KeyStrategy, count: int = 1) -> Iterator[bytes | None]:
    """The keys of a load; `count` is how many distinct keys round-robin and distinct use."""
    rng = random.Random(1)
    if strategy == "none":
        return itertools.repeat(None)
    if strategy == "random":
        return (f"{rng.getrandbits(64):016x}".encode() for _ in itertools.count())
    names = [f"key-{i}".encode() for i in range(max(count, 1))]
    if strategy == "round-robin":
        return itertools.cycle(names)
    return (names[rng.randrange(len(names))] for _ in itertools.count())
