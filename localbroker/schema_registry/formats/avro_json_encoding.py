"""Avro's JSON encoding (the Avro spec's "JSON Encoding"): what Avro's Java `JsonEncoder`
writes and `JsonDecoder` reads, so what Confluent's kafka-avro-console-consumer prints and
kafka-avro-console-producer expects. It differs from the plain JSON `AvroSchema.decode` gives
(which the Tail pane shows) in one way: a union's value other than null is wrapped in an
object naming its branch, `{"string": "x"}`, a named type by its full name,
`{"com.example.Order": {...}}`. Bytes and fixed are strings of one character per byte in both.

Rather than a second Avro reader, the schema is rewritten: each branch of a union but null
becomes a record of one field named after the branch. A record is encoded as its fields are,
so the rewritten schema reads and writes the very bytes the original does, while fastavro
hands back, and takes, exactly the wrapped form. A named type keeps its definition where it
was first given, so later references to it still resolve.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastavro.schema import parse_schema

from localbroker.schema_registry.formats.avro import AvroSchema, read_body, wire_form, write_body
from localbroker.schema_registry.formats.avro_json import from_json, json_view
from localbroker.schema_registry.formats.avro_text import NAMED, Json

_BRANCH = "kwb_avro_json.Branch"
"""The names of the wrapping records, numbered (a namespace no Avro schema of a user's
needs, as no full name may be defined twice)."""


class _Wrapper:
    """The rewritten schema, with its named types (rewritten too) by full name."""

    def __init__(self) -> None:
        self.named: dict[str, Json] = {}
        self._count = 0

    def wrap(self, node: Json) -> Json:
        if isinstance(node, list):
            return [b if b == "null" else self._branch(b) for b in node]
        if not isinstance(node, dict):
            return node
        kind = node["type"]
        out = dict(node)
        if kind == "array":
            out["items"] = self.wrap(node["items"])
        elif kind == "map":
            out["values"] = self.wrap(node["values"])
        elif kind in ("record", "error"):
            out["fields"] = [{**f, "type": self.wrap(f["type"])} for f in node["fields"]]
        if kind in NAMED:
            self.named[node["name"]] = out
        return out

    def _branch(self, branch: Json) -> Json:
        """`branch` as a record of one field, named as the JSON encoding names the branch."""
        if isinstance(branch, str):
            name = branch
        else:
            name = branch["name"] if branch["type"] in NAMED else branch["type"]
        self._count += 1
        return {
            "type": "record",
            "name": f"{_BRANCH}{self._count}",
            "fields": [{"name": name, "type": self.wrap(branch)}],
        }


class AvroJsonEncoding:
    """One Avro schema's values in Avro's JSON encoding (see the module docstring)."""

    def __init__(self, schema: AvroSchema) -> None:
        wrapper = _Wrapper()
        references = [wrapper.wrap(ref) for ref in schema.resolved_references]
        self._resolved = wrapper.wrap(schema.resolved)
        self._named: Mapping[str, Json] = wrapper.named
        named: dict[str, Json] = {}
        for ref in references:
            parse_schema(wire_form(ref), named_schemas=named, _ignore_default_error=True)
        self._wire = parse_schema(
            wire_form(self._resolved), named_schemas=named, _ignore_default_error=True
        )
        self._view = json_view(self._resolved, self._named)

    def decode(self, body: bytes) -> object:
        """A record body (after Confluent's 5-byte header) as `JsonEncoder` writes it."""
        value = read_body(self._wire, body)
        return value if self._view is None else self._view(value)

    def encode(self, value: object) -> bytes:
        """The body for `value` given as `JsonDecoder` reads it; UndecodableRecord when it
        does not fit the schema."""
        return write_body(self._wire, from_json(value, self._resolved, self._named))
