"""FrameDecoder: a TCP byte stream cut anywhere still yields the exact request frames, in order.

The decoder is fed the way asyncio's buffered protocol feeds it (`get_buffer` then
`buffer_updated` with however many bytes the kernel delivered) and the way plain protocols
do (`feed`). Frames that do not fit one read take the path of an unfinished frame, so the
properties use a tiny read buffer to exercise both paths on every run.
"""

from __future__ import annotations

import struct
import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localbroker.protocol.framing import FrameDecoder, FrameError, ReadBuffer

CHUNK = 32  # a tiny shared read buffer, so many frames arrive over several reads
MAX_FRAME = 1000


def frame_bytes(payload: bytes) -> bytes:
    """One frame as it travels on the wire: 4-byte big-endian length, then the payload."""
    return struct.pack(">i", len(payload)) + payload


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at the (sorted, deduplicated) positions in `cuts`."""
    positions = sorted({c % (len(data) + 1) for c in cuts}) if data else []
    pieces, last = [], 0
    for position in [*positions, len(data)]:
        pieces.append(data[last:position])
        last = position
    return [piece for piece in pieces if piece]


def drain(decoder: FrameDecoder) -> list[bytes]:
    frames = []
    while (frame := decoder.next_frame()) is not None:
        frames.append(bytes(frame))
    return frames


def feed_via_buffers(decoder: FrameDecoder, piece: bytes, read_size: int) -> None:
    """Deliver `piece` like a socket does: into lent buffers, at most `read_size` per read."""
    view = memoryview(piece)
    while view:
        target = decoder.get_buffer()
        assert len(target) > 0, "get_buffer must always lend some memory"
        count = min(len(target), len(view), read_size)
        target[:count] = view[:count]
        decoder.buffer_updated(count)
        view = view[count:]


payloads = st.lists(
    st.one_of(
        st.just(b""),
        st.binary(min_size=1, max_size=CHUNK - 4),  # fits one read
        st.binary(min_size=CHUNK - 4, max_size=300),  # arrives over several reads
    ),
    max_size=25,
)
cut_points = st.lists(st.integers(min_value=0, max_value=10_000), max_size=40)


@settings(max_examples=300, deadline=None)
@given(payloads, cut_points)
def test_feed_returns_the_same_frames_in_order(payloads: list[bytes], cuts: list[int]) -> None:
    """Whatever the TCP segmentation, `feed` yields each frame once, whole and in order."""
    stream = b"".join(frame_bytes(p) for p in payloads)
    decoder = FrameDecoder(MAX_FRAME, ReadBuffer(CHUNK))
    received: list[bytes] = []
    for piece in split(stream, cuts):
        decoder.feed(piece)
        received += drain(decoder)
    assert received == payloads
    assert decoder.buffered_bytes == 0


@settings(max_examples=300, deadline=None)
@given(payloads, cut_points, st.integers(min_value=1, max_value=50))
def test_buffer_protocol_returns_the_same_frames_in_order(
    payloads: list[bytes], cuts: list[int], read_size: int
) -> None:
    """get_buffer/buffer_updated with short reads yields the same frames as the stream held."""
    stream = b"".join(frame_bytes(p) for p in payloads)
    decoder = FrameDecoder(MAX_FRAME, ReadBuffer(CHUNK))
    received: list[bytes] = []
    for piece in split(stream, cuts):
        feed_via_buffers(decoder, piece, read_size)
        received += drain(decoder)
    assert received == payloads
    assert decoder.buffered_bytes == 0


@settings(max_examples=50, deadline=None)
@given(payloads)
def test_frames_are_held_until_read(payloads: list[bytes]) -> None:
    """Frames queue up when the server does not read them between socket reads."""
    decoder = FrameDecoder(MAX_FRAME, ReadBuffer(CHUNK))
    for payload in payloads:
        decoder.feed(frame_bytes(payload))
    assert drain(decoder) == payloads
    assert decoder.next_frame() is None


def test_partial_frame_is_not_returned() -> None:
    """Until the last byte of a frame arrives, no frame is returned and the bytes stay buffered."""
    decoder = FrameDecoder(MAX_FRAME, ReadBuffer(CHUNK))
    wire = frame_bytes(b"x" * 100)
    decoder.feed(wire[:-1])
    assert decoder.next_frame() is None
    assert decoder.buffered_bytes > 0
    decoder.feed(wire[-1:])
    assert decoder.next_frame() == b"x" * 100
    assert decoder.buffered_bytes == 0


def test_large_frame_is_read_into_its_own_buffer() -> None:
    """A frame larger than one read is filled in place by the socket: get_buffer lends exactly
    the rest of that frame, so the kernel writes straight into the frame's memory."""
    decoder = FrameDecoder(MAX_FRAME, ReadBuffer(CHUNK))
    payload = bytes(range(200))
    wire = frame_bytes(payload)
    decoder.feed(wire[:20])  # length prefix and 16 payload bytes
    assert len(decoder.get_buffer()) == 200 - 16
    decoder.feed(wire[20:])
    assert decoder.next_frame() == payload


def test_frame_of_exactly_the_maximum_size_is_accepted() -> None:
    decoder = FrameDecoder(MAX_FRAME, ReadBuffer(CHUNK))
    decoder.feed(frame_bytes(b"m" * MAX_FRAME))
    assert decoder.next_frame() == b"m" * MAX_FRAME


@pytest.mark.parametrize("size", [-1, -(2**31), MAX_FRAME + 1, 2**31 - 1])
def test_length_outside_limits_is_a_frame_error(size: int) -> None:
    """A negative length or one above socket.request.max.bytes makes the connection unusable."""
    decoder = FrameDecoder(MAX_FRAME, ReadBuffer(CHUNK))
    with pytest.raises(FrameError, match=rf"frame of {size} bytes is outside 0\.\.{MAX_FRAME}"):
        decoder.feed(struct.pack(">i", size))


def test_bad_length_after_good_frames_keeps_the_good_ones() -> None:
    """Frames completed before the bad length prefix were already queued for the server."""
    decoder = FrameDecoder(MAX_FRAME, ReadBuffer(CHUNK))
    with pytest.raises(FrameError):
        decoder.feed(frame_bytes(b"ok") + struct.pack(">i", -5))
    assert decoder.next_frame() == b"ok"


def test_bad_length_split_across_reads_is_detected() -> None:
    """A length prefix arriving one byte at a time is still checked once complete."""
    decoder = FrameDecoder(MAX_FRAME, ReadBuffer(CHUNK))
    prefix = struct.pack(">i", MAX_FRAME + 1)
    for byte in prefix[:3]:
        decoder.feed(bytes([byte]))
    with pytest.raises(FrameError):
        decoder.feed(prefix[3:])


def test_a_large_frame_arriving_in_small_reads_is_whole() -> None:
    """A 1 MB frame delivered 1,000 bytes at a time (its buffer grows several times) arrives
    byte for byte, followed by the frame after it."""
    payload = bytes(range(256)) * 4096
    decoder = FrameDecoder(len(payload))
    feed_via_buffers(decoder, frame_bytes(payload) + frame_bytes(b"next"), 1000)
    assert drain(decoder) == [payload, b"next"]


def allocations(action: Callable[[], object]) -> tuple[int, int]:
    """Memory Python allocated while `action` ran, over what it had: at the most, and still
    held afterwards (what `action` returned included)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        kept = action()
        current, peak = tracemalloc.get_traced_memory()
        del kept
    finally:
        tracemalloc.stop()
    return peak - before, current - before


def peak_allocation(action: Callable[[], object]) -> int:
    return allocations(action)[0]


def test_an_announced_frame_is_not_allocated_before_its_bytes_arrive() -> None:
    """A 100 MB length prefix followed by 1 KB allocates about what arrived, not 100 MB: memory
    follows the bytes received, so a peer cannot reserve memory by announcing it."""
    decoder = FrameDecoder(200 * 1024 * 1024)
    announced = struct.pack(">i", 100_000_000) + bytes(1000)
    assert peak_allocation(lambda: decoder.feed(announced)) < 1024 * 1024


def test_decoders_between_frames_hold_no_read_buffer() -> None:
    """1,000 connections that each received a request hold no read memory afterwards."""
    shared = ReadBuffer()

    def serve_a_thousand() -> list[FrameDecoder]:
        decoders = [FrameDecoder(MAX_FRAME, shared) for _ in range(1000)]
        for decoder in decoders:
            decoder.feed(frame_bytes(b"request"))
            assert drain(decoder) == [b"request"]
        return decoders

    assert peak_allocation(serve_a_thousand) < 1000 * 2048


def test_decoders_hold_nothing_after_a_large_frame() -> None:
    """Ten connections that each received a 1 MB request, since handled, hold no buffer."""
    shared = ReadBuffer()
    request = frame_bytes(bytes(1 << 20))

    def serve_ten() -> list[FrameDecoder]:
        decoders = [FrameDecoder(2 << 20, shared) for _ in range(10)]
        for decoder in decoders:
            feed_via_buffers(decoder, request, 64 * 1024)
            assert [len(frame) for frame in drain(decoder)] == [1 << 20]
        return decoders

    assert allocations(serve_ten)[1] < 10 * 2048
