"""SVG snapshot of the Schemas pane at 80x24: subjects with their latest version, type,
compatibility (own or global) and references, and a version's schema highlighted below.

Nothing here varies between runs: the pane is fed fixed summaries and a fixed version, as the
registry would answer them; no registry runs. test_schemas_pane.py covers the same pane
against the embedded broker's registry.

Update after an intended change:
`pytest tests/tui/test_snapshots_schemas.py --snapshot-update`, then look at the SVG under
__snapshots__ before committing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from snapshot_host import SMALL, PaneHost, snap_pane
from textual.app import App
from textual.widget import Widget
from textual.widgets import DataTable

from localbroker.public import CompatibilityLevel, SchemaReference, SchemaType
from tui.kafka.schema_registry.client import RegisteredSchema
from tui.kafka.schema_registry.subjects import SchemaVersion, SubjectSummary, readable
from tui.widgets.schemas_pane import SchemasPane

BACKWARD, FULL = CompatibilityLevel.BACKWARD, CompatibilityLevel.FULL
ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "item", "type": "string", "default": ""},
        {"name": "customer", "type": "shop.Customer"},
    ],
}
CUSTOMER = SchemaReference("shop.Customer", "customer-value", 1)
SUMMARIES = [
    SubjectSummary("customer-value", 1, (1,), SchemaType.AVRO, None, BACKWARD, ()),
    SubjectSummary("events-value", 4, (1, 2, 3, 4), SchemaType.JSON, FULL, BACKWARD, ()),
    SubjectSummary("orders-value", 2, (1, 2), SchemaType.AVRO, None, BACKWARD, (CUSTOMER,)),
    SubjectSummary("payments-value", 1, (1,), SchemaType.PROTOBUF, None, BACKWARD, ()),
]


def prepare(pane: Widget) -> None:
    assert isinstance(pane, SchemasPane)
    pane.show_subjects(SUMMARIES)
    text = readable(json.dumps(ORDER), SchemaType.AVRO)
    shown = SchemaVersion(
        "orders-value", 2, RegisteredSchema(7, SchemaType.AVRO, text, (CUSTOMER,))
    )
    pane.show_schema(shown, "orders-value v2 · AVRO · id 7", text, text)


def listed(app: App[None]) -> bool:
    return app.screen_stack[0].query_one("#subject-list", DataTable).row_count == len(SUMMARIES)


def test_schemas_pane(snap_compare: Callable[..., bool]) -> None:
    """Four subjects of three types, one with its own level and one with a reference; the
    Avro schema of orders-value v2 highlighted."""
    host = lambda: PaneHost(SchemasPane(), focus="#subject-list", prepare=prepare)  # noqa: E731
    assert snap_pane(snap_compare, host, SMALL, until=listed)
