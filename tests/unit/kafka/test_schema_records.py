"""A generator's schema records, as its load sends them: each value framed with the schema id
and decodable by the schema, each key the named field of the value it goes with, and the load
surviving the pickling that hands it to the child process that sends."""

from __future__ import annotations

import itertools
import pickle

from localbroker.public import SchemaType, schema_format
from tui.kafka.perf.producer import ProducerLoad
from tui.kafka.schema_records import SchemaRecords
from tui.kafka.schema_registry.wire import framed

ORDER = """
syntax = "proto3";
package shop;
message Order {
  int64 id = 1;
  string customer_id = 2;
  repeated string items = 3;
}
"""


def test_protobuf_values_are_framed_and_keyed_by_their_field() -> None:
    records = SchemaRecords(7, SchemaType.PROTOBUF, ORDER, (), "orders-value v1", "customer_id")
    load = pickle.loads(pickle.dumps(ProducerLoad("orders", 50, -1, schema=records)))
    values, keys = load.streams()
    parsed = schema_format(SchemaType.PROTOBUF).parse(ORDER, {})
    for value, key in itertools.islice(zip(values, keys, strict=False), 50):
        assert value[:5] == framed(7, b"")
        decoded = parsed.decode(value[5:])
        assert isinstance(decoded, dict)
        assert key == decoded["customer_id"].encode()


def test_without_a_key_field_the_loads_keys_are_used() -> None:
    records = SchemaRecords(7, SchemaType.PROTOBUF, ORDER, (), "orders-value v1")
    values, keys = ProducerLoad(
        "orders", 5, -1, keys="round-robin", key_count=2, schema=records
    ).streams()
    assert [next(keys) for _ in range(3)] == [b"key-0", b"key-1", b"key-0"]
    assert next(values)[:5] == framed(7, b"")
