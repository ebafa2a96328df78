"""No client can freeze the others: connections are served in turn, read-ahead is bounded, and a
client that does not read its answers stops being read instead of filling the broker's memory.

Clients are raw sockets (tests/wire.py) against a broker process, so the test's own threads
never share an interpreter lock with the broker they measure. Nothing here times anything:
each test counts what happened before something else did (or, for the write path, how many
segments carried the answers).
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
import time
from collections import deque
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from brokers import BrokerProcess
from kio.schema.errors import ErrorCode
from waiting import in_background, wait_until
from wire import (
    API_VERSIONS,
    RawClient,
    framed,
    parse_response,
    request_body,
    request_bytes,
)

from localbroker.records.builder import NewRecord, build_batch

PRODUCE, FETCH, CREATE_TOPICS = 0, 1, 19


def create_topic(bootstrap: str, name: str, partitions: int = 1) -> None:
    topic = {"name": name, "num_partitions": partitions, "replication_factor": 1}
    with RawClient(bootstrap) as client:
        data = {"topics": [topic], "timeout": 5000, "validate_only": False}
        [created] = client.call(CREATE_TOPICS, 7, data).topics
    assert created.error_code == ErrorCode.none, created.error_message


def produce_request(topic: str, value: bytes, acks: int) -> Any:
    records = build_batch([NewRecord(value)], now_ms=int(time.time() * 1000))
    partitions = [{"index": 0, "records": records}]
    data = {
        "acks": acks,
        "timeout": 5000,
        "topic_data": [{"name": topic, "partition_data": partitions}],
    }
    return request_body(PRODUCE, 9, data)


def fetch_request(topic: str, max_bytes: int) -> Any:
    partition = {"partition": 0, "fetch_offset": 0, "partition_max_bytes": max_bytes}
    data = {
        "max_wait": 0,
        "min_bytes": 0,
        "max_bytes": max_bytes,
        "topics": [{"topic": topic, "partitions": [partition]}],
        "forgotten_topics_data": [],
    }
    return request_body(FETCH, 12, data)


def test_a_pipelined_flood_does_not_starve_another_connection(
    broker_process: BrokerProcess,
) -> None:
    """50,000 acks=0 produce requests written at once on one socket: another connection's
    ApiVersions round trips keep being answered while the broker works through them.

    The broker used to handle every frame it had read before looking at another socket, so a
    round trip waited for thousands of flood frames: about one answer per 256 KiB read.
    Served in turn, the victim gets an answer per few flood frames.
    """
    bootstrap = broker_process.bootstrap
    create_topic(bootstrap, "flood")
    frame = framed(request_bytes(produce_request("flood", b"f", acks=0), 1))
    flood = frame * 50_000 + framed(request_bytes(request_body(API_VERSIONS, 0, {}), 2))
    flood_done = threading.Event()

    def send_flood() -> None:
        with RawClient(bootstrap) as client:
            client.send_raw(flood)
            assert client.recv(API_VERSIONS, 0, 2).error_code == ErrorCode.none
            flood_done.set()

    answers_during_flood = 0
    with RawClient(bootstrap) as victim:
        assert victim.call(API_VERSIONS, 0, {}).error_code == ErrorCode.none
        with in_background(send_flood):
            while not flood_done.is_set():
                assert victim.call(API_VERSIONS, 0, {}).error_code == ErrorCode.none
                answers_during_flood += 1
    assert answers_during_flood >= 200, (
        f"only {answers_during_flood} ApiVersions answers while 50,000 frames were handled"
    )


TCPI_DATA_SEGS_IN = 152
"""Offset of tcpi_data_segs_in (u32, Linux 4.6+) in Linux's struct tcp_info."""


def data_segments_in(sock: socket.socket) -> int:
    """Segments carrying data that `sock` has received (Linux's TCP_INFO)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return int(struct.unpack_from("=I", info, TCPI_DATA_SEGS_IN)[0])


def test_produce_answers_ready_together_leave_in_one_write(
    broker_process: BrokerProcess,
) -> None:
    """Five acks=1 produce requests pipelined in one send are answered in one write: the
    client receives one segment carrying the five answers, in order. Written one by one
    (as they were) they came in five segments, and each write woke the client's thread."""
    bootstrap = broker_process.bootstrap
    create_topic(bootstrap, "pipelined")
    requests = [request_bytes(produce_request("pipelined", b"p", acks=1), i) for i in range(5)]
    with RawClient(bootstrap) as client:
        before = data_segments_in(client.sock)
        client.send_raw(b"".join(framed(request) for request in requests))
        frames = [client.recv_frame() for _ in requests]
        segments = data_segments_in(client.sock) - before
    answers = [parse_response(frame, PRODUCE, 9) for frame in frames if frame is not None]
    assert [correlation_id for correlation_id, _ in answers] == list(range(5))
    offsets = [body.responses[0].partition_responses[0].base_offset for _, body in answers]
    assert offsets == list(range(5))
    assert segments == 1


def unread_bytes(broker_port: int, client_port: int) -> int:
    """Bytes the kernel holds for the broker's end of one connection that the broker has not
    read yet (the rx_queue column of Linux's /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, queues = fields[1], fields[2], fields[4]
        if int(local.rsplit(":", 1)[1], 16) == broker_port and (
            int(remote.rsplit(":", 1)[1], 16) == client_port
        ):
            return int(queues.split(":")[1], 16)
    raise AssertionError(f"no connection from port {client_port} to {broker_port}")


def test_a_client_that_reads_no_answers_stops_being_read(broker_process: BrokerProcess) -> None:
    """A client pipelining 4,000 fetches without reading their answers soon stops being read:
    its requests wait in the kernel, unread by the broker, while others are served. The broker
    holds a few answers for it, not 4,000 (64 MB), nor 64 MiB of its requests.

    Once the client reads, every answer arrives in order.
    """
    bootstrap = broker_process.bootstrap
    create_topic(bootstrap, "big")
    with RawClient(bootstrap) as producer:
        body = produce_request("big", b"x" * 16_000, acks=1)
        [topic] = producer.recv(PRODUCE, 9, producer.send(body)).responses
        assert topic.partition_responses[0].error_code == ErrorCode.none
    requests = 4000  # 400 KB: more than the broker reads at once (256 KiB)
    pipeline = framed(request_bytes(fetch_request("big", 1 << 20), 5)) * requests
    with RawClient(bootstrap) as slow, RawClient(bootstrap) as bystander:
        client_port = slow.sock.getsockname()[1]
        with in_background(lambda: slow.sock.sendall(pipeline)) as sender:

            def unread_and_unchanged() -> bool:
                """The same bytes stay unread over 100 round trips of another client: the
                broker serves others but does not read this connection."""
                unread = set()
                for _ in range(100):
                    assert bystander.call(API_VERSIONS, 0, {}).error_code == ErrorCode.none
                    unread.add(unread_bytes(broker_process.port, client_port))
                if not sender.is_alive():
                    assert unread != {0}, "the broker read every request, no answer was read"
                return len(unread) == 1 and 0 not in unread

            wait_until(unread_and_unchanged, "the broker to stop reading the slow client")
            for _ in range(requests):
                correlation_id, answer = parse_response(slow.recv_frame() or b"", FETCH, 12)
                assert correlation_id == 5
                assert answer.responses[0].partitions[0].error_code == ErrorCode.none


class Pipeliner:
    """One raw connection writing 50 produce requests in two waves, the second as soon as the
    first answer is back: a client that keeps writing while its answers arrive."""

    def __init__(self, bootstrap: str, number: int, requests: int = 50) -> None:
        self.client = RawClient(bootstrap)
        self.expected = deque(range(number * requests, (number + 1) * requests))
        body = produce_request("crowd", f"client-{number}".encode(), acks=1)
        frames = [framed(request_bytes(body, i)) for i in self.expected]
        self.client.send_raw(b"".join(frames[: requests // 2]))
        self.second_wave = b"".join(frames[requests // 2 :])
        self.unparsed = b""

    def read_answers(self) -> list[int]:
        """Base offsets of the answers that arrived, checked to come in request order."""
        chunk = self.client.sock.recv(1 << 16)
        assert chunk, "the broker closed a connection"
        self.unparsed += chunk
        offsets = []
        while len(self.unparsed) >= 4:
            size = int.from_bytes(self.unparsed[:4], "big")
            if len(self.unparsed) < 4 + size:
                break
            frame, self.unparsed = self.unparsed[4 : 4 + size], self.unparsed[4 + size :]
            correlation_id, answer = parse_response(frame, PRODUCE, 9)
            assert correlation_id == self.expected.popleft(), "answers out of order"
            [partition] = answer.responses[0].partition_responses
            assert partition.error_code == ErrorCode.none
            offsets.append(partition.base_offset)
        if offsets and self.second_wave:
            self.client.send_raw(self.second_wave)
            self.second_wave = b""
        return offsets


def test_a_hundred_and_twenty_clients_pipelining_are_all_answered_in_order(
    broker_process: BrokerProcess,
) -> None:
    """120 connections each pipeline 50 acks=1 produce requests; every connection gets its 50
    answers in order, and the partition holds exactly the 6,000 records."""
    bootstrap = broker_process.bootstrap
    create_topic(bootstrap, "crowd")
    offsets: list[int] = []
    with ExitStack() as stack, selectors.DefaultSelector() as selector:
        for number in range(120):
            pipeliner = Pipeliner(bootstrap, number)
            stack.enter_context(pipeliner.client)
            selector.register(pipeliner.client.sock, selectors.EVENT_READ, pipeliner)
        waiting = 120

        def everyone_answered() -> bool:
            nonlocal waiting
            for key, _ in selector.select(timeout=0.1):
                pipeliner = key.data
                offsets.extend(pipeliner.read_answers())
                if not pipeliner.expected:
                    selector.unregister(pipeliner.client.sock)
                    waiting -= 1
            return waiting == 0

        wait_until(everyone_answered, "every connection's 50 answers")
    assert sorted(offsets) == list(range(120 * 50))
