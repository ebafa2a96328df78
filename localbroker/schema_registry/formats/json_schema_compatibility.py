"""Confluent's JSON Schema compatibility: its `SchemaDiff`, followed case by case.

Confluent compares an original schema (the one that wrote the data) with an update (the one
that reads it), records each difference as a `Difference.Type` at a JSON path, and calls the
update compatible when every difference is in `SchemaDiff.COMPATIBLE_CHANGES_STRICT` (the
registry's default compatibility policy). The types, paths, and the
`{errorType:"...", description:"..."}` lines are Confluent's, from json-schema-provider's
`diff/` package (SchemaDiff, ObjectSchemaDiff, ArraySchemaDiff, StringSchemaDiff,
NumberSchemaDiff, EnumSchemaDiff, ConstSchemaDiff, CombinedSchemaDiff, NotSchemaDiff, Context,
Difference). A description keeps Confluent's two `%s` slots, which the registry fills as
Confluent's SchemaValidatorBuilder does: the reader's role first, the writer's second ("new" and
"old", as the level has them).

2019-09 and 2020-12 schemas are read as Confluent's json-sKema translation reads them (see
json_schema_model). Not followed: the LENIENT policy; the fixpoint re-run Confluent makes after
a cycle was assumed compatible (a cycle here is always assumed compatible, the first pass of
Confluent's iteration); and json-sKema's reading of a 2020-12 schema whose only object keyword
is an empty `properties` as an empty schema (3 of the 131 cases of Confluent's 2020-12 corpus).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from localbroker.schema_registry.formats.json_schema_container_diff import array_diff, object_diff
from localbroker.schema_registry.formats.json_schema_differences import COMPATIBLE_CHANGES, describe
from localbroker.schema_registry.formats.json_schema_model import Kind, Node

Difference = tuple[str, str]
"""A Difference.Type name and the JSON path (`#/properties/a`) where it was found."""

_Pair = tuple[int, int]


def incompatibilities(reader: Node, writer: Node) -> list[str]:
    """Confluent's `isBackwardCompatible(writer)` called on `reader`: the incompatible
    differences between the writer (original) and the reader (update), one line each."""
    found = differences(writer, reader)
    return [describe(kind, path) for kind, path in found if kind not in COMPATIBLE_CHANGES]


def differences(original: Node, update: Node) -> list[Difference]:
    """Every difference `SchemaDiff.compare(original, update)` records, compatible or not."""
    context = Context({}, set())
    compare(context, original, update)
    return context.diffs


@dataclass
class Context:
    """Confluent's diff Context: the current path and the differences found under it, with the
    memo of compared pairs and the pairs being compared, both shared by every subcontext."""

    memo: dict[_Pair, list[Difference]]
    in_progress: set[_Pair]
    path: list[str] = field(default_factory=list)
    diffs: list[Difference] = field(default_factory=list)

    def sub(self) -> Context:
        """A context at the same path whose differences are judged before being kept."""
        return Context(self.memo, self.in_progress, list(self.path))

    def compare(self, original: Node | None, update: Node | None) -> None:
        compare(self, original, update)

    @contextmanager
    def enter(self, step: str) -> Iterator[None]:
        self.path.append(step)
        try:
            yield
        finally:
            self.path.pop()

    def add(self, kind: str, attribute: str | None = None) -> None:
        steps = [*self.path, attribute] if attribute is not None else self.path
        self.diffs.append((kind, "#/" + "/".join(steps)))

    def bounds(self, original: Node, update: Node, keywords: tuple[str, ...]) -> None:
        """The ADDED / REMOVED / INCREASED / DECREASED comparison each *Diff makes of its
        numeric keywords (maxLength, maximum, maxProperties, maxItems ...)."""
        for keyword in keywords:
            before, after = (_bound(node, keyword) for node in (original, update))
            if before == after:
                continue
            stem = re.sub(r"(?<!^)([A-Z])", r"_\1", keyword).upper()
            if before is None:
                self.add(f"{stem}_ADDED", keyword)
            elif after is None:
                self.add(f"{stem}_REMOVED", keyword)
            else:
                self.add(f"{stem}_INCREASED" if before < after else f"{stem}_DECREASED", keyword)

    def compatible(self) -> bool:
        return all(kind in COMPATIBLE_CHANGES for kind, _ in self.diffs)


def compare(context: Context, original: Node | None, update: Node | None) -> None:
    """SchemaDiff.compare: memoized by the identity of the pair, a pair met again while it is
    being compared counts as compatible, and the pair's differences are rebased on the path."""
    if original is None and update is None:
        return
    if original is None:
        context.add("SCHEMA_ADDED")
        return
    if update is None:
        context.add("SCHEMA_REMOVED")
        return
    pair = (id(original), id(update))
    found = context.memo.get(pair)
    if found is None:
        if pair in context.in_progress:
            return
        context.in_progress.add(pair)
        try:
            pair_context = Context(context.memo, context.in_progress)
            _compare_types(pair_context, original, update)
            found = context.memo[pair] = list(pair_context.diffs)
        finally:
            context.in_progress.discard(pair)
    prefix = "#/" + "/".join(context.path)
    for kind, path in found:
        rebased = path if not context.path else prefix + ("/" + path[2:] if path[2:] else "")
        context.diffs.append((kind, rebased))


def _compare_types(context: Context, original: Node, update: Node) -> None:
    if _compare_with_union(context, original, update):
        return
    if original.kind != update.kind:
        if original.kind is Kind.FALSE or update.is_empty:
            return
        if original.raw.get("connect.type") == update.raw.get("connect.type") == "bytes":
            return
        context.add("TYPE_CHANGED")
        return
    for keyword, kind in (
        ("$id", "ID_CHANGED"),
        ("title", "TITLE_CHANGED"),
        ("description", "DESCRIPTION_CHANGED"),
        ("default", "DEFAULT_CHANGED"),
    ):
        if _common(original, keyword) != _common(update, keyword):
            context.add(kind)
    _DIFFS.get(original.kind, _no_diff)(context, original, update)


def _compare_with_union(context: Context, original: Node, update: Node) -> bool:
    """SchemaDiff's special cases where one side only is combined: a singleton union, or a
    plain schema that one of the update's anyOf/oneOf branches (or the original's allOf
    branches) covers. True when that decided the comparison."""
    if original.kind is not Kind.COMBINED and update.kind is Kind.COMBINED:
        combined, extended = update, "SUM_TYPE_EXTENDED"
        criteria: tuple[str, ...] = ("anyOf", "oneOf")
    elif original.kind is Kind.COMBINED and update.kind is not Kind.COMBINED:
        combined, extended, criteria = original, "PRODUCT_TYPE_NARROWED", ("allOf",)
    else:
        return False
    singleton = len(combined.subschemas) == 1
    if not singleton and combined.criterion not in criteria:
        return False
    for branch in combined.subschemas:
        sub = context.sub()
        if combined is update:
            compare(sub, original, branch)
        else:
            compare(sub, branch, update)
        if sub.compatible():
            context.diffs.extend(sub.diffs)
            if not singleton:
                context.add(extended)
            return True
        if singleton:
            return False
    return False


def _common(node: Node, keyword: str) -> object:
    """Title, description, default, `$id` (draft 4's `id`) of the outermost schema; json-sKema
    takes a 2019-09 or 2020-12 `$id` as the resource's base URI, never as a difference."""
    if not node.common or (keyword == "$id" and node.modern):
        return None
    if keyword == "$id" and "$id" not in node.raw:
        return node.raw.get("id")
    return node.raw.get(keyword)


def _bound(node: Node, keyword: str) -> int | float | None:
    """A numeric keyword when it holds a number (draft 4's boolean exclusiveMaximum is no limit
    of its own, and keywords a metaschema does not know may hold anything); json-sKema gives
    `contains` a minContains of 1 when none is written."""
    implied = keyword == "minContains" and node.modern and "contains" in node.raw
    value = node.raw.get(keyword, 1 if implied else None)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _string_diff(context: Context, original: Node, update: Node) -> None:
    context.bounds(original, update, ("maxLength", "minLength"))
    before, after = original.raw.get("pattern"), update.raw.get("pattern")
    if before is None and after is not None:
        context.add("PATTERN_ADDED", "pattern")
    elif before is not None and after is None:
        context.add("PATTERN_REMOVED", "pattern")
    elif before != after:
        context.add("PATTERN_CHANGED", "pattern")


def _number_diff(context: Context, original: Node, update: Node) -> None:
    context.bounds(original, update, ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"))
    before, after = (_decimal(n.raw.get("multipleOf")) for n in (original, update))
    if before != after:
        if before is None:
            context.add("MULTIPLE_OF_ADDED", "multipleOf")
        elif after is None:
            context.add("MULTIPLE_OF_REMOVED", "multipleOf")
        elif before != 0 and after % before == 0:
            context.add("MULTIPLE_OF_EXPANDED", "multipleOf")
        elif after != 0 and before % after == 0:
            context.add("MULTIPLE_OF_REDUCED", "multipleOf")
        else:
            context.add("MULTIPLE_OF_CHANGED", "multipleOf")
    if original.integer != update.integer:
        context.add("TYPE_EXTENDED" if original.integer else "TYPE_NARROWED")


def _decimal(value: object) -> Decimal | None:
    return Decimal(str(value)) if isinstance(value, int | float | Decimal) else None


def _enum_diff(context: Context, original: Node, update: Node) -> None:
    before, after = (_json_set(n.raw["enum"]) for n in (original, update))
    if before == after:
        return
    if after >= before:
        context.add("ENUM_ARRAY_EXTENDED", "enum")
    elif before >= after:
        context.add("ENUM_ARRAY_NARROWED", "enum")
    else:
        context.add("ENUM_ARRAY_CHANGED", "enum")


def _json_set(values: list[Any]) -> set[str]:
    """Values as Java's equals sees them: 1 and 1.0 differ, key order does not matter."""
    return {json.dumps(value, sort_keys=True) for value in values}


def _const_diff(context: Context, original: Node, update: Node) -> None:
    if _json_set([original.raw["const"]]) != _json_set([update.raw["const"]]):
        context.add("ENUM_ARRAY_CHANGED", "const")


def _not_diff(context: Context, original: Node, update: Node) -> None:
    with context.enter("not"):
        sub = context.sub()
        compare(sub, update.negated, original.negated)
        context.add("NOT_TYPE_NARROWED" if sub.compatible() else "NOT_TYPE_EXTENDED")


def _combined_diff(context: Context, original: Node, update: Node) -> None:
    """CombinedSchemaDiff: the criteria, the number of distinct branches, then a maximum
    matching between the original's and the update's branches over the compatible pairs."""
    if _criteria_changed(context, original, update):
        return
    before, after = _distinct(original.subschemas), _distinct(update.subschemas)
    if len(before) < len(after):
        extended = "PRODUCT_TYPE_EXTENDED" if update.criterion == "allOf" else "SUM_TYPE_EXTENDED"
        context.add(extended)
    elif len(before) > len(after):
        narrowed = "PRODUCT_TYPE_NARROWED" if original.criterion == "allOf" else "SUM_TYPE_NARROWED"
        context.add(narrowed)
    edges: dict[tuple[int, int], list[Difference]] = {}
    for i, branch in enumerate(before):
        with context.enter(f"{original.criterion}/{i}"):
            for j, candidate in enumerate(after):
                sub = context.sub()
                compare(sub, branch, candidate)
                if sub.compatible():
                    edges[i, j] = sub.diffs
    matching = _maximum_matching(edges, len(before))
    for edge in matching:
        context.diffs.extend(edges[edge])
    if len(matching) < min(len(before), len(after)):
        context.add("COMBINED_TYPE_SUBSCHEMAS_CHANGED")


def _criteria_changed(context: Context, original: Node, update: Node) -> bool:
    """CombinedSchemaDiff.compareCriteria; true when the branches are not worth comparing."""
    if original.criterion == update.criterion:
        return False
    single_before, single_after = len(original.subschemas) == 1, len(update.subschemas) == 1
    if (
        update.criterion == "anyOf"
        or (single_before and single_after)
        or (single_before and update.criterion == "oneOf")
        or (single_after and original.criterion == "allOf")
    ):
        context.add("COMBINED_TYPE_EXTENDED")
        return False
    context.add("COMBINED_TYPE_CHANGED")
    return True


def _distinct(branches: list[Node]) -> list[Node]:
    """Branches with duplicates collapsed, as Confluent's LinkedHashSet of JsonSchema does."""
    seen: dict[str, Node] = {}
    for branch in branches:
        key = json.dumps(
            [branch.kind, branch.criterion, branch.integer, branch.raw], sort_keys=True
        )
        seen.setdefault(key, branch)
    return list(seen.values())


def _maximum_matching(edges: Mapping[tuple[int, int], object], left: int) -> list[tuple[int, int]]:
    """A maximum bipartite matching (augmenting paths) of original to update branches."""
    partner: dict[int, int] = {}

    def augment(i: int, visited: set[int]) -> bool:
        for a, j in edges:
            if a != i or j in visited:
                continue
            visited.add(j)
            if j not in partner or augment(partner[j], visited):
                partner[j] = i
                return True
        return False

    for i in range(left):
        augment(i, set())
    return sorted((i, j) for j, i in partner.items())


def _no_diff(context: Context, original: Node, update: Node) -> None:
    """BooleanSchema, NullSchema, EmptySchema ...: nothing beyond the common keywords."""


_Diff = Callable[[Context, Node, Node], None]
_DIFFS: dict[Kind, _Diff] = {
    Kind.STRING: _string_diff,
    Kind.NUMBER: _number_diff,
    Kind.ENUM: _enum_diff,
    Kind.CONST: _const_diff,
    Kind.NOT: _not_diff,
    Kind.COMBINED: _combined_diff,
    Kind.OBJECT: object_diff,
    Kind.ARRAY: array_diff,
}
