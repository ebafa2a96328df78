"""librdkafka's engine in a process of its own, for the traffic generator inside the TUI.

In a thread of the TUI's process, librdkafka's send loop still runs Python for every record
(produce(), the delivery callback) and so holds the interpreter lock most of the time; the UI's
thread then waits for the lock after every system call it makes, and a keypress took two
seconds to be handled at full rate (bench/loadtest.py). In a child process the loop has a lock
of its own: the UI receives a Tally every HAND_OFF_MS through a pipe, read by the event loop
when it is readable, and tells the child to stop or to change its rate.

The child is `python -m tui.kafka.perf.worker FD`, started with subprocess rather than
multiprocessing: multiprocessing's resource tracker needs the real stderr, which a Textual app
has replaced. Its end of a socket pair carries pickled messages both ways (multiprocessing's
framing); its output goes nowhere, never onto the UI's screen. It exits by itself when the
UI's process is gone: its next hand-off finds the socket closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import subprocess
import sys
from multiprocessing.connection import Connection as Pipe
from typing import Any

from ..connection import SettingsError
from ..errors import KafkaToolError
from .engine import LOG, EngineName, LibrdkafkaEngine
from .producer import ProducerLoad, Stats, Tally, ThroughputThrottler, now_ms

START = "start"
READY = "ready"
LOAD = "load"
STOP = "stop"
RATE = "rate"
BASED = "based"
TALLY = "tally"
DONE = "done"
FAILED = "failed"
START_TIMEOUT_S = 30.0
NICENESS = 10
"""The child yields the CPU to the UI when both want it: on a machine with few cores a key is
answered first, and the load goes at full rate whenever the UI is idle."""


class WorkerEngine:
    """The ProducerEngine interface over LibrdkafkaEngine.send_all in a child process."""

    name: EngineName = "librdkafka"

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = {name: value for name, value in config.items() if name != "logger"}
        """What the child builds its producer from (a logger does not cross processes)."""
        self._process: subprocess.Popen[bytes] | None = None
        self._pipe: Pipe | None = None

    async def start(self) -> None:
        """Start the child and wait until its producer exists, so that a run's clock starts
        when records can go (as the other engines'); properties librdkafka refuses are a
        SettingsError."""
        mine, child = socket.socketpair()
        with child:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(child.fileno())],
                pass_fds=[child.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        self._pipe = pipe = Pipe(mine.detach())
        pipe.send((START, self.config))
        if not await asyncio.to_thread(pipe.poll, START_TIMEOUT_S):
            await self.close()
            raise KafkaToolError("the producing process did not start")
        try:
            kind, value = pipe.recv()
        except EOFError:
            kind, value = FAILED, f"exit code {self._process.wait()}"
        if kind != READY:
            await self.close()
            raise SettingsError(f"the producing process could not start: {value}")

    async def run(
        self,
        load: ProducerLoad,
        stats: Stats,
        stop: asyncio.Event | None = None,
        throttler: ThroughputThrottler | None = None,
    ) -> None:
        """Feed `stats` from the child until it has sent the load and heard every answer;
        `stop` and `throttler.retarget` are passed on to it as they happen."""
        ours, process = self._pipe, self._process
        assert ours is not None and process is not None, "start() first"
        target = throttler.target if throttler is not None else load.throughput
        _tell(ours, LOAD, (load, target))
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[int] = loop.create_future()
        loop.add_reader(ours.fileno(), _receive, ours, stats, throttler, finished, process)
        stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
        if throttler is not None:
            throttler.on_retarget = functools.partial(_tell, ours, RATE)
        try:
            waiting: set[asyncio.Future[Any]] = {finished}
            if stopper is not None:
                waiting.add(stopper)
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if finished not in done:
                _tell(ours, STOP, None)
            sent = await finished
        finally:
            if stopper is not None:
                stopper.cancel()
            if throttler is not None:
                throttler.on_retarget = None
            loop.remove_reader(ours.fileno())
            ours.close()  # a child still sending (cancelled) finds it closed and exits
        stats.expect(sent)

    async def close(self) -> None:
        """Wait for the child to exit (it does once it has answered); end it if it will not."""
        process = self._process
        if process is None:
            return
        if self._pipe is not None:
            self._pipe.close()
        try:
            await asyncio.to_thread(process.wait, START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)


def _tell(pipe: Pipe, kind: str, value: Any) -> None:
    with contextlib.suppress(OSError):  # the child is gone: its end of the run says why
        pipe.send((kind, value))


def _receive(
    pipe: Pipe,
    stats: Stats,
    throttler: ThroughputThrottler | None,
    finished: asyncio.Future[int],
    process: Any,
) -> None:
    """What the child sent: tallies for the stats, where its throttler counts from after a
    rate change (the UI's throttler shows it), then how many it sent, or why it failed."""
    if finished.done():
        return
    try:
        kind, value = pipe.recv()
    except (EOFError, OSError):
        finished.set_exception(
            KafkaToolError(f"the producing process ended (exit code {process.poll()})")
        )
        return
    if kind == TALLY:
        stats.absorb(value)
    elif kind == BASED:
        target, base_amount, start_ms = value
        if throttler is not None and throttler.target == target:  # not an older change's
            throttler.base_amount, throttler.start_ms = base_amount, start_ms
    elif kind == DONE:
        finished.set_result(value)
    else:
        finished.set_exception(KafkaToolError(value))


def produce(pipe: Pipe) -> None:
    """The child: run the load with librdkafka, hand tallies up the pipe, obey stop and rate."""
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    _, config = pipe.recv()
    try:
        engine = LibrdkafkaEngine({**config, "logger": LOG})
    except SettingsError as exc:
        pipe.send((FAILED, str(exc)))
        return
    pipe.send((READY, None))
    try:
        _, (load, throughput) = pipe.recv()
    except EOFError:  # closed without a run
        return
    throttler = ThroughputThrottler(throughput, now_ms())
    stopping = False

    def hand(tally: Tally) -> None:
        pipe.send((TALLY, tally))  # a broken pipe (the UI is gone) ends the child here

    def stopped() -> bool:
        nonlocal stopping
        while pipe.poll():
            kind, value = pipe.recv()
            if kind == STOP:
                stopping = True
            elif kind == RATE:
                throttler.retarget(value, now_ms())  # monotonic: one clock for both processes
                pipe.send((BASED, (value, throttler.base_amount, throttler.start_ms)))
        return stopping

    try:
        sent = engine.send_all(load, throttler, hand, stopped)
    except (BrokenPipeError, EOFError):
        return
    except Exception as exc:  # reported to the UI, which shows it
        pipe.send((FAILED, f"sending to {load.topic} failed: {type(exc).__name__}: {exc}"))
        return
    pipe.send((DONE, sent))


if __name__ == "__main__":
    produce(Pipe(int(sys.argv[1])))
