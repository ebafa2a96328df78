"""JSON schemas as the Everit library models them, the model Confluent's compatibility rules see.

Confluent's `SchemaDiff` does not compare JSON text: it compares the objects Everit's
`SchemaLoader` builds (StringSchema, NumberSchema, ObjectSchema, CombinedSchema ...), and its
verdicts follow from how the loader splits a schema object. `"type": ["string", "null"]` is an
anyOf of a string and a null schema; an object that holds several kinds of keyword (an `enum`
beside a `type`) is a synthetic allOf of one schema per kind, in the loader's extractor order
(enum, allOf/anyOf/oneOf, not, const, type, then the kinds sniffed from keywords when `type` is
absent); a `$ref` is the schema it points to (Confluent's `normalizeSchema`); title, description,
`$id` and default belong to the outermost schema only. Building the same nodes here lets
json_schema_compatibility follow Confluent's source case by case.

Nodes are built eagerly when a schema is parsed, so an unresolvable `$ref` is an invalid schema
at registration, as in Confluent; a node is cached by the JSON object it came from, so recursive
references become cycles in the graph, which the comparison detects by identity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from referencing import Specification
from referencing.exceptions import Unresolvable

from localbroker.schema_registry.schema_format import InvalidSchema

if TYPE_CHECKING:
    from referencing._core import Resolver  # referencing exports the type only from here


class Kind(StrEnum):
    """Everit's schema classes; two nodes have "the same type" when their kinds are equal."""

    EMPTY = "EmptySchema"
    TRUE = "TrueSchema"
    FALSE = "FalseSchema"
    STRING = "StringSchema"
    NUMBER = "NumberSchema"
    BOOLEAN = "BooleanSchema"
    NULL = "NullSchema"
    OBJECT = "ObjectSchema"
    ARRAY = "ArraySchema"
    ENUM = "EnumSchema"
    CONST = "ConstSchema"
    NOT = "NotSchema"
    COMBINED = "CombinedSchema"


_TYPE_KINDS = {
    "string": Kind.STRING,
    "number": Kind.NUMBER,
    "integer": Kind.NUMBER,
    "boolean": Kind.BOOLEAN,
    "null": Kind.NULL,
    "object": Kind.OBJECT,
    "array": Kind.ARRAY,
}

# Everit's PropertySnifferSchemaExtractor: without `type`, these keywords imply a kind; the
# second group only in 2019-09 and 2020-12, which Confluent loads with json-sKema.
_SNIFFED_KEYWORDS: tuple[tuple[Kind, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        Kind.OBJECT,
        (
            *("properties", "required", "additionalProperties", "patternProperties"),
            *("minProperties", "maxProperties", "dependencies", "propertyNames"),
        ),
        ("dependentSchemas", "dependentRequired", "unevaluatedProperties"),
    ),
    (
        Kind.ARRAY,
        ("items", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains"),
        ("prefixItems", "unevaluatedItems", "minContains", "maxContains"),
    ),
    (
        Kind.NUMBER,
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
        (),
    ),
    (Kind.STRING, ("minLength", "maxLength", "pattern", "format"), ()),
)

COMBINATIONS = ("allOf", "anyOf", "oneOf")

_UNCOMPARED = ("contains", "propertyNames")
"""Subschemas Everit loads (so their `$ref`s must resolve) that Confluent's diff never compares;
if/then/else too, loaded with the subschemas applied in place (`_in_place`)."""

_MODERN = frozenset({"draft2019-09", "draft2020-12"})
"""Dialects Confluent loads with json-sKema and translates to Everit's model."""


@dataclass(eq=False)
class Node:
    """One Everit schema object. `raw` is the JSON object it was loaded from ({} for a boolean
    schema); the diff reads plain keywords (maxLength, required ...) from it and child schemas
    from the fields below. Compared by identity, as Confluent's memo compares schema pairs."""

    kind: Kind
    raw: Mapping[str, Any]
    common: bool = False
    """Carries title, description, `$id` and default (false for a synthetic allOf's parts)."""
    criterion: str = ""
    subschemas: list[Node] = field(default_factory=list)
    integer: bool = False
    properties: dict[str, Node] = field(default_factory=dict)
    pattern_properties: list[tuple[str, Node]] = field(default_factory=list)
    permits_additional: bool = True
    """additionalProperties / additionalItems is not false."""
    additional: Node | None = None
    """The schema of additionalProperties / additionalItems when it is an object."""
    unevaluated: Node | None = None
    """unevaluatedProperties / unevaluatedItems (2019-09 on)."""
    dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Property dependencies: draft 7's array `dependencies`, 2019-09's dependentRequired."""
    schema_dependencies: dict[str, Node] = field(default_factory=dict)
    items: Node | None = None
    item_list: list[Node] = field(default_factory=list)
    negated: Node | None = None
    in_place: list[Node] = field(default_factory=list)
    """Every subschema applied to the same value as this one (allOf/anyOf/oneOf, not,
    if/then/else, schema dependencies), whichever type it sits beside."""
    modern: bool = False
    """From a 2019-09 or 2020-12 schema, whose keywords json-sKema reads a little differently."""

    @property
    def is_empty(self) -> bool:
        """Everit's `instanceof EmptySchema` (TrueSchema extends EmptySchema)."""
        return self.kind in (Kind.EMPTY, Kind.TRUE)

    def has_default(self) -> bool:
        return "default" in self.raw


class SchemaLoader:
    """Builds the node graph of one schema and the schemas it references."""

    def __init__(self, specification: Specification[Any]) -> None:
        self._specification = specification
        self._modern = specification.name in _MODERN
        self._nodes: dict[int, Node] = {}
        self._following: set[int] = set()

    def load(self, raw: object, resolver: Resolver[Any], where: str) -> Node:
        """The node of the schema `raw`, found at `where` (a JSON pointer, for messages)."""
        if isinstance(raw, bool):
            return Node(Kind.TRUE if raw else Kind.FALSE, {}, common=True)
        if not isinstance(raw, Mapping):
            raise InvalidSchema(f"Invalid schema at {where}: expected an object or a boolean")
        known = self._nodes.get(id(raw))
        if known is not None:
            return known
        resolver = resolver.in_subresource(self._specification.create_resource(raw))
        if isinstance(raw.get("$ref"), str):
            return self._follow(raw, resolver, where)
        facets = self._facets(raw, where)
        node = facets[0] if len(facets) == 1 else Node(Kind.COMBINED, raw, criterion="allOf")
        node.common = True
        node.modern = self._modern
        self._nodes[id(raw)] = node
        if len(facets) > 1:
            node.subschemas = facets
        for facet in facets:
            self._fill(facet, resolver, where)
        for keyword in _UNCOMPARED:
            if keyword in raw:
                self.load(raw[keyword], resolver, f"{where}/{keyword}")
        node.in_place = [
            self.load(sub, resolver, f"{where}/{path}") for path, sub in _in_place(raw)
        ]
        return node

    def endless(self) -> bool:
        """Whether some schema loaded applies itself to the very value it is applying to, as
        `{"allOf": [{"$ref": "#"}]}` or `{"not": {"$ref": "#"}}` do: validating any value then
        never ends, in jsonschema (whose recursion panics in referencing's Rust core) as in
        Everit. Checked on the keywords, whichever type they sit beside."""
        visiting: set[int] = set()
        done: set[int] = set()

        def cycles(node: Node) -> bool:
            if id(node) in done:
                return False
            if id(node) in visiting:
                return True
            visiting.add(id(node))
            found = any(cycles(applied) for applied in node.in_place)
            visiting.discard(id(node))
            done.add(id(node))
            return found

        return any(cycles(node) for node in list(self._nodes.values()))

    def _follow(self, raw: Mapping[str, Any], resolver: Resolver[Any], where: str) -> Node:
        reference = raw["$ref"]
        if id(raw) in self._following:
            raise InvalidSchema(f"Invalid schema at {where}: $ref {reference!r} refers to itself")
        try:
            resolved = resolver.lookup(reference)
        except (Unresolvable, TypeError, AttributeError):
            # referencing crawls every subschema for the lookup, and one that is no schema in the
            # dialect of a nested `$schema` (a boolean in draft 4, a list of items in 2020-12)
            # makes it raise TypeError or AttributeError.
            raise InvalidSchema(
                f"Invalid schema at {where}: cannot resolve $ref {reference!r}"
            ) from None
        self._following.add(id(raw))
        try:
            node = self.load(resolved.contents, resolved.resolver, f"{where}/$ref")
        finally:
            self._following.discard(id(raw))
        self._nodes[id(raw)] = node
        return node

    def _facets(self, raw: Mapping[str, Any], where: str) -> list[Node]:
        """One node per Everit extractor that finds its keywords in `raw`, in their order."""
        facets: list[Node] = []
        if "enum" in raw:
            facets.append(Node(Kind.ENUM, raw))
        combinations = [Node(Kind.COMBINED, raw, criterion=c) for c in COMBINATIONS if c in raw]
        if len(combinations) == 1:
            facets.append(combinations[0])
        elif combinations:
            facets.append(Node(Kind.COMBINED, raw, criterion="allOf", subschemas=combinations))
        if "not" in raw:
            facets.append(Node(Kind.NOT, raw))
        if "const" in raw:
            facets.append(Node(Kind.CONST, raw))
        declared = raw.get("type")
        if isinstance(declared, str):
            facets.append(_typed(declared, raw, where))
        elif isinstance(declared, list):
            typed = [_typed(name, raw, where) for name in declared]
            facets.append(Node(Kind.COMBINED, raw, criterion="anyOf", subschemas=typed))
        elif declared is None:
            facets.extend(
                Node(kind, raw)
                for kind, keywords, modern in _SNIFFED_KEYWORDS
                if any(k in raw for k in (*keywords, *(modern if self._modern else ())))
            )
        return facets or [Node(Kind.EMPTY, raw)]

    def _fill(self, node: Node, resolver: Resolver[Any], where: str) -> None:
        """Loads the child schemas the diff of `node`'s kind looks at."""
        raw = node.raw
        node.modern = self._modern

        def child(value: object, *steps: str | int) -> Node:
            return self.load(value, resolver, "/".join((where, *map(str, steps))))

        if node.kind is Kind.COMBINED and not node.subschemas:
            node.subschemas = [
                child(sub, node.criterion, i) for i, sub in enumerate(raw[node.criterion])
            ]
        elif node.kind is Kind.COMBINED:
            for part in node.subschemas:
                self._fill(part, resolver, where)
        elif node.kind is Kind.NOT:
            node.negated = child(raw["not"], "not")
        elif node.kind is Kind.OBJECT:
            node.properties = {
                name: child(sub, "properties", name)
                for name, sub in raw.get("properties", {}).items()
            }
            node.pattern_properties = [
                (pattern, child(sub, "patternProperties", pattern))
                for pattern, sub in raw.get("patternProperties", {}).items()
            ]
            dependencies = {**raw.get("dependencies", {})}
            if self._modern:
                dependencies |= raw.get("dependentRequired", {}) | raw.get("dependentSchemas", {})
            node.dependencies = {n: d for n, d in dependencies.items() if isinstance(d, list)}
            node.schema_dependencies = {
                name: child(sub, "dependencies", name)
                for name, sub in dependencies.items()
                if not isinstance(sub, list)
            }
            self._fill_additional(node, "additionalProperties", child)
            self._fill_unevaluated(node, "unevaluatedProperties", child)
        elif node.kind is Kind.ARRAY:
            # 2020-12 spells draft 7's tuple `items` as prefixItems, its additionalItems as items.
            tuple_items = self._modern and "prefixItems" in raw
            listed, rest = ("prefixItems", "items") if tuple_items else ("items", "additionalItems")
            self._fill_additional(node, rest, child)
            items = raw.get(listed)
            if isinstance(items, list):
                node.item_list = [child(sub, listed, i) for i, sub in enumerate(items)]
            elif self._modern and isinstance(items, bool):
                # json-sKema: `items: false` admits no items at all, `items: true` says nothing.
                node.permits_additional = node.permits_additional and items
            elif items is not None:
                node.items = child(items, listed)
            self._fill_unevaluated(node, "unevaluatedItems", child)

    @staticmethod
    def _fill_additional(node: Node, keyword: str, child: Callable[..., Node]) -> None:
        value = node.raw.get(keyword)
        node.permits_additional = value is not False
        if isinstance(value, Mapping):
            node.additional = child(value, keyword)

    def _fill_unevaluated(self, node: Node, keyword: str, child: Callable[..., Node]) -> None:
        if self._modern and keyword in node.raw:
            node.unevaluated = child(node.raw[keyword], keyword)


def _in_place(raw: Mapping[str, Any]) -> list[tuple[str, object]]:
    """The subschemas of `raw` applied to the same value as `raw`, with their paths."""
    found: list[tuple[str, object]] = []
    for keyword in COMBINATIONS:
        branches = raw.get(keyword)
        if isinstance(branches, list):
            found += [(f"{keyword}/{i}", branch) for i, branch in enumerate(branches)]
    found += [
        (keyword, raw[keyword]) for keyword in ("not", "if", "then", "else") if keyword in raw
    ]
    for keyword in ("dependencies", "dependentSchemas"):
        dependencies = raw.get(keyword)
        if isinstance(dependencies, Mapping):
            found += [
                (f"{keyword}/{name}", sub)
                for name, sub in dependencies.items()
                if not isinstance(sub, list)
            ]
    return found


def _typed(name: object, raw: Mapping[str, Any], where: str) -> Node:
    kind = _TYPE_KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise InvalidSchema(f"Invalid schema at {where}/type: unknown type {name!r}")
    return Node(kind, raw, integer=name == "integer")
