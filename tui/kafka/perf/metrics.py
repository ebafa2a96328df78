"""What aiokafka keeps no metrics for, measured on the wire: request round trips and batches.

Kafka's clients report request latency, batch and record sizes, compression rate and fetch
sizes from their metrics registry; aiokafka has none, so the client's `send` is wrapped and
the produce requests' record batches are read as they go out.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import codec as codecs

from localbroker.public import ApiKey

MB = 1024.0 * 1024.0
BATCH_HEADER_BYTES = 61  # a v2 record batch's header, up to and including the record count
_CODECS = {1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def ratio(numerator: float, denominator: float) -> float:
    """Java's double division: x/0 is Infinity (or NaN for 0/0) rather than an exception."""
    if denominator == 0:
        return float("nan") if numerator == 0 else float("inf")
    return numerator / denominator


@dataclass
class Summary:
    """Average and maximum of a series of samples, as Kafka's Avg and Max stats keep them."""

    count: int = 0
    total: float = 0.0
    max: float = float("nan")

    def record(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.max = value if self.count == 1 else max(self.max, value)

    @property
    def avg(self) -> float:
        return ratio(self.total, self.count) if self.count else float("nan")


def time_requests(client: Any, api_key: ApiKey, observe: Callable[[Any, Any, float], None]) -> None:
    """Call `observe(request, response, latency_ms)` for each `api_key` request of `client`.

    The client's `send` is wrapped on this one instance (the producer's or consumer's own
    client); other requests pass straight through.
    """
    original: Callable[..., Awaitable[Any]] = client.send

    async def send(node_id: int, request: Any, **kwargs: Any) -> Any:
        if getattr(request, "API_KEY", None) != api_key:
            return await original(node_id, request, **kwargs)
        started = time.perf_counter()
        response = await original(node_id, request, **kwargs)
        observe(request, response, (time.perf_counter() - started) * 1000.0)
        return response

    client.send = send


def _varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """A zigzag varint at `pos`: (value, position after it)."""
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7


def _records_section(batch: bytes, codec: int) -> bytes:
    if codec == 0:
        return batch[BATCH_HEADER_BYTES:]
    decode = getattr(codecs, f"{_CODECS[codec]}_decode")
    return bytes(decode(bytes(batch[BATCH_HEADER_BYTES:])))


@dataclass
class ProduceRequestMetrics:
    """Produce requests as they go to the broker: round trips, batches and records in them."""

    request_latency: Summary = field(default_factory=Summary)
    batch_size: Summary = field(default_factory=Summary)
    record_size: Summary = field(default_factory=Summary)
    compression_rate: Summary = field(default_factory=Summary)
    records_per_request: Summary = field(default_factory=Summary)

    def observe(self, request: Any, response: Any, latency_ms: float) -> None:
        """One produce request: its round trip, and each partition's record batch in it."""
        self.request_latency.record(latency_ms)
        records = 0
        for _topic, partitions in getattr(request, "_topics", ()):
            for _partition, data in partitions:
                records += self.observe_batch(bytes(data))
        self.records_per_request.record(records)

    def observe_batch(self, batch: bytes) -> int:
        count = int.from_bytes(batch[57:61], "big")
        codec = int.from_bytes(batch[21:23], "big") & 0x07
        records = _records_section(batch, codec)
        self.batch_size.record(len(batch))
        self.compression_rate.record(len(batch) / (BATCH_HEADER_BYTES + len(records)))
        pos = 0
        for _ in range(count):
            length, after = _varint(records, pos)
            self.record_size.record(after - pos + length)
            pos = after + length
        return count


@dataclass
class FetchMetrics:
    """Fetch requests as they go to the broker: round trips and bytes of records returned."""

    latency: Summary = field(default_factory=Summary)
    size: Summary = field(default_factory=Summary)

    def observe(self, request: Any, response: Any, latency_ms: float) -> None:
        self.latency.record(latency_ms)
        size = 0
        for _topic, partitions in getattr(response, "topics", ()):
            for partition in partitions:
                records = partition[-1]
                size += len(records) if isinstance(records, (bytes, bytearray)) else 0
        self.size.record(size)
