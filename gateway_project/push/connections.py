"""One client connection, whichever front end it came through: who it is, what it
listens to, its outbox, its token's expiry, and recovery from an offset.

The front ends (`consumers.py` for `/ws/events/`, `socketio_server.py` for
`/socket.io/`) only translate their protocol into these calls:

- `authenticate(token)` → the user id, or `Unauthorized` (bad, expired, or the user
  was deactivated). From then on the connection receives that user's private events
  and no one else's: the hub indexes private listeners by (user, event), so another
  user's event has no path to it. The socket is closed with 4401 when the token
  expires, unless `authenticate` is called again with a fresh one first.
- `subscribe(names, since)` → `(refused, recovered)`. Names with an offset in `since`
  are replayed from history first: every event after the offset that this
  connection may see, in publish order, each once, and only then do live events of
  that name flow (live events arriving meanwhile are held back and the ones the
  replay already sent are dropped). `recovered[name]` is False when the history
  after the offset is not whole: the client must reload its state. Subscribing
  again with `since` to a name already subscribed restarts it from that offset.
- `unsubscribe(names)` → refused.

`close(code, reason)` is the front end's: 4401 (token expired), 4403 (user
deactivated), 4408 (not reading: sent by the outbox itself), 1012 (history lost
under a live socket: reconnect and recover).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import jwt
from django.conf import settings

from commerce_core.identity.access_tokens import InvalidToken, principal_from_access_token

from .audiences import pushable_events
from .frames import Frame, event_frames, json_frame
from .history import HistoryGap, read_after
from .outbox import Outbox
from .streams import EntryId, Offset, make_offset, parse_entry_id
from .wire import direct_writer

logger = logging.getLogger(__name__)

TOKEN_EXPIRED = 4401
USER_DEACTIVATED = 4403
NOT_READING = 4408
HISTORY_LOST = 1012


class Unauthorized(Exception):
    """The token is not a valid access token, or its user may no longer connect."""


@dataclass(frozen=True)
class Identity:
    user_id: int
    expires_at: float  # seconds since the epoch


def verify_access_token(token: object) -> Identity:
    if not isinstance(token, str) or not token:
        raise Unauthorized("no token")
    try:
        principal = principal_from_access_token(token, secret=settings.JWT_SECRET)
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from None
    # The signature and `exp` were verified just above; only the value is read here.
    expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
    return Identity(principal.id, float(expires_at))


class Connection:
    """Base of both front ends' connections; `kind` selects the frame encoding."""

    kind: int

    def __init__(self, hub, send):
        self.hub = hub
        self.user_id: int | None = None
        self.subscriptions: set[str] = set()
        self.outbox = Outbox(
            send,
            write_direct=direct_writer(send),
            limit_bytes=hub.config.send_backlog_bytes,
            overflow_message={"type": "websocket.close", "code": NOT_READING, "reason": "not reading"},
            on_overflow=self._overflowed,
            on_failure=self._send_failed,
        )
        # Names being replayed: live events that arrive meanwhile wait here.
        self._replaying: dict[str, list[tuple[EntryId, tuple[Frame, Frame]]]] = {}
        self._expiry: asyncio.TimerHandle | None = None
        self.gone_away = False

    # --- what a front end calls ---------------------------------------------------------
    async def authenticate(self, token: object) -> int:
        identity = verify_access_token(token)
        if await self.hub.is_deactivated(identity.user_id):
            raise Unauthorized("user deactivated")
        self._expire_at(identity.expires_at)
        if identity.user_id != self.user_id:
            self.hub.set_user(self, identity.user_id)
        return identity.user_id

    async def subscribe(self, names: list[str], since: dict[str, str]) -> tuple[list[str], dict[str, bool]]:
        pushable = pushable_events()
        refused = [name for name in names if name not in pushable]
        wanted = [name for name in dict.fromkeys(names) if name in pushable]
        recover = {name: since[name] for name in wanted if name in since}
        for name in wanted:
            if name in recover:
                self._replaying[name] = []
            if name not in self.subscriptions:
                self.subscriptions.add(name)
                self.hub.follow(self, name)
        recovered = {}
        for name, offset in recover.items():
            recovered[name] = await self._replay(name, offset)
        return refused, recovered

    def unsubscribe(self, names: list[str]) -> list[str]:
        pushable = pushable_events()
        for name in names:
            if name in self.subscriptions:
                self.subscriptions.discard(name)
                self.hub.unfollow(self, name)
                self._replaying.pop(name, None)
        return [name for name in names if name not in pushable]

    def send(self, frame: Frame) -> None:
        self.outbox.put(frame.message, frame.size, frame.wire)

    def send_json(self, content: dict) -> None:
        self.send(json_frame(content))

    def close(self, code: int, reason: str) -> None:
        """Stop pushing and close the socket (each front end its own way)."""
        raise NotImplementedError

    def gone(self) -> None:
        """The client disconnected: forget it."""
        self.gone_away = True
        self._stop()

    # --- the hub's side ---------------------------------------------------------------
    def deliver(self, event_type: str, frames: tuple[Frame, Frame], position: EntryId) -> bool:
        """Hand the event's frame to the socket; False when it was dropped (the socket is
        closing, or does not read and is closed for it)."""
        if self._replaying:
            held = self._replaying.get(event_type)
            if held is not None:
                held.append((position, frames))
                # Held frames count against the same bound as queued ones (roughly).
                if len(held) * frames[self.kind].size > self.hub.config.send_backlog_bytes:
                    self.outbox.overflow()
                    return False
                return True
        frame = frames[self.kind]
        return self.outbox.put(frame.message, frame.size, frame.wire)

    # --- internals --------------------------------------------------------------------
    def _stop(self) -> None:
        """No more events for this connection."""
        self.hub.remove(self)
        self._replaying.clear()
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None

    def _expire_at(self, expires_at: float) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, expires_at - time.time())
        self._expiry = loop.call_at(loop.time() + delay, self._token_expired)

    def _token_expired(self) -> None:
        self._expiry = None
        self.close(TOKEN_EXPIRED, "token expired")

    def _overflowed(self) -> None:
        logger.info("closing a socket of user %s that does not read (backlog over the bound)", self.user_id)
        self._stop()

    def _send_failed(self, exc: BaseException) -> None:
        logger.debug("send failed, the socket is gone: %r", exc)
        self._stop()

    def _stream_of(self, name: str) -> str | None:
        if name in self.hub.public_names:
            return self.hub.keys.public(name)
        if self.user_id is None:
            return None  # a private event's history is per user: authenticate first
        return self.hub.keys.private(self.user_id, name)

    async def _replay(self, name: str, since: str) -> bool:
        """Send what was missed after `since`, then release the live events held back."""
        config = self.hub.config
        last: EntryId | None = None
        recovered = False
        try:
            offset = Offset.parse(since)
            stream = self._stream_of(name)
            if offset is not None and stream is not None:
                last = offset.position
                async for entries in read_after(self.hub.redis, stream, offset, batch=config.replay_batch):
                    for entry_id, fields in entries:
                        frame = event_frames(
                            name, fields["i"], fields["d"], make_offset(fields["ep"], entry_id), fields.get("t")
                        )
                        self.send(frame[self.kind])
                        last = parse_entry_id(entry_id)
                    # Pace a long replay on the client's reading, within the bound.
                    await self.outbox.drained(config.send_backlog_bytes // 2)
                    if self.outbox.closed:
                        return False
                recovered = True
        except HistoryGap as exc:
            logger.info("recovery refused: %s", exc)
        finally:
            held = self._replaying.pop(name, None) or []
        for position, frames in held:
            if last is None or position > last:
                self.send(frames[self.kind])
        return recovered
