"""A process holding many listening sockets for the push benchmark:
`python -m bench.push_listeners` (driven by bench/push.py through stdin/stdout).

Each socket is a real TCP connection with a real WebSocket handshake, speaking
either the `/ws/events/` protocol or Socket.IO over Engine.IO v4 (the packets
socket.io-client sends: `40{auth}`, `420["subscribe",{...}]`, pong `3` to ping `2`).
The client side is a bare asyncio Protocol that parses frames itself: a general
WebSocket client costs more CPU per received frame than the gateway spends writing
it, and on a 2-core machine that would measure the load generator, not the gateway.

Protocol with the parent (one JSON object per line):
  parent → `{"open": {"url", "kind", "count", "events", "token"?}}`   (host:port, ws|sio)
  child  → `{"opened": n, "subscribe_ms": [...], "failed": k}`
  parent → `{"report": true}`  child → `{"events": {product id: [first, last, receipts]}, "duplicates": d,
            "closed": c}`  (receive times are time.monotonic(), comparable across processes)
  parent → `{"rss": true}`     child → `{"rss_kb": ...}`
  parent → `{"exit": true}`
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time

HANDSHAKE_KEY = base64.b64encode(os.urandom(16)).decode()


def client_frame(text: str, opcode: int = 0x1) -> bytes:
    """A masked client frame (the all-zero mask leaves the payload as it is)."""
    payload = text.encode() if isinstance(text, str) else text
    n = len(payload)
    if n < 126:
        header = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return header + b"\x00\x00\x00\x00" + payload


class Listener(asyncio.Protocol):
    def __init__(self, stats: Stats, kind: str, subscribe: dict, token: str | None, path: str, host: str):
        self.stats, self.kind, self.subscribe_body, self.token = stats, kind, subscribe, token
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {HANDSHAKE_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.buffer = bytearray()
        self.upgraded = False
        self.subscribed = asyncio.get_running_loop().create_future()
        self.seen: set[str] = set()
        self.transport = None
        self.started = time.monotonic()

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc):
        self.stats.closed += 1
        if not self.subscribed.done():
            self.subscribed.set_exception(ConnectionError("closed before subscribing"))

    def send_text(self, text: str) -> None:
        self.transport.write(client_frame(text))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.subscribed.set_exception(ConnectionError(bytes(buffer[:80]).decode(errors="replace")))
                self.transport.close()
                return
            del buffer[: end + 4]
            self.upgraded = True
            if self.kind == "ws":
                self.send_text(json.dumps({"type": "subscribe", **self.subscribe_body}))
                if self.token:
                    self.send_text(json.dumps({"type": "auth", "token": self.token}))
        while len(buffer) >= 2:
            opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
            start = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            if opcode == 0x1:
                self.on_text(payload.decode(), now)
            elif opcode == 0x9:  # ping → pong
                self.transport.write(client_frame(payload, opcode=0xA))
            elif opcode == 0x8:
                self.stats.close_codes.append(int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005)
                self.transport.close()

    def on_text(self, text: str, now: float) -> None:
        if self.kind == "ws":
            if text.startswith('{"type":"event"'):
                self.on_event(text, now)
            elif text.startswith('{"type":"subscribed"') and not self.subscribed.done():
                self.subscribed.set_result(now - self.started)
            return
        # Engine.IO / Socket.IO
        if text.startswith("42"):
            self.on_event(text, now)
        elif text == "2":
            self.transport.write(client_frame("3"))
        elif text.startswith("0{"):
            self.send_text("40" + (json.dumps({"token": self.token}) if self.token else ""))
        elif text.startswith("40"):
            self.send_text("420" + json.dumps(["subscribe", self.subscribe_body]))
        elif text.startswith("430") and not self.subscribed.done():
            self.subscribed.set_result(now - self.started)
        elif text.startswith("44"):
            self.subscribed.set_exception(ConnectionError(text))

    def on_event(self, text: str, now: float) -> None:
        at = text.rfind('"id":"')
        event_id = text[at + 6 : at + 42]
        if event_id in self.seen:
            self.stats.duplicates += 1
            return
        self.seen.add(event_id)
        # Events are told apart by the product they announce (the publisher knows it).
        at = text.find('"product_id":') + 13
        end = at
        while text[end].isdigit():
            end += 1
        key = text[at:end] if end > at else event_id
        record = self.stats.events.get(key)
        if record is None:
            self.stats.events[key] = [now, now, 1]
        else:
            record[1] = now
            record[2] += 1


class Stats:
    def __init__(self):
        self.events: dict[str, list] = {}
        self.duplicates = 0
        self.closed = 0
        self.close_codes: list[int] = []


async def open_listeners(stats: Stats, spec: dict, sockets: list) -> dict:
    host, port = spec["url"].split(":")
    kind, count = spec["kind"], spec["count"]
    path = "/ws/events/" if kind == "ws" else "/socket.io/?EIO=4&transport=websocket"
    body = {"events": spec["events"]}
    loop = asyncio.get_running_loop()
    times, failed = [], 0
    batch = spec.get("batch", 100)
    for first in range(0, count, batch):
        opened = []
        for _ in range(min(batch, count - first)):
            try:
                _, protocol = await loop.create_connection(
                    lambda: Listener(stats, kind, body, spec.get("token"), path, spec["url"]), host, int(port)
                )
            except OSError:
                failed += 1
                continue
            opened.append(protocol)
        for protocol in opened:
            try:
                times.append(await asyncio.wait_for(protocol.subscribed, 60) * 1000)
                sockets.append(protocol)
            except (ConnectionError, TimeoutError):
                failed += 1
    return {"opened": len(sockets), "subscribe_ms": times, "failed": failed}


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def main() -> None:
    stats, sockets = Stats(), []
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(content: dict) -> None:
        sys.stdout.write(json.dumps(content) + "\n")
        sys.stdout.flush()

    while line := await reader.readline():
        command = json.loads(line)
        if "open" in command:
            answer(await open_listeners(stats, command["open"], sockets))
        elif "report" in command:
            answer(
                {
                    "events": stats.events,
                    "duplicates": stats.duplicates,
                    "closed": stats.closed,
                    "close_codes": stats.close_codes,
                }
            )
            stats.events = {}
        elif "rss" in command:
            answer({"rss_kb": rss_kb()})
        elif "exit" in command:
            break
    for protocol in sockets:
        protocol.transport.abort()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
