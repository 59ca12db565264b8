"""A client of the gateway's push endpoint (`/ws/events/`) over the `websockets` library.

Locust runs every simulated user as a gevent greenlet and monkey-patches sockets
and threads, so websockets' synchronous client runs cooperatively here. Each socket
gets one reader greenlet that stamps every frame with `time.monotonic()` the moment
it is read, before anything else looks at it: a user busy elsewhere (sending its
next request) does not delay the timestamp.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable

import gevent
from gevent.event import AsyncResult
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from commerce_core.events.contracts import Audience, registered_contracts
from commerce_core.events.contracts.orders import OrderStatusChanged

logger = logging.getLogger(__name__)

ORDER_STATUS_CHANGED = OrderStatusChanged.event_type
FINAL_STATUSES = frozenset({"paid", "failed", "cancelled"})


def public_events() -> list[str]:
    """Every event pushed to anonymous listeners, from the contracts' registry."""
    return sorted(name for name, contract in registered_contracts().items() if contract.audience == Audience.PUBLIC)


class PushError(RuntimeError):
    """The socket could not be opened, authenticated or subscribed."""


def ws_url_for(host: str) -> str:
    """`http://127.0.0.1:8000` → `ws://127.0.0.1:8000/ws/events/` (https → wss)."""
    base = host.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://") + "/ws/events/"
    return "ws://" + base.removeprefix("http://") + "/ws/events/"


class PushSocket:
    """One socket, optionally authenticated, subscribed to `events`.

    on_event(name, data, received_at) is called from the reader greenlet for every
    pushed event; on_closed(reason) when the server closes the socket or the
    connection drops while nobody asked it to close.
    """

    def __init__(
        self,
        url: str,
        events: Iterable[str],
        *,
        token: str | None = None,
        on_event: Callable[[str, dict, float], None],
        on_closed: Callable[[str], None],
        open_timeout: float = 10.0,
    ):
        self.url = url
        self.events = list(events)
        self.on_event = on_event
        self.on_closed = on_closed
        self.closing = False
        self._connection: ClientConnection | None = None
        self._reader: gevent.Greenlet | None = None
        self._open(token, open_timeout)

    def _open(self, token: str | None, timeout: float) -> None:
        try:
            # Entered by hand: the connection outlives this call, `close()` ends it.
            self._connection = connect(self.url, open_timeout=timeout).__enter__()
            if token is not None:
                self._ask({"type": "auth", "token": token}, expect="authenticated", timeout=timeout)
            self._ask({"type": "subscribe", "events": self.events}, expect="subscribed", timeout=timeout)
        except (OSError, TimeoutError, ConnectionClosed) as exc:
            self.close()
            raise PushError(f"{self.url}: {exc!r}") from exc
        self._reader = gevent.spawn(self._read)

    def _ask(self, frame: dict, *, expect: str, timeout: float) -> dict:
        """Send a control frame and wait for its answer (before the reader runs)."""
        self._connection.send(json.dumps(frame))
        answer = json.loads(self._connection.recv(timeout=timeout))
        if answer.get("type") != expect:
            raise PushError(f"{frame['type']} answered {answer}")
        return answer

    def reauthenticate(self, token: str) -> None:
        """Send a fresh access token before the old one expires (its answer is read
        and ignored by the reader)."""
        self._connection.send(json.dumps({"type": "auth", "token": token}))

    def _read(self) -> None:
        try:
            while True:
                raw = self._connection.recv()
                received_at = time.monotonic()
                frame = json.loads(raw)
                if frame.get("type") == "event":
                    self.on_event(frame.get("event", ""), frame.get("data") or {}, received_at)
                elif frame.get("type") == "error":
                    logger.warning("push socket error frame: %s", frame)
        except ConnectionClosed as exc:
            if not self.closing:
                self.on_closed(f"closed by the server: {exc}")
        except (OSError, ValueError) as exc:
            if not self.closing:
                self.on_closed(f"connection lost: {exc!r}")

    def close(self) -> None:
        self.closing = True
        if self._connection is not None:
            self._connection.close()
        if self._reader is not None and self._reader is not gevent.getcurrent():
            self._reader.join(timeout=5)
            self._reader.kill(block=False)


class OrderPushes:
    """The final `order.status_changed` push of each of one shopper's orders.

    A push can overtake the checkout's HTTP answer (the answer carries the order id
    the push names), so a push is kept until its order is asked for."""

    def __init__(self):
        self._finals: dict[int, AsyncResult] = {}

    def on_event(self, name: str, data: dict, received_at: float) -> None:
        if name == ORDER_STATUS_CHANGED and data.get("status") in FINAL_STATUSES:
            self._slot(int(data["order_id"])).set((data["status"], received_at))

    def wait(self, order_id: int, timeout: float) -> tuple[str, float] | None:
        """(final status, monotonic time the push arrived), or None after `timeout`."""
        result = self._slot(order_id)
        try:
            return result.get(timeout=timeout)
        except gevent.Timeout:
            return None
        finally:
            self._finals.pop(order_id, None)

    def abandon(self) -> None:
        """The socket is gone: every order still waiting for its push gets None now
        instead of at its timeout."""
        for result in self._finals.values():
            if not result.ready():
                result.set(None)

    def _slot(self, order_id: int) -> AsyncResult:
        return self._finals.setdefault(order_id, AsyncResult())
