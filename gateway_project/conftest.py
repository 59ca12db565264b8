"""Fixtures of the gateway's tests: a stub upstream service on a real socket, an ASGI
driver for the gateway's HTTP app, and access tokens (push's own are in
push/tests/conftest.py)."""

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httptools
import jwt
import pytest


@pytest.fixture
def anyio_backend():
    return "asyncio"


# --- a stub upstream ---------------------------------------------------------------------
@dataclass
class StubRequest:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    #: 1 for the first request on its connection, 2 for the next one, ...
    nth_on_connection: int

    def header(self, name: str) -> str | None:
        values = self.headers_named(name)
        return values[0] if values else None

    def headers_named(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name.lower()]


@dataclass
class StubResponse:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=lambda: [("content-type", "application/json")])
    #: One bytes object (sent with Content-Length) or a list of chunks (sent chunked,
    #: `chunk_delay` seconds apart).
    body: bytes | list[bytes] = b'{"ok": true}'
    chunk_delay: float = 0.0
    #: With chunks: close the connection after this many, without finishing the response.
    hang_up_after: int | None = None
    #: Close the connection right after the response, without saying so (an idle timeout).
    close_after: bool = False


#: A handler returns a response, or None to close the connection without answering.
StubHandler = Callable[[StubRequest], Awaitable[StubResponse | None]]


async def _ok(request: StubRequest) -> StubResponse:
    return StubResponse()


class _StubProtocol(asyncio.Protocol):
    def __init__(self, stub: "StubUpstream"):
        self.stub = stub
        self.parser = httptools.HttpRequestParser(self)
        self.count = 0
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        self.stub.connections += 1

    def data_received(self, data):
        self.parser.feed_data(data)

    def on_message_begin(self):
        self.url, self.headers, self.body = b"", [], []

    def on_url(self, url):
        self.url += url

    def on_header(self, name, value):
        self.headers.append((name.decode().lower(), value.decode()))

    def on_body(self, body):
        self.body.append(body)

    def on_message_complete(self):
        self.count += 1
        request = StubRequest(
            self.parser.get_method().decode(), self.url.decode(), self.headers, b"".join(self.body), self.count
        )
        self.stub.requests.append(request)
        asyncio.get_running_loop().create_task(self._answer(request))

    async def _answer(self, request):
        response = await self.stub.handler(request)
        if response is None or self.transport.is_closing():
            self.transport.close()
            return
        head = [f"HTTP/1.1 {response.status} X"]
        head += [f"{name}: {value}" for name, value in response.headers]
        if isinstance(response.body, bytes):
            head.append(f"content-length: {len(response.body)}")
            self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode() + response.body)
            if response.close_after:
                self.transport.close()
            return
        head.append("transfer-encoding: chunked")
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode())
        for sent, chunk in enumerate(response.body):
            if sent == response.hang_up_after:
                self.transport.close()
                return
            await asyncio.sleep(response.chunk_delay)
            self.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        self.transport.write(b"0\r\n\r\n")


class StubUpstream:
    """A tiny HTTP/1.1 keep-alive server that records what it receives."""

    def __init__(self):
        self.requests: list[StubRequest] = []
        self.handler: StubHandler = _ok
        self.connections = 0
        self.server = None

    async def start(self) -> "StubUpstream":
        self.server = await asyncio.get_running_loop().create_server(lambda: _StubProtocol(self), "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self):
        self.server.close()


@pytest.fixture
async def start_stub():
    """start_stub() -> a running StubUpstream; as many as a test needs."""
    stubs = []

    async def start() -> StubUpstream:
        stubs.append(await StubUpstream().start())
        return stubs[-1]

    yield start
    for stub in stubs:
        await stub.stop()


@pytest.fixture
async def stub_upstream(start_stub):
    return await start_stub()


@pytest.fixture
def free_port():
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- driving an ASGI HTTP app ----------------------------------------------------------
@dataclass
class AsgiResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    body_messages: int

    def header(self, name: str) -> str | None:
        for n, v in self.headers:
            if n.decode().lower() == name.lower():
                return v.decode()
        return None

    def json(self):
        import json

        return json.loads(self.body)


async def _asgi_request(
    app,
    method: str = "GET",
    path: str = "/",
    *,
    headers=(),
    body: bytes | list[bytes] = b"",
    client=("203.0.113.7", 51000),
    scheme="http",
    body_complete: bool = True,
) -> AsgiResponse:
    """Send one request through an ASGI app as uvicorn would; `body` as a list is sent in pieces.

    A `Host` header is added unless `headers` has one (HTTP/1.1 clients always send it).
    With `body_complete=False` the last piece says more is coming, which never does."""
    headers = list(headers)
    if not any(str(name).lower() in ("host", "b'host'") for name, _ in headers):
        headers.append(("host", "testserver"))
    chunks = body if isinstance(body, list) else [body]
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1 or not body_complete}
        for i, chunk in enumerate(chunks)
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path.split("?")[0],
        "raw_path": path.split("?")[0].encode(),
        "query_string": path.partition("?")[2].encode(),
        "root_path": "",
        "headers": [
            (n.lower().encode() if isinstance(n, str) else n, v.encode() if isinstance(v, str) else v)
            for n, v in headers
        ],
        "client": client,
        "server": ("127.0.0.1", 8000),
    }
    sent = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    return AsgiResponse(
        start["status"], list(start.get("headers", [])), b"".join(m.get("body", b"") for m in bodies), len(bodies)
    )


@pytest.fixture
def asgi_request():
    """asgi_request(app, method, path, headers=..., body=...) -> AsgiResponse"""
    return _asgi_request


# --- identity ---------------------------------------------------------------------------
@pytest.fixture
def access_token(settings):
    def mint(
        user_id: int = 7,
        *,
        username: str = "ada",
        is_staff: bool = False,
        lifetime: float = 300,
        token_type: str = "access",
        secret: str | None = None,
    ) -> str:
        claims = {
            "user_id": user_id,
            "username": username,
            "is_staff": is_staff,
            "token_type": token_type,
            "exp": int(time.time() + lifetime),
        }
        return jwt.encode(claims, secret or settings.JWT_SECRET, algorithm="HS256")

    return mint
