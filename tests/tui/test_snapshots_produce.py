"""SVG snapshots of the Produce pane at 80x24 and 160x48: empty, filled in with
acknowledgements listed, and refusing a value that is not JSON.

The pane runs alone in the shared snapshot host (snapshot_host.py): no broker, one fixed
ClusterSnapshot (so `orders` has 6 partitions), the default theme, no blinking cursors. The
acknowledgements are given to the pane as a send would give them, with fixed latencies. The
Pilot tests in test_produce_pane.py cover the same pane against a real broker. Update after an
intended change: `pytest tests/tui/test_snapshots_produce.py --snapshot-update`, then look at
the SVGs under __snapshots__ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from snapshot_host import SIZE_IDS, SIZES, SMALL, PaneHost, snap_pane
from textual.app import App
from textual.widget import Widget
from textual.widgets import Input, TextArea

from tui.kafka.producing import Acknowledgement
from tui.widgets.produce_pane import ProducePane

GOOD_VALUE = '{\n  "id": 42,\n  "status": "shipped",\n  "lines": [{"sku": "A-1", "qty": 2}]\n}'
BAD_VALUE = '{\n  "id": 42\n  "status": "shipped"\n}'


def filled(value: str, acknowledged: int = 0) -> Callable[[Widget], None]:
    """The form filled in for `orders` (and `acknowledged` earlier sends listed)."""

    def prepare(pane: Widget) -> None:
        assert isinstance(pane, ProducePane)
        pane.query_one("#topic", Input).value = "orders"
        pane.query_one("#key", Input).value = "order-42"
        pane.query_one("#repeat", Input).value = "3"
        pane.query_one("#value", TextArea).text = value
        pane.query_one("#headers", TextArea).text = "source=kwb\ntrace-id=7f3a-01"
        for number in range(acknowledged):
            pane.record_acknowledgement(
                Acknowledgement("orders", number % 3, 1_200 + number, 2.5 + number / 10)
            )
        pane.draw_acknowledgements()

    return prepare


def snap(
    snap_compare: Callable[..., bool],
    size: tuple[int, int],
    prepare: Callable[[Widget], None] | None = None,
    keys: Iterable[str] = (),
    until: Callable[[App[None]], bool] | None = None,
) -> bool:
    return snap_pane(
        snap_compare,
        lambda: PaneHost(ProducePane(), focus="#send", prepare=prepare),
        size,
        keys,
        until,
    )


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_produce_pane_empty(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """What a newcomer sees: labelled fields, Send focused, ^s Send in the footer."""
    assert snap(snap_compare, size)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_produce_pane_filled_in(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """Key, a multi-line JSON value marked valid, headers, 3 repeats; the partition field
    says `orders` has partitions 0-5; five acknowledgements listed, the latest first."""
    assert snap(snap_compare, size, filled(GOOD_VALUE, acknowledged=5))


def test_produce_pane_refuses_invalid_json(snap_compare: Callable[..., bool]) -> None:
    """ctrl+s with a missing comma: the line and column, what to do, and the cursor there.
    The picture waits for the value to have the focus: the cursor is drawn only then, and on a
    loaded machine the focus could arrive after the rest had settled (a picture without it)."""

    def at_the_error(app: App[None]) -> bool:
        value = app.query_one("#value", TextArea)
        return value.has_focus and value.cursor_location == (2, 2)

    assert snap(snap_compare, SMALL, filled(BAD_VALUE), ["ctrl+s"], at_the_error)
