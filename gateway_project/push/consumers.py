"""The WebSocket front end: `/ws/events/`, JSON text frames.

Client to server:
- `{"type": "auth", "token": "<access JWT>"}` → `{"type": "authenticated", "user_id": N}`;
  a bad token (or a deactivated user's) closes the socket with 4401. Sending it again
  with a fresh token before the current one expires keeps the socket open (and may
  switch user); otherwise the socket is closed with 4401 when the token expires.
- `{"type": "subscribe", "events": [...], "since": {"<name>": "<offset>"}}` → the missed
  events of the names in `since` (see connections.py), then
  `{"type": "subscribed", "events": [...], "recovered": {"<name>": true|false}}`
  (`recovered` only when `since` was sent).
- `{"type": "unsubscribe", "events": [...]}` → `{"type": "unsubscribed", "events": [...]}`.
  Both answers list ALL of the socket's subscriptions after the change. Names that are
  unknown or internal are refused in an extra error frame (code `unknown_events`,
  with an `events` list) after the answer; the others still apply. A private event
  may be subscribed to before `auth`; it is delivered once the socket is
  authenticated as its recipient.
- `{"type": "ping"}` → `{"type": "pong"}`.
Anything else (not JSON, nested deeper than the platform's bound, not an object, an
unknown `type`, a malformed field) gets `{"type": "error", "code": ..., "message": ...}`
and the socket stays open.

Server to client, per event: `{"type": "event", "event": "<name>", "id": "<event id>",
"data": {...}, "offset": "<opaque>"}`.

Closes: 4401 bad or expired token, 4403 user deactivated, 4408 not reading (backlog
past the bound), 1012 history lost under the socket (reconnect and recover), 1013
push unavailable (Redis unreachable at connect).

Every frame, answers included, goes through the connection's outbox, so answers and
events arrive in the order they were produced.
"""

from __future__ import annotations

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from commerce_core.web.json_limits import JsonTooDeep, loads

from .connections import TOKEN_EXPIRED, Connection, Unauthorized
from .frames import WEBSOCKET
from .hub import get_hub

TRY_AGAIN_LATER = 1013


class WebSocketConnection(Connection):
    kind = WEBSOCKET

    def close(self, code: int, reason: str) -> None:
        self._stop()
        self.outbox.close({"type": "websocket.close", "code": code, "reason": reason})


def _event_names(value) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return value
    return None


def _offsets(value) -> dict[str, str] | None:
    if value is None:
        return {}
    if isinstance(value, dict) and all(isinstance(offset, str) for offset in value.values()):
        return value
    return None


class EventsConsumer(AsyncWebsocketConsumer):
    connection: WebSocketConnection | None = None

    async def connect(self) -> None:
        try:
            hub = await get_hub()
        except TimeoutError:
            await self.close(code=TRY_AGAIN_LATER)
            return
        await self.accept()
        self.connection = WebSocketConnection(hub, self.base_send)
        hub.add(self.connection)

    async def disconnect(self, code) -> None:
        if self.connection is not None:
            self.connection.gone()

    async def dispatch(self, message) -> None:
        # Channels closes stale database connections before every message, a thread
        # hop per frame; this consumer never touches the database.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- client to server ------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self.connection is None or self.connection.outbox.closed:
            return
        if text_data is None:
            self.send_error("invalid_frame", "Send JSON text frames.")
            return
        try:
            content = loads(text_data)
        except JsonTooDeep:
            self.send_error("invalid_json", "The frame nests JSON too deeply.")
            return
        except ValueError:
            self.send_error("invalid_json", "The frame is not valid JSON.")
            return
        action = content.get("type") if isinstance(content, dict) else None
        if action == "auth":
            await self.on_auth(content)
        elif action == "subscribe":
            await self.on_subscribe(content)
        elif action == "unsubscribe":
            self.on_unsubscribe(content)
        elif action == "ping":
            self.connection.send_json({"type": "pong"})
        else:
            self.send_error(
                "unknown_action", 'Expected a JSON object whose "type" is auth, subscribe, unsubscribe or ping.'
            )

    async def on_auth(self, content: dict) -> None:
        try:
            user_id = await self.connection.authenticate(content.get("token"))
        except Unauthorized:
            self.connection.close(TOKEN_EXPIRED, "unauthorized")
            return
        self.connection.send_json({"type": "authenticated", "user_id": user_id})

    async def on_subscribe(self, content: dict) -> None:
        names, since = _event_names(content.get("events")), _offsets(content.get("since"))
        if names is None or since is None:
            self.send_error(
                "invalid_message",
                '"events" must be a list of event names and "since", if present, an object of offsets.',
            )
            return
        refused, recovered = await self.connection.subscribe(names, since)
        answer = {"type": "subscribed", "events": sorted(self.connection.subscriptions)}
        if "since" in content:
            answer["recovered"] = recovered
        self.connection.send_json(answer)
        self._refuse(refused)

    def on_unsubscribe(self, content: dict) -> None:
        names = _event_names(content.get("events"))
        if names is None:
            self.send_error("invalid_message", '"events" must be a list of event names.')
            return
        refused = self.connection.unsubscribe(names)
        self.connection.send_json({"type": "unsubscribed", "events": sorted(self.connection.subscriptions)})
        self._refuse(refused)

    def _refuse(self, refused: list[str]) -> None:
        if refused:
            self.send_error(
                "unknown_events", f"Not events a client can listen to: {', '.join(refused)}.", events=refused
            )

    def send_error(self, code: str, message: str, **extra) -> None:
        self.connection.send_json({"type": "error", "code": code, "message": message, **extra})


class UnknownSocketPath(AsyncWebsocketConsumer):
    """Any other WebSocket path: the handshake is refused (HTTP 403)."""

    async def connect(self) -> None:
        await self.close()
