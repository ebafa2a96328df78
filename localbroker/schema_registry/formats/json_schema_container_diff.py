"""Confluent's ObjectSchemaDiff and ArraySchemaDiff: properties and items against content models.

A content model is open when anything may appear beside the declared properties or items
(`additionalProperties` absent or true, no patternProperties), partially open when a schema
covers them (`additionalProperties: {...}` or a matching patternProperties entry), and closed
when `additionalProperties` is false. Confluent judges a property removed by the update's
model and a property added by the original's, as the comments in ObjectSchemaDiff say.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from localbroker.schema_registry.formats.json_schema_model import Kind, Node

if TYPE_CHECKING:
    from localbroker.schema_registry.formats.json_schema_compatibility import Context


def object_diff(context: Context, original: Node, update: Node) -> None:
    _required(context, original, update)
    with context.enter("properties"):
        for name in dict.fromkeys([*original.properties, *update.properties]):
            with context.enter(name):
                _property(context, original, update, name)
    _dependencies(context, original, update)
    with context.enter("additionalProperties"):
        _additional(context, original, update, "ADDITIONAL_PROPERTIES")
    _unevaluated(context, original, update, "unevaluatedProperties")
    context.bounds(original, update, ("maxProperties", "minProperties"))


def _property(context: Context, original: Node, update: Node, name: str) -> None:
    before, after = original.properties.get(name), update.properties.get(name)
    if after is None:
        assert before is not None
        _removed(context, before, update, _covering(update, name), "PROPERTY")
    elif before is None:
        if _open(original):
            if after.is_empty:
                context.add("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
            elif name in update.raw.get("required", ()):
                with_default = "_WITH_DEFAULT" if after.has_default() else ""
                context.add(f"REQUIRED_PROPERTY{with_default}_ADDED_TO_OPEN_CONTENT_MODEL")
            else:
                context.add("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
            return
        covering = _covering(original, name)
        if covering is not None:
            _covered(context, covering, after, "PROPERTY_ADDED")
        if name in update.raw.get("required", ()):
            with_default = "_WITH_DEFAULT" if after.has_default() else ""
            context.add(f"REQUIRED_PROPERTY{with_default}_ADDED_TO_UNOPEN_CONTENT_MODEL")
        else:
            context.add("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
    else:
        context.compare(before, after)


def _removed(
    context: Context, before: Node, update: Node, covering: Node | None, what: str
) -> None:
    """A property or item of the original that the update no longer declares."""
    if _open(update):
        context.add(f"{what}_REMOVED_FROM_OPEN_CONTENT_MODEL")
    elif covering is not None:
        _covered(context, before, covering, f"{what}_REMOVED")
    elif before.kind is Kind.FALSE:
        context.add(f"{what}_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
    else:
        context.add(f"{what}_REMOVED_FROM_CLOSED_CONTENT_MODEL")


def _covered(context: Context, original: Node, update: Node, change: str) -> None:
    sub = context.sub()
    sub.compare(original, update)
    context.diffs.extend(sub.diffs)
    covered = "IS_COVERED" if sub.compatible() else "NOT_COVERED"
    context.add(f"{change}_{covered}_BY_PARTIALLY_OPEN_CONTENT_MODEL")


def _open(node: Node) -> bool:
    """isOpenContentModel: additionalProperties / additionalItems absent or true, no
    patternProperties, and unevaluatedProperties / unevaluatedItems absent or true."""
    if not node.permits_additional or node.additional is not None or node.pattern_properties:
        return False
    return node.unevaluated is None or node.unevaluated.is_empty


def _covering(node: Node, name: str | None) -> Node | None:
    """schemaFromPartiallyOpenContentModel: the patternProperties entry matching the property
    `name`, else the schema of additionalProperties / additionalItems, else (those absent) a
    schema of unevaluatedProperties / unevaluatedItems."""
    for pattern, schema in node.pattern_properties:
        if name is not None and re.search(pattern, name):
            return schema
    if node.additional is not None:
        return node.additional
    unevaluated = node.unevaluated
    if node.permits_additional and unevaluated is not None and unevaluated.kind is not Kind.FALSE:
        return None if unevaluated.is_empty else unevaluated
    return None


def _required(context: Context, original: Node, update: Node) -> None:
    before, after = original.raw.get("required", ()), update.raw.get("required", ())
    with context.enter("required"):
        for name in original.properties:
            if name not in update.properties:
                continue
            if name in before and name not in after:
                context.add("REQUIRED_ATTRIBUTE_REMOVED", name)
            elif name not in before and name in after:
                with_default = "_WITH_DEFAULT" if update.properties[name].has_default() else ""
                context.add(f"REQUIRED_ATTRIBUTE{with_default}_ADDED", name)


def _dependencies(context: Context, original: Node, update: Node) -> None:
    before, after = original.dependencies, update.dependencies
    with context.enter("dependencies"):
        for name in dict.fromkeys([*before, *after]):
            _dependency_array(context, name, before.get(name), after.get(name))
        for name in dict.fromkeys([*original.schema_dependencies, *update.schema_dependencies]):
            with context.enter(name):
                if name not in update.schema_dependencies:
                    context.add("DEPENDENCY_SCHEMA_REMOVED")
                elif name not in original.schema_dependencies:
                    context.add("DEPENDENCY_SCHEMA_ADDED")
                else:
                    context.compare(
                        original.schema_dependencies[name], update.schema_dependencies[name]
                    )


def _dependency_array(context: Context, name: str, old: object, new: object) -> None:
    if not isinstance(new, list):
        context.add("DEPENDENCY_ARRAY_REMOVED", name)
    elif not isinstance(old, list):
        context.add("DEPENDENCY_ARRAY_ADDED", name)
    elif set(old) != set(new):
        if set(new) >= set(old):
            context.add("DEPENDENCY_ARRAY_EXTENDED", name)
        elif set(old) >= set(new):
            context.add("DEPENDENCY_ARRAY_NARROWED", name)
        else:
            context.add("DEPENDENCY_ARRAY_CHANGED", name)


def _additional(context: Context, original: Node, update: Node, stem: str) -> None:
    """compareAdditionalProperties / compareAdditionalItems (the path already entered)."""
    if original.permits_additional != update.permits_additional:
        context.add(f"{stem}_ADDED" if update.permits_additional else f"{stem}_REMOVED")
    elif original.additional is None and update.additional is not None:
        context.add(f"{stem}_NARROWED")
    elif update.additional is None and original.additional is not None:
        context.add(f"{stem}_EXTENDED")
    else:
        context.compare(original.additional, update.additional)


def array_diff(context: Context, original: Node, update: Node) -> None:
    with context.enter("items"):
        context.compare(original.items, update.items)
    before, after = original.item_list, update.item_list
    for index in range(max(len(before), len(after))):
        with context.enter(f"items/{index}"):
            if index < len(before) and index < len(after):
                context.compare(before[index], after[index])
            elif index < len(before):
                _removed(context, before[index], update, _covering(update, None), "ITEM")
            elif _open(original):
                empty = after[index].is_empty
                context.add(
                    f"ITEM{'_WITH_EMPTY_SCHEMA' if empty else ''}_ADDED_TO_OPEN_CONTENT_MODEL"
                )
            elif (covering := _covering(original, None)) is not None:
                _covered(context, covering, after[index], "ITEM_ADDED")
            else:
                context.add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL")
    with context.enter("additionalItems"):
        _additional(context, original, update, "ADDITIONAL_ITEMS")
    _unevaluated(context, original, update, "unevaluatedItems")
    context.bounds(original, update, ("maxItems", "minItems"))
    unique_before = original.raw.get("uniqueItems") is True
    unique_after = update.raw.get("uniqueItems") is True
    if unique_before != unique_after:
        context.add(
            "UNIQUE_ITEMS_REMOVED" if unique_before else "UNIQUE_ITEMS_ADDED", "uniqueItems"
        )
    context.bounds(original, update, ("maxContains", "minContains"))


def _unevaluated(context: Context, original: Node, update: Node, keyword: str) -> None:
    """compareUnevaluatedProperties / compareUnevaluatedItems: absent and true both admit
    anything, false nothing, a schema what it matches."""
    before, after = original.unevaluated, update.unevaluated
    if before is None and after is None:
        return
    stem = "UNEVALUATED_PROPERTIES" if keyword == "unevaluatedProperties" else "UNEVALUATED_ITEMS"
    closed_before = before is not None and before.kind is Kind.FALSE
    closed_after = after is not None and after.kind is Kind.FALSE
    with context.enter(keyword):
        if closed_before != closed_after:
            context.add(f"{stem}_REMOVED" if closed_after else f"{stem}_ADDED")
        elif before is None or after is None or before.is_empty != after.is_empty:
            opened = after is None or after.is_empty
            context.add(f"{stem}_EXTENDED" if opened else f"{stem}_NARROWED")
        else:
            context.compare(before, after)
