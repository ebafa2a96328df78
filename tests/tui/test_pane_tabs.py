"""Switching panes while news of an earlier focus is still on its way.

TabbedContent brings forward the pane that something inside it focused, by a message that
arrives a few queues after the focus. A pane key pressed meanwhile (4 at startup, while the
first pane was still being focused) used to lose: the late message switched back.
"""

from __future__ import annotations

from textual.widgets import Button, Tab, TabbedContent, TabPane
from workbench_pilot import SIZE, wait_connected, wait_until, workbench_app

from tui.embedded import EmbeddedBroker


async def test_a_pane_key_wins_over_late_focus_news_from_the_pane_it_left(
    embedded: EmbeddedBroker,
) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        tabs = app.query_one("#panes", TabbedContent)
        brokers = tabs.get_pane("brokers")
        await wait_until(
            pilot,
            lambda: app.focused is not None and brokers in app.focused.ancestors,
            "the Brokers pane focused",
        )
        # What focusing the Brokers pane posts, still queued when 4 switches to Produce.
        brokers.post_message(TabPane.Focused(brokers))
        app.show_pane("produce")
        send = app.query_one("#send", Button)
        await wait_until(pilot, lambda: send.has_focus, "Send focused")
        await pilot.pause()
        await pilot.pause()  # the late news has been handled by now
        assert tabs.active == "produce"
        assert send.has_focus


async def test_every_tab_stays_in_view_at_80_columns(embedded: EmbeddedBroker) -> None:
    """Nine tabs in full take 92 columns: at 80 the tabs behind shorten their titles, the
    one in front keeps its own, and a wider terminal shows them all in full again."""
    app = workbench_app(embedded)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot, app)
        tabs = app.query_one("#panes", TabbedContent)

        def labels() -> list[str]:
            return [tab.label_text for tab in app.query(Tab)]

        app.show_pane("schemas")
        await wait_until(pilot, lambda: "9 Schemas" in labels(), "the Schemas tab whole")
        assert [label.split()[0] for label in labels()] == [str(k) for k in range(1, 10)]
        assert all(tab.region.right <= 80 for tab in app.query(Tab)), labels()
        assert tabs.active == "schemas"
        await pilot.resize_terminal(120, 36)
        await wait_until(pilot, lambda: "6 Generator" in labels(), "the titles whole")
        assert labels()[0] == "1 Brokers"
