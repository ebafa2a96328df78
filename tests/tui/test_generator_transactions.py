"""A generator that produces in transactions (issue 15, point 4), against a real embedded
broker: its records checked with confluent-kafka consumers reading read_committed and
read_uncommitted, so that exactly the aborted transactions' records are missing from the
first."""

from __future__ import annotations

import asyncio
import time

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from test_generator_pane import fill, messages, open_pane, rows
from textual.widgets import Static
from workbench_pilot import SIZE, wait_until, workbench_app

from tui.embedded import EmbeddedBroker

pytestmark = pytest.mark.timeout(120)
TOPIC = "ledger"
PER_TRANSACTION = 5
READ_TIMEOUT_S = 30.0


def values(bootstrap: str, isolation: str) -> list[bytes]:
    """Every value of TOPIC (one partition) that a consumer with `isolation` reads."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "check",
            "isolation.level": isolation,
            "enable.partition.eof": True,
            "log_level": 0,
        }
    )
    consumer.assign([TopicPartition(TOPIC, 0, OFFSET_BEGINNING)])
    found: list[bytes] = []
    deadline = time.monotonic() + READ_TIMEOUT_S
    try:
        while time.monotonic() < deadline:  # however many records a loaded machine sent
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                return found
            if error is None:
                found.append(message.value())
    finally:
        consumer.close()
    raise AssertionError(f"{isolation}: no end of {TOPIC} after {len(found)} records")


async def test_aborted_transactions_are_missing_from_read_committed(
    embedded: EmbeddedBroker,
) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, app, (TOPIC, 1))
        await fill(
            pilot,
            app,
            topic=TOPIC,
            rate="200",
            template="sequence",
            txn_records=str(PER_TRANSACTION),
            txn_abort="50",
        )
        await wait_until(pilot, lambda: len(rows(app)) == 1, "the generator in the table")
        generator = app.generators.generators[0]
        await wait_until(
            pilot,
            lambda: min(generator.view().transactions) >= 2,
            "two transactions committed and two aborted",
        )
        summary = str(app.query_one("#gen-summary", Static).render())
        assert "transactions of 5 · 50% aborted" in summary
        app.query_one("#gen-table").focus()
        await pilot.press("x")
        await wait_until(pilot, lambda: rows(app)[0]["state"] == "stopped", "the stop", 15)
        committed, aborted = generator.view().transactions
        totals = str(app.query_one("#gen-totals", Static).render())
        assert f" {committed} transactions committed, {aborted} aborted." in totals

    every = await asyncio.to_thread(values, embedded.bootstrap, "read_uncommitted")
    visible = await asyncio.to_thread(values, embedded.bootstrap, "read_committed")
    assert len(every) == (committed + aborted) * PER_TRANSACTION == generator.totals.records_sent
    assert len(visible) == committed * PER_TRANSACTION
    assert set(visible) < set(every)


async def test_a_share_to_abort_above_100_is_refused(embedded: EmbeddedBroker) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, app, (TOPIC, 1))
        await fill(pilot, app, topic=TOPIC, txn_records="5", txn_abort="150")
        await wait_until(
            pilot,
            lambda: any("abort 150%: between 0 and 100" in m for m in messages(app)),
            "the refusal",
        )
        await wait_until(
            pilot, lambda: app.focused is not None and app.focused.id == "gen-txn-records", "field"
        )
        assert not app.generators.generators
