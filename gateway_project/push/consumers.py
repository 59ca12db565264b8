"""The WebSocket push protocol of `/ws/events/` (CONTRACT.md), JSON text frames.

Client to server:
- `{"type": "auth", "token": "<access JWT>"}` → `{"type": "authenticated", "user_id": N}`;
  a bad token closes the socket with code 4401. Sending it again switches user.
- `{"type": "subscribe", "events": [...]}` → `{"type": "subscribed", "events": [...]}`
- `{"type": "unsubscribe", "events": [...]}` → `{"type": "unsubscribed", "events": [...]}`
  Both answers list ALL of the socket's subscriptions after the change. Names that
  are unknown or internal are refused in an extra error frame (code
  `unknown_events`, with an `events` list) after the answer; the others still apply.
  A private event may be subscribed to before `auth`; it is delivered once the
  socket is authenticated as its recipient.
- `{"type": "ping"}` → `{"type": "pong"}`.
Anything else (not JSON, not an object, an unknown `type`, a malformed field) gets
`{"type": "error", "code": ..., "message": ...}` and the socket stays open.

Server to client, per event the socket listens to:
`{"type": "event", "event": "<name>", "id": "<event id>", "data": {...}}`.

This class only speaks the protocol; who gets what is push/fanout.py's business.
"""

import json

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from commerce_core.identity.access_tokens import InvalidToken, principal_from_access_token

from .fanout import Listener, event_frame

BAD_TOKEN_CLOSE_CODE = 4401


def _event_names(content: dict) -> list[str] | None:
    names = content.get("events")
    if isinstance(names, list) and all(isinstance(name, str) for name in names):
        return names
    return None


class EventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.listener = Listener(self.channel_layer, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        await self.listener.leave()

    async def dispatch(self, message) -> None:
        # Channels closes stale database connections before every message, a thread
        # hop per pushed event per socket; this consumer never touches the database.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- client to server ------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None) -> None:
        if text_data is None:
            await self.send_error("invalid_frame", "Send JSON text frames.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error("invalid_json", "The frame is not valid JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs) -> None:
        action = content.get("type") if isinstance(content, dict) else None
        if action == "auth":
            await self.on_auth(content)
        elif action == "subscribe":
            await self.on_subscription_change(content, subscribe=True)
        elif action == "unsubscribe":
            await self.on_subscription_change(content, subscribe=False)
        elif action == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_error(
                "unknown_action", 'Expected a JSON object whose "type" is auth, subscribe, unsubscribe or ping.'
            )

    async def on_auth(self, content: dict) -> None:
        token = content.get("token")
        try:
            if not isinstance(token, str) or not token:
                raise InvalidToken("no token")
            principal = principal_from_access_token(token, secret=settings.JWT_SECRET)
        except InvalidToken:
            await self.close(code=BAD_TOKEN_CLOSE_CODE)
            return
        await self.listener.authenticate(principal.id)
        await self.send_json({"type": "authenticated", "user_id": principal.id})

    async def on_subscription_change(self, content: dict, *, subscribe: bool) -> None:
        names = _event_names(content)
        if names is None:
            await self.send_error("invalid_message", '"events" must be a list of event names.')
            return
        if subscribe:
            refused = await self.listener.subscribe(names)
        else:
            refused = await self.listener.unsubscribe(names)
        await self.send_json(
            {"type": "subscribed" if subscribe else "unsubscribed", "events": sorted(self.listener.subscriptions)}
        )
        if refused:
            await self.send_error(
                "unknown_events", f"Not events a client can listen to: {', '.join(refused)}.", events=refused
            )

    async def send_error(self, code: str, message: str, **extra) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    # --- channel layer to client -------------------------------------------------------
    async def push_event(self, message: dict) -> None:
        await self.send_json(event_frame(message))


class UnknownSocketPath(AsyncJsonWebsocketConsumer):
    """Any other WebSocket path: the handshake is refused (HTTP 403)."""

    async def connect(self) -> None:
        await self.close()
