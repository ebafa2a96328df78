"""Any Kafka request, from kio's schemas, sent over aiokafka's connections.

aiokafka handles connections, SASL and TLS well but implements only some request versions
(no topic ids in Metadata, no IncrementalAlterConfigs, no DescribeLogDirs ...). kio has every
schema. This adapter lets `AIOKafkaClient.send` carry a kio request: it negotiates the highest
version both kio and the broker support, encodes with kio, and decodes the response with kio.
Responses are described as plain dicts of Kafka field names via the broker's own `build`.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from aiokafka.errors import IncompatibleBrokerVersion
from kio.index import UnknownEntity, load_request_schema, load_response_schema
from kio.serial import entity_reader

from localbroker.public import ApiKey, api_name, build, encode, entity_check, request_header

_CORRELATION = struct.Struct(">i")
_KIO_VERSION_LIMIT = 64


@cache
def kio_versions(api_key: int) -> tuple[int, ...]:
    versions = []
    for version in range(_KIO_VERSION_LIMIT):
        try:
            load_request_schema(api_key, version)
        except UnknownEntity:
            continue
        versions.append(version)
    return tuple(versions)


class _Encoded:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def encode(self) -> bytes:
        return self._data


@dataclass(slots=True)
class _ResponseType:
    schema: Any

    def decode(self, buffer: io.BytesIO) -> Any:
        data = buffer.read()
        entity_check(self.schema)(memoryview(data), 0)  # never let kio size arrays blindly
        value, _ = entity_reader(self.schema)(data, 0)
        return value


_SCHEMA_CLASS_VARS = ("__version__", "__flexible__", "__api_key__", "__header_schema__", "__type__")


@cache
def times_as_ms(schema: Any) -> Any:
    """`schema` with its timestamps (kio's datetime_i64) read as plain int64 milliseconds.

    kio refuses to read a negative timestamp, but Kafka answers -1 where there is none (a
    DescribeTransactions of an id with no transaction); the schema is copied, not changed."""
    fields = []
    changed = False
    for field in dataclasses.fields(schema):
        metadata, kind = dict(field.metadata), field.type
        element: Any = typing.get_args(kind)[0] if typing.get_origin(kind) is tuple else None
        if metadata.get("kafka_type") == "datetime_i64":
            metadata["kafka_type"], kind, changed = "int64", int, True
        elif isinstance(element, type) and dataclasses.is_dataclass(element):
            inner = times_as_ms(element)
            if inner is not element:
                kind, changed = tuple.__class_getitem__((inner, ...)), True
        fields.append((field.name, kind, dataclasses.field(metadata=metadata, kw_only=True)))
    if not changed:
        return schema
    namespace = {k: getattr(schema, k) for k in _SCHEMA_CLASS_VARS if hasattr(schema, k)}
    return dataclasses.make_dataclass(
        schema.__name__, fields, namespace=namespace, frozen=True, slots=True
    )


class _Prepared:
    """The negotiated request, in the shape aiokafka's connection expects."""

    def __init__(self, body: Any, ms_times: bool = False) -> None:
        self.body = body
        self._encoded: bytes | None = None
        self.API_KEY = body.__api_key__
        self.API_VERSION = body.__version__
        schema = load_response_schema(self.API_KEY, self.API_VERSION)
        self.RESPONSE_TYPE = _ResponseType(times_as_ms(schema) if ms_times else schema)
        self.FLEXIBLE_VERSION = body.__flexible__

    def build_request_header(self, correlation_id: int, client_id: str) -> _Encoded:
        return _Encoded(request_header(self.body, correlation_id, client_id))

    def encode(self) -> bytes:
        """The body's bytes, encoded once (a request sent again is not encoded again)."""
        if self._encoded is None:
            self._encoded = encode(self.body)
        return self._encoded

    def parse_response_header(self, buffer: io.BytesIO) -> Any:
        (correlation_id,) = _CORRELATION.unpack(buffer.read(4))
        if self.FLEXIBLE_VERSION and self.API_KEY != ApiKey.API_VERSIONS:
            tags = buffer.read(1)[0]
            assert tags == 0, "tagged fields in a response header are not expected"
        return _Header(correlation_id)

    def __repr__(self) -> str:
        return f"{type(self.body).__name__}(v{self.API_VERSION})"


@dataclass(frozen=True, slots=True)
class _Header:
    correlation_id: int


class KioRequest:
    """A request built from Kafka field names, at the best version the broker serves.

    `max_version` caps the version where a caller relies on fields that later versions
    change (e.g. topic names replaced by ids); `ms_times` reads the response's timestamps
    as int milliseconds (`times_as_ms`).
    """

    def __init__(
        self,
        api_key: ApiKey,
        data: dict[str, Any],
        *,
        max_version: int | None = None,
        min_version: int = 0,
        ms_times: bool = False,
    ) -> None:
        self.api_key = api_key
        self.data = data
        self.max_version = max_version
        self.min_version = min_version
        self.ms_times = ms_times
        self._prepared: tuple[dict[int, tuple[int, int]], _Prepared] | None = None
        """The last `prepare`, for the versions it was prepared for: a request sent again
        over the same connection (the snapshots' ListOffsets of every partition, each
        second) is neither built nor encoded again."""

    def prepare(self, versions: dict[int, tuple[int, int]]) -> _Prepared:
        if self._prepared is not None and self._prepared[0] is versions:
            return self._prepared[1]
        prepared = self._negotiate(versions)
        self._prepared = (versions, prepared)
        return prepared

    def _negotiate(self, versions: dict[int, tuple[int, int]]) -> _Prepared:
        broker = versions.get(self.api_key)
        if broker is None:
            raise IncompatibleBrokerVersion(
                f"the broker does not support {api_name(self.api_key)} (API {self.api_key})"
            )
        low, high = broker
        candidates = [
            v
            for v in kio_versions(self.api_key)
            if max(low, self.min_version) <= v <= high
            and (self.max_version is None or v <= self.max_version)
        ]
        if not candidates:
            raise IncompatibleBrokerVersion(
                f"no version of {api_name(self.api_key)} (API {self.api_key}) that both the"
                f" broker ({low}-{high}) and this client support"
            )
        schema = load_request_schema(self.api_key, max(candidates))
        return _Prepared(build(schema, self.data), self.ms_times)
