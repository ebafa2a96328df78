"""Avro schemas as Confluent's registry treats them: parsed with their references, printed the
way Avro's Java `Schema.toString()` prints them, and their records encoded with fastavro.

The schema is first *resolved*: its JSON is walked as Avro's Java parser walks it (namespaces
inherited, names qualified, named types defined once and afterwards referred to by full name),
which is where the errors Java's parser raises (redefined names, duplicate fields, undefined
names) are raised here too. The resolved form is plain JSON in the shape fastavro's
`parse_schema` takes, so fastavro checks the rest (defaults against their types, enum symbols)
and does the binary work, while the printers and the compatibility checker read the same form.
Named types a schema takes from its references are resolved first, as Confluent's `AvroSchema`
feeds every resolved reference to one `Schema.Parser` before the schema itself.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import SchemaParseException, UnknownType, parse_schema
from fastavro.validation import ValidationError, validate

from localbroker.schema_registry.formats.avro_compatibility import incompatibilities
from localbroker.schema_registry.formats.avro_json import from_json, json_view
from localbroker.schema_registry.formats.avro_text import (
    NAMED,
    PRIMITIVES,
    SCHEMA_RESERVED,
    Json,
    confluent_normalized,
    dumps,
    java_to_string,
    space_of,
)
from localbroker.schema_registry.schema_format import (
    InvalidSchema,
    ParsedSchema,
    SchemaType,
    UndecodableRecord,
)

if TYPE_CHECKING:
    from localbroker.schema_registry.formats.avro_json_encoding import AvroJsonEncoding


class _Resolver:
    """Avro's Java `Schema.Parser`: one per schema and its references, so a named type is
    defined once across all of them."""

    def __init__(self) -> None:
        self.named: dict[str, dict[str, Json]] = {}

    def resolve(self, node: Json, space: str | None) -> Json:
        if isinstance(node, str):
            return self._reference(node, space)
        if isinstance(node, list):
            return self._union(node, space)
        if not isinstance(node, dict):
            raise InvalidSchema(f"Schema not yet supported: {dumps(node)}")
        kind = node.get("type")
        if kind is None:
            raise InvalidSchema(f"No type: {dumps(node)}")
        if not isinstance(kind, str):
            return self.resolve(kind, space)
        if kind in NAMED:
            return self._named(node, kind, space)
        if kind == "array":
            return {**node, "items": self.resolve(node.get("items"), space)}
        if kind == "map":
            return {**node, "values": self.resolve(node.get("values"), space)}
        if kind in PRIMITIVES:  # with properties, or its bare name
            props = {k: v for k, v in node.items() if k not in SCHEMA_RESERVED}
            return {"type": kind, **props} if props else kind
        return self._reference(kind, space)

    def _reference(self, name: str, space: str | None) -> str:
        if name in PRIMITIVES:
            return name
        full = name if "." in name or space is None else f"{space}.{name}"
        for candidate in (full, name):  # Avro's Names.get falls back to the null namespace
            if candidate in self.named:
                return candidate
        raise InvalidSchema(f"Undefined name: {dumps(name)}")

    def _union(self, branches: list[Json], space: str | None) -> list[Json]:
        resolved = [self.resolve(branch, space) for branch in branches]
        seen: set[str] = set()
        for branch in resolved:
            if isinstance(branch, list):
                raise InvalidSchema(f"Nested union: {dumps(branches)}")
            key = branch if isinstance(branch, str) else branch.get("name", branch["type"])
            if key in seen:
                raise InvalidSchema(f"Duplicate in union:{key}")
            seen.add(key)
        return resolved

    def _named(self, node: dict[str, Json], kind: str, space: str | None) -> str | dict[str, Json]:
        name = node.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidSchema(f"No name in schema: {dumps(node)}")
        own_space = space_of(name) if "." in name else node.get("namespace", space) or None
        short = _valid_name(name.rpartition(".")[2])
        full = f"{own_space}.{short}" if own_space else short
        if full in self.named:
            raise InvalidSchema(f"Can't redefine: {full}")
        out = {k: v for k, v in node.items() if k != "namespace"} | {"name": full}
        if "aliases" in node:
            out["aliases"] = [
                a if "." in a or own_space is None else f"{own_space}.{a}"
                for a in _strings(node["aliases"], "aliases not an array of strings", node)
            ]
        self.named[full] = out
        if kind == "enum":
            for symbol in _strings(node.get("symbols"), "Enum has no symbols", node):
                _valid_name(symbol)
        if kind == "fixed" and (type(node.get("size")) is not int or node["size"] < 0):
            raise InvalidSchema(f"Invalid or no size: {dumps(node)}")
        if kind in ("record", "error"):
            fields = node.get("fields")
            if not isinstance(fields, list):
                raise InvalidSchema(f"Record has no fields: {dumps(node)}")
            names: set[str] = set()
            out["fields"] = []
            for field in fields:
                if not isinstance(field, dict) or not isinstance(field.get("name"), str):
                    raise InvalidSchema(f"No field name: {dumps(field)}")
                if _valid_name(field["name"]) in names:
                    raise InvalidSchema(f"Duplicate field {field['name']} in record {full}")
                names.add(field["name"])
                if "type" not in field:
                    raise InvalidSchema(f"No field type: {dumps(field)}")
                _strings(field.get("aliases", []), "aliases not an array of strings", field)
                if str(field.get("order", "ascending")).upper() not in _ORDERS:
                    raise InvalidSchema(f"Invalid order: {dumps(field['order'])}")
                out["fields"].append({**field, "type": self.resolve(field["type"], own_space)})
        return out


_ORDERS = ("ASCENDING", "DESCENDING", "IGNORE")


def _strings(value: Json, problem: str, node: Json) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidSchema(f"{problem}: {dumps(node)}")
    return value


def _valid_name(name: object) -> str:
    """Avro's `NameValidator.STRICT_VALIDATOR`, which Confluent applies to names and enum
    symbols: a letter or `_`, then letters, digits and `_`."""
    if not isinstance(name, str) or not name:
        raise InvalidSchema(f"Empty name: {dumps(name)}")
    if not (name[0].isascii() and (name[0].isalpha() or name[0] == "_")):
        raise InvalidSchema(f"Illegal initial character: {name}")
    if not all(c.isascii() and (c.isalnum() or c == "_") for c in name):
        raise InvalidSchema(f"Illegal character in: {name}")
    return name


def _check_default(field: dict[str, Json], named: Mapping[str, Json]) -> None:
    """Avro's `Schema.validateDefault`, on for schemas Confluent registers."""
    default = field.get("default")
    if "default" in field and not _valid_default(field["type"], default, named):
        shown = java_to_string(field["type"], named, set(), None)
        raise InvalidSchema(
            f"Invalid default for field {field['name']}: {dumps(default)} not a {shown}"
        )


# Java's Double.parseDouble takes these spellings, and a float's default may be a string.
_JAVA_DOUBLE_WORDS = {"NaN", "Infinity", "-Infinity", "+Infinity"}


def _valid_default(node: Json, value: Json, named: Mapping[str, Json]) -> bool:
    """Avro's `Schema.isValidDefault`: the JSON's kind, not its exact value (an enum default
    need only be a string, as Java checks it)."""
    node = named.get(node, node) if isinstance(node, str) else node
    if isinstance(node, list):  # a union's default may match any branch (Avro 1.12)
        return any(_valid_default(branch, value, named) for branch in node)
    kind = node if isinstance(node, str) else node["type"]
    integral = isinstance(value, int) and not isinstance(value, bool)
    if kind in ("string", "bytes", "enum", "fixed"):
        return isinstance(value, str)
    if kind == "int":
        return integral and -(2**31) <= value < 2**31
    if kind == "long":
        return integral and -(2**63) <= value < 2**63
    if kind in ("float", "double"):
        if isinstance(value, str):
            return value in _JAVA_DOUBLE_WORDS or _parses_as_float(value)
        return integral or isinstance(value, float)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if kind == "array":
        items = node["items"]
        return isinstance(value, list) and all(_valid_default(items, v, named) for v in value)
    if kind == "map":
        values = node["values"]
        return isinstance(value, dict) and all(
            _valid_default(values, v, named) for v in value.values()
        )
    if not isinstance(value, dict):
        return False
    # A record's default gives each field, or leaves it to that field's own default.
    given = [
        (f["type"], value[f["name"]] if f["name"] in value else f.get("default", _ABSENT))
        for f in node["fields"]
    ]
    return all(v is not _ABSENT and _valid_default(t, v, named) for t, v in given)


_ABSENT = object()


def _parses_as_float(text: str) -> bool:
    if any(word in text.lower() for word in ("nan", "inf")):
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def wire_form(node: Json) -> Json:
    """`node` without logical types, so fastavro reads and writes the underlying values (a
    date as its int, a decimal as its bytes), as Avro's JSON encoding shows them."""
    if isinstance(node, list):
        return [wire_form(branch) for branch in node]
    if not isinstance(node, dict):
        return node
    out = {k: v for k, v in node.items() if k != "logicalType"}
    kind = out["type"]
    if kind in ("array", "map"):
        key = "items" if kind == "array" else "values"
        out[key] = wire_form(out[key])
    if kind in ("record", "error"):
        out["fields"] = [{**f, "type": wire_form(f["type"])} for f in out["fields"]]
    return out


def _load(text: str) -> Json:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidSchema(f"Invalid JSON: {e}") from None


class AvroSchema:
    """One Avro schema with its references resolved (see the module docstring)."""

    def __init__(self, text: str, references: Mapping[str, str]) -> None:
        resolver = _Resolver()
        refs = [resolver.resolve(_load(ref), None) for ref in references.values()]
        self.resolved: Json = resolver.resolve(_load(text), None)
        self.named: Mapping[str, Json] = resolver.named
        self._references = references
        # Java's `toString(referencedSchemas)` knows only each reference's own full name.
        self._ref_names = [r if isinstance(r, str) else r.get("name", r["type"]) for r in refs]
        self.resolved_references = refs
        for record in (n for n in resolver.named.values() if n["type"] in ("record", "error")):
            for field in record["fields"]:
                _check_default(field, resolver.named)
        fastavro_named: dict[str, Json] = {}
        try:
            # Defaults are Avro's to judge (above): fastavro's check differs from Java's.
            for ref in refs:
                parse_schema(
                    wire_form(ref), named_schemas=fastavro_named, _ignore_default_error=True
                )
            self._wire = parse_schema(
                wire_form(self.resolved), named_schemas=fastavro_named, _ignore_default_error=True
            )
        except (SchemaParseException, UnknownType) as e:
            raise InvalidSchema(str(e)) from None
        self._json_view = json_view(self.resolved, self.named)

    @property
    def schema_type(self) -> SchemaType:
        return SchemaType.AVRO

    def canonical(self) -> str:
        return java_to_string(self.resolved, self.named, set(self._ref_names), None)

    def formatted(self, fmt: str) -> str:
        """`resolved`: Avro's `Schema.toString()`, the references' named types inlined."""
        if fmt.lower() != "resolved":
            return self.canonical()
        return java_to_string(self.resolved, self.named, set(), None)

    def normalized(self) -> str:
        """Confluent's `normalize()` builds the normalized text and parses it again, so the
        stored text is that schema's `canonicalString()`."""
        env = {name: dumps(name) for name in self._ref_names}
        text = confluent_normalized(self.resolved, env, self.named)
        return AvroSchema(text, self._references).canonical()

    def decode(self, body: bytes) -> object:
        value = read_body(self._wire, body)
        return value if self._json_view is None else self._json_view(value)

    def encode(self, value: object) -> bytes:
        return write_body(self._wire, from_json(value, self.resolved, self.named))

    @cached_property
    def avro_json(self) -> AvroJsonEncoding:
        """Its values in Avro's JSON encoding (unions wrapped), built when first asked for."""
        from localbroker.schema_registry.formats.avro_json_encoding import AvroJsonEncoding

        return AvroJsonEncoding(self)


def read_body(wire: Json, body: bytes) -> object:
    """A record body decoded by fastavro with the parsed schema `wire`, all of it."""
    buffer = io.BytesIO(body)
    try:
        value = schemaless_reader(buffer, wire, None)
    except (EOFError, IndexError, ValueError, OverflowError) as e:
        raise UndecodableRecord(f"Not Avro of this schema: {type(e).__name__}: {e}") from None
    if buffer.tell() != len(body):
        raise UndecodableRecord(
            f"Not Avro of this schema: {len(body) - buffer.tell()} bytes left after the record"
        )
    return value


def write_body(wire: Json, datum: object) -> bytes:
    """`datum` (bytes where the schema has them) encoded with the parsed schema `wire`."""
    try:
        validate(datum, wire, raise_errors=True)
    except ValidationError as e:
        raise UndecodableRecord("; ".join(map(str, e.errors))) from None
    buffer = io.BytesIO()
    schemaless_writer(buffer, wire, datum)
    return buffer.getvalue()


class AvroFormat:
    """Avro for the registry: `AVRO` below is its one instance."""

    @property
    def schema_type(self) -> SchemaType:
        return SchemaType.AVRO

    def parse(self, text: str, references: Mapping[str, str]) -> ParsedSchema:
        """`references` in the order Confluent resolves them (a reference's own references
        before it), as each may use the named types of those before it."""
        return AvroSchema(text, references)

    def incompatibilities(self, reader: ParsedSchema, writer: ParsedSchema) -> Sequence[str]:
        """Avro's `SchemaCompatibility` in Confluent's words (avro_compatibility.py)."""
        if not isinstance(reader, AvroSchema) or not isinstance(writer, AvroSchema):
            return ["Incompatible because of different schema type"]
        return incompatibilities(reader.resolved, reader.named, writer.resolved, writer.named)


AVRO = AvroFormat()
