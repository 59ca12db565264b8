"""One request to an upstream service and its response back to the client.

The request goes out whole, head and body in one write (the body was read before,
proxy/body.py); the response is streamed to the client chunk by chunk, never held
whole.

Retries: a request is sent again, once, on a new connection, only when it could
not have reached the service: its method is idempotent, the connection was a
reused keep-alive one (the classic race: the server closed it as the request
went out) and not one byte of a response came back.
"""

import logging

from .connection import UpstreamClosed, UpstreamConnection
from .headers import response_headers
from .pool import ConnectionPool

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


async def exchange(pool: ConnectionPool, *, request: bytes, method: str, timeout: float) -> UpstreamConnection:
    """Send `request` (head and body) and return its connection once the response
    head has arrived.

    Raises UpstreamTimeout, or OSError/UpstreamError when the service cannot be
    reached or fails.
    """
    retry_allowed = method in IDEMPOTENT_METHODS
    fresh = False
    while True:
        conn = await pool.acquire(timeout=timeout, fresh=fresh)
        conn.begin(timeout)
        try:
            conn.write(request)
            while not conn.head_complete:
                if conn.error is not None:
                    raise conn.error
                await conn.wait()
            return conn
        except (UpstreamClosed, ConnectionResetError, BrokenPipeError) as exc:
            conn.abort()
            if retry_allowed and not fresh and conn.exchanges > 1 and not conn.received:
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
