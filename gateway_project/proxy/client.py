"""Small buffered GETs over the proxy's pooled connections, for what the gateway asks
the services itself (health checks, OpenAPI documents)."""

from urllib.parse import urlsplit

from .forward import exchange
from .pool import Origin, pool_for


async def get(url: str, *, timeout: float) -> tuple[int, bytes]:
    """(status, body) of `GET url`, all of it within `timeout` seconds.

    Raises UpstreamTimeout, or OSError/UpstreamError when the service cannot be reached.
    """
    origin = Origin.from_url(url)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    head = (
        f"GET {target} HTTP/1.1\r\nhost: {origin.authority}\r\naccept: application/json\r\n"
        f"user-agent: commerce-gateway\r\n\r\n"
    ).encode("ascii")
    pool = pool_for(origin)
    conn = await exchange(pool, request=head, method="GET", timeout=timeout)
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
