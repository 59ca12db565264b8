"""The Socket.IO front end: `/socket.io/`, for socket.io-client 4.x and python-socketio
5.x clients, websocket transport only (see the README for why not long-polling).

    const socket = io("http://127.0.0.1:8000", {transports: ["websocket"], auth: {token}});
    socket.emit("subscribe", {events: ["catalog.product.created"], since: {...}}, (answer) => ...);
    socket.on("catalog.product.created", (data, meta) => ...);   // meta = {id, offset}

- Connect with `auth: {token: "<access JWT>"}`, or without `auth` for public events
  only. A bad token → `connect_error` whose message is `"unauthorized"`.
- `emit("subscribe", {events, since?}, ack)` → ack `{events: [...all subscriptions],
  refused: [...], recovered: {name: bool}}`; the missed events of the names in
  `since` arrive before the ack. `emit("unsubscribe", {events}, ack)` likewise.
- `emit("auth", {token}, ack)` → ack `{user_id}`: a fresh token before the current one
  expires keeps the connection. A bad one is acked `{error: {code: "unauthorized"}}`
  and the connection is closed.
- Anything else with an ack → `{error: {code, message}}`.

How the server ends a connection:
- token expired / user deactivated: the event `closing` with `{code: 4401 | 4403,
  reason}`, then a Socket.IO disconnect ("io server disconnect": the client does
  not reconnect by itself; refresh the token, set `socket.auth`, `socket.connect()`);
- not reading (backlog past the bound) or history lost: the websocket is closed
  with 4408 / 1012 ("transport close"): the client reconnects by itself and should
  subscribe again with `since`.

python-socketio does the protocol (handshake, namespaces, acks, heartbeats: a ping
every 25 s, dead after 20 s more). Pushed events do not go through its `emit`: the
hub writes each one, encoded once, to the websocket's ASGI `send` through the
connection's bounded outbox, exactly as for `/ws/events/`.
"""

from __future__ import annotations

import asyncio
import json

import socketio

from commerce_core.web import json_limits

from .connections import TOKEN_EXPIRED, Connection, Unauthorized
from .frames import SOCKETIO, socketio_event
from .hub import get_hub

SOCKETIO_PATH = "socket.io"
#: Client packets are small; anything bigger is refused by Engine.IO.
MAX_CLIENT_PACKET_BYTES = 64 * 1024


class BoundedJson:
    """The `json` python-socketio parses packets with: nesting bounded like every other
    JSON a client sends (a too-deep packet is dropped, the connection stays)."""

    dumps = staticmethod(json.dumps)
    loads = staticmethod(json_limits.loads)


class SocketIOConnection(Connection):
    kind = SOCKETIO

    def __init__(self, hub, send, server: socketio.AsyncServer, sid: str):
        super().__init__(hub, send)
        self.server = server
        self.sid = sid
        #: Client events of one connection are handled one at a time, in order.
        self.lock = asyncio.Lock()

    def close(self, code: int, reason: str) -> None:
        self._stop()
        if code in (TOKEN_EXPIRED, 4403):
            self.send(socketio_event("closing", {"code": code, "reason": reason}))
            asyncio.ensure_future(self._disconnect_when_sent())
        else:  # let the client reconnect and recover by itself
            self.outbox.close({"type": "websocket.close", "code": code, "reason": reason})

    async def _disconnect_when_sent(self) -> None:
        await self.outbox.drained()
        if not self.gone_away:
            await self.server.disconnect(self.sid)


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _names(payload, key: str = "events") -> list[str] | None:
    value = payload.get(key) if isinstance(payload, dict) else None
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return value
    return None


class SocketIOFrontEnd:
    """Binds the Socket.IO server's events to push connections."""

    def __init__(self):
        self.server = socketio.AsyncServer(
            async_mode="asgi",
            transports=["websocket"],
            # Tokens travel in `auth`, never in cookies: a page from another origin
            # gains nothing by connecting, as for /ws/events/.
            cors_allowed_origins="*",
            max_http_buffer_size=MAX_CLIENT_PACKET_BYTES,
            json=BoundedJson,
            logger=False,
            engineio_logger=False,
        )
        self.connections: dict[str, SocketIOConnection] = {}
        self.server.on("connect", self.on_connect)
        self.server.on("disconnect", self.on_disconnect)
        self.server.on("subscribe", self.on_subscribe)
        self.server.on("unsubscribe", self.on_unsubscribe)
        self.server.on("auth", self.on_auth)
        self.server.on("*", self.on_anything_else)

    def asgi_app(self, other_asgi_app) -> socketio.ASGIApp:
        return socketio.ASGIApp(self.server, other_asgi_app=other_asgi_app, socketio_path=SOCKETIO_PATH)

    async def on_connect(self, sid: str, environ: dict, auth=None) -> None:
        try:
            hub = await get_hub()
        except TimeoutError:
            raise socketio.exceptions.ConnectionRefusedError("unavailable") from None
        connection = SocketIOConnection(hub, environ["asgi.send"], self.server, sid)
        hub.add(connection)
        token = auth.get("token") if isinstance(auth, dict) else auth
        if token is not None:
            try:
                await connection.authenticate(token)
            except Unauthorized:
                connection.gone()
                raise socketio.exceptions.ConnectionRefusedError("unauthorized") from None
        self.connections[sid] = connection

    async def on_disconnect(self, sid: str, reason=None) -> None:
        connection = self.connections.pop(sid, None)
        if connection is not None:
            connection.gone()

    async def on_subscribe(self, sid: str, payload=None) -> dict:
        connection = self.connections.get(sid)
        names = _names(payload)
        since = payload.get("since", {}) if isinstance(payload, dict) else None
        if connection is None:
            return _error("not_connected", "Not connected.")
        if names is None or not isinstance(since, dict) or not all(isinstance(o, str) for o in since.values()):
            return _error(
                "invalid_message",
                '"events" must be a list of event names and "since", if present, an object of offsets.',
            )
        async with connection.lock:
            refused, recovered = await connection.subscribe(names, since)
            # The missed events go before the answer.
            await connection.outbox.drained()
            return {"events": sorted(connection.subscriptions), "refused": refused, "recovered": recovered}

    async def on_unsubscribe(self, sid: str, payload=None) -> dict:
        connection = self.connections.get(sid)
        names = _names(payload)
        if connection is None:
            return _error("not_connected", "Not connected.")
        if names is None:
            return _error("invalid_message", '"events" must be a list of event names.')
        async with connection.lock:
            refused = connection.unsubscribe(names)
            return {"events": sorted(connection.subscriptions), "refused": refused}

    async def on_auth(self, sid: str, payload=None) -> dict:
        connection = self.connections.get(sid)
        if connection is None:
            return _error("not_connected", "Not connected.")
        token = payload.get("token") if isinstance(payload, dict) else None
        async with connection.lock:
            try:
                user_id = await connection.authenticate(token)
            except Unauthorized:
                # Acked first (the ack is queued when this returns), then closed.
                asyncio.get_running_loop().call_soon(connection.close, TOKEN_EXPIRED, "unauthorized")
                return _error("unauthorized", "The token is not a valid access token.")
            return {"user_id": user_id}

    async def on_anything_else(self, event: str, sid: str, *args) -> dict:
        return _error("unknown_action", "Emit subscribe, unsubscribe or auth.")
