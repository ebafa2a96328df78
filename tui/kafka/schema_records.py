"""Generated records of a registered schema: plausible values, each encoded with the schema.

The Generator's sends may run in a child process (perf/worker.py), which gets its load by
pickling; a parsed schema does not pickle (Protobuf's descriptors), so a load carries the
schema's text, type, references and id (`SchemaRecords`) and the stream parses it where it
runs. Each value is drawn by the format's own example generator (`example_value`, seeded: a
run sends the same records again), encoded through the format's encode (so every record is
valid for the schema) and framed as Confluent's serializers frame it. The key, when a field
is named, is that field of the same value, as text.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from localbroker.public import SchemaType, example_value, schema_format

from .schema_registry.client import RegistryClient
from .schema_registry.encoding import registered_at
from .schema_registry.wire import compact_json, framed

SEED = 0


@dataclass(frozen=True, slots=True)
class SchemaRecords:
    """Values of one registered schema, keyed by one of their fields (None: the load's keys)."""

    schema_id: int
    schema_type: SchemaType
    text: str
    references: tuple[tuple[str, str], ...]
    """Reference name -> text, for SchemaFormat.parse."""
    label: str
    """`orders-value v2`, for a generator's description."""
    key_field: str | None = None

    def streams(self) -> tuple[Iterator[bytes], Iterator[bytes | None] | None]:
        """The values and, with a key field, their keys, to be taken in turn (a value, then
        its key), as the send loops take them."""
        parsed = schema_format(self.schema_type).parse(self.text, dict(self.references))
        rng = random.Random(SEED)
        keys: deque[bytes | None] = deque()

        def values() -> Iterator[bytes]:
            while True:
                value = example_value(parsed, rng)
                if self.key_field is not None:
                    keys.append(key_of(value, self.key_field))
                yield framed(self.schema_id, parsed.encode(value))

        def keyed() -> Iterator[bytes | None]:
            while True:
                yield keys.popleft()

        return values(), None if self.key_field is None else keyed()


def key_of(value: object, field: str | None) -> bytes | None:
    """The field of `value` as a key: a string as it is, anything else as compact JSON."""
    if field is None or not isinstance(value, dict) or value.get(field) is None:
        return None
    found = value[field]
    return (found if isinstance(found, str) else compact_json(found)).encode()


async def schema_records(
    client: RegistryClient, subject: str, version: int | str, key_field: str | None
) -> SchemaRecords:
    """The records of a subject's version; ValueError when `key_field` is not a field of its
    values (checked on one drawn value) or the schema cannot be parsed (InvalidSchema)."""
    registered, number = await registered_at(client, subject, version)
    texts = await client.referenced_texts(registered.references)
    records = SchemaRecords(
        registered.schema_id,
        registered.schema_type,
        registered.text,
        tuple(sorted(texts.items())),
        f"{subject} v{number}",
        key_field,
    )
    parsed = schema_format(records.schema_type).parse(records.text, texts)
    sample = example_value(parsed, random.Random(SEED))
    if key_field is not None and not (isinstance(sample, dict) and key_field in sample):
        raise ValueError(f"{key_field}: not a field of {records.label}'s values")
    return records
