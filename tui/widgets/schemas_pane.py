"""Schemas pane: the cluster's Schema Registry, subject by subject.

Each subject with its latest version, schema type, compatibility level (its own, or the
global one it follows) and references; enter shows the latest version's schema highlighted,
`[` and `]` step through older and newer versions, `d` shows what the version shown changed
from the one before (a unified diff of the canonical texts), `n` registers a new version from
an editor once the registry has said it is compatible, `c` sets the subject's compatibility
level. Every call goes through tui/kafka/schema_registry in a worker; a refusal shows the
registry's error code and message. A cluster without a registry says how to name one.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from localbroker.public import CompatibilityLevel, SchemaType

from ..kafka.connection import SettingsError
from ..kafka.schema_registry.client import RegisteredSchema, RegistryClient, RegistryError
from ..kafka.schema_registry.settings import RegistrySettings
from ..kafka.schema_registry.subjects import (
    SchemaVersion,
    SubjectSummary,
    canonical_text,
    lexer_of,
    schema_version,
    subject_summaries,
    unified_diff,
)
from ..screens.compatibility_level import CompatibilityLevelScreen
from ..screens.register_schema import RegisterSchemaScreen
from .list_keys import LIST_KEYS
from .pane import Pane
from .table_sync import cursor_key, sync_table

NO_REGISTRY = (
    "This cluster has no Schema Registry. Name one with `schema.registry.url` in the"
    " profile's properties, or start kwb with --schema-registry URL."
)
COLUMNS = ("Subject", "Latest", "Type", "Compatibility", "References")
SYNTAX_THEME = "ansi_dark"
"""ANSI colours: the terminal's palette, as the workbench's themes set it, not fixed ones."""


def failure(exc: RegistryError) -> str:
    """A registry's refusal as one line: its error code and message."""
    return exc.message if exc.error_code is None else f"{exc.error_code}: {exc.message}"


class SubjectTable(DataTable[Text]):
    """The subjects; enter shows the latest version of the one under the cursor."""

    BINDINGS = [Binding("enter", "select_cursor", "Show"), *LIST_KEYS]


class SchemasPane(Pane):
    """The registry's subjects; the row under the cursor is the subject every key acts on."""

    BINDINGS = [
        Binding("left_square_bracket", "older", "Older"),
        Binding("right_square_bracket", "newer", "Newer"),
        Binding("d", "diff", "Diff"),
        Binding("n", "register", "New version"),
        Binding("c", "compatibility", "Compatibility"),
        Binding("r", "refresh", "Refresh"),
    ]

    DEFAULT_CSS = """
    SchemasPane { height: 1fr; }
    SchemasPane #schemas-facts { height: auto; padding: 0 1; color: $kwb-muted; }
    SchemasPane #subject-list { height: 2fr; }
    SchemasPane #schema-title { height: 1; padding: 0 1; text-style: bold; background: $panel; }
    SchemasPane #schema-scroll { height: 3fr; }
    SchemasPane #schema-text { padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__(id="schemas-pane")
        self.summaries: list[SubjectSummary] = []
        self.shown: SchemaVersion | None = None
        """The version whose schema (or diff) is shown."""
        self.shown_text = ""
        """Its canonical text, where the editor of a new version starts."""
        self.shown_title = ""

    def compose(self) -> ComposeResult:
        yield Static("waiting for the registry…", id="schemas-facts", markup=False)
        yield SubjectTable(id="subject-list", cursor_type="row", zebra_stripes=True)
        yield Static("", id="schema-title", markup=False)
        with VerticalScroll(id="schema-scroll"):
            yield Static("", id="schema-text")

    def on_mount(self) -> None:
        table = self.query_one("#subject-list", DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        self.watch(self.app, "generation", self._cluster_switched, init=False)
        self.action_refresh()

    def _cluster_switched(self) -> None:
        """Another cluster, perhaps another registry: these subjects are not its own."""
        self.show_subjects([])
        self.show_schema(None, "", "", "")
        self.action_refresh()

    # -- showing ------------------------------------------------------------------------------

    def show_subjects(self, summaries: list[SubjectSummary]) -> None:
        self.summaries = summaries
        table = self.query_one("#subject-list", DataTable)
        sync_table(
            table,
            [
                (
                    s.subject,
                    (
                        Text(s.subject),
                        Text(str(s.latest), justify="right"),
                        Text(s.schema_type.value),
                        Text(s.compatibility),
                        Text(", ".join(f"{r.subject} v{r.version}" for r in s.references)),
                    ),
                )
                for s in summaries
            ],
        )
        count = len(summaries)
        self._facts(f"{count} subject{'' if count == 1 else 's'}" if count else "no subjects yet")

    def show_schema(
        self, version: SchemaVersion | None, title: str, text: str, shown: str, lexer: str = ""
    ) -> None:
        """`shown` under `title`, highlighted by `lexer` (the version's format's by
        default): a version's schema, whose canonical text is `text`, or a diff to it."""
        self.shown = version
        self.shown_text = text
        self.shown_title = title
        self.query_one("#schema-title", Static).update(title)
        body: RenderableType = ""
        if version is not None:
            lexer = lexer or lexer_of(version.schema.schema_type)
            body = Syntax(shown, lexer, theme=SYNTAX_THEME, background_color="default")
        self.query_one("#schema-text", Static).update(body)

    def _facts(self, text: str) -> None:
        self.query_one("#schemas-facts", Static).update(text)

    @property
    def selected(self) -> SubjectSummary | None:
        name = cursor_key(self.query_one("#subject-list", DataTable))
        return next((s for s in self.summaries if s.subject == name), None)

    # -- the registry -------------------------------------------------------------------------

    def _settings(self) -> RegistrySettings | None:
        """The cluster's registry; None (and the pane says why) without one, or in a host
        without a cluster (whose fixed data stays)."""
        workbench = self.host.workbench
        if workbench is None:
            return None
        try:
            settings = workbench.registry
        except SettingsError as exc:
            self._facts(f"Schema Registry: {exc}")
            return None
        if settings is None:
            self._facts(NO_REGISTRY)
        return settings

    def _require_subject(self) -> tuple[RegistrySettings, SubjectSummary] | None:
        settings = self._settings()
        if settings is None:
            self.notify(NO_REGISTRY, title="Schemas", severity="warning", markup=False)
            return None
        subject = self.selected
        if subject is None:
            self.notify("no subject selected", title="Schemas", severity="warning")
            return None
        return settings, subject

    def _failed(self, what: str, exc: RegistryError) -> None:
        self.notify(failure(exc), title=what, severity="error", markup=False)

    @work(exclusive=True, group="schemas-load")
    async def action_refresh(self) -> None:
        settings = self._settings()
        if settings is None:
            return
        try:
            async with RegistryClient(settings) as client:
                summaries = await subject_summaries(client)
        except RegistryError as exc:
            self._facts(f"Schema Registry {settings.url}: {failure(exc)}")
            return
        self.show_subjects(summaries)

    @on(DataTable.RowSelected, "#subject-list")
    def _row_chosen(self) -> None:
        chosen = self._require_subject()
        if chosen is not None:
            self._show_version(chosen[0], chosen[1].subject, "latest")

    def _step(self, by: int) -> None:
        chosen = self._require_subject()
        if chosen is None:
            return
        settings, subject = chosen
        current = self.shown.version if self.shown and self.shown.subject == subject.subject else 0
        versions = subject.versions
        index = versions.index(current) + by if current in versions else len(versions) - 1
        if 0 <= index < len(versions):
            self._show_version(settings, subject.subject, versions[index])
        else:
            self.notify(f"no {'older' if by < 0 else 'newer'} version", title="Schemas")

    def action_older(self) -> None:
        self._step(-1)

    def action_newer(self) -> None:
        self._step(+1)

    @work(exclusive=True, group="schemas-show")
    async def _show_version(
        self, settings: RegistrySettings, subject: str, version: int | str
    ) -> None:
        try:
            async with RegistryClient(settings) as client:
                shown = await schema_version(client, subject, version)
                text = await canonical_text(client, shown.schema)
        except RegistryError as exc:
            self._failed("Schema", exc)
            return
        schema = shown.schema
        title = f"{subject} v{shown.version} · {schema.schema_type.value} · id {schema.schema_id}"
        self.show_schema(shown, title, text, text)

    @work(exclusive=True, group="schemas-show")
    async def action_diff(self) -> None:
        """What the version shown changed from the one before it (the latest's when none is
        shown)."""
        chosen = self._require_subject()
        if chosen is None:
            return
        settings, subject = chosen
        shown = self.shown
        new = shown.version if shown and shown.subject == subject.subject else subject.latest
        older = [v for v in subject.versions if v < new]
        if not older:
            self.notify(f"{subject.subject} v{new} is its first version", title="Diff")
            return
        try:
            async with RegistryClient(settings) as client:
                before = await schema_version(client, subject.subject, older[-1])
                after = await schema_version(client, subject.subject, new)
                old_text = await canonical_text(client, before.schema)
                new_text = await canonical_text(client, after.schema)
        except RegistryError as exc:
            self._failed("Diff", exc)
            return
        title = f"diff {subject.subject} v{before.version} → v{after.version}"
        diff = unified_diff(before, old_text, after, new_text) or "(the same schema)"
        self.show_schema(after, title, new_text, diff, "diff")

    @work(exclusive=True, group="schemas-show")
    async def action_register(self) -> None:
        """The editor of a new version, starting from the version shown (the latest when
        none of this subject is)."""
        chosen = self._require_subject()
        if chosen is None:
            return
        settings, subject = chosen
        schema_type = subject.schema_type
        text = self.shown_text
        if self.shown is None or self.shown.subject != subject.subject:
            try:
                async with RegistryClient(settings) as client:
                    latest = await schema_version(client, subject.subject, "latest")
                    text = await canonical_text(client, latest.schema)
            except RegistryError as exc:
                self._failed("New version", exc)
                return

        async def submit(text: str) -> str | int:
            return await self._register(settings, subject, text)

        def registered(version: int | None) -> None:
            if version is not None:
                self.notify(f"registered {subject.subject} v{version}", title="Schemas")
                self.action_refresh()
                self._show_version(settings, subject.subject, version)

        language = "json" if schema_type is not SchemaType.PROTOBUF else None
        self.app.push_screen(
            RegisterSchemaScreen(subject.subject, text, language, submit), registered
        )

    async def _register(
        self, settings: RegistrySettings, subject: SubjectSummary, text: str
    ) -> str | int:
        """Check, then register `text` as `subject`'s next version: the version, or why not."""
        schema = RegisteredSchema(0, subject.schema_type, text, subject.references)
        try:
            async with RegistryClient(settings) as client:
                refused = await client.incompatibilities(subject.subject, schema)
                if refused:
                    return "incompatible: " + "\n".join(refused)
                schema_id = await client.register(subject.subject, schema)
                where = await client.subject_versions(schema_id)
                versions = [v.version for v in where if v.subject == subject.subject]
                if not versions:  # a registry that lists ids lazily: its latest is this one
                    versions = [(await schema_version(client, subject.subject, "latest")).version]
        except RegistryError as exc:
            return failure(exc)
        return max(versions)

    def action_compatibility(self) -> None:
        chosen = self._require_subject()
        if chosen is None:
            return
        settings, subject = chosen

        def chosen_level(level: CompatibilityLevel | None) -> None:
            if level is not None:
                self._set_level(settings, subject.subject, level)

        current = subject.own_level or subject.global_level
        self.app.push_screen(CompatibilityLevelScreen(subject.subject, current), chosen_level)

    @work(group="schemas-config")
    async def _set_level(
        self, settings: RegistrySettings, subject: str, level: CompatibilityLevel
    ) -> None:
        try:
            async with RegistryClient(settings) as client:
                await client.set_compatibility(subject, level)
        except RegistryError as exc:
            self._failed("Compatibility", exc)
            return
        self.notify(f"{subject}: compatibility {level.value}", title="Schemas")
        self.action_refresh()

    def focus_default(self) -> bool:
        self.query_one("#subject-list", DataTable).focus()
        return True
