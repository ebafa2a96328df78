"""The Generator form's schema row: send values of a registered schema instead of a template.

Shown only when the cluster has a Schema Registry. A subject (blank: the value template), a
version (blank: latest) and, optionally, the field of each value its key is taken from. The
schema is fetched when the generator starts (schema_records.py draws and encodes the values).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select

from ..kafka.schema_records import SchemaRecords, schema_records
from .registry_subjects import RegistrySubjects

NO_SCHEMA = "none: the value template"


class GeneratorSchema(RegistrySubjects):
    """Subject, version and key field of the values to generate."""

    DEFAULT_CSS = """
    GeneratorSchema #gen-subject { width: 1fr; }
    GeneratorSchema #gen-schema-version { width: 8; }
    GeneratorSchema #gen-key-field { width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__("gen-schema", "Generator")

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label("schema")
            yield Select[str](
                [], prompt=NO_SCHEMA, id="gen-subject", compact=True, classes="subject"
            )
            yield Label("v", classes="-after")
            yield Input(
                placeholder="latest", id="gen-schema-version", restrict=r"\d*", compact=True
            )
            yield Label("key field", classes="-after")
            yield Input(placeholder="none: keys as above", id="gen-key-field", compact=True)

    async def records(self) -> SchemaRecords | None:
        """The schema chosen, fetched (None when none is); RegistryError or ValueError
        (an unknown key field, an unreadable schema) say why it cannot be used."""
        select = self.query_one("#gen-subject", Select)
        if select.is_blank() or self._link.client is None:
            return None
        version = self.query_one("#gen-schema-version", Input).value.strip() or "latest"
        key_field = self.query_one("#gen-key-field", Input).value.strip() or None
        return await schema_records(self._link.client, str(select.value), version, key_field)
