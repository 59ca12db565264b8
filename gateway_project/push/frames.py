"""What a pushed event looks like on the wire, built once per event for every socket.

The event's data arrives from the history stream as JSON text and is spliced into
each front end's frame as it is, never parsed and re-encoded per socket:

- WebSocket: `{"type":"event","event":<name>,"id":<id>,"data":{...},"offset":<offset>}`
- Socket.IO: the Engine.IO message `42[<name>,{...},{"id":<id>,"offset":<offset>}]`,
  i.e. `emit(<name>, data, meta)` on the default namespace.

Both end with `"traceparent":"00-<trace id>-<span id>-01"` when the event has a trace.

Each is kept as the ASGI message a connection hands to the server (one dict shared
by every socket: nothing downstream mutates it), with its size, which the socket's
outbox counts against its backlog bound, and the WebSocket frame's bytes, written as
they are to every socket whose server allows it (wire.py).
"""

from __future__ import annotations

import json
from typing import NamedTuple

from .wire import server_frame

WEBSOCKET = 0
SOCKETIO = 1


class Frame(NamedTuple):
    message: dict  # the ASGI message
    size: int  # what it counts against the socket's backlog bound
    wire: bytes | None = None  # the WebSocket frame's bytes, for a direct write (wire.py)


def text_frame(text: str, *, wire: bool = False) -> Frame:
    return Frame({"type": "websocket.send", "text": text}, len(text), server_frame(text) if wire else None)


def json_frame(content: dict) -> Frame:
    return text_frame(json.dumps(content, separators=(",", ":")))


def event_frames(
    event_type: str, event_id: str, data_json: str, offset: str, traceparent: str | None = None
) -> tuple[Frame, Frame]:
    """The frames of one event, indexed by front end (`WEBSOCKET`, `SOCKETIO`). With
    `traceparent` (the event's trace, W3C), the frame's metadata carries it too: the
    WebSocket frame's `traceparent` field, Socket.IO's `meta.traceparent`."""
    name, id_, offset_ = json.dumps(event_type), json.dumps(event_id), json.dumps(offset)
    trace = f',"traceparent":{json.dumps(traceparent)}' if traceparent else ""
    websocket = f'{{"type":"event","event":{name},"id":{id_},"data":{data_json},"offset":{offset_}{trace}}}'
    socketio = f'42[{name},{data_json},{{"id":{id_},"offset":{offset_}{trace}}}]'
    return text_frame(websocket, wire=True), text_frame(socketio, wire=True)


def socketio_event(event_type: str, *args) -> Frame:
    """Any other Socket.IO event the server emits (e.g. `closing`)."""
    return text_frame("42" + json.dumps([event_type, *args], separators=(",", ":")))
