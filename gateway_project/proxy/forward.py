"""One request to an upstream service and its response back to the client, both
bodies streamed chunk by chunk, never held whole.

Retries: a request is sent again, once, on a new connection, only when it could
not have reached the service: its method is idempotent, the connection was a
reused keep-alive one (the classic race: the server closed it as the request
went out) and not one byte of a response came back. A body is replayed only if
it was small enough to keep while it streamed (REPLAY_LIMIT); a larger one is
not retried.
"""

import logging

from .connection import UpstreamClosed, UpstreamConnection
from .headers import response_headers
from .pool import ConnectionPool

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: Bodies up to this size are kept while streaming so that a retry can replay them.
REPLAY_LIMIT = 64 * 1024


class BodyTooLarge(Exception):
    """The client sent more than the body limit."""


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


class RequestBody:
    """The client's request body, pulled from ASGI `receive` as the upstream takes it."""

    def __init__(self, receive, *, limit: int, chunked: bool, replayable: bool):
        self._receive = receive
        self._limit = limit
        #: Sent upstream with chunked framing (the client gave no Content-Length).
        self.chunked = chunked
        self.finished = False
        self._size = 0
        #: What was read so far, while it is small enough to replay; None once not replayable.
        self.kept: list[bytes] | None = [] if replayable else None

    @property
    def replayable(self) -> bool:
        return self.kept is not None

    async def next_chunk(self) -> bytes:
        message = await self._receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        self._size += len(chunk)
        if self._size > self._limit:
            raise BodyTooLarge()
        if not message.get("more_body", False):
            self.finished = True
        if self.kept is not None:
            if self._size <= REPLAY_LIMIT:
                self.kept.append(chunk)
            else:
                self.kept = None
        return chunk


def _framed(chunk: bytes, chunked: bool) -> bytes:
    if not chunked:
        return chunk
    return b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunk else b""


async def _send_body(conn: UpstreamConnection, body: RequestBody) -> None:
    chunked = body.chunked
    for chunk in list(body.kept or ()):  # what an earlier attempt already read, if any
        conn.write(_framed(chunk, chunked))
    while not body.finished:
        if conn.head_complete or conn.error is not None:
            # The service answered (or failed) before reading everything: stop
            # sending; the connection is not reused because its request was cut short.
            conn.reuse_forbidden = True
            return
        chunk = await body.next_chunk()
        if chunk:
            conn.write(_framed(chunk, chunked))
            await conn.drain()
    if chunked:
        conn.write(b"0\r\n\r\n")


async def exchange(
    pool: ConnectionPool, *, head: bytes, body: RequestBody | None, method: str, timeout: float
) -> UpstreamConnection:
    """Send the request and return its connection once the response head has arrived.

    Raises UpstreamTimeout, OSError/UpstreamError when the service cannot be reached
    or fails, and BodyTooLarge/ClientGone from the client's side.
    """
    retry_allowed = method in IDEMPOTENT_METHODS
    fresh = False
    while True:
        conn = await pool.acquire(timeout=timeout, fresh=fresh)
        conn.begin(timeout)
        try:
            conn.write(head)
            if body is not None:
                await _send_body(conn, body)
            while not conn.head_complete:
                if conn.error is not None:
                    raise conn.error
                await conn.wait()
            return conn
        except (UpstreamClosed, ConnectionResetError, BrokenPipeError) as exc:
            conn.abort()
            if (
                retry_allowed
                and not fresh
                and conn.exchanges > 1
                and not conn.received
                and (body is None or body.replayable)
            ):
                logger.info(
                    "stale keep-alive connection to %s (%s), retrying %s on a new one",
                    pool.origin.authority,
                    exc,
                    method,
                )
                fresh = True
                continue
            raise
        except BaseException:
            conn.abort()
            raise


async def relay_response(
    conn: UpstreamConnection, pool: ConnectionPool, send, *, request_id: bytes, head_only: bool, timeout: float
) -> None:
    """Send the upstream's response to the client, streaming its body as it arrives."""
    conn.disarm()  # from here on the deadline runs only while waiting for the upstream
    start = {
        "type": "http.response.start",
        "status": conn.status,
        "headers": response_headers(conn.headers, request_id),
    }
    try:
        if head_only:
            # The parser cannot know a HEAD response has no body, so the connection is not reused.
            conn.close()
            await send(start)
            await send({"type": "http.response.body"})
            return
        if conn.message_complete:
            # The usual case for an API: the whole response came with its head.
            data = conn.take_body()
            pool.release(conn)
            await send(start)
            await send({"type": "http.response.body", "body": data})
            return
        await send(start)
        while not conn.message_complete:
            if conn.error is not None:
                # Too late for an error response: cut the client's response short so
                # it cannot mistake a truncated body for a whole one.
                logger.warning(
                    "upstream %s failed mid-response (%s), request %s",
                    pool.origin.authority,
                    conn.error,
                    request_id.decode(),
                )
                conn.abort()
                return
            if conn.body:
                await send({"type": "http.response.body", "body": conn.take_body(), "more_body": True})
            else:
                conn.arm(timeout)
                await conn.wait()
                conn.disarm()
        data = conn.take_body()
        pool.release(conn)
        await send({"type": "http.response.body", "body": data})
    except BaseException:
        conn.abort()
        raise
