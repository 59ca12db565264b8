"""Answers the gateway gives itself, at the ASGI level, in the platform's one error shape."""

import json

from commerce_core.web.errors import error_body


async def send_error(
    send,
    status: int,
    code: str,
    message: str,
    request_id: bytes,
    *,
    extra_headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    body = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id),
                *extra_headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
