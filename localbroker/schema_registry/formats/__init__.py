"""The schema formats the registry serves, by `schemaType` (Avro, Protobuf, JSON Schema).

One module per format, each with one module-level instance; a type missing here is refused
as Confluent refuses an unknown one ("Invalid schema type X", 42201) and is not listed by
GET /schemas/types.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..schema_format import SchemaFormat, SchemaType
from .avro import AVRO
from .json_schema import JSON_SCHEMA
from .protobuf import PROTOBUF

FORMATS: Mapping[SchemaType, SchemaFormat] = {
    SchemaType.AVRO: AVRO,
    SchemaType.PROTOBUF: PROTOBUF,
    SchemaType.JSON: JSON_SCHEMA,
}
