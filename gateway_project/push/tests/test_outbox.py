"""The outbox in isolation: a fake ASGI `send` that can be made to wait, the way a
server's send waits while the peer's buffers are full."""

import asyncio

import pytest

from push.outbox import Outbox

pytestmark = pytest.mark.anyio

CLOSE_4408 = {"type": "websocket.close", "code": 4408}


class Peer:
    """An ASGI send that records messages and blocks while `reading` is clear."""

    def __init__(self):
        self.sent = []
        self.reading = asyncio.Event()
        self.reading.set()

    async def send(self, message):
        await self.reading.wait()
        self.sent.append(message.get("text") or message.get("code"))


def _outbox(peer, *, limit=100, on_overflow=lambda: None, write_direct=None):
    return Outbox(
        peer.send, limit_bytes=limit, overflow_message=CLOSE_4408, on_overflow=on_overflow, write_direct=write_direct
    )


def _frame(text):
    return {"type": "websocket.send", "text": text}


async def test_a_frame_is_sent_at_once_when_the_peer_reads():
    peer = Peer()
    outbox = _outbox(peer)
    outbox.put(_frame("a"), 1)
    assert peer.sent == ["a"]  # no task, no loop iteration


async def test_frames_keep_their_order_while_the_peer_is_slow():
    peer = Peer()
    outbox = _outbox(peer)
    peer.reading.clear()
    for text in "abc":
        outbox.put(_frame(text), 1)
    assert peer.sent == []
    peer.reading.set()
    await outbox.drained()
    outbox.put(_frame("d"), 1)
    assert peer.sent == ["a", "b", "c", "d"]


async def test_a_backlog_past_the_bound_drops_the_queue_and_closes_after_the_frame_in_flight():
    peer, overflowed = Peer(), []
    outbox = _outbox(peer, limit=10, on_overflow=lambda: overflowed.append(True))
    peer.reading.clear()
    outbox.put(_frame("in flight"), 9)
    assert outbox.put(_frame("queued"), 6)
    assert not outbox.put(_frame("over"), 6)
    assert overflowed == [True] and outbox.closed
    assert not outbox.put(_frame("after"), 1)
    peer.reading.set()
    await asyncio.sleep(0.01)
    assert peer.sent == ["in flight", 4408]


async def test_drained_returns_when_the_outbox_closes_even_if_the_peer_never_reads():
    peer = Peer()
    outbox = _outbox(peer, limit=10)
    peer.reading.clear()
    outbox.put(_frame("x"), 5)
    outbox.put(_frame("y"), 5)
    waiting = asyncio.ensure_future(outbox.drained())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    outbox.put(_frame("z"), 50)  # overflow
    await asyncio.wait_for(waiting, 1)


async def test_a_frame_is_written_directly_only_when_nothing_is_in_flight():
    peer, direct = Peer(), []
    outbox = _outbox(peer, write_direct=lambda wire: direct.append(wire) or True)
    outbox.put(_frame("a"), 1, b"A")
    peer.reading.clear()
    outbox.put(_frame("b"), 1)  # a control frame, through ASGI: waits
    outbox.put(_frame("c"), 1, b"C")  # must not overtake it
    peer.reading.set()
    await outbox.drained()
    assert direct == [b"A"] and peer.sent == ["b", "c"]


async def test_a_failing_send_closes_the_outbox():
    failures = []

    async def gone(message):
        raise OSError("reset")

    outbox = Outbox(
        gone, limit_bytes=10, overflow_message=CLOSE_4408, on_overflow=lambda: None, on_failure=failures.append
    )
    outbox.put(_frame("a"), 1)
    assert outbox.closed and isinstance(failures[0], OSError)
