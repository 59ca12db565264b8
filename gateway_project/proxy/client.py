"""Small buffered requests over the proxy's pooled connections, for what the gateway
asks the services itself (health checks, OpenAPI documents, the operators' sign-in)."""

import json
from urllib.parse import urlsplit

from .forward import exchange
from .pool import Origin, pool_for


async def get(url: str, *, timeout: float) -> tuple[int, bytes]:
    """(status, body) of `GET url`, all of it within `timeout` seconds.

    Raises UpstreamTimeout, or OSError/UpstreamError when the service cannot be reached.
    """
    origin = Origin.from_url(url)
    head = (
        f"GET {_target(url)} HTTP/1.1\r\nhost: {origin.authority}\r\naccept: application/json\r\n"
        f"user-agent: commerce-gateway\r\n\r\n"
    ).encode("ascii")
    return await _buffered(origin, head, method="GET", timeout=timeout)


async def post_json(
    url: str, payload: dict, *, timeout: float, headers: tuple[tuple[str, str], ...] = ()
) -> tuple[int, bytes]:
    """(status, body) of `POST url` with `payload` as JSON, within `timeout` seconds.

    Never retried (not idempotent). Raises like `get`."""
    origin = Origin.from_url(url)
    body = json.dumps(payload).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers)
    head = (
        f"POST {_target(url)} HTTP/1.1\r\nhost: {origin.authority}\r\naccept: application/json\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\nuser-agent: commerce-gateway\r\n"
        f"{extra}\r\n"
    ).encode("latin-1")
    return await _buffered(origin, head + body, method="POST", timeout=timeout)


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


async def _buffered(origin: Origin, request: bytes, *, method: str, timeout: float) -> tuple[int, bytes]:
    pool = pool_for(origin)
    conn = await exchange(pool, request=request, method=method, timeout=timeout)
    # The deadline armed by `exchange` still runs: it bounds the whole body too.
    try:
        chunks = []
        while not conn.message_complete:
            if conn.error is not None:
                raise conn.error
            if conn.body:
                chunks.append(conn.take_body())
            else:
                await conn.wait()
        chunks.append(conn.take_body())
        status = conn.status
    except BaseException:
        conn.abort()
        raise
    pool.release(conn)
    return status, b"".join(chunks)
