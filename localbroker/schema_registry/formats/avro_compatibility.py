"""Avro's `SchemaCompatibility.checkReaderWriterCompatibility`, as Confluent's `AvroSchema.
isBackwardCompatible` calls it and its `Difference` words each incompatibility.

Schemas are in the resolved form avro.py builds (full names; a named type defined once, named
by its full name afterwards, looked up in `named`). Like Avro, the walk remembers each pair of
named types it has entered, so a recursive type compares as compatible where it meets itself
again and the walk ends.

Each message keeps Confluent's two `%s` slots (the reader's role, then the writer's): Confluent's
`SchemaValidatorBuilder` fills them with "new" and "old" according to the compatibility level's
direction, so the registry does that with `message % (reader_role, writer_role)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from localbroker.schema_registry.formats.avro_text import NAMED, PRIMITIVES, Json, java_to_string

# Avro's allowed promotions, writer type -> the reader types that read it.
_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}
# Confluent's Difference.error(), by Avro's SchemaIncompatibilityType.
_DESCRIPTIONS = {
    "FIXED_SIZE_MISMATCH": "The size of FIXED type field at path '{path}' in the %s schema does "
    "not match with the %s schema",
    "TYPE_MISMATCH": "The type (path '{path}') of a field in the %s schema does not match with "
    "the %s schema",
    "NAME_MISMATCH": "The name of the schema has changed (path '{path}')",
    "MISSING_ENUM_SYMBOLS": "The %s schema is missing enum symbols '{info}' at path '{path}' in "
    "the %s schema",
    "MISSING_UNION_BRANCH": "The %s schema is missing a type inside a union field at path "
    "'{path}' in the %s schema",
    "READER_FIELD_MISSING_DEFAULT_VALUE": "The field '{info}' at path '{path}' in the %s schema "
    "has no default value and is missing in the %s schema",
}


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """Avro's `SchemaCompatibility.Incompatibility`: its type, message and JSON-pointer path."""

    error_type: str
    info: str
    path: str

    def __str__(self) -> str:
        description = _DESCRIPTIONS[self.error_type].format(path=self.path, info=self.info)
        return (
            f"{{errorType:'{self.error_type}', description:'{description}', "
            f"additionalInfo:'{self.info}'}}"
        )


def incompatibilities(
    reader: Json, reader_named: Mapping[str, Json], writer: Json, writer_named: Mapping[str, Json]
) -> list[str]:
    """Why `reader` cannot read what `writer` wrote, in Confluent's words; empty when it can."""
    checker = _Checker(reader_named, writer_named)
    try:
        return [str(i) for i in checker.check(reader, writer, [""])]
    except _Ambiguous as e:
        return [f"Unexpected exception during compatibility check: {e}"]


class _Ambiguous(Exception):
    """A reader field whose name and aliases match more than one writer field (Avro throws)."""


def _type_name(kind: str) -> str:
    """Avro's `Schema.Type` constant, as its messages print it."""
    return "RECORD" if kind == "error" else kind.upper()


class _Checker:
    """Avro's `ReaderWriterCompatibilityChecker`."""

    def __init__(self, reader_named: Mapping[str, Json], writer_named: Mapping[str, Json]) -> None:
        self._reader_named = reader_named
        self._writer_named = writer_named
        # Pairs of named types by full name (Avro: by identity, one object per name); None
        # while the pair is being compared, which is where recursion stops.
        self._memo: dict[tuple[str, str], list[Incompatibility] | None] = {}

    def check(self, reader: Json, writer: Json, location: list[str]) -> list[Incompatibility]:
        reader, writer = _named(reader, self._reader_named), _named(writer, self._writer_named)
        key = _named_key(reader, writer)
        if key is None:
            return self._calculate(reader, writer, location)
        if key in self._memo:
            return self._memo[key] or []
        self._memo[key] = None
        result = self._calculate(reader, writer, location)
        self._memo[key] = result
        return result

    def _at(self, token: str, reader: Json, writer: Json, loc: list[str]) -> list[Incompatibility]:
        return self.check(reader, writer, [*loc, token])

    def _calculate(self, reader: Json, writer: Json, loc: list[str]) -> list[Incompatibility]:
        r_kind, w_kind = _kind(reader), _kind(writer)
        if r_kind == w_kind or {r_kind, w_kind} == {"record", "error"}:
            if r_kind in PRIMITIVES:
                return []
            if r_kind == "array":
                return self._at("items", reader["items"], writer["items"], loc)
            if r_kind == "map":
                return self._at("values", reader["values"], writer["values"], loc)
            if r_kind == "union":
                return [
                    Incompatibility(
                        "MISSING_UNION_BRANCH",
                        f"reader union lacking writer type: {self._writer_type(branch)}",
                        _path([*loc, str(i)]),
                    )
                    for i, branch in enumerate(writer)
                    if self.check(reader, branch, [""])
                ]
            result = _names(reader, writer, loc)
            if r_kind == "fixed":
                if reader["size"] != writer["size"]:
                    info = f"expected: {writer['size']}, found: {reader['size']}"
                    path = _path([*loc, "size"])
                    result.append(Incompatibility("FIXED_SIZE_MISMATCH", info, path))
                return result
            if r_kind == "enum":
                return result + _enum_symbols(reader, writer, loc)
            return result + self._fields(reader, writer, loc)
        if w_kind == "union":
            return [i for n, b in enumerate(writer) for i in self._at(str(n), reader, b, loc)]
        if r_kind == "union":
            if any(not self.check(branch, writer, [""]) for branch in reader):
                return []
            info = f"reader union lacking writer type: {_type_name(w_kind)}"
            return [Incompatibility("MISSING_UNION_BRANCH", info, _path(loc))]
        if r_kind in _PROMOTIONS.get(w_kind, ()):
            return []
        info = (
            f"reader type: {_type_name(r_kind)} not compatible with writer type: "
            f"{_type_name(w_kind)}"
        )
        return [Incompatibility("TYPE_MISMATCH", info, _path(loc))]

    def _writer_type(self, schema: Json) -> str:
        return _type_name(_kind(_named(schema, self._writer_named)))

    def _fields(self, reader: Json, writer: Json, loc: list[str]) -> list[Incompatibility]:
        result: list[Incompatibility] = []
        by_name = {f["name"]: f for f in writer["fields"]}
        for pos, field in enumerate(reader["fields"]):
            at = [*loc, "fields", str(pos)]
            names = [field["name"], *field.get("aliases", ())]
            matches = [by_name[n] for n in names if n in by_name]
            if len(matches) > 1:
                field_type = _type_name(_kind(_named(field["type"], self._reader_named)))
                shown = java_to_string(writer, self._writer_named, set(), None)
                raise _Ambiguous(
                    f"Reader record field {field['name']} type:{field_type} pos:{pos} matches "
                    f"multiple fields in writer record schema {shown}"
                )
            if matches:
                result += self._at("type", field["type"], matches[0]["type"], at)
            elif "default" not in field:
                field_type = _named(field["type"], self._reader_named)
                if _kind(field_type) == "enum" and "default" in field_type:
                    result += self._at("type", field_type, writer, at)
                else:
                    error = "READER_FIELD_MISSING_DEFAULT_VALUE"
                    result.append(Incompatibility(error, field["name"], _path(at)))
        return result


def _named(schema: Json, named: Mapping[str, Json]) -> Json:
    """The definition a full name stands for; any other schema as it is."""
    return named.get(schema, schema) if isinstance(schema, str) else schema


def _kind(schema: Json) -> str:
    if isinstance(schema, list):
        return "union"
    return schema if isinstance(schema, str) else str(schema["type"])


def _named_key(reader: Json, writer: Json) -> tuple[str, str] | None:
    """Named types are compared once per pair (Avro memoizes by identity, and the parser makes
    one object per named type); everything else is compared where it stands."""
    if _kind(reader) in NAMED and _kind(writer) in NAMED:
        return reader["name"], writer["name"]
    return None


def _path(location: list[str]) -> str:
    """Avro's `getLocation`: a JSON pointer, the root token left out."""
    return "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in location[1:])


def _names(reader: Json, writer: Json, loc: list[str]) -> list[Incompatibility]:
    """Avro's `schemaNameEquals`: the same unqualified name, or a reader alias naming the
    writer's full name."""
    short = reader["name"].rpartition(".")[2]
    if short == writer["name"].rpartition(".")[2] or writer["name"] in reader.get("aliases", ()):
        return []
    info = f"expected: {writer['name']}"
    return [Incompatibility("NAME_MISMATCH", info, _path([*loc, "name"]))]


def _enum_symbols(reader: Json, writer: Json, loc: list[str]) -> list[Incompatibility]:
    missing = sorted(set(writer["symbols"]) - set(reader["symbols"]))
    if not missing or reader.get("default") in reader["symbols"]:
        return []
    info = "[" + ", ".join(missing) + "]"  # Java's TreeSet.toString()
    return [Incompatibility("MISSING_ENUM_SYMBOLS", info, _path([*loc, "symbols"]))]
