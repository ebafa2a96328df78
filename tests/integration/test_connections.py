"""Connections: what each may cost the broker, and the limits Kafka's settings put on them.

Memory: the broker runs as its own process so its resident memory (VmRSS) can be read from
/proc; each test compares it with the same broker before the connections it opens, so the
interpreter's own size does not matter. A frame is proven read before the memory is measured:
it shares one `send` with a small request whose answer comes back first.

Limits: max.connections, max.connections.per.ip (and its overrides), connections.max.idle.ms,
and what happens when the broker runs out of file descriptors, each with raw sockets.
"""

from __future__ import annotations

import logging
import select
import struct
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from brokers import BrokerProcess
from kio.schema.errors import ErrorCode
from waiting import wait_until
from wire import API_VERSIONS, RawClient, framed, request_body, request_bytes

from localbroker.broker import LocalBroker
from localbroker.errors import KafkaError
from tui.embedded import EmbeddedBroker

MIB = 1024 * 1024


def resident_bytes(broker: BrokerProcess) -> int:
    """The broker process's resident memory (Linux /proc)."""
    assert broker.process is not None
    status = Path(f"/proc/{broker.process.pid}/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith("VmRSS:")]
    return int(line.split()[1]) * 1024


def answered(client: RawClient) -> None:
    """One ApiVersions round trip on `client`."""
    response = client.call(API_VERSIONS, 0, {})
    assert response.error_code == ErrorCode.none


def test_idle_connections_do_not_hold_a_read_buffer_each(broker_process: BrokerProcess) -> None:
    """1,000 connections that each sent a request and went idle cost well under 32 KiB each
    (it was 256 KiB each: a read buffer per connection, kept for the connection's life)."""
    with RawClient(broker_process.bootstrap) as warm:
        answered(warm)
    before = resident_bytes(broker_process)
    with ExitStack() as connections:
        for _ in range(1000):
            answered(connections.enter_context(RawClient(broker_process.bootstrap)))
        grown = resident_bytes(broker_process) - before
    assert grown < 1000 * 32 * 1024, (
        f"1,000 idle connections grew the broker by {grown / MIB:.0f} MiB"
    )


def test_a_length_prefix_alone_does_not_allocate_its_frame(broker_process: BrokerProcess) -> None:
    """Ten connections announce 100 MB frames and send 1 KB of them: the broker must not set
    aside 100 MB for each before the bytes arrive (it did: +1 GB until they left)."""
    ping = framed(request_bytes(request_body(API_VERSIONS, 0, {}), 7))
    announced = struct.pack(">i", 100_000_000) + bytes(1000)
    with RawClient(broker_process.bootstrap) as warm:
        answered(warm)
    before = resident_bytes(broker_process)
    with ExitStack() as connections:
        for _ in range(10):
            client = connections.enter_context(RawClient(broker_process.bootstrap))
            client.send_raw(ping + announced)
            assert client.recv(API_VERSIONS, 0, 7).error_code == ErrorCode.none
        grown = resident_bytes(broker_process) - before
        with RawClient(broker_process.bootstrap) as bystander:
            answered(bystander)
    assert grown < 50 * MIB, f"ten announced frames grew the broker by {grown / MIB:.0f} MiB"


# -- limits -----------------------------------------------------------------------------------

StartBroker = Callable[..., EmbeddedBroker]


def served(bootstrap: str) -> bool:
    """Whether a new connection gets an ApiVersions answer (False: it was closed)."""
    with RawClient(bootstrap) as client:
        client.send(request_body(API_VERSIONS, 0, {}))
        return client.recv_frame() is not None


def readable(client: RawClient) -> bool:
    """Whether the broker sent something (or closed) on `client`'s connection."""
    return bool(select.select([client.sock], [], [], 0)[0])


def test_max_connections_per_ip(
    start_broker: StartBroker, caplog: pytest.LogCaptureFixture
) -> None:
    """The third connection from 127.0.0.1 is closed, with Kafka's log line; the first two
    are served, and once one leaves a new one is served."""
    broker = start_broker({"max.connections.per.ip": "2"})
    caplog.set_level(logging.INFO, logger="localbroker.server")
    with RawClient(broker.bootstrap) as first, RawClient(broker.bootstrap) as second:
        answered(first)
        answered(second)
        with RawClient(broker.bootstrap) as third:
            third.send(request_body(API_VERSIONS, 0, {}))
            third.expect_closed()
        answered(first)
        assert (
            "Rejected connection from 127.0.0.1, address already has the configured maximum"
            " of 2 connections." in caplog.messages
        )
    # Once the broker has seen the two leave (a moment after they close), one more is served.
    wait_until(lambda: served(broker.bootstrap), "a new connection to be served")


def test_max_connections_per_ip_overrides(start_broker: StartBroker) -> None:
    """max.connections.per.ip 0 with an override for 127.0.0.1 (by name: localhost) lets one
    connection in from there."""
    broker = start_broker(
        {"max.connections.per.ip": "0", "max.connections.per.ip.overrides": "localhost:1"}
    )
    with RawClient(broker.bootstrap) as allowed:
        answered(allowed)
        with RawClient(broker.bootstrap) as refused:
            refused.send(request_body(API_VERSIONS, 0, {}))
            refused.expect_closed()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"max.connections.per.ip": "0"},
            "max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides",
        ),
        (
            {"max.connections.per.ip.overrides": "127.0.0.1"},
            "Error parsing configuration property 'max.connections.per.ip.overrides'",
        ),
    ],
)
async def test_connection_limits_that_cannot_work_stop_the_start(
    tmp_path: Path, config: dict[str, str], message: str
) -> None:
    with pytest.raises(KafkaError, match=message):
        await LocalBroker(tmp_path, port=0, config=config).start()


def test_max_connections_queues_new_connections(start_broker: StartBroker) -> None:
    """With max.connections 3 and three open, a fourth connection waits unanswered (it is not
    accepted) while the three are served; when one closes, the fourth is answered."""
    broker = start_broker({"max.connections": "3"})
    with ExitStack() as stack:
        first, *others = [stack.enter_context(RawClient(broker.bootstrap)) for _ in range(3)]
        for client in (first, *others):
            answered(client)
        fourth = stack.enter_context(RawClient(broker.bootstrap))
        correlation_id = fourth.send(request_body(API_VERSIONS, 0, {}))
        for _ in range(50):
            answered(others[0])
        assert not readable(fourth), "a fourth connection was served with max.connections 3"
        first.sock.close()
        assert fourth.recv(API_VERSIONS, 0, correlation_id).error_code == ErrorCode.none


def test_idle_connections_are_closed(start_broker: StartBroker) -> None:
    """connections.max.idle.ms 300: a connection that stays silent is closed, while another
    that keeps making round trips all along stays open."""
    broker = start_broker({"connections.max.idle.ms": "300"})
    with RawClient(broker.bootstrap) as idle, RawClient(broker.bootstrap) as busy:
        answered(idle)

        def idle_closed() -> bool:
            answered(busy)
            return readable(idle)

        wait_until(idle_closed, "the idle connection to be closed")
        idle.expect_closed()
        answered(busy)
    server = broker._broker._server
    wait_until(lambda: broker.call(lambda: len(server.connections)) == 0, "every connection gone")


def test_out_of_descriptors_refuses_connections_and_says_so(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A broker allowed 200 descriptors takes connections until it has none left; the next
    ones are accepted with its reserve descriptor and closed at once, with one warning for
    the lot (not one per connection). Once connections leave, new ones are served."""
    broker = BrokerProcess(tmp_path / "data", descriptor_limit=200).start()
    try:
        with ExitStack() as stack:
            refused = 0
            for _ in range(400):
                client = stack.enter_context(RawClient(broker.bootstrap))
                client.send(request_body(API_VERSIONS, 0, {}))
                if client.recv_frame() is None:
                    refused += 1
            assert refused > 100

        def served() -> bool:
            """The broker frees a descriptor once it has seen its connection close, which a
            loaded machine may take a moment to get to."""
            with RawClient(broker.bootstrap) as client:
                client.send(request_body(API_VERSIONS, 0, {}))
                return client.recv_frame() is not None

        wait_until(served, "a connection served once the others left", 30)
        warnings = [line for line in capfd.readouterr().err.splitlines() if "Refused" in line]
        assert 1 <= len(warnings) <= 3, warnings  # a count every 10 s, never one per connection
        assert "Too many open files" in warnings[0] and "may open 200 file" in warnings[0]
    finally:
        broker.kill()
