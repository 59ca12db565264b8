"""The client's request body, read whole, under a deadline, before any upstream
connection is taken.

Reading it first is what keeps a slow client from holding one of a service's few
request threads: until its last byte is in, the request costs the gateway a
coroutine and at most `MAX_BODY_BYTES` of memory, and the service nothing. Having
it whole also lets the gateway send the one framing it counted itself
(`content-length`), and replay it when a stale pooled connection makes a retry
safe.
"""

import asyncio


class BodyTooLarge(Exception):
    """The client sent, or announced, more than the body limit."""


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


class ClientTooSlow(Exception):
    """The body did not arrive within the client deadline."""


async def read_body(receive, *, declared_length: int | None, chunked: bool, limit: int, deadline: float) -> bytes:
    """All of the request body (b"" when the request has none).

    Raises BodyTooLarge past `limit` bytes (announced or received), ClientTooSlow
    when it is not complete `deadline` seconds from now, ClientGone on a disconnect.
    """
    if declared_length is None and not chunked or declared_length == 0:
        return b""  # no body by its framing: nothing to wait for
    if declared_length is not None and declared_length > limit:
        raise BodyTooLarge()
    try:
        async with asyncio.timeout(deadline):
            return await _receive_all(receive, limit)
    except TimeoutError:
        raise ClientTooSlow() from None


async def _receive_all(receive, limit: int) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge()
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
