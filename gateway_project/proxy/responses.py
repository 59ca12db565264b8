"""Answers the gateway gives itself, at the ASGI level, in the platform's one error shape."""

import json

from commerce_core.web.errors import error_body

CLOSE = ((b"connection", b"close"),)


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


class EdgeAnswer(Exception):
    """The request ends at the gateway with this error answer instead of being forwarded.

    `close`: the client's connection cannot be trusted for another request (part of
    its body was never read, or its framing was doubtful).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        close: bool = False,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers + CLOSE if close else headers

    async def send(self, send, request_id: bytes) -> None:
        await send_error(send, self.status, self.code, self.message, request_id, extra_headers=self.headers)
