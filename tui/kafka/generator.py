"""Traffic generators: producer loads that run until stopped, for the workbench's Generator pane.

A generator is `kwb perf`'s engine (perf/engine.py) without a record count: the same send
loop, throttle and stats, with keys, value templates and headers (perf/records.py), on a
producer of its own. With librdkafka the sends run in a child process (perf/worker.py), so
the UI's process only adds up the counts it hands over; with aiokafka (the fallback) they share
the caller's event loop. Generators are driven by tasks on the caller's event loop and belong to a
GeneratorFleet that the app owns, not to a widget, so they keep sending while another pane is
shown; the app stops them all when it quits or connects to another cluster. Every second a
generator closes a window of its stats and keeps it as a Point for the charts; its totals are
the numbers ProducerPerformance's summary line prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from .admin import KafkaAdmin
from .clients import ACKS, CODECS, PRODUCER_DEFAULTS, integer
from .connection import Connection, SettingsError
from .errors import KafkaToolError
from .generator_transactions import (
    TransactionalSends,
    TransactionSettings,
    parse_transactions,
    start_transactional,
)
from .outgoing import RecordError, parse_headers
from .perf.engine import ProducerEngine, start_engine
from .perf.producer import (
    ProducerLoad,
    ProducerTotals,
    Stats,
    ThroughputThrottler,
    Window,
    now_ms,
)
from .perf.records import KEY_STRATEGIES, VALUE_TEMPLATES, Header, KeyStrategy, ValueTemplate
from .perf.report import total_line
from .schema_records import SchemaRecords

GeneratorState = Literal["running", "stopping", "stopped", "failed"]
WINDOW_MS = 1000
HISTORY_POINTS = 300
"""Points kept per generator: five minutes at one a second, more than a wide chart shows."""
STOP_TIMEOUT_S = 10.0
"""How long a stopping generator may take to have its last records answered; then it is
cancelled (a cluster that went away would otherwise hold it for delivery.timeout.ms)."""
UNLIMITED = ("", "max", "unlimited", "-")


class SpecError(SettingsError):
    """A generator setting that cannot be used; `field` names the GeneratorSpec field it
    came from, so that a form can put the cursor there."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class GeneratorSpec:
    """What a generator sends: `rate` records/s (None: as fast as it can) of `record_size`
    bytes made by `template`, keyed by `keys` (`key_count` distinct keys for round-robin and
    distinct), each with `headers`, through a producer with `acks` and `compression`."""

    topic: str
    rate: float | None = 1000.0
    record_size: int = 100
    template: ValueTemplate = "random"
    keys: KeyStrategy = "none"
    key_count: int = 10
    headers: tuple[Header, ...] = ()
    compression: str = "none"
    acks: str = "all"
    transactions: TransactionSettings | None = None
    """Send in transactions (generator_transactions.py); None: no transactions."""
    schema: SchemaRecords | None = None
    """Values of a registered schema instead of the template (schema_records.py)."""

    def load(self) -> ProducerLoad:
        return ProducerLoad(
            self.topic,
            None,
            self.rate if self.rate is not None else -1,
            self.record_size,
            template=self.template,
            keys=self.keys,
            key_count=self.key_count,
            headers=self.headers,
            schema=self.schema,
        )

    def properties(self) -> dict[str, str]:
        return {"acks": self.acks, "compression.type": self.compression}

    def check(self, max_request_size: int = PRODUCER_DEFAULTS["max.request.size"]) -> None:
        """Refuse what could never run, in words a form can show; a value bigger than a
        request may be is refused here rather than by the first send."""
        if not self.topic:
            raise SpecError("a topic is needed: type its name", "topic")
        if self.transactions is not None and self.acks != "all":
            raise SpecError(f"acks={self.acks}: a transactional producer needs acks=all", "acks")
        _check_rate(self.rate)
        if self.record_size < 1:
            raise SpecError(f"record size {self.record_size} is less than 1 byte", "record_size")
        if self.keys in ("round-robin", "distinct") and self.key_count < 1:
            raise SpecError(
                f"{self.key_count} keys: round-robin and distinct need 1 or more", "key_count"
            )
        longest_key = f"key-{self.key_count}".encode() if self.keys != "none" else None
        serialized = DefaultRecordBatchBuilder.estimate_size_in_bytes(
            longest_key, b"x" * self.record_size, list(self.headers)
        )
        if serialized > max_request_size:
            raise SpecError(
                f"record size {self.record_size} bytes is too large: a record of it takes"
                f" {serialized} bytes, more than max.request.size ({max_request_size} bytes)",
                "record_size",
            )

    def describe(self) -> str:
        """One line for a list of generators: rate, value, keys, headers, producer."""
        rate = "max rate" if self.rate is None else f"{self.rate:g}/s"
        size = "" if self.template == "sequence" else f" {self.record_size} B"
        keys = {
            "none": "no keys",
            "round-robin": f"{self.key_count} keys in turn",
            "distinct": f"{self.key_count} distinct keys",
            "random": "random keys",
        }[self.keys]
        headers = f" · {len(self.headers)} header(s)" if self.headers else ""
        compression = "uncompressed" if self.compression == "none" else self.compression
        producer = f"{compression} · acks={self.acks}"
        if self.transactions is not None:
            producer += f" · {self.transactions.describe()}"
        value = f"{self.template}{size}"
        if self.schema is not None:
            value = f"{self.schema.label} (schema id {self.schema.schema_id})"
            if self.schema.key_field is not None:
                keys = f"keys from {self.schema.key_field}"
        return f"{rate} · {value} · {keys}{headers} · {producer}"


def parse_spec(
    *,
    topic: str,
    rate: str,
    record_size: str,
    template: str,
    keys: str,
    key_count: str,
    headers: str,
    compression: str,
    acks: str,
    transaction_records: str = "",
    abort_percent: str = "0",
) -> GeneratorSpec:
    """A spec from a form's text fields; what cannot be read is a SettingsError saying why."""
    try:
        transactions = parse_transactions(transaction_records, abort_percent)
    except SettingsError as exc:
        raise SpecError(str(exc), "transactions") from None
    spec = GeneratorSpec(
        topic=topic.strip(),
        rate=_rate(rate),
        record_size=_whole(record_size, "record size", "bytes", "record_size"),
        template=_one_of(template, VALUE_TEMPLATES, "value template", "template"),
        keys=_one_of(keys, KEY_STRATEGIES, "key strategy", "keys"),
        key_count=_whole(key_count, "key count", "keys", "key_count")
        if keys in ("round-robin", "distinct")
        else 1,
        headers=_headers(headers),
        compression=_one_of(compression, CODECS, "compression.type", "compression"),
        acks=_one_of(acks, tuple(ACKS), "acks", "acks"),
        transactions=transactions,
    )
    spec.check()
    return spec


def _check_rate(rate: float | None) -> None:
    """A rate is more than 0 records/s, or None for no limit."""
    if rate is not None and not rate > 0:
        raise SpecError(
            f"rate {rate:g}: a rate must be more than 0 records/s (leave it empty for no limit)",
            "rate",
        )


def _rate(text: str) -> float | None:
    value = text.strip().lower()
    if value in UNLIMITED:
        return None
    try:
        return float(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise SpecError(
            f"rate {text.strip()!r} is not a number of records/s (leave it empty for no limit)",
            "rate",
        ) from None


def _whole(text: str, what: str, unit: str, field: str) -> int:
    try:
        return int(text.strip().replace("_", "").replace(",", ""))
    except ValueError:
        raise SpecError(f"{what} {text.strip()!r} is not a whole number of {unit}", field) from None


def _one_of(value: str, allowed: tuple[Any, ...], what: str, field: str) -> Any:
    if value not in allowed:
        raise SpecError(f"{what} {value!r} is not one of {', '.join(allowed)}", field)
    return value


def _headers(text: str) -> tuple[Header, ...]:
    """`name=value, name=value` on one line."""
    try:
        return parse_headers(text, ",")
    except RecordError as exc:
        raise SpecError(str(exc), "headers") from None


@dataclass(frozen=True, slots=True)
class Point:
    """One window of a generator (a second): what its charts plot."""

    records_per_sec: float
    mb_per_sec: float
    p50_ms: int
    p99_ms: int

    @classmethod
    def of(cls, window: Window) -> Point:
        finite = window.elapsed_ms > 0
        return cls(
            window.records_per_sec if finite else 0.0,
            window.mb_per_sec if finite else 0.0,
            window.p50_ms,
            window.p99_ms,
        )


@dataclass(frozen=True, slots=True)
class GeneratorView:
    """A generator at one moment, as plain data: what a pane draws (and a test can make up)."""

    number: int
    spec: GeneratorSpec
    state: GeneratorState
    points: tuple[Point, ...]
    totals: ProducerTotals
    errors: int = 0
    error: str | None = None
    """Why it failed, or the first record that failed while it kept running."""
    transactions: tuple[int, int] = (0, 0)
    """Transactions committed and aborted (a generator with TransactionSettings)."""

    @property
    def running(self) -> bool:
        return self.state in ("running", "stopping")

    def summary(self) -> str:
        """The run as ProducerPerformance's summary line puts it, failed records added."""
        line = total_line(self.totals)
        if self.spec.transactions is not None:
            committed, aborted = self.transactions
            line += f" {committed} transactions committed, {aborted} aborted."
        return f"{line} {self.errors} failed." if self.errors else line


class Generator:
    """One running load: its spec, state, stats and a history of one Point per second."""

    def __init__(self, number: int, spec: GeneratorSpec, window_ms: float = WINDOW_MS) -> None:
        self.number = number
        self.spec = spec
        self.state: GeneratorState = "running"
        self.error: str | None = None
        self.history: deque[Point] = deque(maxlen=HISTORY_POINTS)
        self.stats = Stats(None, on_window=self._closed, reporting_interval_ms=window_ms)
        self._stop = asyncio.Event()
        self._ended_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._sends: TransactionalSends | None = None
        self._throttler = ThroughputThrottler(spec.load().throughput, now_ms())

    @property
    def running(self) -> bool:
        return self.state in ("running", "stopping")

    @property
    def totals(self) -> ProducerTotals:
        """The run so far (until it ended, once it has)."""
        return self.stats.totals(self._ended_at)

    def view(self) -> GeneratorView:
        return GeneratorView(
            self.number,
            self.spec,
            self.state,
            tuple(self.history),
            self.totals,
            self.stats.errors,
            self.error or self.stats.first_error,
            (self._sends.committed, self._sends.aborted) if self._sends else (0, 0),
        )

    def launch(self, engine: ProducerEngine, sends: TransactionalSends | None = None) -> None:
        """Run `engine`; `sends` is the transactional producer in front of it, if any (its
        counts of committed and aborted transactions are shown)."""
        self._sends = sends
        self._task = asyncio.create_task(
            self._run(engine), name=f"generator-{self.number}-{self.spec.topic}"
        )

    def set_rate(self, rate: float | None) -> None:
        """Send at `rate` records/s from now on (None: as fast as it can), while it runs."""
        _check_rate(rate)
        self.spec = replace(self.spec, rate=rate)
        self._throttler.retarget(self.spec.load().throughput, now_ms())

    def stop(self) -> None:
        """Ask the loop to stop; the records already sent are still answered."""
        if self.state == "running":
            self.state = "stopping"
        self._stop.set()

    async def stopped(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop and wait until the producer is closed, cancelling after `timeout` seconds."""
        self.stop()
        task = self._task
        if task is None or task.done():
            return
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _closed(self, window: Window) -> None:
        self.history.append(Point.of(window))

    async def _tick(self) -> None:
        """Close a window every second even while no acknowledgement arrives."""
        while True:
            await asyncio.sleep(self.stats.reporting_interval_ms / 4000)
            self.stats.roll()

    async def _run(self, engine: ProducerEngine) -> None:
        ticker = asyncio.create_task(self._tick())
        try:
            await engine.run(self.spec.load(), self.stats, self._stop, self._throttler)
        except KafkaToolError as exc:
            self.error = str(exc)
        except asyncio.CancelledError:
            self.error = "stopped before its last records were answered"
        except Exception as exc:  # a generator's failure is shown, never raised into the UI
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._ended_at = now_ms()
            ticker.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(engine.close(), STOP_TIMEOUT_S)
            self.state = "failed" if self.error else "stopped"


async def check_topic(admin: KafkaAdmin, topic: str) -> None:
    """A generator never creates topics by accident: a name not on the cluster is refused."""
    names = {found.name for found in await admin.topics(include_internal=True)}
    if topic not in names:
        raise SpecError(
            f"topic {topic!r} does not exist: create it first (Topics pane, c)", "topic"
        )


class GeneratorFleet:
    """The generators of one app, numbered from 1 in the order they were started."""

    def __init__(self) -> None:
        self._generators: dict[int, Generator] = {}
        self._numbers = itertools.count(1)

    @property
    def generators(self) -> list[Generator]:
        return list(self._generators.values())

    def get(self, number: int) -> Generator | None:
        return self._generators.get(number)

    async def start(
        self,
        connection: Connection,
        admin: KafkaAdmin | None,
        spec: GeneratorSpec,
        window_ms: float = WINDOW_MS,
    ) -> Generator:
        """Check the spec and topic, start a producer, then the generator; what prevents it
        raises SettingsError or KafkaToolError with the reason."""
        properties: Mapping[str, str] = {**connection.extra, **spec.properties()}
        spec.check(
            integer(properties, "max.request.size", PRODUCER_DEFAULTS["max.request.size"])
            or PRODUCER_DEFAULTS["max.request.size"]
        )
        if admin is None:
            raise KafkaToolError("not connected to the cluster: wait for the status to say so")
        await check_topic(admin, spec.topic)
        number = next(self._numbers)
        client_id = f"kwb-generator-{number}"
        sends = None
        if spec.transactions is None:
            engine, _ignored = await start_engine(
                connection, properties, client_id=client_id, process=True
            )
        else:  # aiokafka's transactional producer, on the loop (generator_transactions.py)
            engine, sends = await start_transactional(
                connection, properties, client_id, spec.transactions
            )
        generator = Generator(number, spec, window_ms)
        generator.launch(engine, sends)
        self._generators[number] = generator
        return generator

    async def stop(self, number: int) -> None:
        generator = self._generators.get(number)
        if generator is not None:
            await generator.stopped()

    def forget(self, number: int) -> None:
        """Drop a generator that has ended from the list."""
        generator = self._generators.get(number)
        if generator is not None and not generator.running:
            del self._generators[number]

    async def stop_all(self) -> None:
        """Stop every generator at once (quitting, switching clusters) and forget them."""
        await asyncio.gather(*(g.stopped() for g in self._generators.values()))
        self._generators.clear()
