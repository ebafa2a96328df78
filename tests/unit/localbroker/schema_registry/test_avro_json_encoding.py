"""Avro's JSON encoding (avro_json_encoding.py) against Avro's Java JsonEncoder/JsonDecoder.

Each row's bytes and JSON are what Avro 1.12.0's Java classes gave for the row's schema, run
once by hand (a JsonDecoder reading the JSON into a GenericDatumReader, written back with a
BinaryEncoder and a JsonEncoder): the bytes decode to exactly that text, and the text encodes
to exactly those bytes. Java's map keeps its HashMap order, which the bytes carry, so the
text's order is the bytes'.
"""

from __future__ import annotations

import json

import pytest

from localbroker.schema_registry.formats.avro import AVRO, AvroSchema
from localbroker.schema_registry.schema_format import UndecodableRecord
from tui.kafka.schema_registry.wire import compact_json

JAVA = [
    pytest.param(
        '{"type":"record","name":"R","namespace":"com.example","fields":[{"name":"f","type":["null","string"]}]}',
        "020278",
        '{"f":{"string":"x"}}',
        id="nullable string",
    ),
    pytest.param(
        '{"type":"record","name":"R","namespace":"com.example","fields":[{"name":"f","type":["null","string"]}]}',
        "00",
        '{"f":null}',
        id="nullable string, null",
    ),
    pytest.param(
        '["null","string"]',
        "020278",
        '{"string":"x"}',
        id="top-level union",
    ),
    pytest.param(
        '["null","string"]',
        "00",
        "null",
        id="top-level union, null",
    ),
    pytest.param(
        '{"type":"record","name":"Outer","namespace":"com.example","fields":[{"name":"u","type":[{"type":"record","name":"A","fields":[{"name":"a","type":"int"}]},{"type":"record","name":"B","namespace":"org.other","fields":[{"name":"b","type":"string"}]}]}]}',
        "02046869",
        '{"u":{"org.other.B":{"b":"hi"}}}',
        id="union of two records, other namespace",
    ),
    pytest.param(
        '{"type":"record","name":"Outer","namespace":"com.example","fields":[{"name":"u","type":[{"type":"record","name":"A","fields":[{"name":"a","type":"int"}]},{"type":"record","name":"B","namespace":"org.other","fields":[{"name":"b","type":"string"}]}]}]}',
        "000e",
        '{"u":{"com.example.A":{"a":7}}}',
        id="union of two records, first",
    ),
    pytest.param(
        '{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"inner","type":{"type":"record","name":"Line","fields":[{"name":"n","type":["null","int","long"]},{"name":"note","type":["null",{"type":"record","name":"Note","fields":[{"name":"text","type":["null","string"]}]}]}]}}]}',
        "040a02020864656570",
        '{"inner":{"n":{"long":5},"note":{"shop.Note":{"text":{"string":"deep"}}}}}',
        id="nested records and unions, long branch",
    ),
    pytest.param(
        '{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"inner","type":{"type":"record","name":"Line","fields":[{"name":"n","type":["null","int","long"]},{"name":"note","type":["null",{"type":"record","name":"Note","fields":[{"name":"text","type":["null","string"]}]}]}]}}]}',
        "020a00",
        '{"inner":{"n":{"int":5},"note":null}}',
        id="nested, int branch and null",
    ),
    pytest.param(
        '{"type":"record","name":"Paint","fields":[{"name":"c","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}},{"name":"o","type":["null",{"type":"enum","name":"Shade","namespace":"x.y","symbols":["DARK","LIGHT"]}]}]}',
        "020202",
        '{"c":"GREEN","o":{"x.y.Shade":"LIGHT"}}',
        id="enum, and enum in a union",
    ),
    pytest.param(
        '{"type":"record","name":"Blob","fields":[{"name":"b","type":"bytes"},{"name":"ob","type":["null","bytes"]},{"name":"h","type":{"type":"fixed","name":"Two","size":2}},{"name":"oh","type":["null","string",{"type":"fixed","name":"Three","namespace":"z","size":3}]}]}',
        "0600ff410204e9017f8004616263",
        '{"b":"\\u0000ÿA","ob":{"bytes":"é\\u0001"},"h":"","oh":{"z.Three":"abc"}}',
        id="bytes and fixed, bare and in unions",
    ),
    pytest.param(
        '{"type":"record","name":"Bag","fields":[{"name":"m","type":{"type":"map","values":["null","int"]}},{"name":"a","type":{"type":"array","items":["string","double"]}},{"name":"om","type":["null",{"type":"map","values":"long"}]},{"name":"oa","type":["null",{"type":"array","items":["null","float"]}]}]}',
        "04027a00026b0202000400027302000000000000f83f00020202710600020400020000204000",
        '{"m":{"z":null,"k":{"int":1}},"a":[{"string":"s"},{"double":1.5}],"om":{"map":{"q":3}},"oa":{"array":[null,{"float":2.5}]}}',
        id="map and array of unions, nullable map and array",
    ),
    pytest.param(
        '{"type":"record","name":"Flags","fields":[{"name":"ok","type":["null","boolean"]},{"name":"d","type":["double","null"]},{"name":"s","type":"string"}]}',
        "020100000000000000d0bf1468c3a96c6c6f20e29c93",
        '{"ok":{"boolean":true},"d":{"double":-0.25},"s":"héllo ✓"}',
        id="boolean, double, non-ASCII string",
    ),
]


def _schema(text: str) -> AvroSchema:
    parsed = AVRO.parse(text, {})
    assert isinstance(parsed, AvroSchema)
    return parsed


@pytest.mark.parametrize(("schema", "body", "text"), JAVA)
def test_decodes_as_java_json_encoder_writes(schema: str, body: str, text: str) -> None:
    assert compact_json(_schema(schema).avro_json.decode(bytes.fromhex(body))) == text


@pytest.mark.parametrize(("schema", "body", "text"), JAVA)
def test_encodes_what_java_json_decoder_reads(schema: str, body: str, text: str) -> None:
    assert _schema(schema).avro_json.encode(json.loads(text)).hex() == body


def test_plain_decode_stays_unwrapped() -> None:
    """The Tail pane's readable JSON: the same bytes without the branch names."""
    schema, body, _ = JAVA[0].values
    assert _schema(schema).decode(bytes.fromhex(body)) == {"f": "x"}


@pytest.mark.parametrize(
    "value",
    [{"f": "x"}, {"f": {"int": 1}}],
    ids=["unwrapped", "wrong branch"],
)
def test_refuses_what_java_json_decoder_refuses(value: object) -> None:
    schema = JAVA[0].values[0]
    with pytest.raises(UndecodableRecord):
        _schema(schema).avro_json.encode(value)
