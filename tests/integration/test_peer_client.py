"""PeerClient, the connection one cluster node keeps to another: pipelined calls answered
in order, and a peer that goes away fails the calls in flight instead of hanging them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from localbroker.broker import LocalBroker
from localbroker.cluster.peer import PeerClient, PeerUnavailable
from localbroker.protocol.names import ApiKey


async def test_pipelined_calls_each_get_their_own_answer(tmp_path: Path) -> None:
    async with LocalBroker(tmp_path, port=0) as broker:
        host, port = broker.bound
        peer = PeerClient(host, port, client_id="peer-test")
        try:
            versions, metadata = await asyncio.gather(
                peer.call(ApiKey.API_VERSIONS, 0, {}),
                peer.call(
                    ApiKey.METADATA,
                    12,
                    {
                        "topics": None,
                        "allow_auto_topic_creation": False,
                        "include_topic_authorized_operations": False,
                    },
                ),
            )
        finally:
            await peer.close()
    assert any(key.api_key == ApiKey.FETCH for key in versions.api_keys)
    assert [b.node_id for b in metadata.brokers] == [0]


async def test_a_peer_that_stops_fails_the_call_and_a_later_call_reconnects(
    tmp_path: Path,
) -> None:
    broker = await LocalBroker(tmp_path, port=0).start()
    host, port = broker.bound
    peer = PeerClient(host, port, client_id="peer-test", timeout_s=10.0)
    try:
        await peer.call(ApiKey.API_VERSIONS, 0, {})
        await broker.stop()
        with pytest.raises(PeerUnavailable):
            await peer.call(ApiKey.API_VERSIONS, 0, {})
        broker = await LocalBroker(tmp_path, port=port).start()
        answer = await peer.call(ApiKey.API_VERSIONS, 0, {})
        assert answer.error_code == 0
    finally:
        await peer.close()
        await broker.stop()


async def test_a_peer_nobody_listens_on_is_unavailable() -> None:
    peer = PeerClient("127.0.0.1", 1, client_id="peer-test", timeout_s=2.0)
    with pytest.raises(PeerUnavailable):
        await peer.call(ApiKey.API_VERSIONS, 0, {})
