"""Records a second that each schema format decodes and encodes, on one core, for an order
record of ~100 bytes and of ~1 KB (issue 17: the Tail draws 20,000 ~1 KB records a second, so
decoding must stay well above that).

    python bench/schema_decode.py [--seconds 1.0]

The peers in the same run: for Protobuf, json_format.MessageToDict with Confluent's options (the
rendering `decode` must equal); for Avro, fastavro's bare `schemaless_reader` (the floor under
`decode`, which adds Avro's JSON view of bytes and the leftover-bytes check).
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable

from fastavro import schemaless_reader

from localbroker.schema_registry.formats.avro import AVRO, AvroSchema
from localbroker.schema_registry.formats.json_schema import JSON_SCHEMA
from localbroker.schema_registry.formats.protobuf import PROTOBUF, read_message_indexes
from localbroker.schema_registry.formats.protobuf_json import reference_rendering

PROTO = """syntax = "proto3";
package bench;
import "google/protobuf/timestamp.proto";

message Order {
  string id = 1;
  int64 created_ms = 2;
  Status status = 3;
  Customer customer = 4;
  repeated Line lines = 5;
  map<string, string> attributes = 6;
  google.protobuf.Timestamp placed_at = 7;
  bytes checksum = 8;
  bool paid = 9;
  double total = 10;
  string note = 11;
  enum Status { NEW = 0; PAID = 1; SHIPPED = 2; }
  message Customer { string name = 1; string email = 2; int32 age = 3; repeated string tags = 4; }
  message Line { string sku = 1; int32 quantity = 2; double price = 3; int64 warehouse = 4; }
}
"""


def _avro_record(record_name: str, /, **fields: object) -> dict[str, object]:
    return {
        "type": "record",
        "name": record_name,
        "fields": [{"name": n, "type": t} for n, t in fields.items()],
    }


AVSC = json.dumps(
    {
        **_avro_record(
            "Order",
            id="string",
            created_ms="long",
            status={"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]},
            customer=_avro_record(
                "Customer",
                name="string",
                email="string",
                age="int",
                tags={"type": "array", "items": "string"},
            ),
            lines={
                "type": "array",
                "items": _avro_record(
                    "Line", sku="string", quantity="int", price="double", warehouse="long"
                ),
            },
            attributes={"type": "map", "values": "string"},
            placed_at=["null", "string"],
            checksum="bytes",
            paid="boolean",
            total="double",
            note="string",
        ),
        "namespace": "bench",
    }
)

JSON_SCHEMA_TEXT = json.dumps(
    {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "created_ms": {"type": "integer"},
            "status": {"enum": ["NEW", "PAID", "SHIPPED"]},
            "customer": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "email": {"type": "string"},
                    "age": {"type": "integer"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "sku": {"type": "string"},
                        "quantity": {"type": "integer"},
                        "price": {"type": "number"},
                        "warehouse": {"type": "integer"},
                    },
                    "required": ["sku", "quantity"],
                },
            },
            "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
            "paid": {"type": "boolean"},
            "total": {"type": "number"},
            "note": {"type": "string"},
        },
        "required": ["id", "created_ms"],
    }
)


def order(lines: int, tags: int, attributes: int, note: int) -> dict[str, object]:
    """An order as plain values; each format's test value is derived from it."""
    return {
        "id": "order-000123456",
        "created_ms": 1_733_500_000_123,
        "status": "PAID",
        "customer": {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "age": 36,
            "tags": [f"tag-{i}" for i in range(tags)],
        },
        "lines": [
            {"sku": f"SKU-{i:06d}", "quantity": i + 1, "price": 9.99 + i, "warehouse": 70_000 + i}
            for i in range(lines)
        ],
        "attributes": {f"attribute-{i}": f"value-{i}" for i in range(attributes)},
        "paid": True,
        "total": 123.45,
        "note": "lorem ipsum " * (note // 12),
    }


SIZES = {"~100 B": (0, 1, 0, 0), "~1 KB nested": (18, 8, 12, 0), "~1 KB text": (2, 2, 2, 700)}
"""(lines, tags, attributes, note characters): the nested ~1 KB order has 18 line items, the
text one spends its bytes on one string."""


def rate(work: Callable[[], object], seconds: float) -> float:
    """Calls of `work` a second of this process's CPU time, over about `seconds` of it: the
    machine is shared, and waiting for a core is not the decoder's cost."""
    calls, started = 0, time.process_time()
    deadline = started + seconds
    while (now := time.process_time()) < deadline:
        for _ in range(200):
            work()
        calls += 200
    return calls / (now - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    protobuf = PROTOBUF.parse(PROTO, {})
    avro = AVRO.parse(AVSC, {})
    assert isinstance(avro, AvroSchema)
    json_schema = JSON_SCHEMA.parse(JSON_SCHEMA_TEXT, {})
    print(f"{'format':<10} {'size':>13} {'bytes':>6} {'decode/s':>10} {'encode/s':>10}  peer")
    for size, shape in SIZES.items():
        plain = order(*shape)
        proto_value = {
            **plain,
            "created_ms": str(plain["created_ms"]),
            "lines": [{**line, "warehouse": str(line["warehouse"])} for line in plain["lines"]],  # type: ignore[attr-defined]
            "placed_at": "2024-12-06T15:46:40.123Z",
            "checksum": "3q2+7w==",
        }
        avro_value = {
            **plain,
            "placed_at": "2024-12-06T15:46:40.123Z",
            "checksum": "\xde\xad\xbe\xef",
        }
        for name, schema, value, peer in (
            ("protobuf", protobuf, proto_value, _protobuf_peer(protobuf)),
            ("avro", avro, avro_value, _avro_peer(avro)),
            ("json", json_schema, plain, None),
        ):
            body = schema.encode(value)
            assert schema.decode(body) == value, name
            decode = rate(lambda s=schema, b=body: s.decode(b), args.seconds)
            encode = rate(lambda s=schema, v=value: s.encode(v), args.seconds)
            shown = ""
            if peer is not None:
                label, work = peer
                shown = f"{label} {rate(lambda w=work, b=body: w(b), args.seconds):,.0f}/s"
            print(
                f"{name:<10} {size:>13} {len(body):>6} {decode:>10,.0f} {encode:>10,.0f}  {shown}"
            )


def _protobuf_peer(schema: object) -> tuple[str, Callable[[bytes], object]]:
    from google.protobuf.message_factory import GetMessageClass

    def reference(body: bytes) -> object:
        indexes, offset = read_message_indexes(body)
        message_class = GetMessageClass(schema.message(indexes))  # type: ignore[attr-defined]
        return reference_rendering(message_class.FromString(body[offset:]))

    return "MessageToDict", reference


def _avro_peer(schema: AvroSchema) -> tuple[str, Callable[[bytes], object]]:
    wire = schema._wire

    def bare(body: bytes) -> object:
        return schemaless_reader(io.BytesIO(body), wire, None)

    return "bare fastavro", bare


if __name__ == "__main__":
    main()
