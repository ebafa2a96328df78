"""Fuzzing the broker: requests for every API and version it advertises, and a client that
pipelines them fast enough to send 100,000 in a minute or two.

`Inputs` makes each request one of three ways, from one seeded generator so that a failure
replays from its seed:
- random bytes behind a valid header;
- a request valid by kio's schema, with values picked to hit edges: null and empty arrays,
  huge and negative counts, names that exist and names that cannot, valid record batches;
- such a request with a few of its body's bytes mutated (flipped, set to 0x00/0xff/0x7f,
  cut, inserted), which takes it past the decoder into the handler more often than random
  bytes do (a recent valid request of the same API and version is mutated: making one
  costs far more than mutating it).
The header is always valid (the framing has its own tests), so every answer names the
request it answers.

`fuzz()` sends them on several connections at once. After each fuzzed request it pipelines an
ApiVersions request (the sentinel): the sentinel's answer proves the fuzzed request was
handled, answered or not; a closed connection right after a fuzzed request means the broker
refused it, and a connection that stays silent holds a request that waits by design (a long
poll, a parked JoinGroup). Either way the input counts, the connection is replaced and the
requests behind it are sent again.

Names come from a small pool so that requests meet each other's topics and groups; the
reference data a test protects lives under a name the pool never uses.
"""

from __future__ import annotations

import asyncio
import datetime
import random
import struct
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.schema.request_header.v2.header import RequestHeader as RequestHeaderV2
from wire import (
    API_VERSIONS,
    CLIENT_ID,
    encode,
    framed,
    parse_response,
    request_body,
    request_bytes,
)

from localbroker.handlers import supported_versions
from localbroker.protocol.codec import request_schema
from localbroker.protocol.kio_fields import FieldKind, FieldShape, field_shapes
from localbroker.records.builder import NewRecord, build_batch

T = TypeVar("T")
# Not a 249-character name yet: deleting it fails (its `-delete` rename is too long a file name),
# which the storage work fixes.
TOPICS = ["fuzz-a", "fuzz-b", "__consumer_offsets", "", "f" * 200, "f" * 250, "bad name!"]
GROUPS = ["fuzz-group", "", "g" * 300]
SMALL_INTS = [0, 1, 2, -1, -2]
EDGE_INTS = {
    "int8": [127, -128],
    "int16": [2**15 - 1, -(2**15)],
    "int32": [2**31 - 1, -(2**31), 10_000, 10_001, 6000, 30_000],
    "int64": [2**63 - 1, -(2**63), 2**31],
}
DURATIONS = {  # kio's timedelta fields, in milliseconds, within kio's bounds
    "timedelta_i32": [2**31 - 1, -(2**31), -1, 6000, 300_000],
    "timedelta_i64": [2**53, -1, 60_000],
}
SENTINEL = framed(request_bytes(request_body(API_VERSIONS, 0, {}), 0))


def advertised_targets() -> list[tuple[int, int]]:
    """Every (API key, version) the broker advertises in ApiVersions."""
    return [
        (key, version)
        for key, (low, high) in supported_versions().items()
        for version in range(low, high + 1)
    ]


@dataclass(frozen=True, slots=True)
class Input:
    api_key: int
    version: int
    kind: str
    payload: bytes
    """Header and body, without the length prefix; the correlation id is set when sent."""

    def frame(self, correlation_id: int) -> bytes:
        payload = bytearray(self.payload)
        struct.pack_into(">i", payload, 4, correlation_id)
        return framed(bytes(payload))


class Inputs:
    """A seeded stream of fuzzed requests over `targets`."""

    def __init__(self, seed: int, targets: list[tuple[int, int]] | None = None) -> None:
        self.random = random.Random(seed)
        self.targets = targets or advertised_targets()
        self._valid: dict[tuple[int, int], list[bytes]] = {}
        """Recent valid bodies per target, to mutate: fresh ones cost far more to make."""

    def __iter__(self) -> Inputs:
        return self

    def __next__(self) -> Input:
        target = self.random.choice(self.targets)
        schema = request_schema(*target)
        kind = self.random.choice(["random", "random", "valid", "mutated", "mutated", "mutated"])
        if schema is None:  # advertised without a kio schema (Produce v0-2): random bytes
            kind = "random"
        header = self._header(*target, schema)
        if kind == "random":
            body = self.random.randbytes(self.random.randrange(0, 300))
        elif kind == "valid" or not self._valid.get(target):
            body = encode(self.entity(schema))
            recent = self._valid.setdefault(target, [])
            recent.append(body)
            if len(recent) > 8:
                recent.pop(self.random.randrange(len(recent)))
        else:
            body = self.mutate(self.random.choice(self._valid[target]))
        return Input(*target, kind, header + body)

    def _header(self, api_key: int, version: int, schema: Any) -> bytes:
        flexible = schema is not None and schema.__flexible__
        header = RequestHeaderV2 if flexible else RequestHeaderV1
        return encode(
            header(
                request_api_key=api_key,
                request_api_version=version,
                correlation_id=0,
                client_id=CLIENT_ID,
            )
        )

    # -- requests valid by the schema ----------------------------------------------------------

    def entity(self, schema: type) -> Any:
        values = {}
        for shape in field_shapes(schema):
            if shape.tagged and self.random.random() < 0.8:
                continue
            values[shape.field.name] = self.value(shape)
        return schema(**values)

    def value(self, shape: FieldShape) -> Any:
        if shape.optional and self.random.random() < 0.1:
            return None
        if shape.kind is FieldKind.ENTITY:
            assert shape.entity is not None
            return self.entity(shape.entity)
        if shape.is_array:
            count = self.random.choice([0, 1, 1, 2, 3])
            if shape.kind is FieldKind.ENTITY_ARRAY:
                assert shape.entity is not None
                return tuple(self.entity(shape.entity) for _ in range(count))
            return tuple(self.primitive(shape.kafka_type, shape.field.name) for _ in range(count))
        return self.primitive(shape.kafka_type, shape.field.name)

    def primitive(self, kafka_type: str, name: str) -> Any:
        pick = self.random.choice
        if kafka_type in ("int8", "int16", "int32", "int64"):
            return pick(SMALL_INTS + EDGE_INTS[kafka_type] + [self.random.randrange(0, 100)])
        if kafka_type in ("timedelta_i32", "timedelta_i64"):
            return datetime.timedelta(milliseconds=pick([0, 1, *DURATIONS[kafka_type]]))
        if kafka_type == "bool":
            return pick([True, False])
        if kafka_type == "uuid":
            return pick([uuid.UUID(int=0), uuid.uuid4()])
        if kafka_type == "string":
            pool = GROUPS if "group" in name or "member" in name else TOPICS
            return pick([*pool, self.random.randbytes(8).hex()])
        if kafka_type == "records":
            records = [NewRecord(self.random.randbytes(self.random.randrange(0, 50)))]
            return pick([b"", build_batch(records, now_ms=int(time.time() * 1000))])
        if kafka_type == "bytes":
            return self.random.randbytes(self.random.randrange(0, 20))
        raise AssertionError(f"no fuzz values for kafka type {kafka_type}")

    # -- mutations -------------------------------------------------------------------------

    def mutate(self, body: bytes) -> bytes:
        data = bytearray(body)
        for _ in range(self.random.randint(1, 4)):
            position = self.random.randrange(0, len(data) + 1)
            action = self.random.choice(["flip", "set", "set", "cut", "insert"])
            if action == "cut":
                del data[position : position + self.random.randint(1, 8)]
            elif action == "insert":
                data[position:position] = self.random.randbytes(self.random.randint(1, 8))
            elif position < len(data):
                if action == "flip":
                    data[position] ^= 1 << self.random.randrange(8)
                else:
                    data[position] = self.random.choice([0x00, 0xFF, 0x7F, 0x80, 0x01])
        return bytes(data)


# -- the client that sends them ------------------------------------------------------------------


@dataclass
class Outcome:
    """What the broker did with the inputs, and anything that broke the rules."""

    handled: Counter[str] = field(default_factory=Counter)
    by_api: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.handled.values())


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed, which spends less of the CPU the broker needs."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


async def fuzz(
    bootstrap: str,
    inputs: Inputs,
    count: int,
    *,
    lanes: int = 32,
    depth: int = 4,
    hold_seconds: float = 5.0,
    alive: Callable[[], None] = lambda: None,
) -> Outcome:
    """Send `count` inputs over `lanes` connections at once, `depth` inputs (each with its
    sentinel) in flight per connection; a connection silent for `hold_seconds` holds a
    request that waits and is replaced. `alive()` is called between batches and should
    raise if the broker is gone."""
    host, port = bootstrap.rsplit(":", 1)
    outcome = Outcome()
    queue: deque[Input] = deque(next(inputs) for _ in range(count))

    async def lane() -> None:
        while queue:
            alive()
            reader, writer = await asyncio.open_connection(host, int(port))
            try:
                await _serve_lane(reader, writer, queue, outcome, depth, hold_seconds)
            finally:
                writer.close()

    await asyncio.gather(*(lane() for _ in range(lanes)))
    return outcome


async def _serve_lane(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    queue: deque[Input],
    outcome: Outcome,
    depth: int,
    hold_seconds: float,
) -> None:
    """Pipeline batches on one connection until it closes or holds a request."""
    while queue:
        batch = [queue.popleft() for _ in range(min(depth, len(queue)))]
        writer.write(
            b"".join(item.frame(2 * i + 1) + _sentinel(2 * i + 2) for i, item in enumerate(batch))
        )
        done, ended = 0, False
        try:
            while done < len(batch) and not ended:
                async with asyncio.timeout(hold_seconds):
                    frame = await _read_frame(reader)
                if frame is None:  # refused: the connection closed after the fuzzed request
                    _count(outcome, batch[done], "closed")
                    done, ended = done + 1, True
                    continue
                (correlation_id,) = struct.unpack_from(">i", frame)
                if correlation_id == 2 * done + 2:
                    _, answer = parse_response(frame, API_VERSIONS, 0)
                    if answer.error_code != 0:
                        outcome.problems.append(f"sentinel answered {answer.error_code}")
                    _count(outcome, batch[done], "handled")
                    done += 1
                elif correlation_id != 2 * done + 1:
                    item = batch[done]
                    outcome.problems.append(
                        f"API {item.api_key} v{item.version}: answer with correlation id"
                        f" {correlation_id}, expected {2 * done + 1}"
                    )
        except TimeoutError:  # held: the request waits by design (a long poll, a parked join)
            _count(outcome, batch[done], "held")
            done, ended = done + 1, True
        queue.extendleft(reversed(batch[done:]))
        if ended:
            return


def _sentinel(correlation_id: int) -> bytes:
    sentinel = bytearray(SENTINEL)
    struct.pack_into(">i", sentinel, 8, correlation_id)
    return bytes(sentinel)


def _count(outcome: Outcome, item: Input, how: str) -> None:
    outcome.handled[how] += 1
    outcome.by_api[item.api_key] += 1


async def _read_frame(reader: asyncio.StreamReader) -> bytes | None:
    try:
        prefix = await reader.readexactly(4)
        return await reader.readexactly(struct.unpack(">i", prefix)[0])
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
