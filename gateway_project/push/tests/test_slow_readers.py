"""A client that stops reading is closed with 4408 once its backlog passes the bound,
and the others keep receiving meanwhile."""

import asyncio
import socket

import pytest
from websockets.asyncio.client import connect

from .conftest import SocketIOClient, WebSocketClient, product_created, publish

pytestmark = pytest.mark.anyio


def _tiny_receive_buffer_socket(gateway: str) -> socket.socket:
    host, port = gateway.split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return sock


@pytest.mark.parametrize("path", ["/ws/events/", "/socket.io/?EIO=4&transport=websocket"])
async def test_a_client_that_does_not_read_is_closed_with_4408_while_the_others_keep_receiving(
    push_config, gateway, path
):
    push_config.PUSH = {**push_config.PUSH, "SEND_BACKLOG_BYTES": 64 * 1024}
    reader = await WebSocketClient.open(gateway)
    await reader.subscribe("catalog.product.created")
    sio_reader = await SocketIOClient.open(gateway)
    await sio_reader.subscribe("catalog.product.created")
    # websockets stops reading from the socket once `max_queue` messages wait unread.
    slow = await connect(f"ws://{gateway}{path}", sock=_tiny_receive_buffer_socket(gateway), max_queue=1)
    if path.startswith("/ws/"):
        await slow.send('{"type": "subscribe", "events": ["catalog.product.created"]}')
    else:
        await slow.recv()
        await slow.send("40")
        await slow.recv()
        await slow.send('420["subscribe",{"events":["catalog.product.created"]}]')
    await asyncio.sleep(0.2)

    # 8 MB: more than the kernel buffers a non-reading peer (Linux grows a socket's
    # send buffer up to 4 MB), the transport's 64 kB and the 64 kB bound together.
    events = 100
    for n in range(events):
        await asyncio.to_thread(publish, product_created(product_id=n, name="x" * 80_000))
        assert (await reader.next_event())[1]["product_id"] == n
        assert (await sio_reader.next_event())[1]["product_id"] == n

    # The slow client now reads: what was already in its buffers, then the close.
    received = 0
    with pytest.raises(Exception) as closed:
        while True:
            await asyncio.wait_for(slow.recv(), 10)
            received += 1
    assert slow.close_code == 4408, (closed.value, received)
    assert received < events
    await reader.close()
    await sio_reader.close()
