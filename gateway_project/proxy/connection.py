"""One HTTP/1.1 keep-alive connection to an upstream service.

An asyncio Protocol fed by httptools' response parser (llhttp, the parser uvicorn
uses for requests). A pooled request costs one write and, for a small response,
one read callback. General-purpose clients (httpx, aiohttp) cost several times
more per request here, which is most of what separates a Python gateway from
nginx on the same machine.

A connection carries one exchange at a time. The exchange's coroutine waits on
`wait()`; the protocol callbacks record progress and wake it.
"""

import asyncio

import httptools

#: Stop reading from the upstream while this much response body waits for a slow client.
READ_HIGH_WATER = 256 * 1024


class UpstreamError(Exception):
    """The upstream did not produce a complete response."""


class UpstreamClosed(UpstreamError, ConnectionError):
    """The upstream closed the connection before the response was complete."""


class UpstreamTimeout(UpstreamError, TimeoutError):
    """The upstream took longer than the route's timeout."""


class UpstreamProtocolError(UpstreamError):
    """The upstream sent something that is not HTTP/1.1."""


class UpstreamConnection(asyncio.Protocol):
    __slots__ = (
        "loop",
        "transport",
        "parser",
        "closed",
        "idle_since",
        "exchanges",
        "status",
        "headers",
        "body",
        "buffered",
        "head_complete",
        "message_complete",
        "keep_alive",
        "received",
        "error",
        "_waiter",
        "_timer",
        "_informational",
        "_delimited",
        "_read_paused",
        "active",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        #: How many exchanges this connection has started: above 1 it was reused from the pool.
        self.exchanges = 0
        #: Whether an exchange is under way (an idle pooled connection is not active).
        self.active = False
        self._waiter: asyncio.Future | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._read_paused = False
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.buffered = 0
        self.head_complete = False
        self.message_complete = False
        self.keep_alive = False
        #: Whether any byte of the current response arrived (a retry is safe only if not).
        self.received = False
        self.error: BaseException | None = None
        self._informational = False
        self._delimited = False

    # --- used by the exchange ---------------------------------------------------------
    def begin(self, timeout: float) -> None:
        """Start an exchange: fresh response state, and a deadline for its first answer."""
        self._reset()
        self.exchanges += 1
        self.active = True
        if self.closed:
            self.error = UpstreamClosed("upstream closed the connection")
        self.arm(timeout)

    def arm(self, timeout: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_later(timeout, self._time_out)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def wait(self) -> None:
        """Until the response makes progress (head, body, end) or fails."""
        if self.error is None:
            self._waiter = self.loop.create_future()
            await self._waiter

    def take_body(self) -> bytes:
        chunks = self.body
        if not chunks:
            return b""
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self.body = []
        self.buffered = 0
        if self._read_paused and not self.closed:
            self._read_paused = False
            self.transport.resume_reading()
        return data

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def close(self) -> None:
        self.disarm()
        if not self.closed:
            self.closed = True
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once (its state is unknown, so it must not be reused)."""
        self.disarm()
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # --- asyncio.Protocol ----------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.active:
            # Bytes on an idle connection (e.g. a server's 408 before closing): the
            # parser's state is unknown now, so the connection must not be reused.
            self.abort()
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamProtocolError(f"invalid HTTP from upstream: {exc}"))
            self.abort()

    def eof_received(self) -> bool:
        if self.head_complete and not self.message_complete and not self._delimited:
            # A response with neither Content-Length nor chunked encoding ends at EOF.
            self.message_complete = True
            self.keep_alive = False
            self._wake()
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.disarm()
        if not self.message_complete:
            self._fail(exc if isinstance(exc, ConnectionError) else UpstreamClosed("upstream closed the connection"))

    # --- httptools callbacks -------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-length" or name == b"transfer-encoding":
            self._delimited = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:
            # 1xx interim responses (103 Early Hints, a stray 100 Continue) are not
            # forwarded; the final response follows on the same connection.
            self._informational = True
            self.headers = []
            self._delimited = False
            return
        self.status = status
        self.head_complete = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        self.buffered += len(body)
        if self.buffered > READ_HIGH_WATER and not self._read_paused:
            self._read_paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        self.message_complete = True
        self.keep_alive = self.parser.should_keep_alive()
        self._wake()

    # --- internals -----------------------------------------------------------------------
    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        self._wake()

    def _time_out(self) -> None:
        self._timer = None
        self._fail(UpstreamTimeout("upstream timed out"))
        self.abort()
