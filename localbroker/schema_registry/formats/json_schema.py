"""JSON Schema, on the `jsonschema` package: parsing, Confluent's canonical text, records.

A schema is checked against the metaschema of its `$schema` (drafts 4, 6, 7, 2019-09 and
2020-12, as jsonschema knows them), Draft 7 when it names none, as Confluent's registry
defaults. References are resolved with jsonschema's `referencing` registry: a reference's name
is the URL the referring schema uses in `$ref` and is registered both as written and resolved
against the root's `$id`, as Confluent's `JsonSchema.loadPreviousDraft` registers it.

Confluent's JSON Schema wire body is the record's JSON text in UTF-8. Its serializers validate
before writing, so `encode` does too; `decode` refuses only bytes that are not JSON: the Tail
shows a record that parses but breaks its schema rather than hiding it, and `errors` says what
is wrong with it (confluent_kafka's JSONDeserializer validates only when configured to).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, cast
from urllib.parse import urljoin

from jsonschema import Draft7Validator, validators
from jsonschema.exceptions import SchemaError, best_match
from jsonschema.protocols import Validator
from jsonschema_specifications import REGISTRY
from referencing import Registry, Resource, Specification
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT7, specification_with

from localbroker.schema_registry.formats import json_schema_compatibility
from localbroker.schema_registry.formats.json_schema_model import Node, SchemaLoader
from localbroker.schema_registry.schema_format import (
    InvalidSchema,
    ParsedSchema,
    SchemaType,
    UndecodableRecord,
)

_DEFAULT_VALIDATOR: Final = Draft7Validator

METASCHEMAS: Final[Registry[Any]] = REGISTRY
"""Every draft's metaschema, so a `$ref` to one resolves without the network, as Confluent
registers them with its loader."""


class JsonSchema:
    """One parsed JSON schema: its text as registered, a validator, and Everit's model."""

    schema_type = SchemaType.JSON

    def __init__(self, text: str, validator: Validator, model: Node, endless: bool) -> None:
        self._text = text
        self._validator = validator
        self.model = model
        self._endless = endless

    def canonical(self) -> str:
        """Confluent's `canonicalString()`: Jackson's compact writing of the parsed text, keys in
        their written order, numbers exactly as written (BigDecimal), non-ASCII unescaped."""
        return _jackson(json.loads(self._text, parse_float=Decimal), sort_keys=False)

    def normalized(self) -> str:
        """Confluent's `normalize()`: the canonical text read back with every object's keys
        sorted (its SortingNodeFactory), so key order no longer makes two schemas differ."""
        return _jackson(json.loads(self._text, parse_float=Decimal), sort_keys=True)

    def decode(self, body: bytes) -> object:
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise UndecodableRecord(f"Not a JSON record: {error}") from None

    def encode(self, value: object) -> bytes:
        """What confluent_kafka's JSONSerializer writes: validated, then compact JSON with
        non-ASCII characters as UTF-8 (its `json.dumps(separators=(",", ":"),
        ensure_ascii=False)`, or orjson's equal output)."""
        problem = self.errors(value)
        if problem is not None:
            raise UndecodableRecord(problem)
        try:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise UndecodableRecord(f"Not a JSON value: {error}") from None
        return text.encode("utf-8")

    def errors(self, value: object) -> str | None:
        """Why `value` does not match the schema, at which path (`$.a.b`); None when it does."""
        if self._endless:
            return "$: the schema applies itself to the same value without end (a $ref cycle)"
        try:
            error = best_match(self._validator.iter_errors(cast(Any, value)))
        except Unresolvable as error:
            # Only where Everit loads nothing (parse resolved every $ref it loads): a keyword of
            # another type, such as additionalProperties beside "type": "boolean".
            return f"$: cannot resolve a $ref of the schema ({error})"
        except (TypeError, AttributeError) as error:
            # jsonschema (and referencing) read a subschema by the dialect of a nested $schema
            # and fail on one that is no schema there, e.g. draft 7's tuple items in 2020-12.
            return f"$: the schema cannot be applied ({type(error).__name__}: {error})"
        return None if error is None else f"{error.json_path}: {error.message}"


class JsonSchemaFormat:
    """The JSON schema type of the registry."""

    schema_type = SchemaType.JSON

    def parse(self, text: str, references: Mapping[str, str]) -> ParsedSchema:
        contents = _load_json(text, "schema")
        validator_class = validators.validator_for(contents, default=_DEFAULT_VALIDATOR)
        try:
            validator_class.check_schema(contents)
        except SchemaError as error:
            raise InvalidSchema(f"Invalid schema at {error.json_path}: {error.message}") from None
        specification = _specification(contents)
        contents = _bridge_definitions(contents)
        root = Resource.from_contents(contents, default_specification=specification)
        base = root.id() or ""
        resources = []
        for name, referenced in references.items():
            resource = Resource.from_contents(
                _bridge_definitions(_load_json(referenced, f"reference {name!r}")),
                default_specification=specification,
            )
            resources += [(name, resource), (urljoin(base, name), resource)]
        registry = METASCHEMAS.with_resources(resources).with_resource(base, root)
        loader = SchemaLoader(specification)
        model = loader.load(contents, registry.resolver(base), "#")
        validator = validator_class(contents, registry=registry)
        return JsonSchema(text, validator, model, loader.endless())

    def incompatibilities(self, reader: ParsedSchema, writer: ParsedSchema) -> Sequence[str]:
        if not isinstance(reader, JsonSchema) or not isinstance(writer, JsonSchema):
            return ["Incompatible because of different schema type"]
        return json_schema_compatibility.incompatibilities(reader.model, writer.model)


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidSchema(
            f"Invalid JSON in {what} at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None


def _bridge_definitions(contents: Any) -> Any:
    """Confluent's `mergeDefBuckets`: top-level `definitions` copied into `$defs` (which wins on
    a clash), so `#/$defs/X` finds X whichever bucket draft 7 or 2019-09 authors put it in."""
    if not isinstance(contents, dict) or not isinstance(contents.get("definitions"), dict):
        return contents
    defs = contents.get("$defs", {})
    if not contents["definitions"] or not isinstance(defs, dict):
        return contents
    return {**contents, "$defs": {**contents["definitions"], **defs}}


def _specification(contents: object) -> Specification[Any]:
    """The draft `$schema` names, Draft 7 when it names none."""
    dialect = contents.get("$schema", "") if isinstance(contents, Mapping) else ""
    return specification_with(dialect, default=DRAFT7)


def _jackson(value: object, *, sort_keys: bool) -> str:
    """Compact JSON as Jackson's ObjectMapper writes a JsonNode: no spaces, non-ASCII as is,
    decimals as BigDecimal.toString() (which Python's Decimal str matches)."""
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        fields = (
            f"{_jackson(k, sort_keys=False)}:{_jackson(v, sort_keys=sort_keys)}" for k, v in items
        )
        return "{" + ",".join(fields) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_jackson(item, sort_keys=sort_keys) for item in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


JSON_SCHEMA: Final = JsonSchemaFormat()
