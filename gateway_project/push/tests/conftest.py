"""Push tests run the gateway's real ASGI application under a real uvicorn server in
the test's event loop, with real clients of both kinds (websockets, python-socketio)
and the real Redis of `REDIS_URL`, every key under a prefix of the test's own."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import uuid
from decimal import Decimal

import pytest
import redis
import socketio
import uvicorn
from websockets.asyncio.client import connect

from commerce_core.events.contracts.cart import CartUpdated
from commerce_core.events.contracts.catalog import ProductCreated
from commerce_core.events.envelope import Envelope

_product_ids = itertools.count(1)


@pytest.fixture
def push_config(settings):
    """A key prefix of this test's own (deleted afterwards) and test-sized limits;
    a test changes `settings.PUSH` further before the gateway starts."""
    prefix = f"test-push-{uuid.uuid4().hex[:10]}:"
    settings.PUSH = {**settings.PUSH, "KEY_PREFIX": prefix}
    yield settings
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
async def gateway(push_config):
    """The gateway's ASGI application served by uvicorn on a free port: its `host:port`."""
    from config.asgi import application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, lifespan="on", ws_per_message_deflate=False, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


def publish(event) -> tuple[Envelope, str]:
    """Record an event the way the gateway's event worker does; its envelope and offset."""
    from push import history

    envelope = Envelope.wrap(event, source="test")
    return envelope, history.record(envelope)


def product_created(**fields) -> ProductCreated:
    return ProductCreated(
        **{"product_id": next(_product_ids), "name": "Mug", "price": Decimal("9.90"), "stock": 3, **fields}
    )


def cart_updated(user_id: int, total: str = "0") -> CartUpdated:
    return CartUpdated(user_id=user_id, items=[], total=Decimal(total))


class WebSocketClient:
    """A `/ws/events/` client; pushed events and protocol answers kept apart."""

    kind = "websocket"

    def __init__(self, connection):
        self.connection = connection
        self.events: asyncio.Queue = asyncio.Queue()
        self.answers: asyncio.Queue = asyncio.Queue()
        self.close_code: int | None = None
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, gateway: str, token: str | None = None, **options) -> WebSocketClient:
        client = cls(await connect(f"ws://{gateway}/ws/events/", compression=None, **options))
        if token is not None:
            answer = await client.request({"type": "auth", "token": token})
            assert answer["type"] == "authenticated", answer
        return client

    async def _read(self):
        from websockets.exceptions import ConnectionClosed

        try:
            async for text in self.connection:
                frame = json.loads(text)
                (self.events if frame.get("type") == "event" else self.answers).put_nowait(frame)
        except ConnectionClosed:
            pass
        self.close_code = self.connection.close_code

    async def request(self, frame: dict | str) -> dict:
        """Send a frame and wait for the next answer; ConnectionError if the socket closes."""
        await self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))
        answer = asyncio.ensure_future(self.answers.get())
        done, _ = await asyncio.wait({answer, self._reader}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if answer in done:
            return answer.result()
        answer.cancel()
        raise ConnectionError(f"no answer; closed with {self.close_code}")

    async def subscribe(self, *events: str, since: dict | None = None) -> dict:
        frame = {"type": "subscribe", "events": list(events)}
        if since is not None:
            frame["since"] = since
        return await self.request(frame)

    async def refresh(self, token: str) -> dict:
        return await self.request({"type": "auth", "token": token})

    async def next_event(self, timeout: float = 5) -> tuple[str, dict, dict]:
        """(name, data, {"id", "offset"}) of the next pushed event."""
        frame = await asyncio.wait_for(self.events.get(), timeout)
        return frame["event"], frame["data"], {"id": frame["id"], "offset": frame["offset"]}

    async def closed(self, timeout: float = 10) -> int:
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code

    async def close(self):
        await self.connection.close()
        await asyncio.gather(self._reader, return_exceptions=True)


class SocketIOClient:
    """A python-socketio client of `/socket.io/`."""

    kind = "socketio"

    def __init__(self):
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue = asyncio.Queue()
        self.closing: list[dict] = []
        self.disconnected = asyncio.Event()
        self.sio.on("*", self._on_event)
        self.sio.on("closing", lambda info: self.closing.append(info))
        self.sio.on("disconnect", lambda *reason: self.disconnected.set())

    async def _on_event(self, name, data, meta=None):
        self.events.put_nowait((name, data, meta))

    @classmethod
    async def open(cls, gateway: str, token: str | None = None) -> SocketIOClient:
        client = cls()
        await client.sio.connect(
            f"http://{gateway}", transports=["websocket"], auth={"token": token} if token else None, wait_timeout=5
        )
        return client

    async def subscribe(self, *events: str, since: dict | None = None) -> dict:
        payload = {"events": list(events)}
        if since is not None:
            payload["since"] = since
        return await self.sio.call("subscribe", payload, timeout=10)

    async def refresh(self, token: str) -> dict:
        return await self.sio.call("auth", {"token": token}, timeout=5)

    async def next_event(self, timeout: float = 5) -> tuple[str, dict, dict]:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def close(self):
        await self.sio.disconnect()


@pytest.fixture(params=["websocket", "socketio"])
async def open_client(request, gateway):
    """open_client(token=None) -> a connected client of the parametrized front end,
    closed after the test."""
    kind = WebSocketClient if request.param == "websocket" else SocketIOClient
    clients = []

    async def open_(token: str | None = None):
        clients.append(await kind.open(gateway, token))
        return clients[-1]

    open_.kind = request.param
    yield open_
    for client in clients:
        with contextlib.suppress(Exception):
            await client.close()
