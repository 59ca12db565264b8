"""One socket's way out: frames in order, never making the fan-out wait, bounded.

`Outbox.put` writes a frame's bytes straight to the socket when nothing is in flight
and the server allows it (wire.py); otherwise it hands the frame to the ASGI server:
it drives the server's `send` coroutine by hand, and when that completes without
waiting (the usual case: the frame fits in the socket's buffers) the frame is
written with no task and no scheduling, right in the fan-out loop. Only when `send`
must wait (the peer reads slowly and its buffers are full) does the rest of the
work move to a task, and later frames queue behind it. Python 3.12's eager tasks do
the same; this is that, by hand, for 3.11.

Queued frames count against `limit_bytes`. Passing it means the client is not
reading: the queue is dropped, `overflow_message` (the ASGI close with 4408) is sent
after the frame in flight, and `on_overflow` is called. Nothing a slow socket does ever slows the fan-out to the others.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Send = Callable[[dict], Awaitable[None]]


class Outbox:
    __slots__ = (
        "_send",
        "_write_direct",
        "_limit",
        "_on_overflow",
        "_overflow_message",
        "_on_failure",
        "_queue",
        "_queued_bytes",
        "_busy",
        "_task",
        "_final",
        "_waiters",
        "closed",
    )

    def __init__(
        self,
        send: Send,
        *,
        write_direct: Callable[[bytes], bool] | None = None,
        limit_bytes: int,
        overflow_message: dict,
        on_overflow: Callable[[], None],
        on_failure: Callable[[BaseException], None] = lambda exc: None,
    ):
        self._send = send
        self._write_direct = write_direct
        self._limit = limit_bytes
        self._overflow_message = overflow_message
        self._on_overflow = on_overflow
        self._on_failure = on_failure
        self._queue: collections.deque[tuple[dict, int]] = collections.deque()
        self._queued_bytes = 0
        self._busy = False
        self._task: asyncio.Task | None = None
        self._final: dict | None = None
        self._waiters: list[tuple[int, asyncio.Future]] = []
        #: No frame is accepted any more (closing, overflowed or failed).
        self.closed = False

    @property
    def backlog_bytes(self) -> int:
        return self._queued_bytes

    def put(self, message: dict, size: int, wire: bytes | None = None) -> bool:
        """Send an ASGI message after those before it; False if it was refused
        (the outbox is closed, or this frame made it overflow). `wire`, the message's
        WebSocket frame, is written directly when nothing is in flight and the
        server allows it (wire.py)."""
        if self.closed:
            return False
        if wire is not None and not self._busy and self._write_direct is not None and self._write_direct(wire):
            return True
        if self._busy:
            self._queue.append((message, size))
            self._queued_bytes += size
            if self._queued_bytes > self._limit:
                self.overflow()
                return False
            return True
        self._busy = True
        self._start(message)
        return True

    def close(self, message: dict, *, drop_pending: bool = False) -> None:
        """Accept nothing more; send `message` (an ASGI close) after the frames already
        accepted, or right after the one in flight when `drop_pending`."""
        if self.closed:
            return
        self.closed = True
        if drop_pending:
            self._drop_queue()
        if self._busy:
            self._final = message
        else:
            self._busy = True
            self._start(message)
        self._wake_waiters()

    async def drained(self, below_bytes: int = 0) -> None:
        """Wait until no more than `below_bytes` are queued (0: everything was handed
        to the server), or the outbox is closed: never longer, so that nobody waits on
        a client that stopped reading."""
        if self.closed or self._is_drained(below_bytes):
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((below_bytes, future))
        await future

    def overflow(self) -> None:
        """The client is not reading: drop what is queued, close with the overflow
        message right after the frame in flight, and tell the owner."""
        if self.closed:
            return
        self.close(self._overflow_message, drop_pending=True)
        self._on_overflow()

    # --- internals -----------------------------------------------------------------
    def _is_drained(self, below_bytes: int) -> bool:
        if below_bytes == 0:
            return not self._busy and not self._queue
        return self._queued_bytes <= below_bytes

    def _wake_waiters(self) -> None:
        if not self._waiters:
            return
        still = []
        for below, future in self._waiters:
            if future.done():
                continue
            if self.closed or self._is_drained(below):
                future.set_result(None)
            else:
                still.append((below, future))
        self._waiters = still

    def _start(self, message: dict) -> None:
        """Run `send(message)` on this call stack as far as it goes without waiting."""
        coroutine = self._send(message)
        try:
            waiting_on = coroutine.send(None)
        except StopIteration:
            self._after_send()
            return
        except Exception as exc:  # the connection is gone
            self._fail(exc)
            return
        self._task = asyncio.ensure_future(self._finish(coroutine, waiting_on))

    def _after_send(self) -> None:
        """The frame in flight is written; start the next one, if any."""
        if self._queue:
            message, size = self._queue.popleft()
            self._queued_bytes -= size
            self._wake_waiters()
            self._start(message)
            return
        if self._final is not None:
            message, self._final = self._final, None
            self._wake_waiters()
            self._start(message)
            return
        self._busy = False
        self._task = None
        self._wake_waiters()

    async def _finish(self, coroutine, waiting_on) -> None:
        """Finish a `send` that had to wait, exactly as a Task would have, then go on."""
        try:
            while True:
                if waiting_on is None:  # a bare yield: just let the loop run once
                    await asyncio.sleep(0)
                else:
                    waiting_on._asyncio_future_blocking = False
                    await asyncio.wait((waiting_on,))
                try:
                    waiting_on = coroutine.send(None)
                except StopIteration:
                    break
        except asyncio.CancelledError:
            coroutine.close()
            raise
        except Exception as exc:
            self._fail(exc)
            return
        self._after_send()

    def _drop_queue(self) -> None:
        self._queue.clear()
        self._queued_bytes = 0

    def _fail(self, exc: BaseException) -> None:
        self.closed = True
        self._busy = False
        self._final = None
        self._drop_queue()
        self._task = None
        for _, future in self._waiters:
            if not future.done():
                future.set_result(None)
        self._waiters = []
        self._on_failure(exc)
