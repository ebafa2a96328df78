"""kio's private introspection, read only in localbroker/protocol/kio_fields.py, checked against
the installed kio: an upgrade that changes it fails here, by name."""

from __future__ import annotations

from kio.schema.api_versions.v3.response import ApiVersionsResponse
from kio.schema.metadata.v12.request import MetadataRequest
from kio.schema.metadata.v12.response import MetadataResponse

from localbroker.protocol.kio_fields import FieldKind, field_shapes


def test_kio_fields_reads_every_kind_of_field() -> None:
    request = {shape.field.name: shape for shape in field_shapes(MetadataRequest)}
    topics = request["topics"]
    assert (topics.kind, topics.optional, topics.tagged) == (FieldKind.ENTITY_ARRAY, True, False)
    assert topics.entity is not None and topics.is_array
    auto_create = request["allow_auto_topic_creation"]
    assert (auto_create.kind, auto_create.kafka_type) == (FieldKind.PRIMITIVE, "bool")
    assert auto_create.entity is None and not auto_create.optional

    response = {shape.field.name: shape for shape in field_shapes(MetadataResponse)}
    assert response["throttle_time"].kafka_type == "timedelta_i32"
    assert response["cluster_id"].optional and response["cluster_id"].kafka_type == "string"
    brokers = response["brokers"]
    assert brokers.kind is FieldKind.ENTITY_ARRAY and not brokers.optional

    versions = {shape.field.name: shape for shape in field_shapes(ApiVersionsResponse)}
    assert not versions["api_keys"].tagged
    assert versions["supported_features"].tagged and versions["finalized_features_epoch"].tagged
