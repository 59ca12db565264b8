"""The real gateway as a child process (uvicorn with the command `make run` uses) in
front of a recording upstream, for tests that speak raw bytes over sockets.

`RecordingUpstream` is a threaded HTTP/1.1 keep-alive server that parses what it
receives with a strict parser (httptools/llhttp, as gunicorn-fronted services do
with their own) and records every request it sees, per connection, together with
anything it could not parse. A request smuggled past the gateway shows up there
as one request too many.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httptools

from commerce_core.settings.topology import GATEWAY, SERVICES

GATEWAY_DIR = Path(__file__).resolve().parents[2]
REPO_ROOT = GATEWAY_DIR.parent
# The launcher's own command table (devtools/ at the repository root), so the process
# under test is started exactly as `make run` starts it.
if str(REPO_ROOT) not in sys.path:
    sys.path.append(str(REPO_ROOT))
from devtools.commands import web_argv  # noqa: E402


@dataclass
class Recorded:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    connection: int

    def headers_named(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name]


class RecordingUpstream:
    """Answers every request 200 with a small JSON body, keeping the connection open."""

    def __init__(self, *, delay: float = 0.0):
        self.requests: list[Recorded] = []
        self.parse_errors: list[str] = []
        self.delay = delay
        self._lock = threading.Lock()
        self._connections = 0
        upstream = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                upstream._serve(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self._server.daemon_threads = True
        self._server.allow_reuse_address = True
        self._server.server_bind()
        self._server.server_activate()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> RecordingUpstream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.parse_errors.clear()

    def _serve(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections += 1
            number = self._connections
        upstream = self

        class Callbacks:
            def on_message_begin(self):
                self.url, self.headers, self.body = b"", [], []

            def on_url(self, url):
                self.url += url

            def on_header(self, name, value):
                self.headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))

            def on_body(self, body):
                self.body.append(body)

            def on_message_complete(self):
                recorded = Recorded(
                    parser.get_method().decode(), self.url.decode("latin-1"), self.headers, b"".join(self.body), number
                )
                with upstream._lock:
                    upstream.requests.append(recorded)
                pending.append(recorded)

        pending: list[Recorded] = []
        parser = httptools.HttpRequestParser(Callbacks())
        with sock:
            while True:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                try:
                    parser.feed_data(data)
                except httptools.HttpParserError as exc:
                    with self._lock:
                        self.parse_errors.append(f"{exc}: {data[:200]!r}")
                    return
                while pending:
                    answered = pending.pop(0)
                    if self.delay:
                        time.sleep(self.delay)
                    body = b'{"seen": "%s %s"}' % (answered.method.encode(), answered.path.encode("latin-1"))
                    sock.sendall(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                        % (len(body), body)
                    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GatewayProcess:
    """`uvicorn config.asgi:application` of gateway_project, every service routed to `upstream_url`."""

    def __init__(self, upstream_url: str, *, state_dir: Path, **env: str):
        self.port = free_port()
        self.log_path = state_dir / "gateway.log"
        self._env = {
            **os.environ,
            "COMMERCE_STATE_DIR": str(state_dir),
            "GATEWAY_PORT": str(self.port),
            **{f"{service.name.upper()}_SERVICE_URL": upstream_url for service in SERVICES},
            **env,
        }
        self._env.pop("DJANGO_SETTINGS_MODULE", None)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> GatewayProcess:
        argv = web_argv(GATEWAY, python=sys.executable, host="127.0.0.1", port=self.port)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv, cwd=GATEWAY_DIR, env=self._env, stdout=log, stderr=subprocess.STDOUT, process_group=0
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited: {self.log_path.read_text(errors='replace')}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the gateway did not listen within {timeout:.0f}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.settimeout(5)
        return sock


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def read_responses(sock: socket.socket, count: int = 1) -> tuple[list[RawResponse], bool]:
    """Up to `count` responses from `sock`, and whether the server then closed it."""
    responses: list[RawResponse] = []
    done: list[RawResponse] = []

    class Callbacks:
        def on_message_begin(self):
            self.headers, self.body = {}, []

        def on_header(self, name, value):
            self.headers[name.decode().lower()] = value.decode("latin-1")

        def on_body(self, body):
            self.body.append(body)

        def on_message_complete(self):
            done.append(RawResponse(parser.get_status_code(), self.headers, b"".join(self.body)))

    parser = httptools.HttpResponseParser(Callbacks())
    closed = False
    while len(done) < count:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            break
        if not data:
            closed = True
            break
        parser.feed_data(data)
    responses.extend(done)
    if not closed and len(done) >= count and responses and responses[-1].headers.get("connection") == "close":
        try:
            closed = sock.recv(1) == b""
        except TimeoutError:
            closed = False
    return responses, closed


def exchange(gateway: GatewayProcess, raw: bytes, *, responses: int = 1) -> tuple[list[RawResponse], bool]:
    with gateway.connect() as sock:
        sock.sendall(raw)
        return read_responses(sock, responses)
