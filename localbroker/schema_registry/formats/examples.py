"""Plausible example values for a parsed schema, for the workbench's generator and forms.

A value is a pure function of the schema and a `random.Random`, in the JSON form the schema's
`encode` takes (as its `decode` gives), so that the same seed gives the same records and every
value passes the format's own encode: that encode is the check that a value is valid, not a
second validator here. Each format walks its own parsed form (avro_examples.py,
protobuf_examples.py, json_schema_examples.py); the words and numbers they share are here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from random import Random

from localbroker.schema_registry.schema_format import ParsedSchema

MAX_DEPTH = 4
"""Nesting past which a recursive schema gets its smallest value (null, empty list, no field)."""
MAX_ITEMS = 3
WORDS = ("tea", "cake", "scone", "jam", "bread", "honey", "apple", "pear", "plum", "fig")
NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken")
EPOCH_2025 = datetime(2025, 1, 1, tzinfo=UTC)


def example_value(parsed: ParsedSchema, rng: Random) -> object:
    """A value of `parsed` (its top-level type; Protobuf's first message), as JSON."""
    from .avro import AvroSchema
    from .avro_examples import avro_value
    from .json_schema import JsonSchema
    from .json_schema_examples import json_value
    from .protobuf import ProtobufSchema
    from .protobuf_examples import protobuf_value

    if isinstance(parsed, AvroSchema):
        return avro_value(parsed, rng)
    if isinstance(parsed, ProtobufSchema):
        return protobuf_value(parsed, rng)
    if isinstance(parsed, JsonSchema):
        return json_value(parsed, rng)
    raise LookupError(f"no example values for {parsed.schema_type} schemas")


def text_for(name: str, rng: Random, max_length: int = 40) -> str:
    """A string that reads like what a field called `name` holds (an email for `email`, a
    person for `name`...), at most `max_length` characters."""
    lowered = name.lower()
    if "mail" in lowered:
        text = f"{rng.choice(NAMES).lower()}@example.com"
    elif "name" in lowered or "user" in lowered:
        text = rng.choice(NAMES)
    elif lowered.endswith("id"):
        text = f"{lowered[:2] or 'id'}-{rng.randrange(100_000):05d}"
    else:
        text = f"{rng.choice(WORDS)}-{rng.randrange(1000)}"
    return text[:max_length]


def uuid_text(rng: Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def moment(rng: Random) -> datetime:
    """A time in 2025, to the millisecond."""
    return EPOCH_2025 + timedelta(milliseconds=rng.randrange(365 * 86_400_000))


def whole(rng: Random, low: int = 0, high: int = 10_000) -> int:
    return rng.randint(low, high)


def fraction(rng: Random) -> float:
    """A number with two binary places: exact in a float32, so it reads back equal."""
    return rng.randint(0, 40_000) / 4
