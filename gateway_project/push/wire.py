"""Writing a pushed frame's bytes straight to a socket, when it is safe to.

A server's WebSocket frames are not masked, so one event's frame is the same bytes
for every socket: `server_frame` builds them once, and `direct_writer` gives, for a
connection served by uvicorn's default WebSocket protocol (websockets' sans-I/O
implementation), a function that writes those bytes to its transport, which costs
about half of a full ASGI `send` per socket (measured: 1,000 sockets, 19 ms → 10 ms).

It only writes when the ASGI path would have written the same bytes at once: the
handshake is done, no close was sent, the transport is not paused (its buffer is
under the high-water mark) and no extension (compression) is negotiated. Otherwise
it returns False and the frame takes the ASGI path, which waits for the buffer to
drain. With any other server, or another uvicorn protocol, `direct_writer` returns
None and every frame goes through ASGI.
"""

from __future__ import annotations

from collections.abc import Callable


def server_frame(text: str) -> bytes:
    """One unfragmented, unmasked text frame (RFC 6455 §5.2)."""
    payload = text.encode()
    length = len(payload)
    if length < 126:
        return bytes((0x81, length)) + payload
    if length < 1 << 16:
        return bytes((0x81, 126)) + length.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + length.to_bytes(8, "big") + payload


def direct_writer(send) -> Callable[[bytes], bool] | None:
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:  # pragma: no cover - uvicorn without websockets
        return None
    protocol = getattr(send, "__self__", None)
    if type(protocol) is not WebSocketsSansIOProtocol:
        return None
    required = ("transport", "handshake_complete", "close_sent", "disconnected", "writable", "conn")
    if not all(hasattr(protocol, name) for name in required):
        return None

    def write(frame: bytes) -> bool:
        if (
            protocol.handshake_complete
            and not protocol.close_sent
            and not protocol.disconnected
            and protocol.writable.is_set()
            and not protocol.conn.extensions
        ):
            protocol.transport.write(frame)
            return True
        return False

    return write
