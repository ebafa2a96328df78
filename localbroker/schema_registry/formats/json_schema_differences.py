"""Confluent's JSON Schema `Difference.Type`s: which are compatible, and how each is worded.

Copied from json-schema-provider's diff/SchemaDiff.java (COMPATIBLE_CHANGES_STRICT, the set the
registry uses under its default STRICT compatibility policy) and diff/Difference.java (the
description of each type). A description keeps Confluent's two `%s` slots for the reader's
and the writer's roles; the registry fills them with "new" and "old" as the level has them, as
Confluent's SchemaValidatorBuilder does.
"""

from __future__ import annotations

COMPATIBLE_CHANGES = frozenset(
    {
        "ID_CHANGED",
        "DESCRIPTION_CHANGED",
        "TITLE_CHANGED",
        "DEFAULT_CHANGED",
        "SCHEMA_REMOVED",
        "TYPE_EXTENDED",
        "MAX_LENGTH_INCREASED",
        "MAX_LENGTH_REMOVED",
        "MIN_LENGTH_DECREASED",
        "MIN_LENGTH_REMOVED",
        "PATTERN_REMOVED",
        "MAXIMUM_INCREASED",
        "MAXIMUM_REMOVED",
        "MINIMUM_DECREASED",
        "MINIMUM_REMOVED",
        "EXCLUSIVE_MAXIMUM_INCREASED",
        "EXCLUSIVE_MAXIMUM_REMOVED",
        "EXCLUSIVE_MINIMUM_DECREASED",
        "EXCLUSIVE_MINIMUM_REMOVED",
        "MULTIPLE_OF_REDUCED",
        "MULTIPLE_OF_REMOVED",
        "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
        "REQUIRED_ATTRIBUTE_REMOVED",
        "DEPENDENCY_ARRAY_NARROWED",
        "DEPENDENCY_ARRAY_REMOVED",
        "DEPENDENCY_SCHEMA_REMOVED",
        "MAX_PROPERTIES_INCREASED",
        "MAX_PROPERTIES_REMOVED",
        "MIN_PROPERTIES_DECREASED",
        "MIN_PROPERTIES_REMOVED",
        "ADDITIONAL_PROPERTIES_ADDED",
        "ADDITIONAL_PROPERTIES_EXTENDED",
        "UNEVALUATED_PROPERTIES_ADDED",
        "UNEVALUATED_PROPERTIES_EXTENDED",
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "MAX_ITEMS_INCREASED",
        "MAX_ITEMS_REMOVED",
        "MIN_ITEMS_DECREASED",
        "MIN_ITEMS_REMOVED",
        "MAX_CONTAINS_INCREASED",
        "MAX_CONTAINS_REMOVED",
        "MIN_CONTAINS_DECREASED",
        "MIN_CONTAINS_REMOVED",
        "UNIQUE_ITEMS_REMOVED",
        "ADDITIONAL_ITEMS_ADDED",
        "ADDITIONAL_ITEMS_EXTENDED",
        "UNEVALUATED_ITEMS_ADDED",
        "UNEVALUATED_ITEMS_EXTENDED",
        "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
        "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ENUM_ARRAY_EXTENDED",
        "COMBINED_TYPE_EXTENDED",
        "PRODUCT_TYPE_NARROWED",
        "SUM_TYPE_EXTENDED",
        "NOT_TYPE_NARROWED",
    }
)

_KEYWORD_ADDED_OR_REMOVED = frozenset(
    {
        *(f"{k}_ADDED" for k in ("MAXIMUM", "MINIMUM", "EXCLUSIVE_MAXIMUM", "EXCLUSIVE_MINIMUM")),
        *(f"{k}_ADDED" for k in ("MULTIPLE_OF", "MAX_LENGTH", "MIN_LENGTH", "PATTERN")),
        *(f"{k}_ADDED" for k in ("REQUIRED_ATTRIBUTE", "MAX_PROPERTIES", "MIN_PROPERTIES")),
        *(f"{k}_ADDED" for k in ("DEPENDENCY_ARRAY", "DEPENDENCY_SCHEMA", "MAX_ITEMS")),
        *(f"{k}_ADDED" for k in ("MIN_ITEMS", "MAX_CONTAINS", "MIN_CONTAINS", "UNIQUE_ITEMS")),
        "ADDITIONAL_ITEMS_REMOVED",
        "ADDITIONAL_PROPERTIES_REMOVED",
        "UNEVALUATED_PROPERTIES_REMOVED",
        "UNEVALUATED_ITEMS_REMOVED",
    }
)
_VALUE_INCREASED = frozenset(
    {
        *(f"{k}_INCREASED" for k in ("MIN_LENGTH", "MINIMUM", "EXCLUSIVE_MINIMUM")),
        *(f"{k}_INCREASED" for k in ("MIN_PROPERTIES", "MIN_ITEMS", "MIN_CONTAINS")),
        "MULTIPLE_OF_EXPANDED",
    }
)
_VALUE_DECREASED = frozenset(
    f"{k}_DECREASED"
    for k in ("MAX_LENGTH", "MAXIMUM", "MAX_ITEMS", "MAX_CONTAINS", "EXCLUSIVE_MAXIMUM")
) | {"MAX_PROPERTIES_DECREASED"}
_TYPE_NARROWED = frozenset(
    {
        *(f"{k}_NARROWED" for k in ("ADDITIONAL_ITEMS", "ENUM_ARRAY", "SUM_TYPE")),
        *(f"{k}_NARROWED" for k in ("ADDITIONAL_PROPERTIES", "UNEVALUATED_PROPERTIES")),
        "UNEVALUATED_ITEMS_NARROWED",
    }
)
_VALUE_CHANGED = frozenset({"PATTERN_CHANGED", "MULTIPLE_OF_CHANGED", "DEPENDENCY_ARRAY_CHANGED"})
_TYPE_CHANGED = frozenset(
    {"TYPE_CHANGED", "TYPE_NARROWED", "COMBINED_TYPE_CHANGED", "ENUM_ARRAY_CHANGED"}
) | {"COMBINED_TYPE_SUBSCHEMAS_CHANGED"}
_TYPE_EXTENDED = frozenset(
    f"{k}_EXTENDED" for k in ("DEPENDENCY_ARRAY", "PRODUCT_TYPE", "SUM_TYPE", "NOT_TYPE")
)
_ADDED_TO_OPEN = frozenset(
    {
        "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
    }
)


def describe(kind: str, path: str) -> str:
    """Confluent's `Difference.toString()`, its two `%s` slots left for the registry."""
    return f'{{errorType:"{kind}", description:"{_description(kind, path)}\'}}'


def _description(kind: str, path: str) -> str:
    at = f"path '{path}'"
    if kind in _KEYWORD_ADDED_OR_REMOVED:
        return f"The keyword at {at} in the %s schema is not present in the %s schema"
    if kind in _VALUE_INCREASED:
        return f"The value at {at} in the %s schema is more than its value in the %s schema"
    if kind in _VALUE_DECREASED:
        return f"The value at {at} in the %s schema is less than its value in the %s schema"
    if kind in _VALUE_CHANGED:
        return f"The value at {at} is different between the %s and %s schema"
    if kind in _TYPE_NARROWED:
        return (
            f"An array or combined type at {at} has fewer elements in the %s schema than the "
            "%s schema"
        )
    if kind in _TYPE_EXTENDED:
        return (
            f"An array or combined type at {at} has more elements in the %s schema than the "
            "%s schema"
        )
    if kind in _TYPE_CHANGED:
        return f"A type at {at} is different between the %s schema and the %s schema"
    return _property_or_item_description(kind, at)


def _property_or_item_description(kind: str, at: str) -> str:
    if kind in _ADDED_TO_OPEN:
        return (
            f"The %s schema has an open content model and has a property or item at {at} "
            "which is missing in the %s schema"
        )
    if kind == "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL":
        return (
            f"The %s schema has an unopen content model and has a required property at {at} "
            "which is missing in the %s schema"
        )
    if kind in (
        "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    ):
        return (
            "The %s has a closed content model and is missing a property or item present at "
            f"{at} in the %s schema"
        )
    if kind.endswith("_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"):
        return (
            f"A property or item is missing in the %s schema but present at {at} in the %s "
            "schema and is not covered by its partially open content model"
        )
    if kind.endswith("_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"):
        return (
            f"The %s schema has a property or item at {at} which is missing in the %s schema "
            "and is not covered by its partially open content model"
        )
    return ""
