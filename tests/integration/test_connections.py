"""What a connection may cost the broker: memory per connection, memory per unfinished frame.

The broker runs as its own process so its resident memory (VmRSS) can be read from /proc; each
test compares it with the same broker before the connections it opens, so the interpreter's
own size does not matter. A frame is proven read before the memory is measured: it shares one
`send` with a small request whose answer comes back first.
"""

from __future__ import annotations

import struct
from contextlib import ExitStack
from pathlib import Path

from brokers import BrokerProcess
from kio.schema.errors import ErrorCode
from wire import API_VERSIONS, RawClient, framed, request_body, request_bytes

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
