"""The Groups pane's rows: its columns, how wide each may be, and a group's cells.

Apart from the pane (as topic_rows.py is from the Topics pane) so that the pane holds what
it does (sampling, acting on a group) and this what a row looks like. Names, protocols and
the lag trend share what the fixed columns leave; each gets its least first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.style import Style
from rich.text import Text

from localbroker.public import GroupState

from ..kafka.lag_history import GroupLag, LagHistory
from .lag_sparkline import lag_sparkline
from .list_order import Column
from .list_table import ListTable
from .topic_rows import shorten

TREND_LABEL = "lag trend"
_MIN_TREND, _MAX_TREND = len(TREND_LABEL), 60
_MIN_NAME = 12
COLUMNS: tuple[Column[GroupLag], ...] = (
    Column("group", "group", False, lambda g: g.group_id),
    Column("state", "state", False, lambda g: g.state),
    Column("protocol", "protocol", False, lambda g: g.protocol),
    Column("members", "members", True, lambda g: g.member_count),
    Column("lag", "lag", True, lambda g: -1 if g.total_lag is None else g.total_lag),
)
"""The columns the list sorts by; the trend column after them is drawn, not sorted."""
STATE_CLASSES = {
    GroupState.STABLE: "groups--stable",
    GroupState.EMPTY: "groups--empty",
    GroupState.PREPARING_REBALANCE: "groups--rebalancing",
    GroupState.COMPLETING_REBALANCE: "groups--rebalancing",
    GroupState.DEAD: "groups--dead",
}
Widths = tuple[int, int, int]
"""Group name, protocol, trend."""


def lag_text(lag: int | None) -> str:
    return "-" if lag is None else f"{lag:,}"


def _header_width(key: str) -> int:
    return next(c.header_width for c in COLUMNS if c.key == key)


def column_widths(table: ListTable, groups: Iterable[GroupLag]) -> Widths:
    """Widths for group names, protocols and the trend once the other columns have theirs:
    each gets its least, then names, protocols and the trend in turn get what they want."""
    shown = list(groups)
    protocol = _header_width("protocol")
    wanted = (
        max([_MIN_NAME, *(len(g.group_id) for g in shown)]),
        max([protocol, *(len(g.protocol) for g in shown)]),
        _MAX_TREND,
    )
    width = table.scrollable_content_region.width
    if width <= 0:
        return wanted[0], wanted[1], _MIN_TREND
    fixed = [
        max([_header_width("state"), *(len(g.state) for g in shown)]),
        _header_width("members"),
        max([_header_width("lag"), *(len(lag_text(g.total_lag)) for g in shown)]),
    ]
    spare = width - sum(fixed) - 2 * table.cell_padding * len(table.columns)
    least = (_MIN_NAME, protocol, _MIN_TREND)
    given = list(least)
    spare -= sum(least)
    for index, want in enumerate(wanted):
        extra = max(min(want - given[index], spare), 0)
        given[index] += extra
        spare -= extra
    return given[0], given[1], given[2]


def group_cells(
    group: GroupLag, widths: Widths, style: Callable[[str], Style], history: LagHistory
) -> tuple[Text, ...]:
    """One group's row; `style` gives the pane's component style (groups--lag, ...)."""
    name_width, protocol_width, trend_width = widths
    lag = group.total_lag
    lag_style = "groups--no-lag" if not lag else "groups--lag"
    if lag is None:
        lag_style = "groups--empty"
    state_style = STATE_CLASSES.get(group.state, "groups--rebalancing")
    trend = lag_sparkline(history.group(group.group_id), trend_width)
    return (
        Text(shorten(group.group_id, name_width)),
        Text.styled(group.state or "-", style(state_style)),
        Text(shorten(group.protocol or "-", protocol_width)),
        Text(str(group.member_count), justify="right"),
        Text.styled(lag_text(lag), style(lag_style), justify="right"),
        Text.styled(trend, style("groups--trend")),
    )
