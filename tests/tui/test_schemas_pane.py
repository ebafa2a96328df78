"""The Schemas pane on the embedded broker's Schema Registry: subjects registered by
confluent-kafka's SchemaRegistryClient are listed, shown, diffed, given a new version (after
the registry's compatibility check, whose refusal is shown) and a compatibility level that
the registry's REST API then reports; without a registry the pane says how to name one."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from reference_kafka import free_port
from textual.widgets import DataTable, OptionList, Static, TextArea
from workbench_pilot import (
    SIZE,
    press_until,
    screen_after,
    wait_connected,
    wait_until,
    workbench_app,
)

from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker
from tui.kafka.connection import from_properties
from tui.kafka.schema_registry.settings import URL as REGISTRY_URL
from tui.profiles import DEFAULT_COLOURS, LOCAL_PROFILE, Profile
from tui.screens.compatibility_level import CompatibilityLevelScreen
from tui.screens.register_schema import RegisterSchemaScreen
from tui.widgets.schemas_pane import NO_REGISTRY, SchemasPane
from tui.widgets.table_sync import select_row
from tui.workbench import Workbench

pytestmark = pytest.mark.timeout(120)


def order(*fields: dict[str, object]) -> str:
    return json.dumps(
        {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}, *fields]}
    )


ITEM = {"name": "item", "type": "string", "default": ""}
NOTE_WITHOUT_DEFAULT = {"name": "note", "type": "string"}
NOTE = {"name": "note", "type": "string", "default": "-"}
EVENT = json.dumps({"type": "object", "properties": {"kind": {"type": "string"}}})
PAYMENT = 'syntax = "proto3";\npackage shop;\n\nmessage Payment {\n  string id = 1;\n}\n'


@pytest.fixture(scope="module")
def with_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """orders-value v1 and v2 (Avro), events-value (JSON Schema), payments-value
    (Protobuf) and refunds-value (Avro, given new versions), as a client registers them."""
    broker = EmbeddedBroker(
        tmp_path_factory.mktemp("schemas") / "broker", port=0, schema_registry_port=0
    ).start()
    try:
        assert broker.schema_registry_url is not None
        client = SchemaRegistryClient({"url": broker.schema_registry_url})
        client.register_schema("orders-value", Schema(order(), "AVRO"))
        client.register_schema("orders-value", Schema(order(ITEM), "AVRO"))
        client.register_schema("events-value", Schema(EVENT, "JSON"))
        client.register_schema("payments-value", Schema(PAYMENT, "PROTOBUF"))
        client.register_schema("refunds-value", Schema(order(ITEM), "AVRO"))
        yield broker
    finally:
        broker.stop()


def rest(broker: EmbeddedBroker, path: str) -> object:
    assert broker.schema_registry_url is not None
    with urllib.request.urlopen(broker.schema_registry_url + path, timeout=10) as answer:
        return json.load(answer)


def shown_text(pane: SchemasPane) -> str:
    return "\n".join(pane.query_one("#schema-text", Static).render_line(y).text for y in range(40))


async def open_pane(pilot: object, app: WorkbenchApp, subject: str) -> SchemasPane:
    await wait_connected(pilot, app)  # type: ignore[arg-type]
    await press_until(pilot, "9", lambda: app.query(SchemasPane), "the Schemas pane")  # type: ignore[arg-type]
    pane = app.query_one(SchemasPane)
    await wait_until(pilot, lambda: len(pane.summaries) == 4, "the subjects listed")  # type: ignore[arg-type]
    table = pane.query_one("#subject-list", DataTable)
    assert select_row(table, subject)
    table.focus()
    return pane


def local_app(broker: EmbeddedBroker) -> WorkbenchApp:
    profile = Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE])
    return WorkbenchApp(Workbench.local(profile, broker), watch_theme_files=False)


async def test_subjects_listed_shown_diffed_and_their_level_set(
    with_registry: EmbeddedBroker,
) -> None:
    app = local_app(with_registry)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app, "orders-value")
        orders = next(s for s in pane.summaries if s.subject == "orders-value")
        assert (orders.latest, orders.schema_type.value, orders.compatibility) == (
            2,
            "AVRO",
            "global BACKWARD",
        )
        types = {s.subject: s.schema_type.value for s in pane.summaries}
        assert types == {
            "orders-value": "AVRO",
            "events-value": "JSON",
            "payments-value": "PROTOBUF",
            "refunds-value": "AVRO",
        }

        await press_until(pilot, "enter", lambda: pane.shown is not None, "v2 shown")
        assert pane.shown is not None and pane.shown.version == 2
        assert '"name": "item"' in shown_text(pane)
        await press_until(pilot, "left_square_bracket", lambda: pane.shown.version == 1, "v1 shown")
        assert '"name": "item"' not in shown_text(pane)

        await press_until(
            pilot, "right_square_bracket", lambda: pane.shown.version == 2, "v2 again"
        )
        await press_until(pilot, "d", lambda: "diff" in pane.shown_title, "the diff")
        assert pane.shown_title == "diff orders-value v1 → v2"
        diff = shown_text(pane)
        assert "--- orders-value v1" in diff and "+++ orders-value v2" in diff
        assert '+    {\n+      "name": "item",' in diff

        screen = await screen_after(pilot, "c", CompatibilityLevelScreen, "the levels")
        levels = screen.query_one(OptionList)
        levels.highlighted = 5  # FULL
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: rest(with_registry, "/config/orders-value") == {"compatibilityLevel": "FULL"},
            "the level set",
        )
        await wait_until(
            pilot,
            lambda: any(s.compatibility == "FULL" for s in pane.summaries),
            "the level listed",
        )

        table = pane.query_one("#subject-list", DataTable)
        assert select_row(table, "payments-value")
        await press_until(
            pilot, "enter", lambda: pane.shown.subject == "payments-value", "the Protobuf shown"
        )
        assert "message Payment {" in shown_text(pane)
        assert pane.shown_title.startswith("payments-value v1 · PROTOBUF · id ")


async def test_a_new_version_registered_once_compatible(with_registry: EmbeddedBroker) -> None:
    rest_before = rest(with_registry, "/subjects/refunds-value/versions")
    app = local_app(with_registry)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app, "refunds-value")
        screen = await screen_after(pilot, "n", RegisterSchemaScreen, "the editor")
        editor = screen.query_one(TextArea)
        assert '"name": "item"' in editor.text  # it starts from the latest version
        messages = screen.query_one("#register-messages", Static)

        editor.text = order(ITEM, NOTE_WITHOUT_DEFAULT)
        await press_until(
            pilot, "ctrl+s", lambda: "incompatible" in str(messages.render()), "the refusal"
        )
        refusal = str(messages.render())
        assert refusal.startswith("incompatible: "), refusal  # the check, before registering
        assert "note" in refusal, refusal  # the registry's own reason names the field
        assert rest(with_registry, "/subjects/refunds-value/versions") == rest_before

        editor.text = order(ITEM, NOTE)
        await press_until(pilot, "ctrl+s", lambda: app.screen is not screen, "registered")
        assert rest(with_registry, "/subjects/refunds-value/versions") == [1, 2]
        await wait_until(pilot, lambda: pane.shown and pane.shown.version == 2, "v2 shown")


async def test_without_a_registry_the_pane_says_how_to_name_one(
    embedded: EmbeddedBroker,
) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        await press_until(pilot, "9", lambda: app.query(SchemasPane), "the Schemas pane")
        facts = app.query_one("#schemas-facts", Static)
        await wait_until(pilot, lambda: str(facts.render()) == NO_REGISTRY, "the advice")
        assert "schema.registry.url" in NO_REGISTRY and "--schema-registry URL" in NO_REGISTRY


async def test_an_unreachable_registry_is_said_and_its_actions_refused(
    embedded: EmbeddedBroker,
) -> None:
    """A registry no one answers at: the pane says so, and the keys say why they do nothing
    (no traceback)."""
    registry = f"http://127.0.0.1:{free_port()}"
    profile = Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE])
    connection = from_properties(embedded.bootstrap, {REGISTRY_URL: registry})
    app = WorkbenchApp(Workbench(profile, connection, embedded), watch_theme_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        await press_until(pilot, "9", lambda: app.query(SchemasPane), "the Schemas pane")
        facts = app.query_one("#schemas-facts", Static)
        await wait_until(pilot, lambda: "unreachable" in str(facts.render()), "the failure")
        assert str(facts.render()).startswith(f"Schema Registry {registry}: schema registry")
        for key in ("d", "n", "c", "right_square_bracket"):
            await pilot.press(key)
        await wait_until(
            pilot,
            lambda: sum(n.message == "no subject selected" for n in app._notifications) == 4,
            "each key refused",
        )
        assert app.is_running and len(app.screen_stack) == 1
