"""Request decoding and response encoding on top of kio's schemas.

Requests are built byte for byte with kio's own writers (header v1 for non-flexible versions,
header v2 for flexible ones), so these tests check the broker's framing decisions, not kio:
which header version is read, which errors are raised for what, and the exact bytes of
the response prefix.
"""

from __future__ import annotations

import datetime
import io
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kio.schema.api_versions.v0.request import ApiVersionsRequest as ApiVersionsRequestV0
from kio.schema.api_versions.v0.response import ApiVersionsResponse as ApiVersionsResponseV0
from kio.schema.api_versions.v3.request import ApiVersionsRequest as ApiVersionsRequestV3
from kio.schema.api_versions.v3.response import ApiVersionsResponse as ApiVersionsResponseV3
from kio.schema.errors import ErrorCode
from kio.schema.fetch.v12.response import FetchResponse as FetchResponseV12
from kio.schema.metadata.v8.response import MetadataResponse as MetadataResponseV8
from kio.schema.metadata.v12.request import MetadataRequest, MetadataRequestTopic
from kio.schema.metadata.v12.response import MetadataResponse as MetadataResponseV12
from kio.schema.produce.v9.request import PartitionProduceData, ProduceRequest, TopicProduceData
from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.schema.request_header.v2.header import RequestHeader as RequestHeaderV2
from kio.schema.types import TopicName
from kio.serial import entity_reader, entity_writer
from kio.static.primitive import i16, i32

from localbroker.handlers import supported_versions
from localbroker.protocol.build import build
from localbroker.protocol.codec import (
    MalformedRequest,
    UnknownApi,
    UnsupportedApiVersion,
    decode_request,
    encode_response,
    peek_header,
)
from localbroker.records.builder import NewRecord, build_batch

# The windows the broker advertises (see the brief): ApiVersions 0-4, Metadata 0-13, Produce 3-12.
SUPPORTED = {18: (0, 4), 3: (0, 13), 0: (3, 12)}


def request_frame(body: Any, correlation_id: int = 42, client_id: str | None = "unit") -> bytes:
    """Header + body exactly as a client writes them (without the 4-byte length prefix)."""
    header_cls = RequestHeaderV2 if body.__flexible__ else RequestHeaderV1
    out = io.BytesIO()
    entity_writer(header_cls)(
        out,
        header_cls(
            request_api_key=i16(body.__api_key__),
            request_api_version=i16(body.__version__),
            correlation_id=i32(correlation_id),
            client_id=client_id,
        ),
    )
    entity_writer(type(body))(out, body)
    return out.getvalue()


def joined(chunks: list[bytes | bytearray | memoryview]) -> bytes:
    return b"".join(bytes(chunk) for chunk in chunks)


def metadata_v12() -> MetadataRequest:
    return MetadataRequest(
        topics=(MetadataRequestTopic(topic_id=None, name=TopicName("orders")),),
        allow_auto_topic_creation=False,
        include_topic_authorized_operations=True,
    )


def produce_v9(records: bytes) -> ProduceRequest:
    return ProduceRequest(
        transactional_id=None,
        acks=i16(-1),
        timeout=datetime.timedelta(milliseconds=30_000),
        topic_data=(
            TopicProduceData(
                name=TopicName("orders"),
                partition_data=(PartitionProduceData(index=i32(3), records=records),),
            ),
        ),
    )


# -- decoding -----------------------------------------------------------------------------


def test_api_versions_v0_with_header_v1() -> None:
    """ApiVersions v0 has an empty body; the header's client id is read from header v1."""
    frame = request_frame(ApiVersionsRequestV0(), correlation_id=7, client_id="rdkafka")
    request = decode_request(frame, SUPPORTED)
    assert (request.header.api_key, request.header.api_version) == (18, 0)
    assert request.header.correlation_id == 7
    assert request.header.client_id == "rdkafka"
    assert request.body == ApiVersionsRequestV0()
    assert request.size == len(frame)


def test_api_versions_v3_with_flexible_header() -> None:
    """v3 is flexible: header v2 (tagged fields) and compact strings in the body."""
    body = ApiVersionsRequestV3(client_software_name="librdkafka", client_software_version="2.16.0")
    request = decode_request(request_frame(body, correlation_id=1), SUPPORTED)
    assert request.header.api_version == 3
    assert request.body == body


def test_metadata_v12_flexible_header_and_null_client_id() -> None:
    body = metadata_v12()
    request = decode_request(request_frame(body, correlation_id=99, client_id=None), SUPPORTED)
    assert request.header == request.header.__class__(3, 12, 99, None)
    assert request.body == body


def test_produce_v9_keeps_record_bytes_intact() -> None:
    """The record set is handed to the log exactly as the producer encoded it."""
    batch = build_batch(
        [NewRecord(b"v" * 5000, key=b"k"), NewRecord(None)], now_ms=1_700_000_000_000
    )
    request = decode_request(request_frame(produce_v9(batch)), SUPPORTED)
    partition = request.body.topic_data[0].partition_data[0]
    assert partition.index == 3
    assert bytes(partition.records) == batch
    assert request.body.timeout == datetime.timedelta(seconds=30)
    assert request.body.acks == -1


def test_bytearray_frame_is_accepted() -> None:
    """The framing layer hands over bytearrays for large frames; they decode the same."""
    body = metadata_v12()
    request = decode_request(bytearray(request_frame(body)), SUPPORTED)
    assert request.body == body


def test_decoding_with_the_broker_table() -> None:
    """The table the handlers register is what decoding is checked against."""
    table = supported_versions()
    assert table[18] == (0, 4)
    assert decode_request(request_frame(metadata_v12()), table).body == metadata_v12()
    # Produce v2 (magic 1 message sets) is served, converted as Kafka 3.9 converted it.
    assert decode_request(struct.pack(">hhih", 0, 2, 1, -1) + b"\x00" * 10, table).body.acks == 0


def test_unknown_api_key() -> None:
    frame = struct.pack(">hhi", 999, 0, 5) + b"\x00\x00"
    with pytest.raises(UnknownApi, match="unknown API key 999") as caught:
        decode_request(frame, SUPPORTED)
    assert (caught.value.api_key, caught.value.api_version) == (999, 0)
    assert caught.value.correlation_id == 5


@pytest.mark.parametrize(
    ("api_key", "version", "name"),
    [
        (0, 2, "Produce v2"),  # below the window
        (0, 13, "Produce v13"),  # above the window, though kio knows it
        (3, 14, "Metadata v14"),  # no schema at all
        (18, 5, "ApiVersions v5"),
        (1, 4, "Fetch v4"),  # a known API that this table does not serve
    ],
)
def test_unsupported_version(api_key: int, version: int, name: str) -> None:
    """A known API outside the served window: the server answers UNSUPPORTED_VERSION."""
    frame = struct.pack(">hhi", api_key, version, 11) + b"\x00" * 16
    with pytest.raises(UnsupportedApiVersion, match=f"^{name} is not supported$") as caught:
        decode_request(frame, SUPPORTED)
    assert caught.value.correlation_id == 11
    assert caught.value.api_version == version


def test_frame_shorter_than_a_header() -> None:
    with pytest.raises(MalformedRequest, match="shorter than a request header"):
        peek_header(b"\x00\x12\x00")
    with pytest.raises(MalformedRequest):
        decode_request(b"\x00\x12\x00\x00\x00\x00\x00", SUPPORTED)


@pytest.mark.parametrize(
    "body",
    [
        metadata_v12(),
        ApiVersionsRequestV3(client_software_name="kcat", client_software_version="1.7"),
        produce_v9(build_batch([NewRecord(b"value")], now_ms=0)),
    ],
    ids=["metadata-v12", "api-versions-v3", "produce-v9"],
)
def test_every_truncation_is_malformed(body: Any) -> None:
    """Any frame cut short after its fixed prefix is MalformedRequest, with where it happened."""
    frame = request_frame(body, correlation_id=3)
    for end in range(8, len(frame)):
        with pytest.raises(MalformedRequest, match="does not parse") as caught:
            decode_request(frame[:end], SUPPORTED)
        assert caught.value.correlation_id == 3
        assert caught.value.api_key == body.__api_key__


def test_trailing_bytes_after_the_body_are_ignored() -> None:
    """librdkafka sends stray bytes after all-topics Metadata requests from v9; Kafka ignores
    them and so must we."""
    body = MetadataRequest(
        topics=None, allow_auto_topic_creation=True, include_topic_authorized_operations=False
    )
    frame = request_frame(body) + b"\x00\x00\x00"
    request = decode_request(frame, SUPPORTED)
    assert request.body == body
    assert request.size == len(frame)


# -- encoding -----------------------------------------------------------------------------


def api_versions_response(schema: type) -> Any:
    return build(
        schema,
        {
            "error_code": 0,
            "api_keys": [{"api_key": 18, "min_version": 0, "max_version": 4}],
            "throttle_time": 0,
        },
    )


def test_api_versions_response_header_is_always_v0() -> None:
    """ApiVersions v3 is flexible but its response header has no tagged fields, so a client
    that sent an unsupported version can still read the error."""
    body = api_versions_response(ApiVersionsResponseV3)
    wire = joined(encode_response(123, body))
    (size, correlation_id) = struct.unpack_from(">ii", wire)
    assert size == len(wire) - 4
    assert correlation_id == 123
    assert wire[8:10] == b"\x00\x00"  # error_code comes right after the correlation id
    decoded, used = entity_reader(ApiVersionsResponseV3)(wire, 8)
    assert decoded == body
    assert used == len(wire) - 8


def test_api_versions_v0_response_round_trip() -> None:
    body = api_versions_response(ApiVersionsResponseV0)
    wire = joined(encode_response(5, body))
    assert wire[:8] == struct.pack(">ii", len(wire) - 4, 5)
    assert entity_reader(ApiVersionsResponseV0)(wire, 8)[0] == body


def test_flexible_response_has_header_v1() -> None:
    """Metadata v12: header v1 = correlation id + one byte of empty tagged fields."""
    body = build(
        MetadataResponseV12,
        {
            "throttle_time": 0,
            "brokers": [{"node_id": 0, "host": "127.0.0.1", "port": 9092, "rack": None}],
            "cluster_id": "abc",
            "controller_id": 0,
            "topics": [],
        },
    )
    wire = joined(encode_response(77, body))
    assert wire[:9] == struct.pack(">ii", len(wire) - 4, 77) + b"\x00"
    decoded, used = entity_reader(MetadataResponseV12)(wire, 9)
    assert decoded == body
    assert 9 + used == len(wire)


def test_non_flexible_response_has_header_v0() -> None:
    body = build(
        MetadataResponseV8,
        {"throttle_time": 0, "brokers": [], "cluster_id": None, "controller_id": 0, "topics": []},
    )
    wire = joined(encode_response(8, body))
    assert wire[:8] == struct.pack(">ii", len(wire) - 4, 8)
    assert entity_reader(MetadataResponseV8)(wire, 8)[0] == body


def test_explicit_header_choice_overrides_the_body() -> None:
    body = api_versions_response(ApiVersionsResponseV3)
    plain = joined(encode_response(1, body))
    forced = joined(encode_response(1, body, flexible_header=True))
    assert len(forced) == len(plain) + 1
    assert forced[8:9] == b"\x00"
    assert forced[9:] == plain[8:]


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=0, max_size=20_000), st.integers(-(2**31), 2**31 - 1))
def test_fetch_response_round_trip(records: bytes, correlation_id: int) -> None:
    """Record sets of any size (large ones travel as separate chunks) survive encoding."""
    body = build(
        FetchResponseV12,
        {
            "throttle_time": 0,
            "error_code": 0,
            "session_id": 0,
            "responses": [
                {
                    "topic": "orders",
                    "partitions": [
                        {
                            "partition_index": 0,
                            "error_code": ErrorCode.none,
                            "high_watermark": 10,
                            "last_stable_offset": 10,
                            "log_start_offset": 0,
                            "aborted_transactions": None,
                            "records": records,
                        }
                    ],
                }
            ],
        },
    )
    chunks = encode_response(correlation_id, body)
    wire = joined(chunks)
    assert struct.unpack_from(">ii", wire) == (len(wire) - 4, correlation_id)
    decoded, used = entity_reader(FetchResponseV12)(wire, 9)
    assert 9 + used == len(wire)
    assert bytes(decoded.responses[0].partitions[0].records) == records
    if len(records) >= 4096:
        assert any(chunk is records for chunk in chunks), "large record sets are not copied"
