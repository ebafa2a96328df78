"""The topic-configs dialog: every config of a topic with its value and where it comes from,
to change values (retention.ms, cleanup.policy, ...) and remove a topic's overrides.

Changes go out one at a time with IncrementalAlterConfigs, so setting retention.ms never
touches the topic's other overrides; the list is read back from the broker after each change
(DescribeConfigs), so what is shown is what the broker holds. A refusal (INVALID_CONFIG and
its message) is shown in the dialog, which stays open.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from localbroker.public import ConfigResourceType, ConfigSource

from ..host import host_of
from ..kafka.admin import KafkaAdmin
from ..kafka.errors import KafkaToolError
from ..kafka.models import ConfigInfo
from ..widgets.footer import WorkbenchFooter
from ..widgets.table_sync import sync_table
from ..widgets.topic_rows import human_bytes, shorten_middle

OVERRIDE = ConfigSource.DYNAMIC_TOPIC_CONFIG


_SOURCES = {
    OVERRIDE: "topic",
    ConfigSource.DEFAULT_CONFIG: "default",
    ConfigSource.STATIC_BROKER_CONFIG: "broker",
    ConfigSource.DYNAMIC_BROKER_CONFIG: "broker",
    ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG: "cluster",
}
"""One short word each, so three columns fit in 80 terminal columns."""


DOC_LINES = 3
"""Lines given to a config's documentation: a fixed height, so the table above does not
change size (and lose the cursor from view) as the cursor moves."""


def fit_lines(text: str, width: int, lines: int) -> str:
    """`text` wrapped to `width`, cut to `lines` lines with an ellipsis when longer."""
    wrapped = textwrap.wrap(text, width)
    if len(wrapped) <= lines:
        return "\n".join(wrapped)
    kept = wrapped[:lines]
    kept[-1] = kept[-1][: max(width - 1, 1)].rstrip() + "…"
    return "\n".join(kept)


def source_label(source: ConfigSource) -> str:
    """Where a value comes from, short: set on the topic, a broker's, or Kafka's default."""
    return _SOURCES.get(source, source.name.lower().replace("_", " "))


_LONG_MAX = 2**63 - 1
"""Java's Long.MAX_VALUE, what Kafka uses for 'never' in some *.ms configs."""
_DURATIONS = (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1_000))


def human_duration_ms(ms: int) -> str:
    """604800000 -> '7 d', 5400000 -> '1.5 h', 250 -> '250 ms'."""
    for unit, size in _DURATIONS:
        if ms >= size:
            amount = ms / size
            return f"{amount:.0f} {unit}" if amount == int(amount) else f"{amount:.1f} {unit}"
    return f"{ms} ms"


def reading(name: str, value: str | None) -> str:
    """How a person reads a config's value, where it is not plain: retention.ms=604800000
    is '7 d', segment.bytes=1073741824 is '1.0 GiB', retention.bytes=-1 is 'no limit'. The
    broker's log.* configs read as the topic's they are defaults of."""
    if value is None:
        return ""
    try:
        number = int(value)
    except ValueError:
        return ""
    retention = name.removeprefix("log.") in ("retention.ms", "retention.bytes")
    if number == _LONG_MAX or (number == -1 and retention):
        return "no limit"
    if number == -2 and name.startswith("local.retention."):
        return f"as {name.removeprefix('local.')}"
    if name.endswith(".ms") and number >= 1_000:
        return human_duration_ms(number)
    if name.endswith(".bytes") and number >= 1024:
        return human_bytes(number)
    return ""


_MIN_VALUE_WIDTH = 29
"""Room kept for values when names are long: a LONG_MAX and its reading need 29."""


def shown_value(config: ConfigInfo) -> str:
    return "(sensitive)" if config.sensitive else (config.value or "")


def config_cells(config: ConfigInfo, name_width: int, value_width: int) -> tuple[Text | str, ...]:
    """One config's row: set-on-the-topic in bold, values with how a person reads them (only
    that, where both do not fit: the broker's line under its table, or enter here, shows
    the value itself)."""
    style = "bold" if config.source == OVERRIDE else ""
    value = Text.styled(shown_value(config), style)
    readable = "" if config.sensitive else reading(config.name, config.value)
    if readable and value_width and value.cell_len + 2 + len(readable) > value_width:
        value = Text.styled(readable, style)  # the reading says more than a cut number
    elif readable:
        value.append(f"  {readable}", style="dim")
    if value_width and value.cell_len > value_width:
        value.truncate(value_width - 1)
        value.append("…")
    return (
        Text.styled(shorten_middle(config.name, name_width), style),
        value,
        source_label(config.source),
    )


class ConfigTable(DataTable[Text | str]):
    """The configs; `enter` puts the highlighted value in the edit field, so say so."""

    BINDINGS = [Binding("enter", "select_cursor", "Edit value")]


class EditConfigsScreen(ModalScreen[bool]):
    """Dismisses with True when a config was changed (so the caller can refresh)."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("x", "remove_override", "Remove override"),
        Binding("a", "set_by_name", "Set by name"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("r", "reload", "Reload"),
    ]

    DEFAULT_CSS = """
    EditConfigsScreen { align: center middle; }
    EditConfigsScreen > Vertical {
        width: 1fr; max-width: 140; height: 1fr; max-height: 48;
        border: round $primary; background: $surface; padding: 0 1;
    }
    EditConfigsScreen #configs-title { text-style: bold; color: $primary; }
    EditConfigsScreen #configs-hint { color: $kwb-muted; }
    EditConfigsScreen #configs-filter { margin-top: 1; background: $panel; }
    EditConfigsScreen #configs-table { height: 1fr; }
    EditConfigsScreen #configs-edit { height: 1; margin-top: 1; }
    EditConfigsScreen #configs-name { width: auto; max-width: 45%; padding-right: 1; }
    EditConfigsScreen #configs-value { width: 1fr; background: $panel; }
    EditConfigsScreen #configs-doc { color: $kwb-muted; height: 3; }
    EditConfigsScreen #configs-status { height: auto; color: $success; }
    EditConfigsScreen #configs-status.-error { color: $error; }
    """

    def __init__(self, admin: Callable[[], KafkaAdmin | None], topic: str) -> None:
        super().__init__()
        self._admin = admin
        self.topic = topic
        self.configs: dict[str, ConfigInfo] = {}
        self.changed = False
        self._editing: str | None = None
        self._loaded = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Configs of topic {self.topic}", id="configs-title")
            yield Static(
                "enter: edit the value · enter again: save · bold: set on this topic",
                id="configs-hint",
            )
            yield Input(
                placeholder="/ filter configs (name or value)", id="configs-filter", compact=True
            )
            yield ConfigTable(id="configs-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="configs-edit"):
                yield Label("", id="configs-name")
                yield Input(
                    placeholder="select a config, then enter", id="configs-value", compact=True
                )
            yield Static("", id="configs-doc")
            yield Static("loading configs…", id="configs-status")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        table = self.query_one("#configs-table", DataTable)
        table.add_column("config", key="config")
        table.add_column("value", key="value")
        table.add_column("source", key="source")
        table.focus()
        self.action_reload()

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_configs)

    # -- reading ------------------------------------------------------------------------------

    @work(exclusive=True, group="topic-configs")
    async def action_reload(self) -> None:
        admin = self._admin()
        if admin is None:
            self.show_status("not connected to the cluster; try again when it is back", True)
            return
        try:
            configs = await admin.describe_configs(ConfigResourceType.TOPIC, self.topic)
        except KafkaToolError as exc:
            self.show_status(str(exc), True)
            return
        self.show_configs(configs)
        if not self._loaded:
            self._loaded = True
            overrides = sum(1 for c in configs if c.source == OVERRIDE)
            self.show_status(f"{len(configs)} configs, {overrides} set on this topic", False)

    def show_configs(self, configs: list[ConfigInfo]) -> None:
        """Show `configs` as the broker described them (the cursor stays on its config)."""
        self.configs = {c.name: c for c in configs}
        self._show_configs()

    def _show_configs(self) -> None:
        table = self.query_one("#configs-table", DataTable)
        needle = self.query_one("#configs-filter", Input).value.strip().lower()
        shown = [
            config
            for config in self.configs.values()
            if not needle or needle in config.name.lower() or needle in shown_value(config).lower()
        ]
        name_width, value_width = self._column_widths(table, shown)
        sync_table(table, [(c.name, config_cells(c, name_width, value_width)) for c in shown])
        self._describe(self._highlighted())

    @staticmethod
    def _column_widths(table: DataTable[Text | str], shown: list[ConfigInfo]) -> tuple[int, int]:
        """Widths for names and values so the source column stays in view without
        scrolling sideways (0: no limit, before the table has a size); values give way
        first, the highlighted one is whole in the edit field below anyway."""
        width = table.content_region.width
        if width <= 0:
            return 0, 0
        if len(shown) + table.header_height > table.content_region.height:
            width -= table.styles.scrollbar_size_vertical
        padding = 2 * table.cell_padding
        source = max([len("source"), *(len(source_label(c.source)) for c in shown)])
        room = width - source - 3 * padding
        longest_name = max([len("config"), *(len(c.name) for c in shown)])
        name_width = min(longest_name, max(room - _MIN_VALUE_WIDTH, room // 2))
        return name_width, max(room - name_width, 1)

    def _highlighted(self) -> str | None:
        table = self.query_one("#configs-table", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    def _describe(self, name: str | None) -> None:
        """Show the highlighted config's name, value (ready to edit) and documentation."""
        config = self.configs.get(name) if name is not None else None
        self._editing = name
        self.query_one("#configs-name", Label).update(Text(name or ""))
        self.query_one("#configs-value", Input).value = (
            "" if config is None or config.sensitive else (config.value or "")
        )
        doc = (config.documentation or "") if config is not None else ""
        shown = self.query_one("#configs-doc", Static)
        shown.update(Text(fit_lines(doc, shown.size.width or 72, DOC_LINES)))

    def show_status(self, message: str, error: bool) -> None:
        status = self.query_one("#configs-status", Static)
        status.update(Text(message))
        status.set_class(error, "-error")

    # -- handlers -----------------------------------------------------------------------------

    @on(Input.Changed, "#configs-filter")
    def _filter_changed(self) -> None:
        self._show_configs()

    @on(Input.Submitted, "#configs-filter")
    def _filter_done(self) -> None:
        self.query_one("#configs-table", DataTable).focus()

    @on(DataTable.RowHighlighted, "#configs-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe(event.row_key.value)

    @on(DataTable.RowSelected, "#configs-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self._describe(event.row_key.value)
        value = self.query_one("#configs-value", Input)
        value.focus()
        value.select_all()

    @on(Input.Submitted, "#configs-value")
    def _value_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if self._editing is None:
            self._set_by_name(value)
            return
        config = self.configs.get(self._editing)
        if config is not None and not config.sensitive and value == (config.value or ""):
            # Setting the same value would still turn a default into a topic override.
            self.show_status(f"{self._editing} is already {value}; nothing changed", False)
            self.query_one("#configs-table", DataTable).focus()
            return
        self._alter(self._editing, set_={self._editing: value})

    def action_focus_filter(self) -> None:
        self.query_one("#configs-filter", Input).focus()

    def action_set_by_name(self) -> None:
        """Set a config the list doesn't show: some Kafka-compatible brokers describe none."""
        self._editing = None
        self.query_one("#configs-name", Label).update("name=value")
        value = self.query_one("#configs-value", Input)
        value.value = ""
        value.placeholder = "e.g. retention.ms=86400000, then enter"
        value.focus()

    def _set_by_name(self, line: str) -> None:
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            self.show_status("type name=value, e.g. retention.ms=86400000 (a: set by name)", True)
            return
        self._alter(name.strip(), set_={name.strip(): value.strip()})

    def action_remove_override(self) -> None:
        name = self._highlighted()
        if name is None:
            return
        config = self.configs.get(name)
        if config is None or config.source != OVERRIDE:
            source = source_label(config.source) if config is not None else "unknown"
            self.show_status(f"{name} is not set on this topic (source: {source})", True)
            return
        self._alter(name, delete=[name])

    def action_close(self) -> None:
        if self.focused is not None and self.focused.id in ("configs-filter", "configs-value"):
            self.query_one("#configs-table", DataTable).focus()
            return
        self.dismiss(self.changed)

    # -- writing ------------------------------------------------------------------------------

    @work(exclusive=True, group="topic-configs-alter")
    async def _alter(
        self, name: str, set_: dict[str, str] | None = None, delete: list[str] | None = None
    ) -> None:
        admin = self._admin()
        if admin is None:
            self.show_status("not connected to the cluster; try again when it is back", True)
            return
        try:
            with host_of(self).busy(f"altering the configs of {self.topic}"):
                await admin.alter_configs(
                    ConfigResourceType.TOPIC, self.topic, set_=set_, delete=delete or ()
                )
                configs = await admin.describe_configs(ConfigResourceType.TOPIC, self.topic)
        except KafkaToolError as exc:
            self.show_status(str(exc), True)
            return
        self.changed = True
        self.show_configs(configs)
        now = self.configs.get(name)
        value = now.value if now is not None else None
        readable = reading(name, value)
        if readable:
            value = f"{value} ({readable})"
        source = source_label(now.source) if now is not None else "unknown"
        done = f"removed the override of {name}; now" if delete else "set"
        self.show_status(f"{done} {name} = {value}, source: {source}", False)
        self.query_one("#configs-table", DataTable).focus()
