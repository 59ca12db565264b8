"""The gateway's subscriptions: every event a client may see, handed to the fan-out.

Each event is pushed at most once (the inbox records it), and a failed push
(Redis away) is retried like any other handler.
"""

import asyncio
import threading

from commerce_core.events.api import handles
from commerce_core.events.contracts import Audience, registered_contracts

from .fanout import dispatch

PUSHED_CONTRACTS = [
    contract for contract in registered_contracts().values() if contract.audience is not Audience.INTERNAL
]
PUSH_TIMEOUT_SECONDS = 5


class _PushLoop:
    """One event loop, on a daemon thread, for every push of this worker process.

    `async_to_sync` would start a fresh loop per event, and channels_redis keeps its
    Redis connections per loop, so each push would pay for new connections (about
    10 ms here); one long-lived loop keeps them open."""

    def __init__(self):
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def run(self, coroutine):
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="push-loop", daemon=True).start()
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=PUSH_TIMEOUT_SECONDS)


_push_loop = _PushLoop()


@handles(*PUSHED_CONTRACTS)
def push_to_listeners(event, envelope) -> None:
    _push_loop.run(dispatch(envelope))
